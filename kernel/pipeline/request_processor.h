// RequestProcessor: the kernel's request pipeline for a standalone server or a leader
// (DESIGN.md §5): admit, prepare, propose through consensus, apply, fire watches, respond.
//
// Threading: everything that touches sessions, watches, pending changes or in-flight
// requests runs on one strand of the shared io_context (the "pipeline strand"), so the
// order of events is the order of that strand: a txn is applied, its watch events are
// queued to every watching connection, then its reply is queued — a client never sees a
// reply before the event of a change it can observe. Front ends and consensus call in from
// any thread; each call is posted to the strand.
//
// FIFO per session: a read waits until the session's earlier writes are applied; writes
// are prepared as they arrive (pipelined) and replied to in zxid order.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "corral/consensus.h"
#include "corral/frontend.h"
#include "corral/host.h"
#include "corral/storage.h"
#include "kernel/pipeline/acl_checker.h"
#include "kernel/pipeline/pending_changes.h"
#include "kernel/pipeline/server_stats.h"
#include "kernel/pipeline/write_preparer.h"
#include "kernel/runtime/server_metrics.h"
#include "kernel/session/session_table.h"
#include "kernel/watch/watch_table.h"

namespace corral::kernel::pipeline {

struct ProcessorSettings {
  int32_t tick_ms = 2000;
  int32_t min_session_timeout_ms = 4000;
  int32_t max_session_timeout_ms = 40000;
  bool extended_types = false;
  bool skip_acl = false;
  int64_t server_id = 0;             // myid; standalone session ids use 1
  int64_t container_check_ms = 60000;
  int64_t container_max_per_minute = 10000;
  // enforce.auth.*: every request but auth/sasl needs an id of one of these schemes.
  bool enforce_auth = false;
  std::vector<std::string> enforce_auth_schemes;
};

// A read-only view for admin commands (consistent per call, taken on the strand).
struct ConnectionView {
  std::string remote_address;
  int remote_port = 0;
  sdk::SessionId session = 0;
  int32_t timeout_ms = 0;
  int64_t queued = 0;
  int64_t received = 0;
  int64_t sent = 0;
  std::string last_op = "NA";
  int64_t established_ms = 0;     // wall clock
  int32_t last_cxid = -1;
  sdk::Zxid last_zxid = -1;
  int64_t last_response_ms = 0;   // monotonic, as ZooKeeper prints it
  int64_t last_latency = 0;
  int64_t min_latency = 0;
  int64_t avg_latency = 0;
  int64_t max_latency = 0;
};

// The data-watch table by path and by session (wchs/wchc/wchp).
struct WatchReport {
  size_t connections = 0;
  size_t total = 0;
  std::map<std::string, std::vector<sdk::SessionId>> by_path;
  std::map<sdk::SessionId, std::vector<std::string>> by_session;
};

// Sessions by expiry bucket and their ephemerals (dump).
struct SessionReport {
  size_t session_count = 0;
  std::map<int64_t, std::vector<sdk::SessionId>> buckets;  // expiry (monotonic ms) → sessions
  std::map<sdk::SessionId, std::vector<std::string>> ephemerals;
};

class RequestProcessor final : public sdk::ClientService, public sdk::CommitSink {
 public:
  RequestProcessor(boost::asio::io_context& io, sdk::Storage& storage, sdk::Consensus& consensus,
                   AclChecker& acl, ProcessorSettings settings, sdk::Logger& log,
                   sdk::MetricsRegistry& metrics);
  ~RequestProcessor() override;

  // Loads the sessions recovery found and starts the session and container timers.
  void start(const std::vector<sdk::RecoveredSession>& sessions);
  void stop();

  // sdk::ClientService
  void connect(const sdk::ConnectRequest& request, std::shared_ptr<sdk::ClientConnection> connection,
               std::function<void(sdk::ConnectOutcome)> done) noexcept override;
  sdk::Zxid lastProcessedZxid() const noexcept override;

  // sdk::CommitSink
  void commit(sdk::TxnEntry txn, sdk::Status status) noexcept override;

  ServerStats& stats() { return stats_; }
  const ProcessorSettings& settings() const { return settings_; }
  // Runs `visit` on the pipeline strand and waits for it (admin commands only).
  void inspect(const std::function<void()>& visit);
  std::vector<ConnectionView> connections();
  WatchReport watchReport();
  SessionReport sessionReport();
  void resetConnectionStats();
  // Data watch and child watch tables (only on the strand, via inspect()).
  const watch::WatchTable& dataWatches() const { return data_watches_; }
  const watch::WatchTable& childWatches() const { return child_watches_; }
  const session::SessionTable& sessionTable() const { return sessions_; }

 private:
  class AttachedSession;
  struct Connection;
  struct Session;
  struct Queued;
  struct InFlight;

  // All of these run on the strand.
  void onConnect(sdk::ConnectRequest request, std::shared_ptr<sdk::ClientConnection> link,
                 std::function<void(sdk::ConnectOutcome)> done);
  void onRequest(const std::shared_ptr<Connection>& connection, sdk::ClientRequest request,
                 int64_t received_at);
  void onConnectionClosed(const std::shared_ptr<Connection>& connection);
  bool authenticatedForEnforcement(const Connection& connection) const;
  void onCommit(sdk::TxnEntry txn, sdk::Status status);
  void process(Session& session, Queued item);
  void drain(Session& session);
  void proposeWrite(Session& session, Queued item);
  void answerRead(const Queued& item);
  void propose(sdk::TxnEntry txn, std::unique_ptr<InFlight> in_flight);
  void respond(Connection& connection, sdk::ClientResponse response, int64_t received_at, sdk::OpCode op);
  void countRead(const std::string& path, int64_t bytes);
  void countWrites(const sdk::TxnEntry& txn);
  void fireWatches(const sdk::TxnEntry& txn, const std::vector<sdk::OpOutcome>& outcomes,
                   const std::unordered_map<std::string, sdk::AclList>& deleted_acls);
  void deliver(const std::vector<watch::WatcherId>& watchers, sdk::EventType type,
               const std::string& path, const sdk::AclList* acl);
  void setWatches(Connection& connection, const sdk::SetWatches2& request);
  void closeSessionNow(sdk::SessionId id, int32_t cxid, const std::shared_ptr<Connection>& requester,
                       int32_t xid, int64_t received_at);
  void expireSessions();
  void reapContainers();
  void scheduleTick();
  void scheduleReaper();

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  sdk::Storage& storage_;
  sdk::Consensus& consensus_;
  AclChecker& acl_;
  ProcessorSettings settings_;
  sdk::Logger& log_;

  PendingChanges pending_;
  WritePreparer preparer_;
  session::SessionTable sessions_;
  watch::WatchTable data_watches_;
  watch::WatchTable child_watches_;
  std::unordered_map<sdk::SessionId, std::unique_ptr<Session>> session_state_;
  std::unordered_map<watch::WatcherId, std::shared_ptr<Connection>> connections_;
  std::map<sdk::Zxid, std::unique_ptr<InFlight>> in_flight_;
  watch::WatcherId next_connection_id_ = 1;
  sdk::SessionId next_session_id_ = 0;
  sdk::Zxid next_zxid_ = 1;
  std::atomic<sdk::Zxid> last_zxid_{0};
  ServerStats stats_;
  runtime::KernelMetrics metrics_;
  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer reaper_timer_;
  bool stopping_ = false;
};

}  // namespace corral::kernel::pipeline

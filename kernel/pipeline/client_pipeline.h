// ClientPipeline: the part every role runs (ZooKeeper's ServerCnxn handling, the session's
// FIFO in CommitProcessor, FinalRequestProcessor). It owns client connections and the
// sessions attached to them, keeps each session's requests in order (a read waits for the
// session's earlier writes), answers reads and watch requests locally, hands writes, session
// create/close and (on a learner) sync to its Upstream, and when a committed txn is applied
// fires its watches and answers the local request it belongs to, matched by (session, cxid)
// as CommitProcessor does. Txns of sessions connected elsewhere only fire watches.
//
// Threading: front ends call in from any thread; every call is posted (or dispatched) to the
// kernel's strand, where all of this state lives. Because apply, watch events and replies run
// in that one order, a client never sees a reply before the event of a change it can observe.
//
// Roles: serve(upstream) switches the upstream at a role change. Leaving a role closes every
// client connection and drops what is pending (the sessions live on, owned by the ensemble);
// with no upstream (looking) new sessions are refused.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "corral/frontend.h"
#include "corral/host.h"
#include "corral/storage.h"
#include "kernel/pipeline/acl_checker.h"
#include "kernel/pipeline/admin_views.h"
#include "kernel/pipeline/connection_state.h"
#include "kernel/pipeline/read_executor.h"
#include "kernel/pipeline/server_stats.h"
#include "kernel/pipeline/strand.h"
#include "kernel/pipeline/upstream.h"
#include "kernel/pipeline/watch_dispatcher.h"
#include "kernel/runtime/server_metrics.h"

namespace corral::kernel::pipeline {

struct PipelineSettings {
  int32_t min_session_timeout_ms = 4000;
  int32_t max_session_timeout_ms = 40000;
  int64_t server_id = 0;  // myid: the top byte of the session ids handed out here (standalone: 1)
  // enforce.auth.*: every request but auth/sasl needs an id of one of these schemes.
  bool enforce_auth = false;
  std::vector<std::string> enforce_auth_schemes;
  // Writes one session may have in flight plus requests waiting behind them; past it the
  // connection is closed (a client that pipelines without bound must not grow the server).
  size_t max_queued_per_session = 10000;
};

class ClientPipeline final : public sdk::ClientService {
 public:
  ClientPipeline(Strand& strand, const sdk::Storage& storage, const AclChecker& acl, PipelineSettings settings,
                 sdk::Logger& log, runtime::KernelMetrics& metrics);
  ~ClientPipeline() override;

  // sdk::ClientService (any thread)
  void connect(const sdk::ConnectRequest& request, std::shared_ptr<sdk::ClientConnection> connection,
               std::function<void(sdk::ConnectOutcome)> done) noexcept override;
  sdk::Zxid lastProcessedZxid() const noexcept override { return last_zxid_.load(); }

  // ---- strand only ----
  // Serve through `upstream` (nullptr: serve nobody). Any change closes every connection and
  // drops pending requests and connects.
  void serve(Upstream* upstream);
  bool serving() const { return upstream_ != nullptr; }
  void stop();
  void setLastZxid(sdk::Zxid zxid) { last_zxid_.store(zxid); }
  WatchDispatcher& watches() { return watches_; }
  const WatchDispatcher& watches() const { return watches_; }
  // A committed txn was applied: watches, then the local reply, then what waited for it.
  void committed(const sdk::TxnEntry& txn, const std::vector<sdk::OpOutcome>& outcomes,
                 const std::unordered_map<std::string, sdk::AclList>& deleted_acls);
  // Learner: the leader answered the oldest forwarded sync.
  void syncCompleted();

  ServerStats& stats() { return stats_; }
  std::vector<ConnectionView> connections() const;
  WatchReport watchReport() const;
  void resetConnectionStats();

 private:
  class AttachedSession;
  struct Queued {
    std::shared_ptr<ConnectionState> connection;
    sdk::ClientRequest request;
    int64_t received_at = 0;
  };
  // A request handed upstream whose txn (or sync answer) has not come back yet.
  struct PendingWrite {
    int32_t cxid = 0;
    sdk::OpCode op = sdk::OpCode::kError;
    int64_t received_at = 0;
    std::shared_ptr<ConnectionState> connection;
    std::string sync_path;  // kSync only
    sdk::Code refused = sdk::Code::kOk;  // answered with this code in its turn, never sent upstream
  };
  struct LocalSession {
    sdk::SessionId id = 0;
    int32_t timeout_ms = 0;
    std::shared_ptr<ConnectionState> connection;  // the attached connection, if any
    std::deque<PendingWrite> writes;               // upstream, in order
    std::deque<Queued> queue;                      // waiting for earlier writes
    bool closing = false;                          // closeSession sent upstream
  };
  // A ConnectRequest waiting for its createSession commit or for revalidation.
  struct PendingConnect {
    std::shared_ptr<ConnectionState> connection;
    std::function<void(sdk::ConnectOutcome)> done;
    sdk::ConnectResponse response;
    int32_t timeout_ms = 0;
    bool answered = false;
  };

  void onConnect(sdk::ConnectRequest request, std::shared_ptr<sdk::ClientConnection> link,
                 std::function<void(sdk::ConnectOutcome)> done);
  void finishReattach(const std::shared_ptr<PendingConnect>& pending, bool valid);
  void attach(const std::shared_ptr<PendingConnect>& pending, sdk::SessionId id);
  void answerConnect(const std::shared_ptr<PendingConnect>& pending, sdk::ConnectOutcome outcome);
  void onRequest(const std::shared_ptr<ConnectionState>& connection, sdk::ClientRequest request,
                 int64_t received_at);
  void onConnectionClosed(const std::shared_ptr<ConnectionState>& connection);
  bool authenticatedForEnforcement(const ConnectionState& connection) const;
  void process(LocalSession& session, Queued item);
  void drain(LocalSession& session);
  void sendUpstream(LocalSession& session, Queued item);
  void answerRead(const Queued& item);
  void answerWrite(LocalSession& session, const sdk::TxnEntry& txn, const std::vector<sdk::OpOutcome>& outcomes);
  // Answers the refused writes at the front of the session's queue (their turn has come).
  void answerRefused(LocalSession& session);
  void sessionClosed(const sdk::TxnEntry& txn);
  void respond(ConnectionState& connection, sdk::ClientResponse response, int64_t received_at,
               sdk::OpCode op);
  void dropEverything();
  LocalSession* localSession(sdk::SessionId id);

  Strand& strand_;
  const sdk::Storage& storage_;
  const AclChecker& acl_;
  PipelineSettings settings_;
  sdk::Logger& log_;
  runtime::KernelMetrics& metrics_;
  WatchDispatcher watches_;
  ReadExecutor reads_;
  Upstream* upstream_ = nullptr;
  bool stopping_ = false;

  std::unordered_map<sdk::SessionId, std::unique_ptr<LocalSession>> sessions_;
  std::unordered_map<watch::WatcherId, std::shared_ptr<ConnectionState>> connections_;
  std::unordered_map<sdk::SessionId, std::shared_ptr<PendingConnect>> creating_;  // by new session id
  std::vector<std::shared_ptr<PendingConnect>> reattaching_;
  std::deque<sdk::SessionId> pending_syncs_;  // learner: forwarded syncs, oldest first
  watch::WatcherId next_connection_id_ = 1;
  sdk::SessionId next_session_id_ = 0;
  std::atomic<sdk::Zxid> last_zxid_{0};
  ServerStats stats_;
};

}  // namespace corral::kernel::pipeline

// RoleWiring: the kernel's side of consensus (sdk::ConsensusHost) and the one place where
// each role is assembled out of parts (DESIGN.md §11):
//
//   standalone, leader   client pipeline + sequencer + consensus
//   follower, observer   client pipeline + forwarder + consensus
//   looking              client pipeline serving nobody (sessions refused); with
//                        readonlymode.enabled, after a grace period, serving read-only
//                        clients through the read-only upstream
//
// It applies every committed txn to the storage (in zxid order, on the kernel's strand),
// then lets the sequencer forget its pending changes and the pipeline fire watches and
// answer its clients. It also keeps the ensemble's session list (from recovery and from
// committed createSession/closeSession txns), which a new leader's sequencer takes over.
//
// Threading: ConsensusHost methods may be called from any thread; each is posted to the
// strand in call order, so commits, syncs and role changes stay ordered as the consensus
// issued them. Admin views run on the strand through inspect().
#pragma once

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "corral/consensus.h"
#include "corral/host.h"
#include "corral/storage.h"
#include "kernel/pipeline/acl_checker.h"
#include "kernel/pipeline/client_pipeline.h"
#include "kernel/pipeline/forwarder.h"
#include "kernel/pipeline/read_only_upstream.h"
#include "kernel/pipeline/sequencer.h"
#include "kernel/pipeline/strand.h"
#include "kernel/runtime/server_metrics.h"
#include "kernel/session/touch_table.h"

namespace corral::kernel::pipeline {

struct RoleSettings {
  PipelineSettings pipeline;
  SequencerSettings sequencer;
  // leaderServes: false keeps clients off the leader (it still sequences learners' requests).
  bool leader_serves = true;
  // readonlymode.enabled: a member of an ensemble that stays without a role this long serves
  // read-only clients (ZooKeeper waits max(2000 ms, tickTime) before deciding it is cut off).
  bool read_only_mode = false;
  int32_t read_only_delay_ms = 2000;
};

class RoleWiring final : public sdk::ConsensusHost {
 public:
  RoleWiring(boost::asio::io_context& io, sdk::Storage& storage, sdk::Consensus& consensus, AclChecker& acl,
             RoleSettings settings, sdk::Logger& log, sdk::MetricsRegistry& metrics);
  ~RoleWiring() override;

  // Takes the sessions recovery found and wires the role the consensus is in now (before
  // any front end accepts a connection). Waits until that is done.
  void start(const std::vector<sdk::RecoveredSession>& sessions);
  // Closes every client connection and stops the sequencer's timers. Waits.
  void stop();

  sdk::ClientService& clientService() { return pipeline_; }

  // sdk::ConsensusHost (any thread)
  void commit(sdk::TxnEntry txn, sdk::Status status, sdk::ApplyMode mode) noexcept override;
  void roleChanged(sdk::Role role, int64_t epoch) noexcept override;
  void stateReplaced() noexcept override;
  void syncCompleted() noexcept override;
  std::vector<sdk::SessionTouch> takeSessionTouches() noexcept override;
  void submitForwarded(sdk::ForwardedRequest request) noexcept override;
  void afterForwarded(std::function<void()> then) noexcept override;
  void touchSessions(std::span<const sdk::SessionTouch> touches) noexcept override;
  void revalidateSession(sdk::SessionId id, int32_t timeout_ms, std::function<void(bool)> done) noexcept override;
  void configActivated(std::string text, int64_t version) noexcept override;

  // ---- views for admin commands (any thread) ----
  sdk::Role role() const { return role_.load(); }
  // Whether a role serves clients now (ZooKeeper: "not currently serving requests" otherwise).
  bool serving() const { return serving_.load(); }
  // Whether the member serves read-only clients now (no role; readonlymode.enabled).
  bool readOnly() const { return read_only_.load(); }
  ServerStats& stats() { return pipeline_.stats(); }
  sdk::Zxid lastProcessedZxid() const { return pipeline_.lastProcessedZxid(); }
  // Runs `visit` on the strand and waits for it.
  void inspect(const std::function<void()>& visit);
  std::vector<ConnectionView> connections();
  WatchReport watchReport();
  SessionReport sessionReport();
  void resetConnectionStats();
  // Data and child watches in total (strand only, via inspect()).
  size_t watchCount() const;
  size_t sessionCount() const { return session_count_.load(); }
  // Sessions local to this member: those of read-only mode (ZooKeeper's zk_local_sessions).
  size_t localSessionCount();

 private:
  void onCommit(sdk::TxnEntry txn, sdk::Status status, sdk::ApplyMode mode);
  void wire(sdk::Role role, int64_t epoch);
  void countWrites(const sdk::TxnEntry& txn);
  void armReadOnly();
  void enterReadOnly(uint64_t generation);

  Strand strand_;
  sdk::Storage& storage_;
  sdk::Consensus& consensus_;
  AclChecker& acl_;
  RoleSettings settings_;
  sdk::Logger& log_;
  runtime::KernelMetrics metrics_;
  ClientPipeline pipeline_;
  std::unique_ptr<Sequencer> sequencer_;
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<ReadOnlyUpstream> read_only_upstream_;
  boost::asio::steady_timer read_only_timer_;
  uint64_t wire_generation_ = 0;  // bumped by every wire(); a stale read-only timer does nothing
  session::TouchTable touches_;
  // Every global session of the ensemble and its timeout (ZooKeeper's sessionsWithTimeouts).
  std::unordered_map<sdk::SessionId, int32_t> known_sessions_;
  std::atomic<sdk::Role> role_{sdk::Role::kLooking};
  std::atomic<bool> serving_{false};
  std::atomic<bool> read_only_{false};
  std::atomic<size_t> session_count_{0};
  bool stopped_ = false;
};

}  // namespace corral::kernel::pipeline

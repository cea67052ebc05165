#include "kernel/pipeline/role_wiring.h"

#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdlib>
#include <future>

#include "kernel/session/session_ids.h"

namespace corral::kernel::pipeline {
RoleWiring::RoleWiring(boost::asio::io_context& io, sdk::Storage& storage, sdk::Consensus& consensus,
                       AclChecker& acl, RoleSettings settings, sdk::Logger& log, sdk::MetricsRegistry& metrics)
    : strand_(boost::asio::make_strand(io)),
      storage_(storage),
      consensus_(consensus),
      acl_(acl),
      settings_(std::move(settings)),
      log_(log),
      metrics_(metrics),
      pipeline_(strand_, storage, acl, settings_.pipeline, log, metrics_),
      read_only_timer_(strand_) {}

RoleWiring::~RoleWiring() = default;

void RoleWiring::inspect(const std::function<void()>& visit) {
  if (strand_.running_in_this_thread()) {
    visit();
    return;
  }
  std::promise<void> done;
  boost::asio::post(strand_, [&] {
    visit();
    done.set_value();
  });
  done.get_future().wait();
}

void RoleWiring::start(const std::vector<sdk::RecoveredSession>& sessions) {
  inspect([&] {
    for (const auto& session : sessions) known_sessions_[session.id] = session.timeout_ms;
    session_count_ = known_sessions_.size();
    pipeline_.setLastZxid(storage_.stats().last_applied_zxid);
    wire(consensus_.role(), consensus_.epoch());
  });
}

void RoleWiring::stop() {
  inspect([&] {
    stopped_ = true;
    pipeline_.stop();
    sequencer_.reset();
    forwarder_.reset();
    read_only_timer_.cancel();
    read_only_upstream_.reset();
    serving_ = false;
    read_only_ = false;
  });
}

// The roles of DESIGN.md §11, each one line of parts.
void RoleWiring::wire(sdk::Role role, int64_t epoch) {
  if (stopped_) return;
  const sdk::Role previous = role_.exchange(role);
  if (previous != role) log_.info("role: {} -> {} (epoch {})", sdk::roleName(previous), sdk::roleName(role), epoch);
  serving_ = false;
  if (read_only_.exchange(false)) log_.info("leaving read-only mode");
  ++wire_generation_;
  read_only_timer_.cancel();
  pipeline_.serve(nullptr);  // leaving a role: connections closed, pending work dropped
  sequencer_.reset();
  forwarder_.reset();
  read_only_upstream_.reset();
  switch (role) {
    case sdk::Role::kStandalone:
    case sdk::Role::kLeader:
      sequencer_ = std::make_unique<Sequencer>(strand_, storage_, consensus_, acl_, settings_.sequencer, log_, metrics_);
      sequencer_->start(known_sessions_, storage_.stats().last_applied_zxid, epoch);
      if (role == sdk::Role::kLeader && !settings_.leader_serves) break;
      pipeline_.serve(sequencer_.get());
      break;
    case sdk::Role::kFollower:
    case sdk::Role::kObserver:
      forwarder_ = std::make_unique<Forwarder>(strand_, consensus_, touches_);
      pipeline_.serve(forwarder_.get());
      break;
    case sdk::Role::kLooking:
      if (settings_.read_only_mode) armReadOnly();
      break;
  }
  serving_ = pipeline_.serving();
}

// ZooKeeper's QuorumPeer starts a ReadOnlyZooKeeperServer once it has been LOOKING for the
// grace period; any role the consensus reports afterwards replaces it (wire()).
void RoleWiring::armReadOnly() {
  read_only_timer_.expires_after(std::chrono::milliseconds(settings_.read_only_delay_ms));
  read_only_timer_.async_wait([this, generation = wire_generation_](const boost::system::error_code& error) {
    if (!error) enterReadOnly(generation);
  });
}

void RoleWiring::enterReadOnly(uint64_t generation) {
  if (stopped_ || generation != wire_generation_ || role_.load() != sdk::Role::kLooking) return;
  log_.info("no quorum for {} ms: serving read-only clients (readonlymode.enabled)", settings_.read_only_delay_ms);
  read_only_upstream_ = std::make_unique<ReadOnlyUpstream>(
      strand_, settings_.sequencer.tick_ms,
      [this](sdk::TxnEntry txn) { pipeline_.committed(txn, {}, {}); },
      [this] { return pipeline_.lastProcessedZxid(); });
  pipeline_.serve(read_only_upstream_.get());
  read_only_ = true;
  serving_ = pipeline_.serving();
}

// ---- sdk::ConsensusHost ----

void RoleWiring::commit(sdk::TxnEntry txn, sdk::Status status, sdk::ApplyMode mode) noexcept {
  boost::asio::post(strand_, [this, txn = std::move(txn), status = std::move(status), mode]() mutable {
    onCommit(std::move(txn), std::move(status), mode);
  });
}

void RoleWiring::roleChanged(sdk::Role role, int64_t epoch) noexcept {
  boost::asio::post(strand_, [this, role, epoch] { wire(role, epoch); });
}

void RoleWiring::stateReplaced() noexcept {
  boost::asio::post(strand_, [this] {
    known_sessions_.clear();
    for (const auto& session : storage_.sessions()) known_sessions_[session.id] = session.timeout_ms;
    session_count_ = known_sessions_.size();
    pipeline_.setLastZxid(storage_.stats().last_applied_zxid);
  });
}

void RoleWiring::configActivated(std::string text, int64_t version) noexcept {
  boost::asio::post(strand_, [this, text = std::move(text), version] {
    if (auto set = storage_.setConfigNode(text, version); !set.isOk()) {
      log_.warn("/zookeeper/config not updated to version {:x}: {}", version, set.toString());
    }
  });
}

void RoleWiring::syncCompleted() noexcept {
  boost::asio::post(strand_, [this] { pipeline_.syncCompleted(); });
}

std::vector<sdk::SessionTouch> RoleWiring::takeSessionTouches() noexcept {
  try {
    return touches_.take();
  } catch (...) {
    return {};
  }
}

void RoleWiring::submitForwarded(sdk::ForwardedRequest request) noexcept {
  boost::asio::post(strand_, [this, request = std::move(request)]() mutable {
    if (!sequencer_) return;
    const std::vector<sdk::Id> ids = std::move(request.auth_ids);
    sequencer_->submit(std::move(request), ids);
  });
}

// The sequencer proposes a forwarded request within the strand call that submits it, so a
// callback posted after those submissions runs after their proposals.
void RoleWiring::afterForwarded(std::function<void()> then) noexcept {
  boost::asio::post(strand_, std::move(then));
}

void RoleWiring::touchSessions(std::span<const sdk::SessionTouch> touches) noexcept {
  std::vector<sdk::SessionTouch> copy(touches.begin(), touches.end());
  boost::asio::post(strand_, [this, copy = std::move(copy)] {
    if (!sequencer_) return;
    for (const auto& touch : copy) sequencer_->touch(touch.id, touch.timeout_ms);
  });
}

void RoleWiring::revalidateSession(sdk::SessionId id, int32_t timeout_ms, std::function<void(bool)> done) noexcept {
  boost::asio::post(strand_, [this, id, timeout_ms, done = std::move(done)]() mutable {
    if (!sequencer_) return done(false);
    sequencer_->revalidate(id, timeout_ms, std::move(done));
  });
}

// ---- apply ----

void RoleWiring::onCommit(sdk::TxnEntry txn, sdk::Status status, sdk::ApplyMode mode) {
  const sdk::Zxid zxid = txn.header.zxid;
  if (!status.isOk()) {
    // The txn is not durable; carrying on would acknowledge writes that may be lost.
    log_.log(sdk::LogLevel::kCritical,
             fmt::format("txn 0x{:x} could not be made durable: {}; stopping", zxid, status.toString()));
    std::_Exit(1);
  }
  // ACLs of nodes about to be deleted, for the READ check on their NodeDeleted events.
  auto deleted_acls = pipeline_.watches().aclsOfDeleted(txn);
  std::vector<sdk::OpOutcome> outcomes;
  if (auto applied = storage_.apply(txn, mode, outcomes); !applied.isOk()) {
    log_.log(sdk::LogLevel::kCritical,
             fmt::format("txn 0x{:x} does not apply: {}; the tree has diverged, stopping", zxid,
                         applied.toString()));
    std::_Exit(1);
  }
  pipeline_.setLastZxid(zxid);
  if (int64_t age = session::wallMs() - txn.header.time; age >= 0) metrics_.propagation_latency.add(age);
  countWrites(txn);

  const sdk::SessionId owner = txn.header.client_id;
  if (txn.header.type == sdk::OpCode::kCreateSession) {
    const int32_t timeout = std::get<sdk::CreateSessionTxn>(txn.body).timeout;
    known_sessions_[owner] = timeout;
    // Every learner reports a new session in its next PING reply (as ZooKeeper's do).
    if (forwarder_) touches_.touch(owner, timeout);
  } else if (txn.header.type == sdk::OpCode::kCloseSession) {
    known_sessions_.erase(owner);
    touches_.forget(owner);
  }
  session_count_ = known_sessions_.size();
  if (sequencer_) sequencer_->applied(txn);
  pipeline_.committed(txn, outcomes, deleted_acls);
}

// ZooKeeper's DataTree.updateWriteStat: path + data bytes per created, changed or deleted node.
void RoleWiring::countWrites(const sdk::TxnEntry& txn) {
  auto count = [this](const std::string& path, size_t data_bytes) {
    auto ns = runtime::topNamespace(path);
    if (!ns.empty()) metrics_.write_per_namespace.add(ns, static_cast<int64_t>(path.size() + data_bytes));
  };
  auto visit = [&](const sdk::TxnBody& body) {
    if (const auto* create = std::get_if<sdk::CreateTxn>(&body)) {
      count(create->path, create->data ? create->data->size() : 0);
    } else if (const auto* container = std::get_if<sdk::CreateContainerTxn>(&body)) {
      count(container->path, container->data ? container->data->size() : 0);
    } else if (const auto* ttl = std::get_if<sdk::CreateTtlTxn>(&body)) {
      count(ttl->path, ttl->data ? ttl->data->size() : 0);
    } else if (const auto* set = std::get_if<sdk::SetDataTxn>(&body)) {
      count(set->path, set->data ? set->data->size() : 0);
    } else if (const auto* remove = std::get_if<sdk::DeleteTxn>(&body)) {
      count(remove->path, 0);
    } else if (const auto* close = std::get_if<sdk::CloseSessionTxn>(&body)) {
      for (const auto& path : close->paths_to_delete) count(path, 0);
    }
  };
  if (const auto* multi = std::get_if<sdk::MultiTxn>(&txn.body)) {
    for (const auto& sub : multi->txns) {
      sdk::TxnBody body;
      if (sdk::decodeSubTxn(sub, body)) visit(body);
    }
  } else {
    visit(txn.body);
  }
}

// ---- admin views ----

std::vector<ConnectionView> RoleWiring::connections() {
  std::vector<ConnectionView> views;
  inspect([&] { views = pipeline_.connections(); });
  return views;
}

WatchReport RoleWiring::watchReport() {
  WatchReport report;
  inspect([&] { report = pipeline_.watchReport(); });
  return report;
}

SessionReport RoleWiring::sessionReport() {
  SessionReport report;
  inspect([&] {
    report.session_count = known_sessions_.size();
    if (sequencer_) {
      for (const auto& [expiry, ids] : sequencer_->sessions().buckets()) {
        report.buckets[expiry].assign(ids.begin(), ids.end());
      }
    }
    for (const auto& [id, timeout] : known_sessions_) {
      auto paths = storage_.ephemeralsOf(id);
      if (!paths.empty()) report.ephemerals[id] = std::move(paths);
    }
  });
  return report;
}

size_t RoleWiring::localSessionCount() {
  size_t count = 0;
  inspect([&] { count = read_only_upstream_ ? read_only_upstream_->sessionCount() : 0; });
  return count;
}

void RoleWiring::resetConnectionStats() {
  inspect([&] { pipeline_.resetConnectionStats(); });
}

size_t RoleWiring::watchCount() const {
  return pipeline_.watches().data().watchCount() + pipeline_.watches().children().watchCount();
}

}  // namespace corral::kernel::pipeline

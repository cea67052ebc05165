#include "kernel/pipeline/sequencer.h"

#include <chrono>

#include "kernel/pipeline/op_kinds.h"

#include "kernel/session/session_ids.h"

namespace corral::kernel::pipeline {
namespace {

using sdk::Code;
using sdk::OpCode;

}  // namespace

Sequencer::Sequencer(Strand& strand, const sdk::Storage& storage, sdk::Consensus& consensus,
                     const AclChecker& acl, SequencerSettings settings, sdk::Logger& log,
                     runtime::KernelMetrics& metrics)
    : storage_(storage),
      consensus_(consensus),
      settings_(settings),
      log_(log),
      metrics_(metrics),
      pending_(storage),
      preparer_(pending_, acl, settings.extended_types),
      sessions_(settings.tick_ms),
      tick_timer_(strand),
      reaper_timer_(strand) {
  pending_.countInto(&metrics_.outstanding_changes_queued, &metrics_.outstanding_changes_removed);
}

Sequencer::~Sequencer() {
  tick_timer_.cancel();
  reaper_timer_.cancel();
}

void Sequencer::start(const std::unordered_map<sdk::SessionId, int32_t>& sessions, sdk::Zxid last_applied,
                      int64_t epoch) {
  next_zxid_ = std::max<sdk::Zxid>(last_applied + 1, sdk::zxidOf(epoch, 1));
  first_zxid_ = next_zxid_;
  const int64_t now = session::monotonicMs();
  for (const auto& [id, timeout] : sessions) sessions_.add(id, timeout, now);
  scheduleTick();
  scheduleReaper();
}

sdk::TxnEntry Sequencer::errorTxn(const sdk::ForwardedRequest& request, Code code, int64_t time) const {
  sdk::TxnEntry txn;
  txn.header = sdk::TxnHeader{request.session, request.request.xid, next_zxid_, time, OpCode::kError};
  txn.body = sdk::ErrorTxn{code};
  return txn;
}

void Sequencer::submit(sdk::ForwardedRequest request, const std::vector<sdk::Id>& auth_ids) {
  const OpCode op = request.request.op;
  const int64_t now = session::wallMs();
  PrepareContext context{request.session, request.request.xid, &auth_ids, next_zxid_, now};
  switch (op) {
    case OpCode::kCreateSession:
      // Tracked from now on, as ZooKeeper's PrepRequestProcessor does: the client's first
      // requests may touch it before the txn is applied.
      if (sessions_.find(request.session) == nullptr) {
        sessions_.add(request.session, request.session_timeout_ms, session::monotonicMs());
      }
      return propose(preparer_.createSession(context, request.session_timeout_ms));
    case OpCode::kCloseSession:
      return closeSession(request.session, request.request.xid);
    case OpCode::kReconfig:
      return propose(reconfig(request, context));
    case OpCode::kDeleteContainer:
      // Internal to the container manager; from a client it is a bad request.
      return propose(errorTxn(request, Code::kBadArguments, now));
    case OpCode::kSync:
      return;  // never sequenced: local syncs are reads, a learner's are the consensus' own
    default:
      if (!isWrite(op)) {
        // Only a learner can send this (the local pipeline answers reads itself): ZooKeeper
        // logs no txn for a request that carries none.
        log_.warn("session 0x{:x}: ignoring a forwarded op {} that carries no txn", request.session,
                  static_cast<int32_t>(op));
        return;
      }
      break;
  }
  const auto* entry = sessions_.find(request.session);
  if (entry == nullptr || entry->closing) {
    // ZooKeeper's SessionTracker.checkSession: the write becomes an error txn.
    return propose(errorTxn(request, Code::kSessionExpired, now));
  }
  const int64_t started = session::monotonicMs();
  // A body that does not match its op (a front end's decoder never makes one; a peer could)
  // is what ZooKeeper answers for a request it cannot deserialize; checked before preparing,
  // so no half-prepared change is left behind.
  auto txn = request.request.decode_error != Code::kOk || writeBodyFitsOp(request.request)
                 ? preparer_.prepare(context, request.request)
                 : errorTxn(request, Code::kMarshallingError, now);
  metrics_.prep_process_time.add(session::monotonicMs() - started);
  propose(std::move(txn));
}

// PrepRequestProcessor's reconfig case, in its order: disabled, session, then what the
// consensus checks (in progress, version, membership, quorum), then WRITE on /zookeeper/config.
sdk::TxnEntry Sequencer::reconfig(const sdk::ForwardedRequest& request, const PrepareContext& context) {
  if (!settings_.reconfig_enabled) return errorTxn(request, Code::kReconfigDisabled, context.time);
  const auto* entry = sessions_.find(request.session);
  if (entry == nullptr || entry->closing) return errorTxn(request, Code::kSessionExpired, context.time);
  const auto* body = std::get_if<sdk::ReconfigRequest>(&request.request.body);
  if (request.request.decode_error != Code::kOk || body == nullptr) {
    return errorTxn(request, Code::kMarshallingError, context.time);
  }
  auto config = consensus_.prepareReconfig(*body, context.zxid);
  if (!config.isOk()) {
    log_.warn("session 0x{:x}: reconfig refused: {}", request.session, config.status().toString());
    return errorTxn(request, config.status().code(), context.time);
  }
  return preparer_.reconfig(context, std::move(config).value());
}

void Sequencer::closeSession(sdk::SessionId id, int32_t cxid) {
  auto* entry = sessions_.find(id);
  if (entry != nullptr) {
    if (entry->closing) return;  // one closeSession per session
    entry->closing = true;
  }
  PrepareContext context{id, cxid, nullptr, next_zxid_, session::wallMs()};
  const int64_t started = session::monotonicMs();
  auto txn = preparer_.closeSession(context, storage_.ephemeralsOf(id));
  metrics_.close_session_prep_time.add(session::monotonicMs() - started);
  propose(std::move(txn));
}

void Sequencer::propose(sdk::TxnEntry txn) {
  txn.header.zxid = next_zxid_++;
  ++in_flight_[txn.header.client_id];
  consensus_.propose(std::move(txn));
}

void Sequencer::touch(sdk::SessionId id, int32_t timeout_ms) {
  sessions_.touch(id, session::monotonicMs(), timeout_ms);
}

void Sequencer::revalidate(sdk::SessionId id, int32_t timeout_ms, std::function<void(bool)> done) {
  const auto* entry = sessions_.find(id);
  const bool valid = entry != nullptr && !entry->closing;
  if (valid) sessions_.touch(id, session::monotonicMs(), timeout_ms);
  done(valid);
}

void Sequencer::applied(const sdk::TxnEntry& txn) {
  const sdk::Zxid zxid = txn.header.zxid;
  pending_.applied(zxid);
  const sdk::SessionId owner = txn.header.client_id;
  if (zxid >= first_zxid_) {
    auto it = in_flight_.find(owner);
    if (it != in_flight_.end() && --it->second <= 0) in_flight_.erase(it);
  }
  if (txn.header.type == OpCode::kCreateSession) {
    if (sessions_.find(owner) == nullptr) {
      sessions_.add(owner, std::get<sdk::CreateSessionTxn>(txn.body).timeout, session::monotonicMs());
    }
  } else if (txn.header.type == OpCode::kCloseSession) {
    sessions_.remove(owner);
  }
}

// ---- expiry (ZooKeeper's SessionTrackerImpl) ----

void Sequencer::expireSessions() {
  const int64_t now = session::monotonicMs();
  for (auto id : sessions_.expired(now)) {
    if (in_flight_.count(id) != 0) {
      // Let in-flight writes land first; look again on the next tick.
      sessions_.touch(id, now - sessions_.find(id)->timeout_ms);
      continue;
    }
    log_.info("expiring session 0x{:x}", id);
    metrics_.stale_sessions_expired.add();
    closeSession(id, 0);
  }
}

void Sequencer::scheduleTick() {
  tick_timer_.expires_after(std::chrono::milliseconds(sessions_.tickMs()));
  tick_timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& error) {
    if (error || alive.expired()) return;
    expireSessions();
    scheduleTick();
  });
}

// ---- containers and TTL nodes (ZooKeeper's ContainerManager) ----

void Sequencer::scheduleReaper() {
  if (settings_.container_check_ms <= 0) return;
  reaper_timer_.expires_after(std::chrono::milliseconds(settings_.container_check_ms));
  reaper_timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& error) {
    if (error || alive.expired()) return;
    reapContainers();
    scheduleReaper();
  });
}

void Sequencer::reapContainers() {
  const int64_t now = session::wallMs();
  int64_t budget = settings_.container_max_per_minute;
  for (const auto& candidate : storage_.reapCandidates()) {
    if (budget-- <= 0) break;
    if (candidate.num_children != 0 || pending_.has(candidate.path)) continue;
    bool reap = false;
    if (sdk::owner::isContainer(candidate.raw_owner)) {
      reap = candidate.stored_cversion > 0;  // never reap a container that never had a child
    } else if (sdk::owner::isTtl(candidate.raw_owner)) {
      reap = now - candidate.mtime > sdk::owner::ttlOf(candidate.raw_owner);
    }
    if (!reap) continue;
    PrepareContext context{0, 0, nullptr, next_zxid_, now};
    propose(preparer_.deleteNode(context, candidate.path, true));
  }
}

}  // namespace corral::kernel::pipeline

#include "kernel/pipeline/client_pipeline.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <set>

#include "kernel/pipeline/op_kinds.h"
#include "kernel/session/session_ids.h"

namespace corral::kernel::pipeline {
namespace {

using sdk::Code;
using sdk::OpCode;

// Requests that go upstream in the session's order: writes, closeSession, and sync where
// the leader must answer it.
bool goesUpstream(OpCode op, bool forwards_sync) {
  return isWrite(op) || op == OpCode::kCloseSession || (forwards_sync && op == OpCode::kSync);
}

// While the session has writes upstream, writes are pipelined behind them; everything else
// (reads, and closeSession, which must come after every write) waits for them to commit.
bool waitsForWrites(OpCode op, bool forwards_sync) {
  return op == OpCode::kCloseSession || !goesUpstream(op, forwards_sync);
}

}  // namespace

// The front end's handle on a session. It holds the pipeline and the connection, never
// itself: the front end may drop it before the strand runs what it submitted.
class ClientPipeline::AttachedSession final : public sdk::ClientSession {
 public:
  AttachedSession(ClientPipeline& pipeline, std::shared_ptr<ConnectionState> connection)
      : pipeline_(pipeline), connection_(std::move(connection)), id_(connection_->session) {}
  sdk::SessionId id() const noexcept override { return id_; }
  void submit(sdk::ClientRequest request) noexcept override {
    pipeline_.stats_.packets_received.fetch_add(1, std::memory_order_relaxed);
    pipeline_.stats_.outstanding.fetch_add(1, std::memory_order_relaxed);
    const int64_t now = session::monotonicMs();
    // dispatch, not post: on an io thread with the strand idle the request runs right here,
    // saving a trip through the scheduler (and an epoll_wait) per request.
    boost::asio::dispatch(pipeline_.strand_, [pipeline = &pipeline_, connection = connection_,
                                              request = std::move(request), now]() mutable {
      pipeline->onRequest(connection, std::move(request), now);
    });
  }
  void connectionClosed() noexcept override {
    boost::asio::post(pipeline_.strand_, [pipeline = &pipeline_, connection = connection_] {
      pipeline->onConnectionClosed(connection);
    });
  }

 private:
  ClientPipeline& pipeline_;
  std::shared_ptr<ConnectionState> connection_;
  sdk::SessionId id_;
};

ClientPipeline::ClientPipeline(Strand& strand, const sdk::Storage& storage, const AclChecker& acl,
                               PipelineSettings settings, sdk::Logger& log, runtime::KernelMetrics& metrics)
    : strand_(strand),
      storage_(storage),
      acl_(acl),
      settings_(std::move(settings)),
      log_(log),
      metrics_(metrics),
      watches_(storage, acl, metrics,
               [this](watch::WatcherId id) -> ConnectionState* {
                 auto it = connections_.find(id);
                 return it == connections_.end() ? nullptr : it->second.get();
               }),
      reads_(storage, acl, watches_, metrics, log) {
  // Standalone servers hand out ids with server id 1 in the top byte, like ZooKeeper.
  const int64_t sid = settings_.server_id == 0 ? 1 : settings_.server_id;
  next_session_id_ = session::initialSessionId(sid, session::monotonicMs());
  last_zxid_ = storage.stats().last_applied_zxid;
}

ClientPipeline::~ClientPipeline() = default;

ClientPipeline::LocalSession* ClientPipeline::localSession(sdk::SessionId id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

// ---- roles ----

void ClientPipeline::serve(Upstream* upstream) {
  dropEverything();
  upstream_ = upstream;
}

void ClientPipeline::stop() {
  stopping_ = true;
  dropEverything();
  upstream_ = nullptr;
}

void ClientPipeline::dropEverything() {
  for (auto& [id, connection] : connections_) {
    connection->closed = true;
    connection->link->close();
    watches_.removeWatcher(connection->id);
  }
  connections_.clear();
  int64_t dropped = 0;
  for (auto& [id, session] : sessions_) {
    dropped += static_cast<int64_t>(session->queue.size() + session->writes.size());
  }
  stats_.outstanding.fetch_sub(dropped, std::memory_order_relaxed);
  sessions_.clear();
  pending_syncs_.clear();
  // Connects still waiting get no answer: the front end closes the socket.
  for (auto& [id, pending] : creating_) answerConnect(pending, {});
  for (auto& pending : reattaching_) answerConnect(pending, {});
  creating_.clear();
  reattaching_.clear();
  stats_.connections = 0;
}

// ---- connect ----

void ClientPipeline::connect(const sdk::ConnectRequest& request, std::shared_ptr<sdk::ClientConnection> connection,
                             std::function<void(sdk::ConnectOutcome)> done) noexcept {
  boost::asio::post(strand_, [this, request, connection = std::move(connection), done = std::move(done)]() mutable {
    onConnect(std::move(request), std::move(connection), std::move(done));
  });
}

void ClientPipeline::answerConnect(const std::shared_ptr<PendingConnect>& pending, sdk::ConnectOutcome outcome) {
  if (pending->answered) return;
  pending->answered = true;
  auto done = std::move(pending->done);
  done(std::move(outcome));
}

void ClientPipeline::onConnect(sdk::ConnectRequest request, std::shared_ptr<sdk::ClientConnection> link,
                               std::function<void(sdk::ConnectOutcome)> done) {
  if (stopping_ || upstream_ == nullptr) {
    // Not serving (stopping, or no role yet): the socket is closed without a reply, as
    // ZooKeeper does while it has no running ZooKeeperServer.
    done({});
    return;
  }
  // A client that has seen a newer state than ours must try another server.
  if (request.last_zxid_seen > last_zxid_.load()) {
    log_.info("refusing session 0x{:x}: client saw zxid 0x{:x}, ours is 0x{:x}", request.session_id,
              request.last_zxid_seen, last_zxid_.load());
    done({});
    return;
  }
  if (upstream_->readOnly() && !request.read_only.value_or(false)) {
    // ZooKeeper's ReadOnlyZooKeeperServer: "Refusing session request for not-read-only client".
    log_.info("refusing session request for not-read-only client {}:{} (read-only mode)",
              link->info().remote_address, link->info().remote_port);
    done({});
    return;
  }
  const int32_t timeout = std::clamp(request.timeout, settings_.min_session_timeout_ms,
                                     settings_.max_session_timeout_ms);
  auto connection = std::make_shared<ConnectionState>();
  connection->id = next_connection_id_++;
  connection->link = link;
  // Every connection is ip:<peer> (as in ZooKeeper), plus what schemes grant on connect
  // (x509: the verified client certificate).
  connection->ids.push_back(sdk::Id{"ip", link->info().remote_address});
  for (auto& id : acl_.connectIds(link->info())) connection->addId(std::move(id));
  connection->established_ms = session::wallMs();
  connection->received = 1;  // the ConnectRequest
  connection->sent = 1;      // and its ConnectResponse (ZooKeeper counts both)

  auto pending = std::make_shared<PendingConnect>();
  pending->connection = connection;
  pending->done = std::move(done);
  pending->timeout_ms = timeout;
  pending->response.protocol_version = 0;
  pending->response.read_only = request.read_only ? std::optional<bool>(upstream_->readOnly()) : std::nullopt;

  if (request.session_id != 0) {
    const sdk::SessionId id = request.session_id;
    if (upstream_->refusesReattach(id)) {
      log_.info("refusing global session 0x{:x} reconnection in read-only mode", id);
      return answerConnect(pending, {});
    }
    LocalSession* local = localSession(id);
    // Any attempt to take over a live session closes the connection holding it, even when
    // the password turns out wrong (as ZooKeeper does).
    if (local != nullptr && local->connection) {
      auto old = local->connection;
      old->link->close();
      onConnectionClosed(old);
    }
    // The password is checked here, without asking upstream (ZooKeeper's learners too).
    if (request.passwd != session::sessionPassword(id) || (local != nullptr && local->closing)) {
      return finishReattach(pending, false);
    }
    pending->response.session_id = id;
    reattaching_.push_back(pending);
    upstream_->revalidate(id, timeout, [this, pending](bool valid) { finishReattach(pending, valid); });
    return;
  }

  const sdk::SessionId id = next_session_id_++;
  connection->session = id;
  pending->response.timeout = timeout;
  pending->response.session_id = id;
  pending->response.passwd = session::sessionPassword(id);
  creating_[id] = pending;
  sdk::ForwardedRequest create;
  create.session = id;
  create.request.op = OpCode::kCreateSession;
  create.session_timeout_ms = timeout;
  upstream_->submit(std::move(create), connection->ids);
}

void ClientPipeline::finishReattach(const std::shared_ptr<PendingConnect>& pending, bool valid) {
  std::erase(reattaching_, pending);
  if (pending->answered) return;  // the role changed meanwhile
  const sdk::SessionId id = pending->response.session_id;
  if (!valid) {
    pending->response.timeout = 0;
    pending->response.session_id = 0;
    pending->response.passwd.assign(16, '\0');
    return answerConnect(pending, {pending->response, nullptr});
  }
  pending->response.timeout = pending->timeout_ms;
  pending->response.passwd = session::sessionPassword(id);
  attach(pending, id);
}

void ClientPipeline::attach(const std::shared_ptr<PendingConnect>& pending, sdk::SessionId id) {
  auto& slot = sessions_[id];
  if (!slot) {
    slot = std::make_unique<LocalSession>();
    slot->id = id;
  }
  slot->timeout_ms = pending->timeout_ms;
  if (slot->connection && slot->connection != pending->connection) {
    auto old = slot->connection;
    old->link->close();
    onConnectionClosed(old);
  }
  pending->connection->session = id;
  slot->connection = pending->connection;
  connections_[pending->connection->id] = pending->connection;
  stats_.connections = static_cast<int64_t>(connections_.size());
  upstream_->touch(id, pending->timeout_ms);
  answerConnect(pending, {pending->response, std::make_shared<AttachedSession>(*this, pending->connection)});
}

// ---- requests ----

bool ClientPipeline::authenticatedForEnforcement(const ConnectionState& connection) const {
  for (const auto& id : connection.ids) {
    for (const auto& scheme : settings_.enforce_auth_schemes) {
      if (id.scheme == scheme) return true;
    }
  }
  return false;
}

void ClientPipeline::onRequest(const std::shared_ptr<ConnectionState>& connection, sdk::ClientRequest request,
                               int64_t received_at) {
  LocalSession* session = connection->closed || stopping_ ? nullptr : localSession(connection->session);
  if (session == nullptr || session->closing || session->connection != connection) {
    stats_.outstanding.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  upstream_->touch(session->id, session->timeout_ms);
  ++connection->received;
  metrics_.prep_processor_request_queued.add();
  if (settings_.enforce_auth && !authenticatedForEnforcement(*connection) &&
      request.op != OpCode::kAuth && request.op != OpCode::kSasl) {
    // ZooKeeper's AuthenticationHelper: answer SessionClosedRequireSaslAuth (zxid 0), then
    // close the connection; the session itself expires as usual.
    log_.warn("session 0x{:x} did not authenticate with any of the enforced schemes; closing",
              connection->session);
    sdk::ClientResponse response;
    response.xid = request.xid;
    response.zxid = 0;
    response.err = Code::kSessionClosedRequireSaslAuth;
    response.close_after = true;
    respond(*connection, std::move(response), received_at, request.op);
    onConnectionClosed(connection);
    return;
  }
  Queued item{connection, std::move(request), received_at};
  // Pings do not wait behind writes: the client matches them by their special xid.
  const bool bypass = item.request.op == OpCode::kPing;
  if (!bypass && session->queue.size() + session->writes.size() >= settings_.max_queued_per_session) {
    // Writes in flight and requests behind them are bounded per session whatever the xids
    // (requests with xid <= 0 escape the front end's outstanding count).
    log_.warn("closing the connection of session 0x{:x}: {} writes in flight and {} requests behind them",
              session->id, session->writes.size(), session->queue.size());
    stats_.outstanding.fetch_sub(1, std::memory_order_relaxed);
    connection->link->close();
    onConnectionClosed(connection);
    return;
  }
  const bool waits = !session->writes.empty() && waitsForWrites(item.request.op, upstream_->forwardsSync());
  if (!bypass && (!session->queue.empty() || waits)) {
    session->queue.push_back(std::move(item));
    return;
  }
  process(*session, std::move(item));
}

void ClientPipeline::process(LocalSession& session, Queued item) {
  if (item.received_at != 0) metrics_.prep_processor_queue_time.add(session::monotonicMs() - item.received_at);
  if (goesUpstream(item.request.op, upstream_->forwardsSync())) {
    sendUpstream(session, std::move(item));
  } else {
    answerRead(item);
  }
}

void ClientPipeline::drain(LocalSession& session) {
  while (!session.queue.empty()) {
    auto& front = session.queue.front();
    if (!session.writes.empty() && waitsForWrites(front.request.op, upstream_->forwardsSync())) return;
    Queued item = std::move(front);
    session.queue.pop_front();
    process(session, std::move(item));
    if (session.closing) return;
  }
}

void ClientPipeline::sendUpstream(LocalSession& session, Queued item) {
  const OpCode op = item.request.op;
  PendingWrite write{item.request.xid, op, item.received_at, item.connection, {}};
  if (op == OpCode::kSync) {
    write.sync_path = std::get<sdk::SyncRequest>(item.request.body).path;
    pending_syncs_.push_back(session.id);
  }
  if (op == OpCode::kCloseSession) session.closing = true;
  if (isWrite(op)) {
    // The storage cannot make writes durable now (a full disk): the write is refused, answered
    // in its turn behind the session's earlier writes, as a read-only server refuses it.
    if (auto writable = storage_.writable(); !writable.isOk()) {
      write.refused = sdk::Code::kNotReadOnly;
      session.writes.push_back(std::move(write));
      return answerRefused(session);
    }
  }
  session.writes.push_back(std::move(write));
  sdk::ForwardedRequest forwarded;
  forwarded.session = session.id;
  forwarded.request = std::move(item.request);
  forwarded.session_timeout_ms = session.timeout_ms;
  upstream_->submit(std::move(forwarded), item.connection->ids);
}

void ClientPipeline::answerRead(const Queued& item) {
  sdk::ClientResponse response;
  response.xid = item.request.xid;
  response.zxid = last_zxid_.load();
  reads_.execute(*item.connection, item.request, response);
  respond(*item.connection, std::move(response), item.received_at, item.request.op);
}

void ClientPipeline::respond(ConnectionState& connection, sdk::ClientResponse response, int64_t received_at,
                             OpCode op) {
  stats_.outstanding.fetch_sub(1, std::memory_order_relaxed);
  if (response.silent) {
    // Nothing is written (a bare check), but the front end must release the request's slot.
    if (!connection.closed) connection.link->sendResponse(std::move(response));
    return;
  }
  stats_.packets_sent.fetch_add(1, std::memory_order_relaxed);
  const int64_t now = session::monotonicMs();
  const int64_t latency = received_at != 0 ? now - received_at : 0;
  if (received_at != 0) {
    stats_.recordLatency(latency);
    // As ZooKeeper's ServerStats: requests that carried a txn count as updates.
    const bool update = isWrite(op) || op == OpCode::kCloseSession;
    (update ? metrics_.update_latency : metrics_.read_latency).add(latency);
  }
  ++connection.sent;
  connection.any_op = true;
  connection.last_op = op;
  if (response.xid >= 0) connection.last_cxid = response.xid;
  connection.last_zxid = response.zxid;
  connection.last_response_ms = now;
  connection.last_latency = latency;
  connection.min_latency = std::min(connection.min_latency, latency);
  connection.max_latency = std::max(connection.max_latency, latency);
  connection.total_latency += latency;
  ++connection.count;
  if (!connection.closed) connection.link->sendResponse(std::move(response));
}

void ClientPipeline::onConnectionClosed(const std::shared_ptr<ConnectionState>& connection) {
  if (connection->closed) return;
  connection->closed = true;
  watches_.removeWatcher(connection->id);
  connections_.erase(connection->id);
  stats_.connections = static_cast<int64_t>(connections_.size());
  LocalSession* session = localSession(connection->session);
  if (session != nullptr && session->connection == connection) {
    session->connection.reset();
    // Requests the client can no longer receive answers for are dropped.
    stats_.outstanding.fetch_sub(static_cast<int64_t>(session->queue.size()), std::memory_order_relaxed);
    session->queue.clear();
  }
}

// ---- commits ----

void ClientPipeline::committed(const sdk::TxnEntry& txn, const std::vector<sdk::OpOutcome>& outcomes,
                               const std::unordered_map<std::string, sdk::AclList>& deleted_acls) {
  last_zxid_.store(txn.header.zxid);
  const sdk::SessionId owner = txn.header.client_id;
  if (txn.header.type == OpCode::kCreateSession) {
    auto it = creating_.find(owner);
    if (it == creating_.end()) return;  // created through another server
    auto pending = std::move(it->second);
    creating_.erase(it);
    if (!pending->answered) attach(pending, owner);
    return;
  }
  watches_.fire(txn, outcomes, deleted_acls);
  if (txn.header.type == OpCode::kCloseSession) return sessionClosed(txn);
  LocalSession* session = localSession(owner);
  if (session == nullptr || session->writes.empty()) return;  // a session of another server
  const PendingWrite& front = session->writes.front();
  if (front.cxid != txn.header.cxid || front.op == OpCode::kCloseSession ||
      (front.op == OpCode::kSync && txn.header.type != OpCode::kError)) {
    return;  // not this server's request (e.g. it was sent before the session moved here)
  }
  if (front.op == OpCode::kSync) {
    // A refused sync (read-only mode) is answered here, not by syncCompleted().
    if (auto it = std::find(pending_syncs_.begin(), pending_syncs_.end(), owner); it != pending_syncs_.end()) {
      pending_syncs_.erase(it);
    }
  }
  answerWrite(*session, txn, outcomes);
  answerRefused(*session);
  drain(*session);
}

void ClientPipeline::answerRefused(LocalSession& session) {
  while (!session.writes.empty() && session.writes.front().refused != sdk::Code::kOk) {
    sdk::TxnEntry txn;
    txn.header.client_id = session.id;
    txn.header.cxid = session.writes.front().cxid;
    txn.header.zxid = last_zxid_.load();
    txn.header.type = OpCode::kError;
    txn.body = sdk::ErrorTxn{session.writes.front().refused};
    answerWrite(session, txn, {});
  }
}

void ClientPipeline::answerWrite(LocalSession& session, const sdk::TxnEntry& txn,
                                 const std::vector<sdk::OpOutcome>& outcomes) {
  PendingWrite write = std::move(session.writes.front());
  session.writes.pop_front();
  sdk::ClientResponse response;
  response.xid = write.cxid;
  response.zxid = txn.header.zxid;
  if (txn.header.type == OpCode::kError) {
    response.err = std::get<sdk::ErrorTxn>(txn.body).err;
  } else if (txn.header.type == OpCode::kMulti) {
    sdk::MultiResponse multi;
    for (const auto& outcome : outcomes) {
      switch (outcome.type) {
        case OpCode::kCreate: multi.results.push_back(sdk::MultiResult::create(outcome.path)); break;
        case OpCode::kCreateContainer:
        case OpCode::kCreateTtl:
        case OpCode::kCreate2: multi.results.push_back(sdk::MultiResult::create2(outcome.path, outcome.stat)); break;
        case OpCode::kDelete: multi.results.push_back(sdk::MultiResult::remove()); break;
        case OpCode::kSetData: multi.results.push_back(sdk::MultiResult::setData(outcome.stat)); break;
        case OpCode::kCheck: multi.results.push_back(sdk::MultiResult::check()); break;
        default: multi.results.push_back(sdk::MultiResult::error(outcome.err)); break;
      }
    }
    response.body = std::move(multi);
  } else if (!outcomes.empty()) {
    const auto& outcome = outcomes.front();
    response.err = outcome.err;
    switch (write.op) {
      case OpCode::kCreate: response.body = sdk::CreateResponse{outcome.path}; break;
      case OpCode::kCreate2:
      case OpCode::kCreateContainer:
      case OpCode::kCreateTtl: response.body = sdk::Create2Response{outcome.path, outcome.stat}; break;
      case OpCode::kSetData: response.body = sdk::SetDataResponse{outcome.stat}; break;
      case OpCode::kSetAcl: response.body = sdk::SetAclResponse{outcome.stat}; break;
      case OpCode::kReconfig: {
        // FinalRequestProcessor: the config now in force and the node's new Stat.
        const auto& set = std::get<sdk::SetDataTxn>(txn.body);
        response.body = sdk::GetDataResponse{set.data ? *set.data : std::string(), outcome.stat};
        break;
      }
      default: break;
    }
  }
  // A check outside multi is logged but never answered by ZooKeeper 3.8 either; its slot
  // in the front end's outstanding count is released all the same.
  response.silent = write.op == OpCode::kCheck;
  respond(*write.connection, std::move(response), write.received_at, write.op);
}

void ClientPipeline::sessionClosed(const sdk::TxnEntry& txn) {
  const sdk::SessionId owner = txn.header.client_id;
  auto it = sessions_.find(owner);
  if (it == sessions_.end()) return;
  std::unique_ptr<LocalSession> session = std::move(it->second);
  sessions_.erase(it);
  stats_.outstanding.fetch_sub(static_cast<int64_t>(session->queue.size()), std::memory_order_relaxed);
  // The client's own closeSession is answered (then the connection closes); an expiry or a
  // close decided elsewhere just closes the connection.
  std::shared_ptr<ConnectionState> requester;
  for (auto& write : session->writes) {
    if (write.op == OpCode::kCloseSession && write.cxid == txn.header.cxid && !requester) {
      requester = write.connection;
      sdk::ClientResponse response;
      response.xid = write.cxid;
      response.zxid = txn.header.zxid;
      response.close_after = true;
      respond(*requester, std::move(response), write.received_at, OpCode::kCloseSession);
    } else {
      stats_.outstanding.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  if (requester) {
    onConnectionClosed(requester);
  } else if (session->connection) {
    session->connection->link->close();
    onConnectionClosed(session->connection);
  }
}

void ClientPipeline::syncCompleted() {
  if (pending_syncs_.empty()) return;
  const sdk::SessionId id = pending_syncs_.front();
  pending_syncs_.pop_front();
  LocalSession* session = localSession(id);
  if (session == nullptr || session->writes.empty() || session->writes.front().op != OpCode::kSync) return;
  PendingWrite write = std::move(session->writes.front());
  session->writes.pop_front();
  sdk::ClientResponse response;
  response.xid = write.cxid;
  response.zxid = last_zxid_.load();
  response.body = sdk::SyncResponse{write.sync_path};
  respond(*write.connection, std::move(response), write.received_at, OpCode::kSync);
  drain(*session);
}

// ---- admin views ----

std::vector<ConnectionView> ClientPipeline::connections() const {
  std::vector<ConnectionView> views;
  for (const auto& [id, connection] : connections_) {
    ConnectionView view;
    view.remote_address = connection->link->info().remote_address;
    view.remote_port = connection->link->info().remote_port;
    view.session = connection->session;
    auto session = sessions_.find(connection->session);
    if (session != sessions_.end()) {
      view.timeout_ms = session->second->timeout_ms;
      view.queued = static_cast<int64_t>(session->second->queue.size());
    }
    view.received = connection->received;
    view.sent = connection->sent;
    view.last_op = connection->any_op ? opName(connection->last_op) : "NA";
    view.established_ms = connection->established_ms;
    view.last_cxid = connection->last_cxid;
    view.last_zxid = connection->last_zxid;
    view.last_response_ms = connection->last_response_ms;
    view.last_latency = connection->last_latency;
    view.min_latency = connection->count == 0 ? 0 : connection->min_latency;
    view.avg_latency = connection->count == 0 ? 0 : connection->total_latency / connection->count;
    view.max_latency = connection->max_latency;
    views.push_back(view);
  }
  return views;
}

WatchReport ClientPipeline::watchReport() const {
  WatchReport report;
  // Only the data-watch table, as ZooKeeper's wchs/wchc/wchp report it.
  std::set<watch::WatcherId> watchers;
  for (const auto& [path, entries] : watches_.data().byPath()) {
    for (const auto& [watcher, mode] : entries) {
      auto connection = connections_.find(watcher);
      sdk::SessionId session = connection == connections_.end() ? 0 : connection->second->session;
      report.by_path[path].push_back(session);
      report.by_session[session].push_back(path);
      watchers.insert(watcher);
      ++report.total;
    }
  }
  report.connections = watchers.size();
  return report;
}

void ClientPipeline::resetConnectionStats() {
  for (auto& [id, connection] : connections_) connection->resetStats();
}

}  // namespace corral::kernel::pipeline

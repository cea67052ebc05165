#include "kernel/pipeline/request_processor.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <set>

#include "corral/path.h"
#include "kernel/session/session_ids.h"

namespace corral::kernel::pipeline {
namespace {

using sdk::Code;
using sdk::OpCode;

int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

bool isWrite(OpCode op) {
  switch (op) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl:
    case OpCode::kDelete:
    case OpCode::kSetData:
    case OpCode::kSetAcl:
    case OpCode::kCheck:
    case OpCode::kMulti:
    case OpCode::kReconfig:
    case OpCode::kDeleteContainer:
      return true;
    default:
      return false;
  }
}

// ZooKeeper's Request.op2String abbreviations, as cons prints them (lop=...).
const char* opName(OpCode op) {
  switch (op) {
    case OpCode::kCreate: return "CREA";
    case OpCode::kCreate2: return "CRE2";
    case OpCode::kCreateContainer: return "CCON";
    case OpCode::kCreateTtl: return "CTTL";
    case OpCode::kDelete: return "DELE";
    case OpCode::kDeleteContainer: return "DCON";
    case OpCode::kExists: return "EXIS";
    case OpCode::kGetData: return "GETD";
    case OpCode::kSetData: return "SETD";
    case OpCode::kGetAcl: return "GETA";
    case OpCode::kSetAcl: return "SETA";
    case OpCode::kGetChildren: return "GETC";
    case OpCode::kGetChildren2: return "GETC";
    case OpCode::kSync: return "SYNC";
    case OpCode::kPing: return "PING";
    case OpCode::kCreateSession: return "SESS";
    case OpCode::kCloseSession: return "CLOS";
    case OpCode::kMulti: return "MULT";
    case OpCode::kMultiRead: return "MLTR";
    case OpCode::kAuth: return "AUTH";
    case OpCode::kSetWatches: return "SETW";
    case OpCode::kSetWatches2: return "SETW";
    case OpCode::kSasl: return "SASL";
    case OpCode::kCheck: return "CHEC";
    case OpCode::kReconfig: return "RECO";
    case OpCode::kCheckWatches: return "CHKW";
    case OpCode::kRemoveWatches: return "REMW";
    case OpCode::kGetEphemerals: return "GETE";
    case OpCode::kGetAllChildrenNumber: return "GETACN";
    case OpCode::kAddWatch: return "ADDW";
    case OpCode::kWhoAmI: return "HOMI";
    default: return "UNKNOWN";
  }
}

std::string_view parentPath(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return "/";
  return path.substr(0, slash);
}

}  // namespace

// ---- per-connection and per-session state (strand only) ----

struct RequestProcessor::Connection {
  watch::WatcherId id = 0;
  std::shared_ptr<sdk::ClientConnection> link;
  sdk::SessionId session = 0;
  std::vector<sdk::Id> ids;  // auth ids: ip:<addr> plus what AuthPackets added
  bool closed = false;
  // cons/stat figures (ZooKeeper's ServerCnxn stats)
  int64_t received = 0;
  int64_t sent = 0;
  OpCode last_op = OpCode::kNotification;
  bool any_op = false;
  int64_t established_ms = 0;
  int32_t last_cxid = -1;
  sdk::Zxid last_zxid = -1;
  int64_t last_response_ms = 0;
  int64_t last_latency = 0;
  int64_t min_latency = INT64_MAX;
  int64_t max_latency = 0;
  int64_t total_latency = 0;
  int64_t count = 0;
  void resetStats() {
    received = sent = 0;
    any_op = false;
    last_cxid = -1;
    last_zxid = -1;
    last_response_ms = last_latency = max_latency = total_latency = count = 0;
    min_latency = INT64_MAX;
  }
};

struct RequestProcessor::Queued {
  std::shared_ptr<Connection> connection;
  sdk::ClientRequest request;
  int64_t received_at = 0;
};

struct RequestProcessor::Session {
  sdk::SessionId id = 0;
  std::shared_ptr<Connection> connection;  // the attached connection, if any
  int pending_writes = 0;                  // proposed, not yet applied
  std::deque<Queued> queue;                // requests waiting for earlier writes
  bool closing = false;
};

struct RequestProcessor::InFlight {
  enum class Kind { kClient, kCreateSession, kCloseSession, kServer } kind = Kind::kClient;
  std::shared_ptr<Connection> connection;
  int32_t xid = 0;
  OpCode op = OpCode::kError;
  int64_t received_at = 0;
  std::function<void(sdk::ConnectOutcome)> connect_done;
  sdk::ConnectResponse connect_response;
};

class RequestProcessor::AttachedSession final : public sdk::ClientSession {
 public:
  AttachedSession(RequestProcessor& processor, std::shared_ptr<Connection> connection)
      : processor_(processor), connection_(std::move(connection)), id_(connection_->session) {}
  sdk::SessionId id() const noexcept override { return id_; }
  void submit(sdk::ClientRequest request) noexcept override {
    processor_.stats_.packets_received.fetch_add(1, std::memory_order_relaxed);
    processor_.stats_.outstanding.fetch_add(1, std::memory_order_relaxed);
    int64_t now = session::monotonicMs();
    // Capture the processor and the connection, never `this`: the front end may drop its
    // session handle before the strand runs the request. dispatch, not post: on an io thread
    // with the strand idle the request runs right here, saving a trip through the scheduler
    // (and an epoll_wait) per request; otherwise it queues as post would.
    boost::asio::dispatch(processor_.strand_, [processor = &processor_, connection = connection_,
                                               request = std::move(request), now]() mutable {
      processor->onRequest(connection, std::move(request), now);
    });
  }
  void connectionClosed() noexcept override {
    boost::asio::post(processor_.strand_, [processor = &processor_, connection = connection_] {
      processor->onConnectionClosed(connection);
    });
  }

 private:
  RequestProcessor& processor_;
  std::shared_ptr<Connection> connection_;
  sdk::SessionId id_;
};

RequestProcessor::RequestProcessor(boost::asio::io_context& io, sdk::Storage& storage,
                                   sdk::Consensus& consensus, AclChecker& acl,
                                   ProcessorSettings settings, sdk::Logger& log,
                                   sdk::MetricsRegistry& metrics)
    : io_(io),
      strand_(boost::asio::make_strand(io)),
      storage_(storage),
      consensus_(consensus),
      acl_(acl),
      settings_(settings),
      log_(log),
      pending_(storage),
      preparer_(pending_, acl, settings.extended_types),
      sessions_(settings.tick_ms),
      metrics_(metrics),
      tick_timer_(strand_),
      reaper_timer_(strand_) {
  pending_.countInto(&metrics_.outstanding_changes_queued, &metrics_.outstanding_changes_removed);
}

RequestProcessor::~RequestProcessor() = default;

void RequestProcessor::start(const std::vector<sdk::RecoveredSession>& recovered) {
  auto stats = storage_.stats();
  last_zxid_ = stats.last_applied_zxid;
  next_zxid_ = std::max<sdk::Zxid>(stats.last_applied_zxid + 1,
                                   sdk::zxidOf(consensus_.epoch(), 1));
  // Standalone servers hand out ids with server id 1 in the top byte, like ZooKeeper.
  int64_t sid = settings_.server_id == 0 ? 1 : settings_.server_id;
  next_session_id_ = session::initialSessionId(sid, session::monotonicMs());
  int64_t now = session::monotonicMs();
  for (const auto& session : recovered) {
    sessions_.add(session.id, session.timeout_ms, now);
    auto state = std::make_unique<Session>();
    state->id = session.id;
    session_state_[session.id] = std::move(state);
  }
  stats_.session_count = static_cast<int64_t>(sessions_.size());
  boost::asio::post(strand_, [this] {
    scheduleTick();
    scheduleReaper();
  });
}

void RequestProcessor::stop() {
  std::promise<void> done;
  boost::asio::post(strand_, [this, &done] {
    stopping_ = true;
    tick_timer_.cancel();
    reaper_timer_.cancel();
    for (auto& [id, connection] : connections_) connection->link->close();
    connections_.clear();
    done.set_value();
  });
  done.get_future().wait();
}

sdk::Zxid RequestProcessor::lastProcessedZxid() const noexcept { return last_zxid_.load(); }

void RequestProcessor::inspect(const std::function<void()>& visit) {
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

std::vector<ConnectionView> RequestProcessor::connections() {
  std::vector<ConnectionView> views;
  inspect([&] {
    for (const auto& [id, connection] : connections_) {
      ConnectionView view;
      view.remote_address = connection->link->info().remote_address;
      view.remote_port = connection->link->info().remote_port;
      view.session = connection->session;
      if (const auto* entry = sessions_.find(connection->session)) view.timeout_ms = entry->timeout_ms;
      auto state = session_state_.find(connection->session);
      if (state != session_state_.end()) view.queued = static_cast<int64_t>(state->second->queue.size());
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
  });
  return views;
}

WatchReport RequestProcessor::watchReport() {
  WatchReport report;
  inspect([&] {
    // Only the data-watch table, as ZooKeeper's wchs/wchc/wchp report it.
    std::set<watch::WatcherId> watchers;
    for (const auto& [path, entries] : data_watches_.byPath()) {
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
  });
  return report;
}

SessionReport RequestProcessor::sessionReport() {
  SessionReport report;
  inspect([&] {
    report.session_count = sessions_.size();
    for (const auto& [expiry, ids] : sessions_.buckets()) {
      report.buckets[expiry].assign(ids.begin(), ids.end());
    }
    for (const auto& [id, entry] : sessions_.all()) {
      auto paths = storage_.ephemeralsOf(id);
      if (!paths.empty()) report.ephemerals[id] = std::move(paths);
    }
  });
  return report;
}

void RequestProcessor::resetConnectionStats() {
  inspect([&] {
    for (auto& [id, connection] : connections_) connection->resetStats();
  });
}

bool RequestProcessor::authenticatedForEnforcement(const Connection& connection) const {
  for (const auto& id : connection.ids) {
    for (const auto& scheme : settings_.enforce_auth_schemes) {
      if (id.scheme == scheme) return true;
    }
  }
  return false;
}

// ---- connect ----

void RequestProcessor::connect(const sdk::ConnectRequest& request,
                               std::shared_ptr<sdk::ClientConnection> connection,
                               std::function<void(sdk::ConnectOutcome)> done) noexcept {
  boost::asio::post(strand_, [this, request, connection = std::move(connection),
                              done = std::move(done)]() mutable {
    onConnect(std::move(request), std::move(connection), std::move(done));
  });
}

void RequestProcessor::onConnect(sdk::ConnectRequest request, std::shared_ptr<sdk::ClientConnection> link,
                                 std::function<void(sdk::ConnectOutcome)> done) {
  if (stopping_) {
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
  int32_t timeout = std::clamp(request.timeout, settings_.min_session_timeout_ms,
                               settings_.max_session_timeout_ms);
  auto connection = std::make_shared<Connection>();
  connection->id = next_connection_id_++;
  connection->link = link;
  // Every connection is ip:<peer> (as in ZooKeeper), plus what schemes grant on connect
  // (x509: the verified client certificate).
  connection->ids.push_back(sdk::Id{"ip", link->info().remote_address});
  for (auto& id : acl_.connectIds(link->info())) {
    if (std::find(connection->ids.begin(), connection->ids.end(), id) == connection->ids.end()) {
      connection->ids.push_back(std::move(id));
    }
  }
  connection->established_ms = wallMs();
  connection->received = 1;  // the ConnectRequest
  connection->sent = 1;      // and its ConnectResponse (ZooKeeper counts both)

  sdk::ConnectResponse response;
  response.protocol_version = 0;
  response.read_only = request.read_only ? std::optional<bool>(false) : std::nullopt;

  if (request.session_id != 0) {
    auto state = session_state_.find(request.session_id);
    bool alive = state != session_state_.end() && !state->second->closing &&
                 sessions_.find(request.session_id) != nullptr;
    // Any attempt to take over a live session closes the connection holding it, even when
    // the password turns out wrong (as ZooKeeper does).
    if (alive && state->second->connection) {
      auto old = state->second->connection;
      state->second->connection.reset();
      old->link->close();
      onConnectionClosed(old);
    }
    if (!alive || request.passwd != session::sessionPassword(request.session_id)) {
      response.timeout = 0;
      response.session_id = 0;
      response.passwd.assign(16, '\0');
      done({response, nullptr});
      return;
    }
    sessions_.touch(request.session_id, session::monotonicMs(), timeout);
    connection->session = request.session_id;
    state->second->connection = connection;
    connections_[connection->id] = connection;
    stats_.connections = static_cast<int64_t>(connections_.size());
    response.timeout = timeout;
    response.session_id = request.session_id;
    response.passwd = session::sessionPassword(request.session_id);
    done({response, std::make_shared<AttachedSession>(*this, connection)});
    return;
  }

  sdk::SessionId id = next_session_id_++;
  connection->session = id;
  response.timeout = timeout;
  response.session_id = id;
  response.passwd = session::sessionPassword(id);
  auto in_flight = std::make_unique<InFlight>();
  in_flight->kind = InFlight::Kind::kCreateSession;
  in_flight->connection = connection;
  in_flight->connect_done = std::move(done);
  in_flight->connect_response = response;
  PrepareContext context{id, 0, &connection->ids, 0, wallMs()};
  context.zxid = next_zxid_;
  propose(preparer_.createSession(context, timeout), std::move(in_flight));
}

// ---- requests ----

void RequestProcessor::onRequest(const std::shared_ptr<Connection>& connection, sdk::ClientRequest request,
                                 int64_t received_at) {
  if (connection->closed || stopping_) {
    stats_.outstanding.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  auto state = session_state_.find(connection->session);
  if (state == session_state_.end() || state->second->closing) {
    stats_.outstanding.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  sessions_.touch(connection->session, session::monotonicMs());
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
  Session& session = *state->second;
  Queued item{connection, std::move(request), received_at};
  // Pings and auth do not wait behind writes: the client matches them by their special xids.
  bool bypass = item.request.op == OpCode::kPing;
  if (!bypass && (!session.queue.empty() || (session.pending_writes > 0 && !isWrite(item.request.op)))) {
    session.queue.push_back(std::move(item));
    return;
  }
  process(session, std::move(item));
}

void RequestProcessor::process(Session& session, Queued item) {
  if (item.received_at != 0) metrics_.prep_processor_queue_time.add(session::monotonicMs() - item.received_at);
  if (item.request.op == OpCode::kCloseSession) {
    if (session.pending_writes > 0) {
      session.queue.push_back(std::move(item));
      return;
    }
    closeSessionNow(session.id, item.request.xid, item.connection, item.request.xid, item.received_at);
    return;
  }
  if (isWrite(item.request.op)) {
    proposeWrite(session, std::move(item));
  } else {
    answerRead(item);
  }
}

void RequestProcessor::drain(Session& session) {
  while (!session.queue.empty()) {
    auto& front = session.queue.front();
    bool write = isWrite(front.request.op);
    bool close = front.request.op == OpCode::kCloseSession;
    if (session.pending_writes > 0 && (!write || close)) return;
    Queued item = std::move(front);
    session.queue.pop_front();
    process(session, std::move(item));
    if (session.closing) return;
  }
}

void RequestProcessor::proposeWrite(Session& session, Queued item) {
  PrepareContext context{session.id, item.request.xid, &item.connection->ids, next_zxid_, wallMs()};
  sdk::TxnEntry txn;
  if (item.request.op == OpCode::kReconfig) {
    txn.header = sdk::TxnHeader{session.id, item.request.xid, next_zxid_, context.time, OpCode::kError};
    txn.body = sdk::ErrorTxn{Code::kReconfigDisabled};
  } else if (item.request.op == OpCode::kDeleteContainer) {
    // Internal to the container manager; from a client it is a bad request.
    txn.header = sdk::TxnHeader{session.id, item.request.xid, next_zxid_, context.time, OpCode::kError};
    txn.body = sdk::ErrorTxn{Code::kBadArguments};
  } else {
    int64_t started = session::monotonicMs();
    txn = preparer_.prepare(context, item.request);
    metrics_.prep_process_time.add(session::monotonicMs() - started);
  }
  ++session.pending_writes;
  auto in_flight = std::make_unique<InFlight>();
  in_flight->connection = item.connection;
  in_flight->xid = item.request.xid;
  in_flight->op = item.request.op;
  in_flight->received_at = item.received_at;
  propose(std::move(txn), std::move(in_flight));
}

void RequestProcessor::propose(sdk::TxnEntry txn, std::unique_ptr<InFlight> in_flight) {
  txn.header.zxid = next_zxid_++;
  in_flight_[txn.header.zxid] = std::move(in_flight);
  consensus_.propose(std::move(txn));
}

void RequestProcessor::respond(Connection& connection, sdk::ClientResponse response, int64_t received_at,
                               OpCode op) {
  stats_.outstanding.fetch_sub(1, std::memory_order_relaxed);
  stats_.packets_sent.fetch_add(1, std::memory_order_relaxed);
  int64_t now = session::monotonicMs();
  int64_t latency = received_at != 0 ? now - received_at : 0;
  if (received_at != 0) {
    stats_.recordLatency(latency);
    // As ZooKeeper's ServerStats: requests that carried a txn count as updates.
    bool update = isWrite(op) || op == OpCode::kCloseSession;
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

void RequestProcessor::answerRead(const Queued& item) {
  Connection& connection = *item.connection;
  const auto& request = item.request;
  sdk::ClientResponse response;
  response.xid = request.xid;
  response.zxid = last_zxid_.load();
  auto reply = [&](Code err) {
    response.err = err;
    respond(connection, std::move(response), item.received_at, request.op);
  };
  if (request.decode_error != Code::kOk) return reply(request.decode_error);
  // Reads resolve "" to the root, as ZooKeeper's tree keys the root under "" too.
  auto lookup = [](const std::string& path) -> const std::string& {
    static const std::string kRoot = "/";
    return path.empty() ? kRoot : path;
  };
  switch (request.op) {
    case OpCode::kPing:
      response.xid = sdk::xids::kPing;
      return reply(Code::kOk);
    case OpCode::kExists: {
      const auto& exists = std::get<sdk::ExistsRequest>(request.body);
      if (exists.path.find('\0') != std::string::npos) return reply(Code::kBadArguments);
      sdk::NodeRead node;
      bool found = storage_.read(lookup(exists.path), sdk::NodeRead::kStat, node);
      if (exists.watch) data_watches_.add(exists.path, connection.id, watch::WatchMode::kStandard);
      if (!found) return reply(Code::kNoNode);
      countRead(exists.path, 0);
      response.body = sdk::ExistsResponse{node.stat};
      return reply(Code::kOk);
    }
    case OpCode::kGetData: {
      const auto& get = std::get<sdk::GetDataRequest>(request.body);
      sdk::NodeRead node;
      if (!storage_.read(lookup(get.path), sdk::NodeRead::kStat | sdk::NodeRead::kData | sdk::NodeRead::kAcl, node)) {
        return reply(Code::kNoNode);
      }
      if (!acl_.check(node.acl, sdk::perms::kRead, connection.ids)) return reply(Code::kNoAuth);
      if (get.watch) data_watches_.add(get.path, connection.id, watch::WatchMode::kStandard);
      countRead(get.path, node.data ? static_cast<int64_t>(node.data->size()) : 0);
      response.body = sdk::GetDataResponse{std::move(node.data), node.stat};
      return reply(Code::kOk);
    }
    case OpCode::kGetChildren:
    case OpCode::kGetChildren2: {
      const auto& get = std::get<sdk::GetChildrenRequest>(request.body);
      sdk::NodeRead node;
      if (!storage_.read(lookup(get.path), sdk::NodeRead::kStat | sdk::NodeRead::kChildren | sdk::NodeRead::kAcl, node)) {
        return reply(Code::kNoNode);
      }
      if (!acl_.check(node.acl, sdk::perms::kRead, connection.ids)) return reply(Code::kNoAuth);
      if (get.watch) child_watches_.add(get.path, connection.id, watch::WatchMode::kStandard);
      int64_t name_bytes = 0;
      for (const auto& child : node.children) name_bytes += static_cast<int64_t>(child.size());
      countRead(get.path, name_bytes);
      if (request.op == OpCode::kGetChildren) {
        response.body = sdk::GetChildrenResponse{std::move(node.children)};
      } else {
        response.body = sdk::GetChildren2Response{std::move(node.children), node.stat};
      }
      return reply(Code::kOk);
    }
    case OpCode::kGetAcl: {
      const auto& get = std::get<sdk::GetAclRequest>(request.body);
      sdk::NodeRead node;
      if (!storage_.read(lookup(get.path), sdk::NodeRead::kStat | sdk::NodeRead::kAcl, node)) {
        return reply(Code::kNoNode);
      }
      if (!acl_.check(node.acl, sdk::perms::kRead | sdk::perms::kAdmin, connection.ids)) {
        return reply(Code::kNoAuth);
      }
      // Without ADMIN, digest ids are masked ("user:x") so password hashes do not leak.
      if (!acl_.check(node.acl, sdk::perms::kAdmin, connection.ids)) {
        for (auto& entry : node.acl) {
          if (entry.id.scheme != "digest") continue;
          auto colon = entry.id.id.find(':');
          if (colon != std::string::npos) entry.id.id = entry.id.id.substr(0, colon) + ":x";
        }
      }
      response.body = sdk::GetAclResponse{std::move(node.acl), node.stat};
      return reply(Code::kOk);
    }
    case OpCode::kGetAllChildrenNumber: {
      const auto& get = std::get<sdk::GetAllChildrenNumberRequest>(request.body);
      sdk::NodeRead node;
      if (!storage_.read(lookup(get.path), sdk::NodeRead::kAcl, node)) return reply(Code::kNoNode);
      if (!acl_.check(node.acl, sdk::perms::kRead, connection.ids)) return reply(Code::kNoAuth);
      response.body = sdk::GetAllChildrenNumberResponse{
          static_cast<int32_t>(storage_.countDescendants(get.path))};
      return reply(Code::kOk);
    }
    case OpCode::kGetEphemerals: {
      const auto& get = std::get<sdk::GetEphemeralsRequest>(request.body);
      sdk::GetEphemeralsResponse ephemerals;
      for (auto& path : storage_.ephemeralsOf(connection.session)) {
        if (get.prefix_path.empty() || path.compare(0, get.prefix_path.size(), get.prefix_path) == 0) {
          ephemerals.ephemerals.push_back(std::move(path));
        }
      }
      response.body = std::move(ephemerals);
      return reply(Code::kOk);
    }
    case OpCode::kSync: {
      response.body = sdk::SyncResponse{std::get<sdk::SyncRequest>(request.body).path};
      return reply(Code::kOk);
    }
    case OpCode::kMultiRead: {
      const auto& multi = std::get<sdk::MultiRequest>(request.body);
      sdk::MultiResponse results;
      for (const auto& op : multi.ops) {
        if (!sdk::isMultiReadOp(op.type)) return reply(Code::kMarshallingError);
      }
      for (const auto& op : multi.ops) {
        sdk::NodeRead node;
        if (op.type == OpCode::kGetData) {
          const auto& get = std::get<sdk::GetDataRequest>(op.op);
          if (!storage_.read(lookup(get.path), sdk::NodeRead::kStat | sdk::NodeRead::kData | sdk::NodeRead::kAcl, node)) {
            results.results.push_back(sdk::MultiResult::error(Code::kNoNode));
          } else if (!acl_.check(node.acl, sdk::perms::kRead, connection.ids)) {
            results.results.push_back(sdk::MultiResult::error(Code::kNoAuth));
          } else {
            results.results.push_back(sdk::MultiResult::getData(std::move(node.data), node.stat));
          }
        } else {
          const auto& get = std::get<sdk::GetChildrenRequest>(op.op);
          if (!storage_.read(lookup(get.path), sdk::NodeRead::kChildren | sdk::NodeRead::kAcl, node)) {
            results.results.push_back(sdk::MultiResult::error(Code::kNoNode));
          } else if (!acl_.check(node.acl, sdk::perms::kRead, connection.ids)) {
            results.results.push_back(sdk::MultiResult::error(Code::kNoAuth));
          } else {
            results.results.push_back(sdk::MultiResult::getChildren(std::move(node.children)));
          }
        }
      }
      response.body = std::move(results);
      return reply(Code::kOk);
    }
    case OpCode::kAddWatch: {
      const auto& add = std::get<sdk::AddWatchRequest>(request.body);
      if (add.mode == static_cast<int32_t>(sdk::AddWatchMode::kPersistent)) {
        data_watches_.add(add.path, connection.id, watch::WatchMode::kPersistent);
        child_watches_.add(add.path, connection.id, watch::WatchMode::kPersistent);
      } else if (add.mode == static_cast<int32_t>(sdk::AddWatchMode::kPersistentRecursive)) {
        data_watches_.add(add.path, connection.id, watch::WatchMode::kPersistentRecursive);
      } else {
        return reply(Code::kMarshallingError);
      }
      response.body = sdk::ErrorResponse{Code::kOk};
      return reply(Code::kOk);
    }
    case OpCode::kCheckWatches:
    case OpCode::kRemoveWatches: {
      const bool remove = request.op == OpCode::kRemoveWatches;
      std::string path;
      int32_t type = 0;
      if (remove) {
        const auto& body = std::get<sdk::RemoveWatchesRequest>(request.body);
        path = body.path;
        type = body.type;
      } else {
        const auto& body = std::get<sdk::CheckWatchesRequest>(request.body);
        path = body.path;
        type = body.type;
      }
      if (type < 1 || type > 3) return reply(Code::kMarshallingError);
      auto kind = static_cast<sdk::WatcherType>(type);
      bool data = kind == sdk::WatcherType::kData || kind == sdk::WatcherType::kAny;
      bool children = kind == sdk::WatcherType::kChildren || kind == sdk::WatcherType::kAny;
      bool found = false;
      if (remove) {
        if (children && child_watches_.remove(path, connection.id)) found = true;
        if (data && data_watches_.remove(path, connection.id)) found = true;
      } else {
        // A persistent-recursive watch lives in the data table only, yet ZooKeeper 3.8
        // reports it for every watcher type.
        found = (children && child_watches_.contains(path, connection.id)) ||
                (data && data_watches_.contains(path, connection.id)) ||
                data_watches_.modeOf(path, connection.id) == watch::WatchMode::kPersistentRecursive;
      }
      return reply(found ? Code::kOk : Code::kNoWatcher);
    }
    case OpCode::kSetWatches:
    case OpCode::kSetWatches2: {
      setWatches(connection, std::get<sdk::SetWatches2>(request.body));
      response.xid = request.xid;
      return reply(Code::kOk);
    }
    case OpCode::kAuth: {
      const auto& auth = std::get<sdk::AuthPacket>(request.body);
      response.zxid = 0;
      if (auth.scheme == "world") {
        response.close_after = true;
        return reply(Code::kAuthFailed);
      }
      auto ids = acl_.authenticate(auth.scheme, connection.link->info(), auth.auth);
      if (!ids.isOk()) {
        log_.warn("authentication with scheme '{}' failed for session 0x{:x}", auth.scheme, connection.session);
        response.close_after = true;
        return reply(Code::kAuthFailed);
      }
      for (auto& id : *ids) {
        if (std::find(connection.ids.begin(), connection.ids.end(), id) == connection.ids.end()) {
          connection.ids.push_back(std::move(id));
        }
      }
      return reply(Code::kOk);
    }
    case OpCode::kSasl:
      response.zxid = 0;
      response.body = sdk::SetSaslResponse{std::nullopt};
      return reply(Code::kOk);
    case OpCode::kWhoAmI: {
      sdk::WhoAmIResponse who;
      for (const auto& id : connection.ids) who.client_info.push_back({id.scheme, acl_.userName(id)});
      response.body = std::move(who);
      return reply(Code::kOk);
    }
    case OpCode::kCreateSession:
      return reply(Code::kMarshallingError);
    default:
      // Unknown op: Unimplemented with zxid -1, then the connection is closed.
      response.zxid = -1;
      response.close_after = true;
      return reply(Code::kUnimplemented);
  }
}

void RequestProcessor::setWatches(Connection& connection, const sdk::SetWatches2& request) {
  const sdk::Zxid relative = request.relative_zxid;
  auto send = [&](sdk::EventType type, const std::string& path) {
    connection.link->sendEvent(sdk::WatcherEvent{type, sdk::KeeperState::kSyncConnected, path});
  };
  for (const auto& path : request.data_watches) {
    sdk::NodeRead node;
    if (!storage_.read(path.empty() ? "/" : path, sdk::NodeRead::kStat, node)) {
      send(sdk::EventType::kNodeDeleted, path);
    } else if (node.stat.mzxid > relative) {
      send(sdk::EventType::kNodeDataChanged, path);
    } else {
      data_watches_.add(path, connection.id, watch::WatchMode::kStandard);
    }
  }
  for (const auto& path : request.exist_watches) {
    sdk::NodeRead node;
    if (storage_.read(path.empty() ? "/" : path, sdk::NodeRead::kStat, node)) {
      send(sdk::EventType::kNodeCreated, path);
    } else {
      data_watches_.add(path, connection.id, watch::WatchMode::kStandard);
    }
  }
  for (const auto& path : request.child_watches) {
    sdk::NodeRead node;
    if (!storage_.read(path.empty() ? "/" : path, sdk::NodeRead::kStat, node)) {
      send(sdk::EventType::kNodeDeleted, path);
    } else if (node.stat.pzxid > relative) {
      send(sdk::EventType::kNodeChildrenChanged, path);
    } else {
      child_watches_.add(path, connection.id, watch::WatchMode::kStandard);
    }
  }
  for (const auto& path : request.persistent_watches) {
    data_watches_.add(path, connection.id, watch::WatchMode::kPersistent);
    child_watches_.add(path, connection.id, watch::WatchMode::kPersistent);
  }
  for (const auto& path : request.persistent_recursive_watches) {
    data_watches_.add(path, connection.id, watch::WatchMode::kPersistentRecursive);
  }
}

void RequestProcessor::onConnectionClosed(const std::shared_ptr<Connection>& connection) {
  if (connection->closed) return;
  connection->closed = true;
  data_watches_.removeWatcher(connection->id);
  child_watches_.removeWatcher(connection->id);
  connections_.erase(connection->id);
  stats_.connections = static_cast<int64_t>(connections_.size());
  auto state = session_state_.find(connection->session);
  if (state != session_state_.end() && state->second->connection == connection) {
    state->second->connection.reset();
    // Requests the client can no longer receive answers for are dropped.
    stats_.outstanding.fetch_sub(static_cast<int64_t>(state->second->queue.size()), std::memory_order_relaxed);
    state->second->queue.clear();
  }
}

// ---- sessions ----

void RequestProcessor::closeSessionNow(sdk::SessionId id, int32_t cxid,
                                       const std::shared_ptr<Connection>& requester, int32_t xid,
                                       int64_t received_at) {
  auto state = session_state_.find(id);
  if (state == session_state_.end() || state->second->closing) return;
  state->second->closing = true;
  if (auto* entry = sessions_.find(id)) entry->closing = true;
  PrepareContext context{id, cxid, nullptr, next_zxid_, wallMs()};
  auto in_flight = std::make_unique<InFlight>();
  in_flight->kind = InFlight::Kind::kCloseSession;
  in_flight->connection = requester;
  in_flight->xid = xid;
  in_flight->op = OpCode::kCloseSession;
  in_flight->received_at = received_at;
  ++state->second->pending_writes;
  int64_t started = session::monotonicMs();
  auto txn = preparer_.closeSession(context, storage_.ephemeralsOf(id));
  metrics_.close_session_prep_time.add(session::monotonicMs() - started);
  propose(std::move(txn), std::move(in_flight));
}

void RequestProcessor::expireSessions() {
  for (auto id : sessions_.expired(session::monotonicMs())) {
    auto state = session_state_.find(id);
    if (state == session_state_.end()) continue;
    if (state->second->pending_writes > 0) {
      // Let in-flight writes land first; look again on the next tick.
      sessions_.touch(id, session::monotonicMs() - sessions_.find(id)->timeout_ms);
      continue;
    }
    log_.info("expiring session 0x{:x}", id);
    metrics_.stale_sessions_expired.add();
    closeSessionNow(id, 0, nullptr, 0, 0);
  }
}

void RequestProcessor::scheduleTick() {
  if (stopping_) return;
  tick_timer_.expires_after(std::chrono::milliseconds(sessions_.tickMs()));
  tick_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping_) return;
    expireSessions();
    scheduleTick();
  });
}

// ---- containers and TTL nodes (ZooKeeper's ContainerManager) ----

void RequestProcessor::scheduleReaper() {
  if (stopping_ || settings_.container_check_ms <= 0) return;
  reaper_timer_.expires_after(std::chrono::milliseconds(settings_.container_check_ms));
  reaper_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping_) return;
    reapContainers();
    scheduleReaper();
  });
}

void RequestProcessor::reapContainers() {
  int64_t now = wallMs();
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
    auto in_flight = std::make_unique<InFlight>();
    in_flight->kind = InFlight::Kind::kServer;
    propose(preparer_.deleteNode(context, candidate.path, true), std::move(in_flight));
  }
}

// ---- commit, apply, watches, replies ----

void RequestProcessor::commit(sdk::TxnEntry txn, sdk::Status status) noexcept {
  boost::asio::post(strand_, [this, txn = std::move(txn), status = std::move(status)]() mutable {
    onCommit(std::move(txn), std::move(status));
  });
}

void RequestProcessor::onCommit(sdk::TxnEntry txn, sdk::Status status) {
  const sdk::Zxid zxid = txn.header.zxid;
  if (!status.isOk()) {
    // The txn is not durable; carrying on would acknowledge writes that may be lost.
    log_.log(sdk::LogLevel::kCritical,
             fmt::format("txn 0x{:x} could not be made durable: {}; stopping", zxid, status.toString()));
    std::_Exit(1);
  }
  // ACLs of nodes about to be deleted, for the READ check on their NodeDeleted events.
  std::unordered_map<std::string, sdk::AclList> deleted_acls;
  auto remember = [&](const std::string& path) {
    sdk::NodeRead node;
    if (storage_.read(path, sdk::NodeRead::kAcl, node)) deleted_acls[path] = std::move(node.acl);
  };
  if (const auto* remove = std::get_if<sdk::DeleteTxn>(&txn.body)) remember(remove->path);
  if (const auto* close = std::get_if<sdk::CloseSessionTxn>(&txn.body)) {
    for (const auto& path : close->paths_to_delete) remember(path);
  }
  if (const auto* multi = std::get_if<sdk::MultiTxn>(&txn.body)) {
    for (const auto& sub : multi->txns) {
      if (sub.type != OpCode::kDelete) continue;
      sdk::TxnBody body;
      if (sdk::decodeSubTxn(sub, body)) remember(std::get<sdk::DeleteTxn>(body).path);
    }
  }

  std::vector<sdk::OpOutcome> outcomes;
  if (auto applied = storage_.apply(txn, outcomes); !applied.isOk()) {
    log_.log(sdk::LogLevel::kCritical,
             fmt::format("txn 0x{:x} does not apply: {}; the tree has diverged, stopping", zxid,
                         applied.toString()));
    std::_Exit(1);
  }
  last_zxid_ = zxid;
  pending_.applied(zxid);
  if (int64_t age = wallMs() - txn.header.time; age >= 0) metrics_.propagation_latency.add(age);
  countWrites(txn);

  std::unique_ptr<InFlight> in_flight;
  if (auto it = in_flight_.find(zxid); it != in_flight_.end()) {
    in_flight = std::move(it->second);
    in_flight_.erase(it);
  }

  const sdk::SessionId owner = txn.header.client_id;
  if (txn.header.type == OpCode::kCreateSession) {
    const auto& create = std::get<sdk::CreateSessionTxn>(txn.body);
    sessions_.add(owner, create.timeout, session::monotonicMs());
    auto state = std::make_unique<Session>();
    state->id = owner;
    if (in_flight && in_flight->connection) {
      state->connection = in_flight->connection;
      connections_[in_flight->connection->id] = in_flight->connection;
      stats_.connections = static_cast<int64_t>(connections_.size());
    }
    session_state_[owner] = std::move(state);
    stats_.session_count = static_cast<int64_t>(sessions_.size());
    if (in_flight && in_flight->connect_done) {
      in_flight->connect_done({in_flight->connect_response,
                               std::make_shared<AttachedSession>(*this, in_flight->connection)});
    }
    return;
  }

  fireWatches(txn, outcomes, deleted_acls);

  if (txn.header.type == OpCode::kCloseSession) {
    auto state = session_state_.find(owner);
    std::shared_ptr<Connection> attached;
    if (state != session_state_.end()) {
      attached = state->second->connection;
      session_state_.erase(state);
    }
    sessions_.remove(owner);
    stats_.session_count = static_cast<int64_t>(sessions_.size());
    if (in_flight && in_flight->connection) {
      sdk::ClientResponse response;
      response.xid = in_flight->xid;
      response.zxid = zxid;
      response.close_after = true;
      respond(*in_flight->connection, std::move(response), in_flight->received_at, OpCode::kCloseSession);
      onConnectionClosed(in_flight->connection);
    } else if (attached) {
      attached->link->close();
      onConnectionClosed(attached);
    }
    return;
  }

  if (!in_flight || in_flight->kind != InFlight::Kind::kClient) return;
  auto state = session_state_.find(owner);
  Connection& connection = *in_flight->connection;
  sdk::ClientResponse response;
  response.xid = in_flight->xid;
  response.zxid = zxid;
  if (txn.header.type == OpCode::kError) {
    response.err = std::get<sdk::ErrorTxn>(txn.body).err;
  } else if (txn.header.type == OpCode::kMulti) {
    sdk::MultiResponse multi;
    for (const auto& outcome : outcomes) {
      if (outcome.type == OpCode::kError) {
        multi.results.push_back(sdk::MultiResult::error(outcome.err));
        continue;
      }
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
    switch (in_flight->op) {
      case OpCode::kCreate: response.body = sdk::CreateResponse{outcome.path}; break;
      case OpCode::kCreate2:
      case OpCode::kCreateContainer:
      case OpCode::kCreateTtl: response.body = sdk::Create2Response{outcome.path, outcome.stat}; break;
      case OpCode::kSetData: response.body = sdk::SetDataResponse{outcome.stat}; break;
      case OpCode::kSetAcl: response.body = sdk::SetAclResponse{outcome.stat}; break;
      default: break;
    }
  }
  if (state != session_state_.end()) --state->second->pending_writes;
  if (in_flight->op == OpCode::kCheck) {
    // A check outside multi is logged but never answered by ZooKeeper 3.8 either.
    stats_.outstanding.fetch_sub(1, std::memory_order_relaxed);
  } else {
    respond(connection, std::move(response), in_flight->received_at, in_flight->op);
  }
  if (state != session_state_.end()) drain(*state->second);
}

// ZooKeeper's DataTree.updateReadStat: path + payload + stat bytes, by top-level znode.
void RequestProcessor::countRead(const std::string& path, int64_t bytes) {
  auto ns = runtime::topNamespace(path);
  if (!ns.empty()) {
    metrics_.read_per_namespace.add(ns, static_cast<int64_t>(path.size()) + bytes + runtime::kStatOverheadBytes);
  }
}

// ZooKeeper's DataTree.updateWriteStat: path + data bytes per created, changed or deleted node.
void RequestProcessor::countWrites(const sdk::TxnEntry& txn) {
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

void RequestProcessor::deliver(const std::vector<watch::WatcherId>& watchers, sdk::EventType type,
                               const std::string& path, const sdk::AclList* acl) {
  for (auto watcher : watchers) {
    auto it = connections_.find(watcher);
    if (it == connections_.end() || it->second->closed) continue;
    // ZOOKEEPER-4799 (in Debian's 3.8): an event reaches only connections that may READ it.
    if (acl != nullptr && !acl_.check(*acl, sdk::perms::kRead, it->second->ids)) continue;
    it->second->link->sendEvent(sdk::WatcherEvent{type, sdk::KeeperState::kSyncConnected, path});
  }
}

void RequestProcessor::fireWatches(const sdk::TxnEntry& txn, const std::vector<sdk::OpOutcome>& outcomes,
                                   const std::unordered_map<std::string, sdk::AclList>& deleted_acls) {
  if (data_watches_.watchCount() == 0 && child_watches_.watchCount() == 0) return;
  auto aclOf = [&](const std::string& path, sdk::AclList& out) -> const sdk::AclList* {
    sdk::NodeRead node;
    if (!storage_.read(path, sdk::NodeRead::kAcl, node)) return nullptr;
    out = std::move(node.acl);
    return &out;
  };
  auto childrenChanged = [&](const std::string& path) {
    std::string parent(parentPath(path));
    auto watchers = child_watches_.trigger(parent, sdk::EventType::kNodeChildrenChanged);
    if (watchers.empty()) return;
    metrics_.node_children_watch_count.add(static_cast<int64_t>(watchers.size()));
    sdk::AclList acl;
    deliver(watchers, sdk::EventType::kNodeChildrenChanged, parent, aclOf(parent, acl));
  };
  auto created = [&](const std::string& path) {
    auto watchers = data_watches_.trigger(path, sdk::EventType::kNodeCreated);
    if (!watchers.empty()) {
      metrics_.node_created_watch_count.add(static_cast<int64_t>(watchers.size()));
      sdk::AclList acl;
      deliver(watchers, sdk::EventType::kNodeCreated, path, aclOf(path, acl));
    }
    childrenChanged(path);
  };
  auto deleted = [&](const std::string& path) {
    auto data = data_watches_.trigger(path, sdk::EventType::kNodeDeleted);
    std::unordered_set<watch::WatcherId> seen(data.begin(), data.end());
    auto children = child_watches_.trigger(path, sdk::EventType::kNodeDeleted, &seen);
    data.insert(data.end(), children.begin(), children.end());
    if (!data.empty()) {
      metrics_.node_deleted_watch_count.add(static_cast<int64_t>(data.size()));
      auto acl = deleted_acls.find(path);
      deliver(data, sdk::EventType::kNodeDeleted, path, acl == deleted_acls.end() ? nullptr : &acl->second);
    }
    childrenChanged(path);
  };
  auto changed = [&](const std::string& path) {
    auto watchers = data_watches_.trigger(path, sdk::EventType::kNodeDataChanged);
    if (watchers.empty()) return;
    metrics_.node_changed_watch_count.add(static_cast<int64_t>(watchers.size()));
    sdk::AclList acl;
    deliver(watchers, sdk::EventType::kNodeDataChanged, path, aclOf(path, acl));
  };
  if (const auto* close = std::get_if<sdk::CloseSessionTxn>(&txn.body)) {
    for (const auto& path : close->paths_to_delete) deleted(path);
    return;
  }
  for (const auto& outcome : outcomes) {
    if (outcome.err != Code::kOk) continue;
    switch (outcome.type) {
      case OpCode::kCreate:
      case OpCode::kCreate2:
      case OpCode::kCreateContainer:
      case OpCode::kCreateTtl: created(outcome.path); break;
      case OpCode::kDelete:
      case OpCode::kDeleteContainer: deleted(outcome.path); break;
      case OpCode::kSetData: changed(outcome.path); break;
      default: break;
    }
  }
}

}  // namespace corral::kernel::pipeline

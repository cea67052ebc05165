// Frontend extension point: a client protocol (ZooKeeper jute, Thrift, ...) in front of the
// kernel's sessions, watches and request pipeline.
//
// The front end owns sockets and bytes; the kernel owns sessions, ordering and semantics.
// They meet in protocol-neutral records (client_records.h): a ClientRequest goes in, a
// ClientResponse and WatcherEvents come out.
//
// Threading and lifetime
// - attach() is called once, before start(). The front end opens its port in start() and
//   closes every connection in stop(); ClientService outlives the front end.
// - ClientService and ClientSession methods may be called from any thread. Requests a
//   front end submits on one ClientSession are answered in submission order (FIFO per
//   session), as ZooKeeper clients require.
// - ClientConnection methods are called by the kernel from its own threads, never
//   concurrently for one connection; they must not block (queue and write asynchronously).
//   For one connection the kernel calls them in the order the client must see: a watch
//   event always before any response carrying a zxid at or after the change.
// - The kernel holds a ClientConnection only through shared_ptr and drops it after close().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <variant>

#include "corral/acl.h"
#include "corral/client_records.h"
#include "corral/plugin.h"
#include "corral/status.h"
#include "corral/types.h"

namespace corral::sdk {

// setWatches (101) arrives as a SetWatches2 with empty persistent lists.
using RequestBody =
    std::variant<std::monostate, CreateRequest, CreateTtlRequest, DeleteRequest, ExistsRequest,
                 GetDataRequest, SetDataRequest, GetAclRequest, SetAclRequest, GetChildrenRequest,
                 SyncRequest, CheckVersionRequest, MultiRequest, CheckWatchesRequest,
                 RemoveWatchesRequest, GetEphemeralsRequest, GetAllChildrenNumberRequest,
                 AddWatchRequest, AuthPacket, SetWatches2, GetSaslRequest, ReconfigRequest>;

struct ClientRequest {
  int32_t xid = 0;
  OpCode op = OpCode::kNotification;  // verbatim from the wire, possibly unknown
  RequestBody body;                   // monostate for ops without a body (ping, closeSession, whoAmI)
  // Set by the front end when the body did not decode: the kernel answers with this code in
  // order (MarshallingError) instead of executing.
  Code decode_error = Code::kOk;
};

using ResponseBody =
    std::variant<std::monostate, CreateResponse, Create2Response, ExistsResponse, GetDataResponse,
                 SetDataResponse, GetAclResponse, SetAclResponse, GetChildrenResponse,
                 GetChildren2Response, SyncResponse, MultiResponse, GetEphemeralsResponse,
                 GetAllChildrenNumberResponse, ErrorResponse, WhoAmIResponse, SetSaslResponse>;

struct ClientResponse {
  int32_t xid = 0;
  Zxid zxid = 0;
  Code err = Code::kOk;
  ResponseBody body;         // written only when err == 0 (multi: always)
  bool close_after = false;  // close the connection once this frame is written
  // Nothing is written, but the request is done: its slot in the front end's outstanding
  // count is released (a check outside multi, which ZooKeeper 3.8 never answers).
  bool silent = false;
};

// Implemented by the front end: one per client connection.
class ClientConnection {
 public:
  virtual ~ClientConnection() = default;
  // Every request gets exactly one sendResponse (possibly `silent`), except those dropped
  // because the connection closed first.
  virtual void sendResponse(ClientResponse response) noexcept = 0;
  virtual void sendEvent(const WatcherEvent& event) noexcept = 0;
  // Flush what was already queued, then close. Idempotent.
  virtual void close() noexcept = 0;
  virtual const ConnectionInfo& info() const noexcept = 0;
};

// Implemented by the kernel: a session attached to one connection.
class ClientSession {
 public:
  virtual ~ClientSession() = default;
  virtual SessionId id() const noexcept = 0;
  virtual void submit(ClientRequest request) noexcept = 0;
  // The connection is gone (client closed, network error). The session lives on until it
  // expires or a new connection reattaches it.
  virtual void connectionClosed() noexcept = 0;
};

// The kernel's answer to a ConnectRequest.
struct ConnectOutcome {
  // nullopt: close the socket without a reply (e.g. the client has seen a newer zxid).
  std::optional<ConnectResponse> response;
  // Set when the session is established; null when the reply says "expired" (the front end
  // sends the reply and closes).
  std::shared_ptr<ClientSession> session;
};

// Implemented by the kernel.
class ClientService {
 public:
  virtual ~ClientService() = default;
  // Creates or reattaches a session for `connection`; `done` runs exactly once, on any
  // thread. Requests that arrived behind the ConnectRequest are submitted after `done`: the
  // only way to submit is the ClientSession the outcome carries, so every front end keeps
  // (or does not read) such frames until then, and drops them when the session is refused.
  virtual void connect(const ConnectRequest& request, std::shared_ptr<ClientConnection> connection,
                       std::function<void(ConnectOutcome)> done) noexcept = 0;
  // The last applied zxid (for replies that carry "the current zxid").
  virtual Zxid lastProcessedZxid() const noexcept = 0;
};

class BOOST_SYMBOL_VISIBLE Frontend : public Plugin {
 public:
  virtual void attach(ClientService& service) noexcept = 0;
};

}  // namespace corral::sdk

// Client admission: the limits and the TLS material that every front end of one server
// shares, so a second protocol (Thrift next to jute) counts against the same numbers instead
// of keeping copies of them (DESIGN.md §12). The kernel owns one per server and parses its
// settings at start; a front end reaches it as Host::admission().
//
// What it holds
// - Connection limits: maxClientCnxns open connections per remote IP and maxCnxns in total
//   (0 = unlimited), over every front end and port. A refused connection has already been
//   logged in ZooKeeper's words and counted in `connection_rejected` when admitConnection()
//   returns; the front end only closes the socket (RST, as ZooKeeper).
// - globalOutstandingLimit: requests submitted to the kernel and not answered yet, over every
//   connection, with ZooKeeper's throttle rule (shouldThrottle).
// - Output limits: how much unsent output (replies and watch events) one connection may hold
//   before it stops taking requests, and before it is closed (OutputLimits).
// - TLS for secureClientPort: the server context built from ZooKeeper's ssl.* keys (before
//   any front end starts; a bad key store stops the server), and the x509 identity of a
//   verified client certificate.
//
// Threading and lifetime: every method is thread-safe and noexcept (no exception crosses
// this interface). The object lives as long as the Host that returned it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

struct ssl_st;  // OpenSSL's SSL

namespace corral::sdk {

enum class Admission {
  kAdmitted,
  kTooManyFromAddress,  // maxClientCnxns
  kTooManyTotal,        // maxCnxns
};

// Bounds on one connection's unsent output. ZooKeeper 3.8 has none (its NIO and Netty
// connections queue replies without limit, so a client that sends requests and never reads
// grows the server's heap until it runs out); Corral applies these to every front end:
// - above `soft_bytes` the connection takes no new request (it stops reading its socket, as
//   ZooKeeper's throttle does) until half of that has drained;
// - above `hard_bytes` it is closed at once and its queued output dropped, whatever caused
//   it (replies to requests already taken, watch events);
// - a connection whose output makes no progress for its session timeout (before the
//   handshake: nio.sessionlessCnxnTimeout) is closed as well: its client cannot have heard
//   from the server for that long, and a paused connection's session is not touched.
struct OutputLimits {
  int64_t soft_bytes = 4 * 1024 * 1024;   // clientOutputSoftLimit
  int64_t hard_bytes = 64 * 1024 * 1024;  // clientOutputHardLimit
};

class ClientAdmission {
 public:
  virtual ~ClientAdmission() = default;

  // --- Connections
  // Counts a new connection from `remote_address` (an IP address as text; IPv4-mapped IPv6
  // in IPv4 form) when maxClientCnxns and maxCnxns allow one more. Every kAdmitted
  // connection is released exactly once, when its socket is closed.
  virtual Admission admitConnection(std::string_view remote_address) noexcept = 0;
  virtual void releaseConnection(std::string_view remote_address) noexcept = 0;

  // --- globalOutstandingLimit
  // Only requests with xid > 0 count (pings, auth and setWatches do not), as in ZooKeeper's
  // ServerCnxn.incrOutstandingAndCheckThrottle. Count a request before submitting it: its
  // reply may come back on another thread before submit() returns.
  virtual void requestsSubmitted(int64_t count) noexcept = 0;
  virtual void requestsAnswered(int64_t count) noexcept = 0;
  virtual int64_t outstandingRequests() const noexcept = 0;
  // ZooKeeper's rule (ZooKeeperServer.shouldThrottle): a connection with `own_outstanding`
  // requests of its own unanswered stops reading while the server-wide total is over the
  // limit and own_outstanding > 0. Ask again when one of its replies is sent: a connection
  // never waits for another connection's replies.
  virtual bool shouldThrottle(int64_t own_outstanding) const noexcept = 0;

  // --- Output
  virtual OutputLimits outputLimits() const noexcept = 0;

  // --- TLS (secureClientPort)
  // The server context built from ssl.*; null when no secureClientPort is configured. One
  // context serves every TLS listener; a stream keeps it alive through the shared_ptr.
  virtual std::shared_ptr<boost::asio::ssl::context> tlsContext() const noexcept = 0;
  // The subject of the client certificate of the finished handshake on `ssl`, in RFC 2253
  // form byte for byte as Java's X500Principal.getName() (what ZooKeeper's x509 provider
  // uses as the id), when a certificate was presented and verified; "" otherwise.
  virtual std::string verifiedPeerSubject(ssl_st* ssl) const noexcept = 0;
};

// Admits everything, counts nothing, has no TLS: what Host::admission() gives by default,
// for hosts that serve no clients (unit-test hosts of storage or ACL plugins).
class UnlimitedAdmission final : public ClientAdmission {
 public:
  Admission admitConnection(std::string_view) noexcept override { return Admission::kAdmitted; }
  void releaseConnection(std::string_view) noexcept override {}
  void requestsSubmitted(int64_t) noexcept override {}
  void requestsAnswered(int64_t) noexcept override {}
  int64_t outstandingRequests() const noexcept override { return 0; }
  bool shouldThrottle(int64_t) const noexcept override { return false; }
  OutputLimits outputLimits() const noexcept override { return {}; }
  std::shared_ptr<boost::asio::ssl::context> tlsContext() const noexcept override { return nullptr; }
  std::string verifiedPeerSubject(ssl_st*) const noexcept override { return {}; }
};

}  // namespace corral::sdk

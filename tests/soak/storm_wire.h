// corral-storm's additions to corral-bench's jute wire (tests/bench/bench_wire.h): what a
// long-lived client needs and the bench does not — a ConnectRequest that re-attaches a session
// (id, password, last zxid seen), reads that set a watch, addWatch (persistent / recursive),
// and the parts of replies a client keeps: the ConnectResponse's session, the ReplyHeader's
// zxid, a Stat's version, a WatcherEvent. Requests without a watch (setData, create, ping,
// closeSession, getData) are written by bench::jute::writeRequest.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "bench_wire.h"

namespace storm::wire {

using bench::Enc;
using bench::rd32;
using bench::rd64;

enum OpCode : int32_t {
  kCreate = 1, kDelete = 2, kExists = 3, kGetData = 4, kSetData = 5, kPing = 11,
  kAddWatch = 106, kCloseSession = -11
};
enum EventType : int32_t {
  kNodeCreated = 1, kNodeDeleted = 2, kNodeDataChanged = 3, kNodeChildrenChanged = 4
};
enum AddWatchMode : int32_t { kPersistent = 0, kPersistentRecursive = 1 };
constexpr int32_t kNotificationXid = -1, kPingXid = -2;
constexpr int32_t kErrNoNode = -101, kErrNodeExists = -110, kErrSessionExpired = -112;

// ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly. A fresh
// session has id 0 and 16 zero bytes of password; a re-attach sends what the server gave.
inline void writeConnect(std::string& out, int32_t timeout_ms, int64_t session_id,
                         const char passwd[16], int64_t last_zxid) {
  Enc e(out);
  e.i32(0);
  e.i64(last_zxid);
  e.i32(timeout_ms);
  e.i64(session_id);
  e.str(std::string_view(passwd, 16));
  e.boolean(false);
  e.finish();
}

// exists / getData with the watch flag.
inline void writeRead(std::string& out, int32_t xid, int32_t op, std::string_view path, bool watch) {
  Enc e(out);
  e.i32(xid);
  e.i32(op);
  e.str(path);
  e.boolean(watch);
  e.finish();
}

inline void writeAddWatch(std::string& out, int32_t xid, std::string_view path, int32_t mode) {
  Enc e(out);
  e.i32(xid);
  e.i32(kAddWatch);
  e.str(path);
  e.i32(mode);
  e.finish();
}

// ConnectResponse: protocolVersion, timeOut, sessionId, passwd[, readOnly]. A server refuses an
// expired (or unknown) session with timeOut 0 and session id 0.
struct ConnectResponse {
  int32_t timeout_ms = 0;
  int64_t session_id = 0;
  char passwd[16] = {};
  bool granted() const { return timeout_ms > 0 && session_id != 0; }
};
inline bool parseConnect(const char* p, size_t len, ConnectResponse& r) {
  if (len < 20) return false;
  r.timeout_ms = rd32(p + 4);
  r.session_id = rd64(p + 8);
  const int32_t plen = rd32(p + 16);
  std::memset(r.passwd, 0, sizeof r.passwd);
  if (plen > 0 && size_t(plen) <= len - 20) std::memcpy(r.passwd, p + 20, size_t(std::min(plen, 16)));
  return true;
}

struct Header {
  int32_t xid = 0;
  int64_t zxid = 0;
  int32_t err = 0;
};
inline bool parseHeader(const char* p, size_t len, Header& h) {
  if (len < 16) return false;
  h.xid = rd32(p);
  h.zxid = rd64(p + 4);
  h.err = rd32(p + 12);
  return true;
}

// Stat: czxid, mzxid, ctime, mtime, version, ... — `version` 32 bytes in.
inline bool statVersion(const char* stat, size_t len, int32_t& version) {
  if (len < 36) return false;
  version = rd32(stat + 32);
  return true;
}
// Body (after the 16-byte header) of exists / setData: a Stat.
inline bool statReplyVersion(const char* body, size_t len, int32_t& version) {
  return statVersion(body, len, version);
}
// Body of getData: data buffer, then the Stat.
inline bool getDataReplyVersion(const char* body, size_t len, int32_t& version) {
  if (len < 4) return false;
  const int32_t dlen = rd32(body);
  const size_t skip = 4 + size_t(dlen < 0 ? 0 : dlen);
  if (skip > len) return false;
  return statVersion(body + skip, len - skip, version);
}

// WatcherEvent (after the header): type, state, path.
struct Event {
  int32_t type = 0;
  int32_t state = 0;
  std::string_view path;
};
inline bool parseEvent(const char* body, size_t len, Event& ev) {
  if (len < 12) return false;
  ev.type = rd32(body);
  ev.state = rd32(body + 4);
  const int32_t plen = rd32(body + 8);
  if (plen < 0 || size_t(plen) > len - 12) return false;
  ev.path = std::string_view(body + 12, size_t(plen));
  return true;
}

}  // namespace storm::wire

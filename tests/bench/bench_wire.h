// corral-bench's two wires: ZooKeeper's jute client protocol and Corral's Thrift service
// (sdk/thrift/corral.thrift, framed transport, strict binary protocol), hand-encoded so the load
// generator stays free of any library and spends the same few instructions per request on
// either. A request is described once (Request) and written in either encoding; replies are
// read only as far as the bench needs: which request they answer and its error code.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace bench {

// ------------------------------------------------------------------ bytes
// Appends one frame to `b`: the 4-byte length is patched in by finish().
struct Enc {
  std::string& b;
  size_t start;
  explicit Enc(std::string& buf) : b(buf), start(buf.size()) { b.append(4, '\0'); }
  void i8(int8_t v) { b.push_back(char(v)); }
  void i16(int16_t v) {
    uint16_t u = __builtin_bswap16(uint16_t(v));
    b.append(reinterpret_cast<const char*>(&u), 2);
  }
  void i32(int32_t v) {
    uint32_t u = __builtin_bswap32(uint32_t(v));
    b.append(reinterpret_cast<const char*>(&u), 4);
  }
  void i64(int64_t v) {
    uint64_t u = __builtin_bswap64(uint64_t(v));
    b.append(reinterpret_cast<const char*>(&u), 8);
  }
  void boolean(bool v) { b.push_back(v ? 1 : 0); }
  void str(std::string_view s) {
    i32(int32_t(s.size()));
    b.append(s);
  }
  void finish() {
    uint32_t len = __builtin_bswap32(uint32_t(b.size() - start - 4));
    std::memcpy(&b[start], &len, 4);
  }
};

inline int32_t rd32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return int32_t(__builtin_bswap32(v));
}
inline int64_t rd64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return int64_t(__builtin_bswap64(v));
}

enum class Protocol { kJute, kThrift };

// One request, whatever the wire.
struct Request {
  enum Kind { kGetData, kExists, kSetData, kGetChildren, kCreate, kDelete, kMultiSetData, kPing, kCloseSession };
  Kind kind = kGetData;
  std::string_view path;
  std::string_view data;                 // setData, create, multi
  std::span<const std::string> paths;    // multi: one setData per path
};

// What the bench needs of a reply.
struct Reply {
  enum Kind { kAnswer, kPing, kNotification };
  Kind kind = kAnswer;
  int32_t id = 0;   // the jute xid / Thrift seqid it answers
  int32_t err = 0;  // ZooKeeper's error code; -1 for a Thrift application exception
};

// ------------------------------------------------------------------ jute
namespace jute {

enum OpCode : int32_t {
  kCreate = 1, kDelete = 2, kExists = 3, kGetData = 4, kSetData = 5, kGetChildren = 8,
  kPing = 11, kMulti = 14, kCloseSession = -11
};

inline void openAcl(Enc& e) {  // OPEN_ACL_UNSAFE
  e.i32(1);
  e.i32(31);
  e.str("world");
  e.str("anyone");
}

inline void writeConnect(std::string& out, int32_t timeout_ms) {
  // ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly
  Enc e(out);
  e.i32(0);
  e.i64(0);
  e.i32(timeout_ms);
  e.i64(0);
  e.str(std::string(16, '\0'));
  e.boolean(false);
  e.finish();
}

inline void writeRequest(std::string& out, int32_t xid, const Request& r) {
  Enc e(out);
  switch (r.kind) {
    case Request::kGetData:
    case Request::kExists:
    case Request::kGetChildren:
      e.i32(xid);
      e.i32(r.kind == Request::kGetData ? kGetData : r.kind == Request::kExists ? kExists : kGetChildren);
      e.str(r.path);
      e.boolean(false);
      break;
    case Request::kSetData:
      e.i32(xid);
      e.i32(kSetData);
      e.str(r.path);
      e.str(r.data);
      e.i32(-1);
      break;
    case Request::kCreate:
      e.i32(xid);
      e.i32(kCreate);
      e.str(r.path);
      e.str(r.data);
      openAcl(e);
      e.i32(0);
      break;
    case Request::kDelete:
      e.i32(xid);
      e.i32(kDelete);
      e.str(r.path);
      e.i32(-1);
      break;
    case Request::kMultiSetData:
      e.i32(xid);
      e.i32(kMulti);
      for (const std::string& path : r.paths) {  // MultiHeader(type, done, err) + SetDataRequest
        e.i32(kSetData);
        e.boolean(false);
        e.i32(-1);
        e.str(path);
        e.str(r.data);
        e.i32(-1);
      }
      e.i32(-1);
      e.boolean(true);
      e.i32(-1);
      break;
    case Request::kPing:
      e.i32(-2);
      e.i32(kPing);
      break;
    case Request::kCloseSession:
      e.i32(xid);
      e.i32(kCloseSession);
      break;
  }
  e.finish();
}

// ConnectResponse: protocolVersion, timeOut, sessionId, passwd[, readOnly]; session id 0 is
// a refusal. True when a session was granted.
inline bool parseConnect(const char* p, size_t len) { return len >= 16 && rd64(p + 8) != 0; }

// ReplyHeader: xid, zxid, err.
inline bool parseReply(const char* p, size_t len, Reply& reply) {
  if (len < 16) return false;
  reply.id = rd32(p);
  reply.err = rd32(p + 12);
  reply.kind = reply.id == -2 ? Reply::kPing : reply.id == -1 ? Reply::kNotification : Reply::kAnswer;
  return true;
}

}  // namespace jute

// ------------------------------------------------------------------ Thrift (strict binary)
namespace thrift {

enum Type : int8_t { kStop = 0, kBool = 2, kI32 = 8, kI64 = 10, kString = 11, kStruct = 12, kList = 15 };
constexpr uint32_t kVersion1 = 0x80010000u;
constexpr int8_t kCall = 1, kReply = 2, kException = 3;

struct Writer {
  Enc e;
  explicit Writer(std::string& out) : e(out) {}
  void call(std::string_view method, int32_t seqid) {
    e.i32(int32_t(kVersion1 | uint32_t(kCall)));
    e.str(method);
    e.i32(seqid);
  }
  void field(Type type, int16_t id) {
    e.i8(type);
    e.i16(id);
  }
  void string(int16_t id, std::string_view s) {
    field(kString, id);
    e.str(s);
  }
  void i32(int16_t id, int32_t v) {
    field(kI32, id);
    e.i32(v);
  }
  void i64(int16_t id, int64_t v) {
    field(kI64, id);
    e.i64(v);
  }
  void boolean(int16_t id, bool v) {
    field(kBool, id);
    e.boolean(v);
  }
  void list(int16_t id, Type element, int32_t size) {
    field(kList, id);
    e.i8(element);
    e.i32(size);
  }
  void stop() { e.i8(kStop); }
  void end() {
    stop();  // the args struct
    e.finish();
  }
};

inline void writeConnect(std::string& out, int32_t timeout_ms) {
  Writer w(out);
  w.call("openSession", 0);
  w.field(kStruct, 1);  // OpenSessionRequest
  w.i32(1, timeout_ms);
  w.i64(2, 0);
  w.string(3, "");
  w.i64(4, 0);
  w.boolean(5, false);
  w.stop();
  w.end();
}

inline void writeRequest(std::string& out, int32_t seqid, const Request& r) {
  Writer w(out);
  switch (r.kind) {
    case Request::kGetData:
    case Request::kExists:
    case Request::kGetChildren:
      w.call(r.kind == Request::kGetData ? "getData" : r.kind == Request::kExists ? "exists" : "getChildren", seqid);
      w.string(1, r.path);
      w.boolean(2, false);
      break;
    case Request::kSetData:
      w.call("setData", seqid);
      w.string(1, r.path);
      w.string(2, r.data);
      w.i32(3, -1);
      break;
    case Request::kCreate:
      w.call("create", seqid);
      w.string(1, r.path);
      w.string(2, r.data);
      w.list(3, kStruct, 1);  // OPEN_ACL_UNSAFE: ACL{perms, Id{scheme, id}}
      w.i32(1, 31);
      w.field(kStruct, 2);
      w.string(1, "world");
      w.string(2, "anyone");
      w.stop();
      w.stop();
      w.i32(4, 0);
      w.i64(5, 0);
      break;
    case Request::kDelete:
      w.call("remove", seqid);
      w.string(1, r.path);
      w.i32(2, -1);
      break;
    case Request::kMultiSetData:
      w.call("multi", seqid);
      w.list(1, kStruct, int32_t(r.paths.size()));
      for (const std::string& path : r.paths) {  // Op{setData: SetDataOp{path, data, version}}
        w.field(kStruct, 3);
        w.string(1, path);
        w.string(2, r.data);
        w.i32(3, -1);
        w.stop();
        w.stop();
      }
      break;
    case Request::kPing:
      w.call("ping", seqid);
      w.i32(1, 0);
      break;
    case Request::kCloseSession:
      w.call("closeSession", seqid);
      break;
  }
  w.end();
}

// Reads a message header and the result struct's first field: field 0 is the success, field 1
// the ZkError (whose first field is its code).
inline bool parseReply(const char* p, size_t len, Reply& reply) {
  reply.kind = Reply::kAnswer;
  if (len < 8) return false;
  const uint32_t version = uint32_t(rd32(p));
  if ((version & 0xffff0000u) != kVersion1) return false;
  const int8_t type = int8_t(version & 0xff);
  const int32_t name = rd32(p + 4);
  if (name < 0 || size_t(name) + 8 + 4 > len) return false;
  size_t at = 8 + size_t(name);
  reply.id = rd32(p + at);
  at += 4;
  if (type == kException) {
    reply.err = -1;
    return true;
  }
  if (type != kReply || at + 1 > len) return false;
  const int8_t field = int8_t(p[at]);
  if (field == kStop) {
    reply.err = 0;
    return true;
  }
  if (at + 3 > len) return false;
  const int16_t id = int16_t((uint8_t(p[at + 1]) << 8) | uint8_t(p[at + 2]));
  at += 3;
  if (id == 0) {
    reply.err = 0;
    return true;
  }
  // ZkError: its first field is `1: i32 code`.
  if (field != kStruct || at + 7 > len || p[at] != kI32) return false;
  reply.err = rd32(p + at + 3);
  return true;
}

// openSession's reply: true when it is a success.
inline bool parseConnect(const char* p, size_t len) {
  Reply reply;
  return parseReply(p, len, reply) && reply.err == 0;
}

}  // namespace thrift

// ------------------------------------------------------------------ either
inline void writeConnect(Protocol protocol, std::string& out, int32_t timeout_ms) {
  protocol == Protocol::kThrift ? thrift::writeConnect(out, timeout_ms) : jute::writeConnect(out, timeout_ms);
}
inline void writeRequest(Protocol protocol, std::string& out, int32_t id, const Request& r) {
  protocol == Protocol::kThrift ? thrift::writeRequest(out, id, r) : jute::writeRequest(out, id, r);
}
inline bool parseConnect(Protocol protocol, const char* p, size_t len) {
  return protocol == Protocol::kThrift ? thrift::parseConnect(p, len) : jute::parseConnect(p, len);
}
inline bool parseReply(Protocol protocol, const char* p, size_t len, Reply& reply) {
  return protocol == Protocol::kThrift ? thrift::parseReply(p, len, reply) : jute::parseReply(p, len, reply);
}

}  // namespace bench

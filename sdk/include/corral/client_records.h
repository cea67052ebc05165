// Client-protocol jute records (org.apache.zookeeper.proto), client-protocol.md §3-§10.
//
// Each record is a plain struct with encode()/decode() free functions (see data_records.h for
// the convention). Field order is the wire order. Null handling:
//   * znode data and SASL tokens are OptionalBytes: nullopt <-> -1, "" <-> 0 (getData of a node
//     created with null data must answer -1);
//   * paths and other ustrings are std::string: a null string (-1) decodes as "" (the server
//     treats the two alike) and is never written; ReconfigRequest keeps std::optional because
//     the reconfig API gives null its own meaning;
//   * ACL lists in requests are AclList plus `acl_null` (true iff the client sent -1; the list is
//     then empty). Both mean InvalidACL to the server, the flag only keeps re-encoding exact;
//   * other vectors: a null vector decodes as empty.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "corral/data_records.h"
#include "corral/jute.h"
#include "corral/status.h"
#include "corral/types.h"

namespace corral::sdk {

// ---------------------------------------------------------------------------------------------
// Headers (§3)

struct RequestHeader {
  int32_t xid = 0;
  OpCode type = OpCode::kNotification;  // any int32 may arrive; unknown ones get -6
  friend bool operator==(const RequestHeader&, const RequestHeader&) = default;
};
inline void encode(JuteWriter& w, const RequestHeader& v) {
  w.writeInt(v.xid);
  w.writeInt(static_cast<int32_t>(v.type));
}
inline bool decode(JuteReader& r, RequestHeader& v) {
  v.xid = r.readInt();
  v.type = static_cast<OpCode>(r.readInt());
  return r.ok();
}

struct ReplyHeader {
  int32_t xid = 0;
  Zxid zxid = 0;
  Code err = Code::kOk;
  friend bool operator==(const ReplyHeader&, const ReplyHeader&) = default;
};
inline void encode(JuteWriter& w, const ReplyHeader& v) {
  w.writeInt(v.xid);
  w.writeLong(v.zxid);
  w.writeInt(static_cast<int32_t>(v.err));
}
inline bool decode(JuteReader& r, ReplyHeader& v) {
  v.xid = r.readInt();
  v.zxid = r.readLong();
  v.err = static_cast<Code>(r.readInt());
  return r.ok();
}

// ---------------------------------------------------------------------------------------------
// Handshake (§4)

struct ConnectRequest {
  int32_t protocol_version = 0;
  Zxid last_zxid_seen = 0;
  int32_t timeout = 0;
  SessionId session_id = 0;
  std::string passwd;              // null decodes as empty (the server accepts both)
  std::optional<bool> read_only;   // trailing byte; nullopt = old client that did not send it
  friend bool operator==(const ConnectRequest&, const ConnectRequest&) = default;
};
inline void encode(JuteWriter& w, const ConnectRequest& v) {
  w.writeInt(v.protocol_version);
  w.writeLong(v.last_zxid_seen);
  w.writeInt(v.timeout);
  w.writeLong(v.session_id);
  w.writeBuffer(v.passwd);
  if (v.read_only) w.writeBool(*v.read_only);
}
inline bool decode(JuteReader& r, ConnectRequest& v) {
  v.protocol_version = r.readInt();
  v.last_zxid_seen = r.readLong();
  v.timeout = r.readInt();
  v.session_id = r.readLong();
  v.passwd = r.readBuffer();
  v.read_only.reset();
  if (r.ok() && !r.atEnd()) v.read_only = r.readBool();
  return r.ok();
}

struct ConnectResponse {
  int32_t protocol_version = 0;
  int32_t timeout = 0;
  SessionId session_id = 0;
  std::string passwd;
  std::optional<bool> read_only;  // written iff the request carried it
  friend bool operator==(const ConnectResponse&, const ConnectResponse&) = default;
};
inline void encode(JuteWriter& w, const ConnectResponse& v) {
  w.writeInt(v.protocol_version);
  w.writeInt(v.timeout);
  w.writeLong(v.session_id);
  w.writeBuffer(v.passwd);
  if (v.read_only) w.writeBool(*v.read_only);
}
inline bool decode(JuteReader& r, ConnectResponse& v) {
  v.protocol_version = r.readInt();
  v.timeout = r.readInt();
  v.session_id = r.readLong();
  v.passwd = r.readBuffer();
  v.read_only.reset();
  if (r.ok() && !r.atEnd()) v.read_only = r.readBool();
  return r.ok();
}

// ---------------------------------------------------------------------------------------------
// Requests (§6)

struct CreateRequest {  // create (1), create2 (15), createContainer (19)
  std::string path;
  OptionalBytes data;
  AclList acl;
  bool acl_null = false;  // the client sent a null (-1) ACL list
  int32_t flags = 0;      // CreateMode value, validated by the server
  friend bool operator==(const CreateRequest&, const CreateRequest&) = default;
};
inline void encode(JuteWriter& w, const CreateRequest& v) {
  w.writeString(v.path);
  w.writeOptionalBuffer(v.data);
  if (v.acl_null && v.acl.empty()) w.writeNull(); else encode(w, v.acl);
  w.writeInt(v.flags);
}
inline bool decode(JuteReader& r, CreateRequest& v) {
  v.path = r.readString();
  v.data = r.readOptionalBuffer();
  decode(r, v.acl, &v.acl_null);
  v.flags = r.readInt();
  return r.ok();
}

struct CreateTtlRequest {  // createTTL (21)
  std::string path;
  OptionalBytes data;
  AclList acl;
  bool acl_null = false;
  int32_t flags = 0;
  int64_t ttl = 0;
  friend bool operator==(const CreateTtlRequest&, const CreateTtlRequest&) = default;
};
inline void encode(JuteWriter& w, const CreateTtlRequest& v) {
  w.writeString(v.path);
  w.writeOptionalBuffer(v.data);
  if (v.acl_null && v.acl.empty()) w.writeNull(); else encode(w, v.acl);
  w.writeInt(v.flags);
  w.writeLong(v.ttl);
}
inline bool decode(JuteReader& r, CreateTtlRequest& v) {
  v.path = r.readString();
  v.data = r.readOptionalBuffer();
  decode(r, v.acl, &v.acl_null);
  v.flags = r.readInt();
  v.ttl = r.readLong();
  return r.ok();
}

// {ustring path, int version} records.
#define CORRAL_JUTE_PATH_INT_RECORD(Name, field)                         \
  struct Name {                                                          \
    std::string path;                                                    \
    int32_t field = 0;                                                   \
    friend bool operator==(const Name&, const Name&) = default;          \
  };                                                                     \
  inline void encode(JuteWriter& w, const Name& v) {                     \
    w.writeString(v.path);                                               \
    w.writeInt(v.field);                                                 \
  }                                                                      \
  inline bool decode(JuteReader& r, Name& v) {                           \
    v.path = r.readString();                                             \
    v.field = r.readInt();                                               \
    return r.ok();                                                       \
  }

// {ustring path, boolean watch} records.
#define CORRAL_JUTE_PATH_WATCH_RECORD(Name)                              \
  struct Name {                                                          \
    std::string path;                                                    \
    bool watch = false;                                                  \
    friend bool operator==(const Name&, const Name&) = default;          \
  };                                                                     \
  inline void encode(JuteWriter& w, const Name& v) {                     \
    w.writeString(v.path);                                               \
    w.writeBool(v.watch);                                                \
  }                                                                      \
  inline bool decode(JuteReader& r, Name& v) {                           \
    v.path = r.readString();                                             \
    v.watch = r.readBool();                                              \
    return r.ok();                                                       \
  }

// {ustring <field>} records.
#define CORRAL_JUTE_STRING_RECORD(Name, field)                           \
  struct Name {                                                          \
    std::string field;                                                   \
    friend bool operator==(const Name&, const Name&) = default;          \
  };                                                                     \
  inline void encode(JuteWriter& w, const Name& v) { w.writeString(v.field); } \
  inline bool decode(JuteReader& r, Name& v) {                           \
    v.field = r.readString();                                            \
    return r.ok();                                                       \
  }

// {Stat stat} records.
#define CORRAL_JUTE_STAT_RECORD(Name)                                    \
  struct Name {                                                          \
    Stat stat;                                                           \
    friend bool operator==(const Name&, const Name&) = default;          \
  };                                                                     \
  inline void encode(JuteWriter& w, const Name& v) { encode(w, v.stat); } \
  inline bool decode(JuteReader& r, Name& v) { return decode(r, v.stat); }

CORRAL_JUTE_PATH_INT_RECORD(DeleteRequest, version)          // delete (2); -1 = any version
CORRAL_JUTE_PATH_INT_RECORD(CheckVersionRequest, version)    // check (13), inside multi
CORRAL_JUTE_PATH_INT_RECORD(CheckWatchesRequest, type)       // checkWatches (17); WatcherType
CORRAL_JUTE_PATH_INT_RECORD(RemoveWatchesRequest, type)      // removeWatches (18); WatcherType
CORRAL_JUTE_PATH_INT_RECORD(AddWatchRequest, mode)           // addWatch (106); AddWatchMode
CORRAL_JUTE_PATH_WATCH_RECORD(ExistsRequest)                 // exists (3)
CORRAL_JUTE_PATH_WATCH_RECORD(GetDataRequest)                // getData (4)
CORRAL_JUTE_PATH_WATCH_RECORD(GetChildrenRequest)            // getChildren (8)
CORRAL_JUTE_PATH_WATCH_RECORD(GetChildren2Request)           // getChildren2 (12)
CORRAL_JUTE_STRING_RECORD(GetAclRequest, path)               // getACL (6)
CORRAL_JUTE_STRING_RECORD(SyncRequest, path)                 // sync (9)
CORRAL_JUTE_STRING_RECORD(SyncResponse, path)
CORRAL_JUTE_STRING_RECORD(GetEphemeralsRequest, prefix_path) // getEphemerals (103); null = ""
CORRAL_JUTE_STRING_RECORD(GetAllChildrenNumberRequest, path) // getAllChildrenNumber (104)
CORRAL_JUTE_STRING_RECORD(CreateResponse, path)
CORRAL_JUTE_STAT_RECORD(ExistsResponse)
CORRAL_JUTE_STAT_RECORD(SetDataResponse)
CORRAL_JUTE_STAT_RECORD(SetAclResponse)

#undef CORRAL_JUTE_PATH_INT_RECORD
#undef CORRAL_JUTE_PATH_WATCH_RECORD
#undef CORRAL_JUTE_STRING_RECORD
#undef CORRAL_JUTE_STAT_RECORD

struct SetDataRequest {  // setData (5)
  std::string path;
  OptionalBytes data;
  int32_t version = -1;
  friend bool operator==(const SetDataRequest&, const SetDataRequest&) = default;
};
inline void encode(JuteWriter& w, const SetDataRequest& v) {
  w.writeString(v.path);
  w.writeOptionalBuffer(v.data);
  w.writeInt(v.version);
}
inline bool decode(JuteReader& r, SetDataRequest& v) {
  v.path = r.readString();
  v.data = r.readOptionalBuffer();
  v.version = r.readInt();
  return r.ok();
}

struct SetAclRequest {  // setACL (7)
  std::string path;
  AclList acl;
  bool acl_null = false;
  int32_t version = -1;
  friend bool operator==(const SetAclRequest&, const SetAclRequest&) = default;
};
inline void encode(JuteWriter& w, const SetAclRequest& v) {
  w.writeString(v.path);
  if (v.acl_null && v.acl.empty()) w.writeNull(); else encode(w, v.acl);
  w.writeInt(v.version);
}
inline bool decode(JuteReader& r, SetAclRequest& v) {
  v.path = r.readString();
  decode(r, v.acl, &v.acl_null);
  v.version = r.readInt();
  return r.ok();
}

struct AuthPacket {  // auth (100), xid -4
  int32_t type = 0;  // ignored by the server
  std::string scheme;
  std::string auth;  // null decodes as empty
  friend bool operator==(const AuthPacket&, const AuthPacket&) = default;
};
inline void encode(JuteWriter& w, const AuthPacket& v) {
  w.writeInt(v.type);
  w.writeString(v.scheme);
  w.writeBuffer(v.auth);
}
inline bool decode(JuteReader& r, AuthPacket& v) {
  v.type = r.readInt();
  v.scheme = r.readString();
  v.auth = r.readBuffer();
  return r.ok();
}

struct SetWatches {  // setWatches (101), xid -8
  Zxid relative_zxid = 0;
  std::vector<std::string> data_watches;
  std::vector<std::string> exist_watches;
  std::vector<std::string> child_watches;
  friend bool operator==(const SetWatches&, const SetWatches&) = default;
};
inline void encode(JuteWriter& w, const SetWatches& v) {
  w.writeLong(v.relative_zxid);
  w.writeStringVector(v.data_watches);
  w.writeStringVector(v.exist_watches);
  w.writeStringVector(v.child_watches);
}
inline bool decode(JuteReader& r, SetWatches& v) {
  v.relative_zxid = r.readLong();
  r.readStringVector(v.data_watches);
  r.readStringVector(v.exist_watches);
  r.readStringVector(v.child_watches);
  return r.ok();
}

struct SetWatches2 {  // setWatches2 (105), xid -8; a body without the last two vectors fails
  Zxid relative_zxid = 0;
  std::vector<std::string> data_watches;
  std::vector<std::string> exist_watches;
  std::vector<std::string> child_watches;
  std::vector<std::string> persistent_watches;
  std::vector<std::string> persistent_recursive_watches;
  friend bool operator==(const SetWatches2&, const SetWatches2&) = default;
};
inline void encode(JuteWriter& w, const SetWatches2& v) {
  w.writeLong(v.relative_zxid);
  w.writeStringVector(v.data_watches);
  w.writeStringVector(v.exist_watches);
  w.writeStringVector(v.child_watches);
  w.writeStringVector(v.persistent_watches);
  w.writeStringVector(v.persistent_recursive_watches);
}
inline bool decode(JuteReader& r, SetWatches2& v) {
  v.relative_zxid = r.readLong();
  r.readStringVector(v.data_watches);
  r.readStringVector(v.exist_watches);
  r.readStringVector(v.child_watches);
  r.readStringVector(v.persistent_watches);
  r.readStringVector(v.persistent_recursive_watches);
  return r.ok();
}

// {buffer token} records: sasl (102) request and response. No SASL configured → null token.
struct GetSaslRequest {
  OptionalBytes token;
  friend bool operator==(const GetSaslRequest&, const GetSaslRequest&) = default;
};
inline void encode(JuteWriter& w, const GetSaslRequest& v) { w.writeOptionalBuffer(v.token); }
inline bool decode(JuteReader& r, GetSaslRequest& v) {
  v.token = r.readOptionalBuffer();
  return r.ok();
}

struct SetSaslResponse {
  OptionalBytes token;
  friend bool operator==(const SetSaslResponse&, const SetSaslResponse&) = default;
};
inline void encode(JuteWriter& w, const SetSaslResponse& v) { w.writeOptionalBuffer(v.token); }
inline bool decode(JuteReader& r, SetSaslResponse& v) {
  v.token = r.readOptionalBuffer();
  return r.ok();
}

struct ReconfigRequest {  // reconfig (16); null strings mean "not given" to the reconfig API
  std::optional<std::string> joining_servers;
  std::optional<std::string> leaving_servers;
  std::optional<std::string> new_members;
  int64_t cur_config_id = -1;
  friend bool operator==(const ReconfigRequest&, const ReconfigRequest&) = default;
};
inline void encode(JuteWriter& w, const ReconfigRequest& v) {
  w.writeOptionalString(v.joining_servers);
  w.writeOptionalString(v.leaving_servers);
  w.writeOptionalString(v.new_members);
  w.writeLong(v.cur_config_id);
}
inline bool decode(JuteReader& r, ReconfigRequest& v) {
  v.joining_servers = r.readOptionalString();
  v.leaving_servers = r.readOptionalString();
  v.new_members = r.readOptionalString();
  v.cur_config_id = r.readLong();
  return r.ok();
}

// ---------------------------------------------------------------------------------------------
// Responses (§6). A response record follows the ReplyHeader only when err == 0.

struct Create2Response {  // create2, createContainer, createTTL
  std::string path;
  Stat stat;
  friend bool operator==(const Create2Response&, const Create2Response&) = default;
};
inline void encode(JuteWriter& w, const Create2Response& v) {
  w.writeString(v.path);
  encode(w, v.stat);
}
inline bool decode(JuteReader& r, Create2Response& v) {
  v.path = r.readString();
  return decode(r, v.stat);
}

struct GetDataResponse {  // getData (4), also the reconfig (16) reply
  OptionalBytes data;     // nullopt for a node created with null data
  Stat stat;
  friend bool operator==(const GetDataResponse&, const GetDataResponse&) = default;
};
inline void encode(JuteWriter& w, const GetDataResponse& v) {
  w.writeOptionalBuffer(v.data);
  encode(w, v.stat);
}
inline bool decode(JuteReader& r, GetDataResponse& v) {
  v.data = r.readOptionalBuffer();
  return decode(r, v.stat);
}

struct GetAclResponse {
  AclList acl;
  Stat stat;
  friend bool operator==(const GetAclResponse&, const GetAclResponse&) = default;
};
inline void encode(JuteWriter& w, const GetAclResponse& v) {
  encode(w, v.acl);
  encode(w, v.stat);
}
inline bool decode(JuteReader& r, GetAclResponse& v) {
  decode(r, v.acl);
  return decode(r, v.stat);
}

struct GetChildrenResponse {
  std::vector<std::string> children;
  friend bool operator==(const GetChildrenResponse&, const GetChildrenResponse&) = default;
};
inline void encode(JuteWriter& w, const GetChildrenResponse& v) { w.writeStringVector(v.children); }
inline bool decode(JuteReader& r, GetChildrenResponse& v) { return r.readStringVector(v.children); }

struct GetChildren2Response {
  std::vector<std::string> children;
  Stat stat;
  friend bool operator==(const GetChildren2Response&, const GetChildren2Response&) = default;
};
inline void encode(JuteWriter& w, const GetChildren2Response& v) {
  w.writeStringVector(v.children);
  encode(w, v.stat);
}
inline bool decode(JuteReader& r, GetChildren2Response& v) {
  r.readStringVector(v.children);
  return decode(r, v.stat);
}

struct GetEphemeralsResponse {
  std::vector<std::string> ephemerals;
  friend bool operator==(const GetEphemeralsResponse&, const GetEphemeralsResponse&) = default;
};
inline void encode(JuteWriter& w, const GetEphemeralsResponse& v) { w.writeStringVector(v.ephemerals); }
inline bool decode(JuteReader& r, GetEphemeralsResponse& v) { return r.readStringVector(v.ephemerals); }

struct GetAllChildrenNumberResponse {
  int32_t total_number = 0;
  friend bool operator==(const GetAllChildrenNumberResponse&,
                         const GetAllChildrenNumberResponse&) = default;
};
inline void encode(JuteWriter& w, const GetAllChildrenNumberResponse& v) { w.writeInt(v.total_number); }
inline bool decode(JuteReader& r, GetAllChildrenNumberResponse& v) {
  v.total_number = r.readInt();
  return r.ok();
}

// addWatch reply body (always 0) and the body of a failed multi sub-op.
struct ErrorResponse {
  Code err = Code::kOk;
  friend bool operator==(const ErrorResponse&, const ErrorResponse&) = default;
};
inline void encode(JuteWriter& w, const ErrorResponse& v) { w.writeInt(static_cast<int32_t>(v.err)); }
inline bool decode(JuteReader& r, ErrorResponse& v) {
  v.err = static_cast<Code>(r.readInt());
  return r.ok();
}

struct WhoAmIResponse {
  std::vector<ClientInfo> client_info;
  friend bool operator==(const WhoAmIResponse&, const WhoAmIResponse&) = default;
};
inline void encode(JuteWriter& w, const WhoAmIResponse& v) {
  w.writeVector(v.client_info, [](JuteWriter& jw, const ClientInfo& c) { encode(jw, c); });
}
inline bool decode(JuteReader& r, WhoAmIResponse& v) {
  return r.readVector(v.client_info, [](JuteReader& jr, ClientInfo& c) { decode(jr, c); },
                      kMinClientInfoBytes);
}

// Notification body, sent after ReplyHeader{xid -1, zxid -1, err 0} (§10).
struct WatcherEvent {
  EventType type = EventType::kNone;
  KeeperState state = KeeperState::kSyncConnected;
  std::string path;
  friend bool operator==(const WatcherEvent&, const WatcherEvent&) = default;
};
inline void encode(JuteWriter& w, const WatcherEvent& v) {
  w.writeInt(static_cast<int32_t>(v.type));
  w.writeInt(static_cast<int32_t>(v.state));
  w.writeString(v.path);
}
inline bool decode(JuteReader& r, WatcherEvent& v) {
  v.type = static_cast<EventType>(r.readInt());
  v.state = static_cast<KeeperState>(r.readInt());
  v.path = r.readString();
  return r.ok();
}

// ---------------------------------------------------------------------------------------------
// multi (14) / multiRead (22) (§8)

struct MultiHeader {
  OpCode type = OpCode::kError;
  bool done = false;
  int32_t err = -1;  // clients write -1 in requests; results carry the sub-op's code
  friend bool operator==(const MultiHeader&, const MultiHeader&) = default;
};
inline constexpr MultiHeader kMultiTerminator{OpCode::kError, true, -1};
inline void encode(JuteWriter& w, const MultiHeader& v) {
  w.writeInt(static_cast<int32_t>(v.type));
  w.writeBool(v.done);
  w.writeInt(v.err);
}
inline bool decode(JuteReader& r, MultiHeader& v) {
  v.type = static_cast<OpCode>(r.readInt());
  v.done = r.readBool();
  v.err = r.readInt();
  return r.ok();
}

// One decoded sub-op. `type` is the opcode from its MultiHeader, kept verbatim: create (1),
// create2 (15) and createContainer (19) all carry a CreateRequest, and the server normalises
// them by flags (§8).
using MultiOpRecord = std::variant<CreateRequest, CreateTtlRequest, DeleteRequest, SetDataRequest,
                                   CheckVersionRequest, GetChildrenRequest, GetDataRequest>;
struct MultiOp {
  OpCode type = OpCode::kCreate;
  MultiOpRecord op;
  friend bool operator==(const MultiOp&, const MultiOp&) = default;
};

enum class MultiKind : int8_t {
  kEmpty,  // terminator only: valid for multi and multiRead
  kWrite,  // create/create2/createContainer/createTTL/delete/setData/check: multi only
  kRead,   // getData/getChildren: multiRead only
};

constexpr bool isMultiReadOp(OpCode type) noexcept {
  return type == OpCode::kGetData || type == OpCode::kGetChildren;
}

struct MultiRequest {
  std::vector<MultiOp> ops;
  // After a successful decode all ops are of one kind; the first op tells which.
  MultiKind kind() const noexcept {
    if (ops.empty()) return MultiKind::kEmpty;
    return isMultiReadOp(ops.front().type) ? MultiKind::kRead : MultiKind::kWrite;
  }
  friend bool operator==(const MultiRequest&, const MultiRequest&) = default;
};

inline void encode(JuteWriter& w, const MultiRequest& v) {
  for (const MultiOp& op : v.ops) {
    encode(w, MultiHeader{op.type, false, -1});
    std::visit([&w](const auto& record) { encode(w, record); }, op.op);
  }
  encode(w, kMultiTerminator);
}

// Like MultiOperationRecord.deserialize: reads header + record pairs until a header with
// done=true (its type/err are not checked). Fails on an op type that is not allowed in a
// multi, on mixing read and write ops (ZooKeeper answers both with MarshallingError), or on a
// missing terminator. The caller still checks kind() against the opcode (multi vs multiRead).
inline bool decode(JuteReader& r, MultiRequest& v) {
  v.ops.clear();
  MultiKind seen = MultiKind::kEmpty;
  MultiHeader h;
  decode(r, h);
  while (r.ok() && !h.done) {
    MultiOp op;
    op.type = h.type;
    switch (h.type) {
      case OpCode::kCreate:
      case OpCode::kCreate2:
      case OpCode::kCreateContainer: decode(r, op.op.emplace<CreateRequest>()); break;
      case OpCode::kCreateTtl: decode(r, op.op.emplace<CreateTtlRequest>()); break;
      case OpCode::kDelete: decode(r, op.op.emplace<DeleteRequest>()); break;
      case OpCode::kSetData: decode(r, op.op.emplace<SetDataRequest>()); break;
      case OpCode::kCheck: decode(r, op.op.emplace<CheckVersionRequest>()); break;
      case OpCode::kGetChildren: decode(r, op.op.emplace<GetChildrenRequest>()); break;
      case OpCode::kGetData: decode(r, op.op.emplace<GetDataRequest>()); break;
      default: r.fail(); return false;
    }
    const MultiKind kind = isMultiReadOp(h.type) ? MultiKind::kRead : MultiKind::kWrite;
    if (seen == MultiKind::kEmpty) {
      seen = kind;
    } else if (seen != kind) {
      r.fail();
      return false;
    }
    if (!r.ok()) return false;
    v.ops.push_back(std::move(op));
    decode(r, h);
  }
  return r.ok();
}

// One multi result. The record written after its MultiHeader is `body` (std::monostate for
// delete/check results, which have none). Use the factories so type, err and body agree.
using MultiResultRecord =
    std::variant<std::monostate, CreateResponse, Create2Response, SetDataResponse, GetDataResponse,
                 GetChildrenResponse, ErrorResponse>;
struct MultiResult {
  OpCode type = OpCode::kError;
  Code err = Code::kOk;  // non-zero only for type kError
  MultiResultRecord body;
  friend bool operator==(const MultiResult&, const MultiResult&) = default;

  static MultiResult create(std::string path) {
    return {OpCode::kCreate, Code::kOk, CreateResponse{std::move(path)}};
  }
  static MultiResult create2(std::string path, const Stat& stat) {
    return {OpCode::kCreate2, Code::kOk, Create2Response{std::move(path), stat}};
  }
  static MultiResult remove() { return {OpCode::kDelete, Code::kOk, std::monostate{}}; }
  static MultiResult check() { return {OpCode::kCheck, Code::kOk, std::monostate{}}; }
  static MultiResult setData(const Stat& stat) {
    return {OpCode::kSetData, Code::kOk, SetDataResponse{stat}};
  }
  static MultiResult getData(OptionalBytes data, const Stat& stat) {
    return {OpCode::kGetData, Code::kOk, GetDataResponse{std::move(data), stat}};
  }
  static MultiResult getChildren(std::vector<std::string> children) {
    return {OpCode::kGetChildren, Code::kOk, GetChildrenResponse{std::move(children)}};
  }
  // ErrorResult: type -1, the code in both the header and the ErrorResponse body. A failed
  // multi reports every op this way (err 0 before the failing op, -2 after it).
  static MultiResult error(Code err) { return {OpCode::kError, err, ErrorResponse{err}}; }
};

struct MultiResponse {
  std::vector<MultiResult> results;
  friend bool operator==(const MultiResponse&, const MultiResponse&) = default;
};

inline void encode(JuteWriter& w, const MultiResponse& v) {
  for (const MultiResult& res : v.results) {
    encode(w, MultiHeader{res.type, false, static_cast<int32_t>(res.err)});
    std::visit(
        [&w](const auto& record) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(record)>, std::monostate>) {
            encode(w, record);
          }
        },
        res.body);
  }
  encode(w, kMultiTerminator);
}

// Like MultiResponse.deserialize (client side); the body record is chosen by the header type.
inline bool decode(JuteReader& r, MultiResponse& v) {
  v.results.clear();
  MultiHeader h;
  decode(r, h);
  while (r.ok() && !h.done) {
    MultiResult res;
    res.type = h.type;
    res.err = static_cast<Code>(h.err);
    switch (h.type) {
      case OpCode::kCreate: decode(r, res.body.emplace<CreateResponse>()); break;
      case OpCode::kCreate2: decode(r, res.body.emplace<Create2Response>()); break;
      case OpCode::kDelete:
      case OpCode::kCheck: break;
      case OpCode::kSetData: decode(r, res.body.emplace<SetDataResponse>()); break;
      case OpCode::kGetData: decode(r, res.body.emplace<GetDataResponse>()); break;
      case OpCode::kGetChildren: decode(r, res.body.emplace<GetChildrenResponse>()); break;
      case OpCode::kError: decode(r, res.body.emplace<ErrorResponse>()); break;
      default: r.fail(); return false;
    }
    if (!r.ok()) return false;
    v.results.push_back(std::move(res));
    decode(r, h);
  }
  return r.ok();
}

// ---------------------------------------------------------------------------------------------
// Framing helpers

// Appends a complete reply frame: int32 len + ReplyHeader + body (pass only a header for error
// replies and body-less ops).
inline void encodeReplyFrame(std::string& out, const ReplyHeader& header) {
  JuteWriter w(out);
  size_t frame = w.beginFrame();
  encode(w, header);
  w.endFrame(frame);
}
template <typename Body>
void encodeReplyFrame(std::string& out, const ReplyHeader& header, const Body& body) {
  JuteWriter w(out);
  size_t frame = w.beginFrame();
  encode(w, header);
  encode(w, body);
  w.endFrame(frame);
}

// Appends a request frame: int32 len + RequestHeader + body (client side and tests).
inline void encodeRequestFrame(std::string& out, const RequestHeader& header) {
  JuteWriter w(out);
  size_t frame = w.beginFrame();
  encode(w, header);
  w.endFrame(frame);
}
template <typename Body>
void encodeRequestFrame(std::string& out, const RequestHeader& header, const Body& body) {
  JuteWriter w(out);
  size_t frame = w.beginFrame();
  encode(w, header);
  encode(w, body);
  w.endFrame(frame);
}

// Appends a watch notification frame: ReplyHeader{-1, -1, 0} + WatcherEvent.
inline void encodeNotificationFrame(std::string& out, const WatcherEvent& event) {
  encodeReplyFrame(out, ReplyHeader{xids::kNotification, -1, Code::kOk}, event);
}

}  // namespace corral::sdk

// Transaction records (org.apache.zookeeper.txn) and the FileHeader of log/snapshot files,
// disk-formats.md §2, §4, §5. The same bytes travel in quorum PROPOSAL/INFORM packets.
//
// encode()/decode() free functions as in data_records.h. Txn data buffers are OptionalBytes
// (null data survives a log round trip); txn ACL lists are plain AclList (always fixed-up lists).
// TxnEntry / decodeTxnBody apply ZooKeeper's compatibility rules for old logs (CreateTxnV0,
// body-less closeSession, optional TxnDigest), mirroring SerializeUtils.deserializeTxn.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "corral/data_records.h"
#include "corral/jute.h"
#include "corral/status.h"
#include "corral/types.h"

namespace corral::sdk {

// ---------------------------------------------------------------------------------------------
// FileHeader (both file kinds)

inline constexpr int32_t kTxnLogMagic = 0x5A4B4C47;    // "ZKLG"
inline constexpr int32_t kSnapshotMagic = 0x5A4B534E;  // "ZKSN"
inline constexpr int32_t kFileFormatVersion = 2;

struct FileHeader {
  int32_t magic = 0;
  int32_t version = kFileFormatVersion;
  int64_t dbid = 0;  // 0 in logs, -1 in snapshots
  friend bool operator==(const FileHeader&, const FileHeader&) = default;
};
inline void encode(JuteWriter& w, const FileHeader& v) {
  w.writeInt(v.magic);
  w.writeInt(v.version);
  w.writeLong(v.dbid);
}
inline bool decode(JuteReader& r, FileHeader& v) {
  v.magic = r.readInt();
  v.version = r.readInt();
  v.dbid = r.readLong();
  return r.ok();
}

// ---------------------------------------------------------------------------------------------
// Header, digest, bodies

struct TxnHeader {
  SessionId client_id = 0;
  int32_t cxid = 0;
  Zxid zxid = 0;
  TimeMs time = 0;
  OpCode type = OpCode::kError;
  friend bool operator==(const TxnHeader&, const TxnHeader&) = default;
};
inline void encode(JuteWriter& w, const TxnHeader& v) {
  w.writeLong(v.client_id);
  w.writeInt(v.cxid);
  w.writeLong(v.zxid);
  w.writeLong(v.time);
  w.writeInt(static_cast<int32_t>(v.type));
}
inline bool decode(JuteReader& r, TxnHeader& v) {
  v.client_id = r.readLong();
  v.cxid = r.readInt();
  v.zxid = r.readLong();
  v.time = r.readLong();
  v.type = static_cast<OpCode>(r.readInt());
  return r.ok();
}

inline constexpr int32_t kTxnDigestVersion = 2;

struct TxnDigest {  // tree digest after applying the txn; error txns carry none
  int32_t version = kTxnDigestVersion;
  int64_t tree_digest = 0;
  friend bool operator==(const TxnDigest&, const TxnDigest&) = default;
};
inline void encode(JuteWriter& w, const TxnDigest& v) {
  w.writeInt(v.version);
  w.writeLong(v.tree_digest);
}
inline bool decode(JuteReader& r, TxnDigest& v) {
  v.version = r.readInt();
  v.tree_digest = r.readLong();
  return r.ok();
}

struct CreateTxn {  // create (1), create2 (15)
  std::string path;
  OptionalBytes data;
  AclList acl;
  bool ephemeral = false;
  int32_t parent_cversion = 0;  // -1 after reading a legacy CreateTxnV0 (= parent cversion + 1)
  friend bool operator==(const CreateTxn&, const CreateTxn&) = default;
};
inline void encode(JuteWriter& w, const CreateTxn& v) {
  w.writeString(v.path);
  w.writeOptionalBuffer(v.data);
  encode(w, v.acl);
  w.writeBool(v.ephemeral);
  w.writeInt(v.parent_cversion);
}
// Strict: all five fields must be present.
inline bool decode(JuteReader& r, CreateTxn& v) {
  v.path = r.readString();
  v.data = r.readOptionalBuffer();
  decode(r, v.acl);
  v.ephemeral = r.readBool();
  v.parent_cversion = r.readInt();
  return r.ok();
}
// Top-level create txn of a log: a CreateTxnV0 (no parentCVersion) is accepted when the body
// ends before parentCVersion, which then reads as -1 (SerializeUtils' EOFException fallback).
inline bool decodeCreateTxnAllowV0(JuteReader& r, CreateTxn& v) {
  v.path = r.readString();
  v.data = r.readOptionalBuffer();
  decode(r, v.acl);
  v.ephemeral = r.readBool();
  if (r.ok() && r.remaining() < 4) {
    v.parent_cversion = -1;
    return true;
  }
  v.parent_cversion = r.readInt();
  return r.ok();
}

struct CreateContainerTxn {  // createContainer (19)
  std::string path;
  OptionalBytes data;
  AclList acl;
  int32_t parent_cversion = 0;
  friend bool operator==(const CreateContainerTxn&, const CreateContainerTxn&) = default;
};
inline void encode(JuteWriter& w, const CreateContainerTxn& v) {
  w.writeString(v.path);
  w.writeOptionalBuffer(v.data);
  encode(w, v.acl);
  w.writeInt(v.parent_cversion);
}
inline bool decode(JuteReader& r, CreateContainerTxn& v) {
  v.path = r.readString();
  v.data = r.readOptionalBuffer();
  decode(r, v.acl);
  v.parent_cversion = r.readInt();
  return r.ok();
}

struct CreateTtlTxn {  // createTTL (21)
  std::string path;
  OptionalBytes data;
  AclList acl;
  int32_t parent_cversion = 0;
  int64_t ttl = 0;
  friend bool operator==(const CreateTtlTxn&, const CreateTtlTxn&) = default;
};
inline void encode(JuteWriter& w, const CreateTtlTxn& v) {
  w.writeString(v.path);
  w.writeOptionalBuffer(v.data);
  encode(w, v.acl);
  w.writeInt(v.parent_cversion);
  w.writeLong(v.ttl);
}
inline bool decode(JuteReader& r, CreateTtlTxn& v) {
  v.path = r.readString();
  v.data = r.readOptionalBuffer();
  decode(r, v.acl);
  v.parent_cversion = r.readInt();
  v.ttl = r.readLong();
  return r.ok();
}

struct DeleteTxn {  // delete (2), deleteContainer (20)
  std::string path;
  friend bool operator==(const DeleteTxn&, const DeleteTxn&) = default;
};
inline void encode(JuteWriter& w, const DeleteTxn& v) { w.writeString(v.path); }
inline bool decode(JuteReader& r, DeleteTxn& v) {
  v.path = r.readString();
  return r.ok();
}

struct SetDataTxn {  // setData (5), reconfig (16)
  std::string path;
  OptionalBytes data;
  int32_t version = 0;  // the new version (old + 1)
  friend bool operator==(const SetDataTxn&, const SetDataTxn&) = default;
};
inline void encode(JuteWriter& w, const SetDataTxn& v) {
  w.writeString(v.path);
  w.writeOptionalBuffer(v.data);
  w.writeInt(v.version);
}
inline bool decode(JuteReader& r, SetDataTxn& v) {
  v.path = r.readString();
  v.data = r.readOptionalBuffer();
  v.version = r.readInt();
  return r.ok();
}

struct SetAclTxn {  // setACL (7)
  std::string path;
  AclList acl;
  int32_t version = 0;  // the new aversion (old + 1)
  friend bool operator==(const SetAclTxn&, const SetAclTxn&) = default;
};
inline void encode(JuteWriter& w, const SetAclTxn& v) {
  w.writeString(v.path);
  encode(w, v.acl);
  w.writeInt(v.version);
}
inline bool decode(JuteReader& r, SetAclTxn& v) {
  v.path = r.readString();
  decode(r, v.acl);
  v.version = r.readInt();
  return r.ok();
}

struct CheckVersionTxn {  // check (13), inside multi only
  std::string path;
  int32_t version = 0;  // checked version + 1
  friend bool operator==(const CheckVersionTxn&, const CheckVersionTxn&) = default;
};
inline void encode(JuteWriter& w, const CheckVersionTxn& v) {
  w.writeString(v.path);
  w.writeInt(v.version);
}
inline bool decode(JuteReader& r, CheckVersionTxn& v) {
  v.path = r.readString();
  v.version = r.readInt();
  return r.ok();
}

struct ErrorTxn {  // error (-1): a failed write, or a failed/skipped op inside a multi
  Code err = Code::kOk;
  friend bool operator==(const ErrorTxn&, const ErrorTxn&) = default;
};
inline void encode(JuteWriter& w, const ErrorTxn& v) { w.writeInt(static_cast<int32_t>(v.err)); }
inline bool decode(JuteReader& r, ErrorTxn& v) {
  v.err = static_cast<Code>(r.readInt());
  return r.ok();
}

struct CreateSessionTxn {  // createSession (-10)
  int32_t timeout = 0;     // negotiated session timeout, ms
  friend bool operator==(const CreateSessionTxn&, const CreateSessionTxn&) = default;
};
inline void encode(JuteWriter& w, const CreateSessionTxn& v) { w.writeInt(v.timeout); }
inline bool decode(JuteReader& r, CreateSessionTxn& v) {
  v.timeout = r.readInt();
  return r.ok();
}

struct CloseSessionTxn {  // closeSession (-11)
  std::vector<std::string> paths_to_delete;  // the session's ephemerals
  // True for a body-less closeSession from an old log (closeSessionTxn disabled): then
  // paths_to_delete is empty and replay must delete every ephemeral the session owns. encode
  // writes no body in that case.
  bool no_body = false;
  friend bool operator==(const CloseSessionTxn&, const CloseSessionTxn&) = default;
};
inline void encode(JuteWriter& w, const CloseSessionTxn& v) {
  if (!v.no_body) w.writeStringVector(v.paths_to_delete);
}
inline bool decode(JuteReader& r, CloseSessionTxn& v) {
  v.no_body = false;
  return r.readStringVector(v.paths_to_delete);
}

// One op of a MultiTxn: its type and its serialized body (no header, no digest).
struct Txn {
  OpCode type = OpCode::kError;
  std::string data;
  friend bool operator==(const Txn&, const Txn&) = default;
};
inline void encode(JuteWriter& w, const Txn& v) {
  w.writeInt(static_cast<int32_t>(v.type));
  w.writeBuffer(v.data);
}
inline bool decode(JuteReader& r, Txn& v) {
  v.type = static_cast<OpCode>(r.readInt());
  v.data = r.readBuffer();
  return r.ok();
}

struct MultiTxn {  // multi (14)
  std::vector<Txn> txns;
  friend bool operator==(const MultiTxn&, const MultiTxn&) = default;
};
inline void encode(JuteWriter& w, const MultiTxn& v) {
  w.writeVector(v.txns, [](JuteWriter& jw, const Txn& t) { encode(jw, t); });
}
inline bool decode(JuteReader& r, MultiTxn& v) {
  return r.readVector(v.txns, [](JuteReader& jr, Txn& t) { decode(jr, t); }, 8);
}

// Builds a MultiTxn element from a sub-record.
template <typename Record>
Txn makeTxn(OpCode type, const Record& record) {
  return Txn{type, encodeToString(record)};
}

// ---------------------------------------------------------------------------------------------
// Body by type, and whole log entries

// monostate = no body (never produced for a known type; see decodeTxnBody).
using TxnBody = std::variant<std::monostate, CreateSessionTxn, CloseSessionTxn, CreateTxn,
                             CreateContainerTxn, CreateTtlTxn, DeleteTxn, SetDataTxn, SetAclTxn,
                             CheckVersionTxn, ErrorTxn, MultiTxn>;

inline void encode(JuteWriter& w, const TxnBody& v) {
  std::visit(
      [&w](const auto& record) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(record)>, std::monostate>) {
          encode(w, record);
        }
      },
      v);
}

// Decodes the body of a top-level txn of type `type` (the record class per type follows
// SerializeUtils.deserializeTxn: 1/15 CreateTxn, 19 CreateContainerTxn, 21 CreateTtlTxn,
// 2/20 DeleteTxn, 5/16 SetDataTxn, 7 SetAclTxn, -1 ErrorTxn, 14 MultiTxn, -10, -11). A create (1)
// may be a legacy CreateTxnV0; a closeSession with fewer than 4 bytes left is body-less. Unlike
// ZooKeeper, a top-level check (13) is accepted as CheckVersionTxn (3.8.0 logs one for a
// standalone check request). Any other type fails the reader.
inline bool decodeTxnBody(JuteReader& r, OpCode type, TxnBody& body) {
  switch (type) {
    case OpCode::kCreateSession: return decode(r, body.emplace<CreateSessionTxn>());
    case OpCode::kCloseSession: {
      auto& close = body.emplace<CloseSessionTxn>();
      if (r.ok() && r.remaining() < 4) {
        close.no_body = true;
        return true;
      }
      return decode(r, close);
    }
    case OpCode::kCreate: return decodeCreateTxnAllowV0(r, body.emplace<CreateTxn>());
    case OpCode::kCreate2: return decode(r, body.emplace<CreateTxn>());
    case OpCode::kCreateContainer: return decode(r, body.emplace<CreateContainerTxn>());
    case OpCode::kCreateTtl: return decode(r, body.emplace<CreateTtlTxn>());
    case OpCode::kDelete:
    case OpCode::kDeleteContainer: return decode(r, body.emplace<DeleteTxn>());
    case OpCode::kSetData:
    case OpCode::kReconfig: return decode(r, body.emplace<SetDataTxn>());
    case OpCode::kSetAcl: return decode(r, body.emplace<SetAclTxn>());
    case OpCode::kCheck: return decode(r, body.emplace<CheckVersionTxn>());
    case OpCode::kError: return decode(r, body.emplace<ErrorTxn>());
    case OpCode::kMulti: return decode(r, body.emplace<MultiTxn>());
    default: r.fail(); return false;
  }
}

// Decodes one MultiTxn element strictly (as DataTree does when applying a multi): types 1, 15,
// 19, 21, 2, 20, 5, 13 and -1 only, the record must be complete (trailing bytes ignored).
inline bool decodeSubTxn(const Txn& txn, TxnBody& body) {
  JuteReader r(txn.data, INT32_MAX);
  switch (txn.type) {
    case OpCode::kCreate:
    case OpCode::kCreate2: return decode(r, body.emplace<CreateTxn>());
    case OpCode::kCreateContainer: return decode(r, body.emplace<CreateContainerTxn>());
    case OpCode::kCreateTtl: return decode(r, body.emplace<CreateTtlTxn>());
    case OpCode::kDelete:
    case OpCode::kDeleteContainer: return decode(r, body.emplace<DeleteTxn>());
    case OpCode::kSetData: return decode(r, body.emplace<SetDataTxn>());
    case OpCode::kCheck: return decode(r, body.emplace<CheckVersionTxn>());
    case OpCode::kError: return decode(r, body.emplace<ErrorTxn>());
    default: body.emplace<std::monostate>(); return false;
  }
}

// One transaction as stored in a log record's entry bytes (the part the Adler32 covers) and
// carried in PROPOSAL/INFORM packets: TxnHeader + body + optional TxnDigest.
struct TxnEntry {
  TxnHeader header;
  TxnBody body;
  std::optional<TxnDigest> digest;
  friend bool operator==(const TxnEntry&, const TxnEntry&) = default;
};
inline void encode(JuteWriter& w, const TxnEntry& v) {
  encode(w, v.header);
  encode(w, v.body);
  if (v.digest) encode(w, *v.digest);
}
// The digest is read when at least 12 bytes follow the body (fewer = absent, like the EOF
// fallback in ZooKeeper); bytes after it are ignored.
inline bool decode(JuteReader& r, TxnEntry& v) {
  if (!decode(r, v.header)) return false;
  if (!decodeTxnBody(r, v.header.type, v.body)) return false;
  v.digest.reset();
  if (r.remaining() >= 12) {
    TxnDigest d;
    if (decode(r, d)) v.digest = d;
  }
  return r.ok();
}

}  // namespace corral::sdk

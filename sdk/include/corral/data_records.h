// Jute encoding of ZooKeeper's data records (org.apache.zookeeper.data: Id, ACL, Stat,
// StatPersisted, ClientInfo) plus the conventions every record header in Corral follows:
//
//   void encode(JuteWriter& w, const T& record);   // appends the record's fields
//   bool decode(JuteReader& r, T& record);         // reads them; false (reader failed) on error
//
// One overload pair per record, all in corral::sdk, so generic code (vectors, multi, txn bodies)
// and encodeToString/decodeFrom work for every record. decode never throws and leaves the
// record partially filled on failure: check the result (or r.ok()) before using it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "corral/jute.h"
#include "corral/types.h"

namespace corral::sdk {

// org.apache.zookeeper.data.ClientInfo (one whoAmI entry).
struct ClientInfo {
  std::string auth_scheme;
  std::string user;
  friend bool operator==(const ClientInfo&, const ClientInfo&) = default;
};

// Smallest encodings, used to bound vector counts before allocating.
inline constexpr size_t kMinAclBytes = 4 + 4 + 4;         // perms + two empty strings
inline constexpr size_t kMinClientInfoBytes = 4 + 4;

inline void encode(JuteWriter& w, const Id& v) {
  w.writeString(v.scheme);
  w.writeString(v.id);
}
inline bool decode(JuteReader& r, Id& v) {
  v.scheme = r.readString();
  v.id = r.readString();
  return r.ok();
}

inline void encode(JuteWriter& w, const Acl& v) {
  w.writeInt(v.perms);
  encode(w, v.id);
}
inline bool decode(JuteReader& r, Acl& v) {
  v.perms = r.readInt();
  return decode(r, v.id);
}

// vector<ACL>. A null (-1) list decodes as empty; records that must tell null from empty carry
// their own flag (see CreateRequest::acl_null).
inline void encode(JuteWriter& w, const AclList& v) {
  w.writeVector(v, [](JuteWriter& jw, const Acl& acl) { encode(jw, acl); });
}
inline bool decode(JuteReader& r, AclList& v, bool* is_null = nullptr) {
  return r.readVector(v, [](JuteReader& jr, Acl& acl) { decode(jr, acl); }, kMinAclBytes, is_null);
}

inline void encode(JuteWriter& w, const Stat& v) {
  w.writeLong(v.czxid);
  w.writeLong(v.mzxid);
  w.writeLong(v.ctime);
  w.writeLong(v.mtime);
  w.writeInt(v.version);
  w.writeInt(v.cversion);
  w.writeInt(v.aversion);
  w.writeLong(v.ephemeral_owner);
  w.writeInt(v.data_length);
  w.writeInt(v.num_children);
  w.writeLong(v.pzxid);
}
inline bool decode(JuteReader& r, Stat& v) {
  v.czxid = r.readLong();
  v.mzxid = r.readLong();
  v.ctime = r.readLong();
  v.mtime = r.readLong();
  v.version = r.readInt();
  v.cversion = r.readInt();
  v.aversion = r.readInt();
  v.ephemeral_owner = r.readLong();
  v.data_length = r.readInt();
  v.num_children = r.readInt();
  v.pzxid = r.readLong();
  return r.ok();
}

inline void encode(JuteWriter& w, const StatPersisted& v) {
  w.writeLong(v.czxid);
  w.writeLong(v.mzxid);
  w.writeLong(v.ctime);
  w.writeLong(v.mtime);
  w.writeInt(v.version);
  w.writeInt(v.cversion);
  w.writeInt(v.aversion);
  w.writeLong(v.ephemeral_owner);
  w.writeLong(v.pzxid);
}
inline bool decode(JuteReader& r, StatPersisted& v) {
  v.czxid = r.readLong();
  v.mzxid = r.readLong();
  v.ctime = r.readLong();
  v.mtime = r.readLong();
  v.version = r.readInt();
  v.cversion = r.readInt();
  v.aversion = r.readInt();
  v.ephemeral_owner = r.readLong();
  v.pzxid = r.readLong();
  return r.ok();
}

inline void encode(JuteWriter& w, const ClientInfo& v) {
  w.writeString(v.auth_scheme);
  w.writeString(v.user);
}
inline bool decode(JuteReader& r, ClientInfo& v) {
  v.auth_scheme = r.readString();
  v.user = r.readString();
  return r.ok();
}

// The whole record as a fresh byte string (no frame length).
template <typename T>
std::string encodeToString(const T& record) {
  std::string out;
  JuteWriter w(out);
  encode(w, record);
  return out;
}

// Decodes one record from the start of `bytes`. Trailing bytes are ignored, as ZooKeeper does
// for requests; use a JuteReader and atEnd() where they must be rejected.
template <typename T>
bool decodeFrom(std::string_view bytes, T& record, int32_t max_length = kJuteMaxLengthDefault) {
  JuteReader r(bytes, max_length);
  return decode(r, record) && r.ok();
}

}  // namespace corral::sdk

// Core ZooKeeper value types shared by every part of Corral: ids, Stat, ACLs, create modes,
// op codes and watch constants. Numbers are ZooKeeper 3.8's, so they can go on the wire and
// to disk unchanged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace corral::sdk {

using Zxid = int64_t;       // epoch << 32 | counter
using SessionId = int64_t;  // top byte = server id
using TimeMs = int64_t;     // milliseconds since the Unix epoch

constexpr Zxid zxidOf(int64_t epoch, int64_t counter) noexcept { return (epoch << 32) | (counter & 0xffffffffLL); }
constexpr int64_t epochOf(Zxid zxid) noexcept { return zxid >> 32; }
constexpr int64_t counterOf(Zxid zxid) noexcept { return zxid & 0xffffffffLL; }

// Data as ZooKeeper keeps it: a missing buffer (jute length -1) differs from an empty one.
using Bytes = std::string;
using OptionalBytes = std::optional<std::string>;

// org.apache.zookeeper.data.Stat, field order as on the wire (68 bytes).
struct Stat {
  Zxid czxid = 0;
  Zxid mzxid = 0;
  TimeMs ctime = 0;
  TimeMs mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  int64_t ephemeral_owner = 0;
  int32_t data_length = 0;
  int32_t num_children = 0;
  Zxid pzxid = 0;
  friend bool operator==(const Stat&, const Stat&) = default;
};

// org.apache.zookeeper.data.StatPersisted: what snapshots store (no dataLength/numChildren;
// cversion is the stored create counter, ephemeralOwner the raw owner incl. container/TTL).
struct StatPersisted {
  Zxid czxid = 0;
  Zxid mzxid = 0;
  TimeMs ctime = 0;
  TimeMs mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  int64_t ephemeral_owner = 0;
  Zxid pzxid = 0;
  friend bool operator==(const StatPersisted&, const StatPersisted&) = default;
};

struct Id {
  std::string scheme;
  std::string id;
  friend bool operator==(const Id&, const Id&) = default;
};

namespace perms {
constexpr int32_t kRead = 1;
constexpr int32_t kWrite = 2;
constexpr int32_t kCreate = 4;
constexpr int32_t kDelete = 8;
constexpr int32_t kAdmin = 16;
constexpr int32_t kAll = 31;
}  // namespace perms

struct Acl {
  int32_t perms = 0;
  Id id;
  friend bool operator==(const Acl&, const Acl&) = default;
};
using AclList = std::vector<Acl>;

inline AclList openAclUnsafe() { return {Acl{perms::kAll, Id{"world", "anyone"}}}; }
inline AclList readAclUnsafe() { return {Acl{perms::kRead, Id{"world", "anyone"}}}; }
inline AclList creatorAllAcl() { return {Acl{perms::kAll, Id{"auth", ""}}}; }

// CreateMode flag values as sent in CreateRequest.flags.
enum class CreateMode : int32_t {
  kPersistent = 0,
  kEphemeral = 1,
  kPersistentSequential = 2,
  kEphemeralSequential = 3,
  kContainer = 4,
  kPersistentWithTtl = 5,
  kPersistentSequentialWithTtl = 6,
};

constexpr bool isValidCreateFlags(int32_t flags) noexcept { return flags >= 0 && flags <= 6; }
constexpr bool isEphemeral(CreateMode mode) noexcept {
  return mode == CreateMode::kEphemeral || mode == CreateMode::kEphemeralSequential;
}
constexpr bool isSequential(CreateMode mode) noexcept {
  return mode == CreateMode::kPersistentSequential || mode == CreateMode::kEphemeralSequential ||
         mode == CreateMode::kPersistentSequentialWithTtl;
}
constexpr bool isTtl(CreateMode mode) noexcept {
  return mode == CreateMode::kPersistentWithTtl || mode == CreateMode::kPersistentSequentialWithTtl;
}

// The stored ephemeralOwner encodes container and TTL nodes (ZooKeeper's EphemeralType).
namespace owner {
constexpr int64_t kContainer = INT64_MIN;                     // 0x8000000000000000
constexpr int64_t kTtlMask = static_cast<int64_t>(0xFF00000000000000ULL);
constexpr int64_t kMaxTtl = 0xFFFFFFFFFFLL;                   // 2^40 - 1 ms
constexpr bool isContainer(int64_t owner) noexcept { return owner == kContainer; }
constexpr bool isTtl(int64_t owner) noexcept {
  return owner != kContainer && (owner & kTtlMask) == kTtlMask;
}
constexpr int64_t ttlOwner(int64_t ttl_ms) noexcept { return kTtlMask | (ttl_ms & kMaxTtl); }
constexpr int64_t ttlOf(int64_t owner) noexcept { return owner & kMaxTtl; }
// The ephemeralOwner a client sees in Stat: only real session owners are exposed.
constexpr int64_t exposed(int64_t owner) noexcept {
  return (isContainer(owner) || isTtl(owner)) ? 0 : owner;
}
}  // namespace owner

// ZooDefs.OpCode.
enum class OpCode : int32_t {
  kNotification = 0,
  kCreate = 1,
  kDelete = 2,
  kExists = 3,
  kGetData = 4,
  kSetData = 5,
  kGetAcl = 6,
  kSetAcl = 7,
  kGetChildren = 8,
  kSync = 9,
  kPing = 11,
  kGetChildren2 = 12,
  kCheck = 13,
  kMulti = 14,
  kCreate2 = 15,
  kReconfig = 16,
  kCheckWatches = 17,
  kRemoveWatches = 18,
  kCreateContainer = 19,
  kDeleteContainer = 20,
  kCreateTtl = 21,
  kMultiRead = 22,
  kAuth = 100,
  kSetWatches = 101,
  kSasl = 102,
  kGetEphemerals = 103,
  kGetAllChildrenNumber = 104,
  kSetWatches2 = 105,
  kAddWatch = 106,
  kWhoAmI = 107,
  kCreateSession = -10,
  kCloseSession = -11,
  kError = -1,
};

// Watcher.Event.EventType.
enum class EventType : int32_t {
  kNone = -1,
  kNodeCreated = 1,
  kNodeDeleted = 2,
  kNodeDataChanged = 3,
  kNodeChildrenChanged = 4,
  kDataWatchRemoved = 5,
  kChildWatchRemoved = 6,
  kPersistentWatchRemoved = 7,
};

// Watcher.Event.KeeperState.
enum class KeeperState : int32_t {
  kDisconnected = 0,
  kSyncConnected = 3,
  kAuthFailed = 4,
  kConnectedReadOnly = 5,
  kSaslAuthenticated = 6,
  kExpired = -112,
  kClosed = 7,
};

// Watcher.WatcherType (checkWatches / removeWatches).
enum class WatcherType : int32_t { kChildren = 1, kData = 2, kAny = 3 };

// AddWatchMode.
enum class AddWatchMode : int32_t { kPersistent = 0, kPersistentRecursive = 1 };

// Special xids of the client protocol.
namespace xids {
constexpr int32_t kNotification = -1;
constexpr int32_t kPing = -2;
constexpr int32_t kAuth = -4;
constexpr int32_t kSetWatches = -8;
}  // namespace xids

}  // namespace corral::sdk

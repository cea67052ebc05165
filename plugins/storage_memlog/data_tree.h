// DataTree: the in-memory ZooKeeper znode tree of the memlog storage plugin.
//
// Semantics are ZooKeeper 3.8's DataTree (client-protocol.md §7/§11/§12, disk-formats.md §5-§6):
// stored vs exposed cversion, parentCVersion handling on create (raised only if larger, -1 =
// "parent's + 1"), deletes that raise only the parent's pzxid, ReferenceCountedACLCache keys,
// ephemeral/container/TTL indexes, approximate data size, and the 3.8 tree digest.
// The tree applies what it is told: permission checks, version checks, NotEmpty and
// NoChildrenForEphemerals are decided by the caller's prepare stage (ZooKeeper's DataTree does
// not check them either, so replaying a log behaves the same).
//
// THREAD-SAFETY CONTRACT: the tree locks itself. Every public method is safe to call from any
// thread: mutators take an exclusive lock, readers a shared lock, each for the duration of that
// one call only. Intended use is one apply thread writing and many threads reading. A sequence
// of calls is not atomic; callers that need a consistent multi-step view must order their
// calls with the apply thread themselves. Callbacks (visitSnapshot) run while the shared lock
// is held and must not call back into the tree. Returned values are copies (or shared_ptr to
// immutable ACL lists), never references into the tree.
//
// MEMORY LAYOUT (why it is small): each znode is ONE malloc block: an 80-byte header (the
// StatPersisted fields, a 32-bit ACL-cache slot, a child-table pointer, path and data lengths)
// followed by the full path and the data bytes. There is no global path->node map: a node's
// children live in a per-parent open-addressing table of 8-byte slots (pointer + 16-bit hash
// tag), and lookups walk the path segment by segment. Leaves have no child table at all.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "acl_cache.h"
#include "corral/formats/digest.h"
#include "corral/status.h"
#include "corral/types.h"

namespace corral::plugins::memlog {

namespace detail {
struct ZNode;  // defined in data_tree.cc
}  // namespace detail

// Everything the prepare stage usually needs about one node, read under one lock.
struct NodeInfo {
  sdk::Stat stat;                            // as a client sees it
  sdk::StatPersisted persisted;              // stored form: create-count cversion, raw owner
  std::shared_ptr<const sdk::AclList> acl;   // immutable, shared with the ACL cache
  int64_t acl_key = 0;                       // ZooKeeper aclKey (-1 = built-in open ACL)
};

struct DataView {
  sdk::OptionalBytes data;  // nullopt = null data (jute length -1), distinct from ""
  sdk::Stat stat;
};

struct ChildrenView {
  std::vector<std::string> names;  // child names (not paths), in no particular order
  sdk::Stat stat;
};

struct AclView {
  std::shared_ptr<const sdk::AclList> acl;
  sdk::Stat stat;
};

// A node as a snapshot writes it. Views point into the tree and are valid only inside the
// visitSnapshot callback.
struct NodeRecord {
  std::string_view path;                  // the root is "" (as in ZooKeeper snapshots)
  std::optional<std::string_view> data;   // nullopt = null data
  int64_t acl_key = 0;
  sdk::StatPersisted stat;
};

// A container or TTL node as the reaper (ContainerManager) needs it.
struct ReapInfo {
  std::string path;
  int64_t ephemeral_owner = 0;   // raw: owner::kContainer or owner::ttlOwner(ttl)
  int32_t stored_cversion = 0;   // > 0 means "has ever had a child"
  int32_t num_children = 0;
  sdk::TimeMs ctime = 0;
  sdk::TimeMs mtime = 0;
};

using formats::znodeDigest;

// The ACL a loaded node gets when its aclKey is missing from the snapshot's ACL map (a fuzzy
// snapshot): no permission for anyone but super, until the replayed txn sets the real one. (An
// empty list would mean "open to all" to the ACL check, as in ZooKeeper.)
inline const sdk::AclList& unknownAclPlaceholder() {
  static const sdk::AclList acl{{0, {"world", "anyone"}}};
  return acl;
}  // the digest of one znode (formats/digest.h)

class DataTree {
 public:
  // Who adds up the digest of a snapshot being loaded: loadNode itself, or the caller (a second
  // thread summing znodeDigest over the snapshot's records while this one builds the tree).
  enum class DigestSource { kComputeWhileLoading, kSuppliedByCaller };

  // A fresh tree: "/", "/zookeeper", "/zookeeper/quota" (empty data, open ACL via key -1,
  // all-zero Stat) and "/zookeeper/config" (empty data, READ_ACL_UNSAFE as ACL key 1,
  // aversion -1), exactly as a fresh 3.8 server shows them.
  DataTree();
  ~DataTree();
  // Back to the fresh tree, in place (readers on other threads keep a valid object). Not while
  // a walk exists.
  void reset();
  DataTree(const DataTree&) = delete;
  DataTree& operator=(const DataTree&) = delete;

  // ---- mutations (the apply thread) -------------------------------------------------------

  // DataTree.createNode. `ephemeral_owner` is the raw stored owner (session id,
  // owner::kContainer, owner::ttlOwner(ttl) or 0). `parent_cversion` is the parent's new stored
  // cversion carried by the txn (-1 = parent's current + 1, for legacy txns); the parent's
  // cversion and pzxid change only if it is larger than the current one (ZooKeeper's replay
  // rule). Errors: kNoNode (parent missing), kNodeExists, kBadArguments (not an absolute path
  // or empty last segment). `out_stat`, if given, receives the new node's Stat.
  sdk::Status createNode(std::string_view path, std::optional<std::string_view> data,
                         const sdk::AclList& acl, int64_t ephemeral_owner, int32_t parent_cversion,
                         sdk::Zxid zxid, sdk::TimeMs time, sdk::Stat* out_stat = nullptr);

  // DataTree.deleteNode: parent's pzxid := zxid only if larger (cversion unchanged); node leaves
  // the ephemeral/container/TTL indexes and releases its ACL. Like ZooKeeper, the parent's pzxid
  // is raised even when the child is missing (then kNoNode). kNotEmpty if the node still has
  // children (ZooKeeper would orphan them; the prepare stage never lets that happen);
  // kBadArguments for the root.
  sdk::Status deleteNode(std::string_view path, sdk::Zxid zxid);

  // DataTree.setData: data, mzxid, mtime, version := new_version (the txn's value, i.e. old+1,
  // or -1 for /zookeeper/config in quorum mode). Returns the new Stat.
  sdk::Result<sdk::Stat> setData(std::string_view path, std::optional<std::string_view> data,
                                 int32_t new_version, sdk::Zxid zxid, sdk::TimeMs time);

  // DataTree.setACL: ACL and aversion := new_aversion only. Returns the new Stat.
  sdk::Result<sdk::Stat> setAcl(std::string_view path, const sdk::AclList& acl,
                                int32_t new_aversion);

  // DataTree.setCversionPzxid: used on replay when a create hits NodeExists. -1 = current + 1;
  // applied only if larger than the current stored cversion.
  sdk::Status setCversionPzxid(std::string_view path, int32_t new_cversion, sdk::Zxid zxid);

  // ---- reads (any thread) -----------------------------------------------------------------
  // Reads take paths verbatim (no validation, like ZooKeeper): "" and "/" are the root, any
  // other string that is not exactly a stored path is kNoNode.

  sdk::Result<sdk::Stat> exists(std::string_view path) const;
  sdk::Result<NodeInfo> getNode(std::string_view path) const;
  sdk::Result<DataView> getData(std::string_view path) const;
  sdk::Result<ChildrenView> getChildren(std::string_view path) const;
  sdk::Result<AclView> getAcl(std::string_view path) const;
  // FinalRequestProcessor + DataTree.getAllChildrenNumber: all descendants; "/" counts every
  // node but the root (3 on a fresh tree) and "" one more (4; ZooKeeper's alias quirk).
  sdk::Result<int32_t> getAllChildrenNumber(std::string_view path) const;
  sdk::Result<sdk::StatPersisted> persistedStat(std::string_view path) const;
  // The parent's stored cversion = the next sequential suffix under it.
  sdk::Result<int32_t> storedCVersion(std::string_view path) const;

  // Distinct nodes including the root (4 on a fresh tree). mntr's zk_znode_count is this + 1,
  // because ZooKeeper's map holds the root twice ("" and "/").
  size_t nodeCount() const;
  // ZooKeeper's nodeDataSize (mntr zk_approximate_data_size): sum over nodes of the path length
  // in UTF-16 units (the root counts as "/" = 1) plus the data length. 44 on a fresh tree.
  int64_t approximateDataSize() const;

  // ---- indexes ----------------------------------------------------------------------------

  std::vector<std::string> ephemerals(sdk::SessionId session) const;
  std::vector<sdk::SessionId> ephemeralSessions() const;
  // Every session's ephemeral paths (the `dump` command).
  std::vector<std::pair<sdk::SessionId, std::vector<std::string>>> allEphemerals() const;
  size_t ephemeralsCount() const;  // mntr zk_ephemerals_count
  std::vector<ReapInfo> containers() const;
  std::vector<ReapInfo> ttlNodes() const;
  // ContainerManager.getCandidates: empty containers with stored cversion > 0 (or never used for
  // >= max_never_used_ms when that is non-zero), and empty TTL nodes whose ttl elapsed since
  // mtime (now - mtime > ttl). Paths in no particular order.
  std::vector<std::string> reapCandidates(sdk::TimeMs now, int64_t max_never_used_ms) const;

  // ---- tree digest (zookeeper.digest.enabled; DigestCalculator v2) ------------------------
  // Maintained incrementally while enabled (default: enabled, as in ZooKeeper 3.8). Enabling
  // recomputes it over the whole tree.
  void setDigestEnabled(bool enabled);
  bool digestEnabled() const;
  int64_t digest() const;  // 0 while disabled

  // ---- snapshots --------------------------------------------------------------------------

  // Under ONE shared lock (a consistent image, for tests and tools; snapshots use Walk): `on_acl` for every
  // ACL cache entry in ascending key order, then `on_node` for every node in pre-order (parent
  // before children, root first as ""). Writers wait while this runs, so keep callbacks cheap
  // (e.g. append to a buffer).
  void visitSnapshot(const std::function<void(int64_t key, const sdk::AclList& acl)>& on_acl,
                     const std::function<void(const NodeRecord& node)>& on_node) const;
  // A fuzzy pre-order walk of the live tree, as ZooKeeper's serializeNode: the tree's lock is
  // held only while step() visits a batch of nodes, so writers go on between batches. Each node
  // is read whole under the lock and after its parent; a node that exists from beginWalk() to the
  // walk's end is visited exactly once; nodes created or deleted meanwhile may or may not be.
  // Memory: the child tables of the nodes on the current path (8 bytes per slot), never a copy
  // of the tree; blocks freed meanwhile are kept until the walk ends (its names are read from
  // them). The tree must not be cleared or loaded while a walk exists.
  class Walk {
   public:
    ~Walk();  // ends the walk: frees the blocks kept meanwhile
    Walk(const Walk&) = delete;
    Walk& operator=(const Walk&) = delete;
    // Visits up to `max_nodes` more nodes, or about `max_bytes` of paths and data, under one
    // shared lock; `on_node` must not call into the tree. False once every node was visited.
    bool step(size_t max_nodes, size_t max_bytes, const std::function<void(const NodeRecord&)>& on_node);
    int64_t visited() const { return visited_; }

   private:
    friend class DataTree;
    struct Frame {
      std::string path;             // the node whose children these are
      std::vector<uint64_t> slots;  // its child table (all slots) when it was reached
      size_t next = 0;
      uint32_t name_offset = 0;
    };
    explicit Walk(const DataTree& tree);
    void pushChildrenOf(const detail::ZNode* node);
    void emit(const detail::ZNode* node, const std::function<void(const NodeRecord&)>& on_node);
    const DataTree& tree_;
    std::vector<Frame> stack_;
    bool started_ = false;
    int64_t visited_ = 0;
  };
  // Starts a walk; `on_acl` gets every ACL cache entry (ascending key) under the same lock.
  std::unique_ptr<Walk> beginWalk(const std::function<void(int64_t key, const sdk::AclList& acl)>& on_acl) const;

  // The ACL cache entries alone, ascending by key.
  std::vector<std::pair<int64_t, std::shared_ptr<const sdk::AclList>>> aclEntries() const;
  // Usage count of an ACL key (tests and diagnostics).
  int64_t aclRefCount(int64_t acl_key) const;

  // Loading a snapshot: clearForLoad() (no nodes, empty ACL cache), loadAcl() per ACL map entry,
  // loadNode() per node in file order (the root "" first, every parent before its children;
  // indexes are rebuilt as nodes arrive), then finishLoad() (drops unreferenced ACLs). Count and
  // size are kept as nodes arrive, the digest too unless the caller supplies it to finishLoad
  // (kSuppliedByCaller: then finishLoad without it is kInternal). Nothing else may use the tree
  // between clearForLoad and finishLoad.
  void clearForLoad(DigestSource digest_source = DigestSource::kComputeWhileLoading);
  sdk::Status loadAcl(int64_t key, sdk::AclList acl);
  sdk::Status loadNode(std::string_view path, std::optional<std::string_view> data, int64_t acl_key,
                       const sdk::StatPersisted& stat);
  sdk::Status finishLoad(std::optional<uint64_t> supplied_digest = {});
  // Nodes of the last load whose aclKey was not in the snapshot's ACL map (fuzzy snapshots).
  int64_t unknownAclKeys() const { return unknown_acl_keys_; }

 private:
  using Node = detail::ZNode;

  Node* findLocked(std::string_view path) const;
  sdk::Stat statOf(const Node* node) const;
  sdk::StatPersisted persistedOf(const Node* node) const;
  Node* relocate(Node* node, Node* parent, uint32_t new_data_len);
  void indexAdd(Node* node);
  void indexRemove(Node* node);
  void indexReplace(Node* old_node, Node* new_node);
  uint64_t nodeDigest(const Node* node) const;
  void digestSub(const Node* node);
  void digestAdd(const Node* node);
  void recomputeDerived();
  Node* findLoadParent(std::string_view parent_path);
  void destroyAll();  // frees every node; empties the indexes, ACL cache and counters
  void buildFresh();  // the built-in nodes of a fresh tree (lock held or under construction)
  void freeNode(Node* node);  // now, or when the last walk ends
  ReapInfo reapInfoOf(const Node* node) const;

  mutable std::shared_mutex mutex_;
  Node* root_ = nullptr;
  AclCache acl_cache_;
  size_t node_count_ = 0;
  int64_t approximate_data_size_ = 0;
  bool digest_enabled_ = true;
  uint64_t digest_ = 0;
  std::unordered_map<sdk::SessionId, std::unordered_set<Node*>> ephemerals_;
  std::unordered_set<Node*> containers_;
  std::unordered_set<Node*> ttls_;
  // While a snapshot loads: the chain from the root to the node loaded last (parent lookups).
  std::vector<Node*> load_ancestors_;
  DigestSource load_digest_source_ = DigestSource::kComputeWhileLoading;
  // Fuzzy walks in progress and the node blocks freed while they run (under mutex_).
  mutable int walks_ = 0;
  int64_t unknown_acl_keys_ = 0;
  mutable std::vector<Node*> graveyard_;
};

}  // namespace corral::plugins::memlog

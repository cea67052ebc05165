// Storage extension point: owns the data tree and its durability.
//
// Threading and lifetime
// - apply() is called from ONE thread at a time (the kernel's apply strand), in strictly
//   increasing zxid order, each committed txn exactly once.
// - read(), countDescendants(), ephemeralsOf() and stats() may be called from any thread,
//   concurrently with each other and with apply(); the storage synchronises internally and
//   a read sees either all or none of an applied txn (a multi is atomic for readers too).
// - append(), lastLoggedZxid(), readLog(), truncateLog(), writeSnapshot() and loadSnapshot()
//   are called from the consensus component; `done` callbacks may run on any thread, in
//   append order, and must not block. writeSnapshot() and readLog() run while apply() goes on;
//   truncateLog() and loadSnapshot() replace the state and are never concurrent with apply().
// - The object is created by the factory, started first and stopped last; it lives until
//   every other component is gone.
// - No method throws; failures come back as Status with ZooKeeper's codes where a client
//   would see them.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corral/plugin.h"
#include "corral/status.h"
#include "corral/txn_records.h"
#include "corral/types.h"

namespace corral::sdk {

// What read() copies out; `fields` selects the expensive parts.
struct NodeRead {
  enum Field : uint32_t { kStat = 1, kData = 2, kAcl = 4, kChildren = 8 };
  Stat stat;                           // as a client sees it (exposed cversion and owner)
  int32_t stored_cversion = 0;         // the create counter behind sequential suffixes
  int64_t raw_owner = 0;               // ephemeral session, container or TTL marker
  OptionalBytes data;                  // kData
  AclList acl;                         // kAcl
  std::vector<std::string> children;   // kChildren: names, not paths; any order
};

struct TreeStats {
  int64_t node_count = 0;
  int64_t ephemeral_count = 0;
  int64_t approximate_data_size = 0;  // bytes of paths + data, like ZooKeeper's mntr figure
  Zxid last_applied_zxid = 0;
  Zxid last_snapshot_zxid = 0;      // of the newest snapshot on disk (0 when none)
  TimeMs last_snapshot_time_ms = 0;  // when it was written
};

// Nodes the kernel's reaper looks at: containers (removed once empty after having had a
// child) and TTL nodes (removed once childless and unmodified for their TTL).
struct ReapCandidate {
  std::string path;
  int64_t raw_owner = 0;
  int32_t stored_cversion = 0;
  int32_t num_children = 0;
  TimeMs mtime = 0;
};

// The result of one applied op: its code and, for node-changing ops, the node's Stat right
// after the op (what create2/setData/setACL replies carry) and its final path.
struct OpOutcome {
  OpCode type = OpCode::kError;
  Code err = Code::kOk;
  std::string path;
  Stat stat;
};

// How apply() treats a txn whose effects the state may already hold.
enum class ApplyMode : uint8_t {
  // Normal operation: a txn that does not apply as logged (a create meeting an existing
  // node, a delete or set of a missing one) means the state diverged; apply() reports it.
  kLive,
  // After a fuzzy snapshot (recovery, a learner's SNAP): as ZooKeeper's replay, NoNode and
  // NodeExists are expected and not errors; a create meeting its node still advances the
  // parent's cversion and pzxid.
  kReplay,
};

// Snapshot streams carry ZooKeeper's snapshot body (disk-formats.md §6 without FileHeader,
// seals or digest; the SNAP payload of quorum-protocol.md §7.3): sessions, ACL map, nodes in
// pre-order from the root "" and the "/" end marker.
// Takes the next bytes of an outgoing stream; an error stops the stream.
using SnapshotSink = std::function<Status(std::string_view bytes)>;
// Fills `dst` with exactly `n` more bytes of an incoming stream, or fails.
using SnapshotSource = std::function<Status(char* dst, size_t n)>;

// A session that recovery found (from snapshot and log), with its negotiated timeout.
struct RecoveredSession {
  SessionId id = 0;
  int32_t timeout_ms = 0;
};

class BOOST_SYMBOL_VISIBLE Storage : public Plugin {
 public:
  // ---- reads (any thread) ----
  // kOk, kNoNode when the path does not exist, or another code when the storage could not
  // read (kIoError, kCorruptData: never reported to a client as a missing node).
  virtual Code read(std::string_view path, uint32_t fields, NodeRead& out) const noexcept = 0;
  // Number of descendants (not counting the node); -1 when it does not exist.
  virtual int64_t countDescendants(std::string_view path) const noexcept = 0;
  virtual std::vector<std::string> ephemeralsOf(SessionId session) const = 0;
  virtual std::vector<ReapCandidate> reapCandidates() const = 0;
  virtual TreeStats stats() const noexcept = 0;

  // ---- apply (the apply strand only) ----
  // Applies one committed txn and reports each op's result (one entry; a multi has one per
  // sub-op, all errors when the multi failed: 0 before the failing op, its code, then -2).
  // kLive: a txn that cannot apply as logged (e.g. its parent vanished) is a diverged state:
  // the storage returns the error and the kernel stops the server. kReplay: see ApplyMode.
  virtual Status apply(const TxnEntry& txn, ApplyMode mode, std::vector<OpOutcome>& outcomes) noexcept = 0;

  // ---- durability (the consensus component) ----
  // Makes `txns` durable in order; `done` runs once, after all of them are on disk (or
  // failed). Storage may batch several appends into one sync (group commit).
  virtual void append(std::span<const TxnEntry> txns, std::function<void(Status)> done) noexcept = 0;
  // Recovers state at start: called once before start() returns; reports sessions found.
  virtual Status recover(std::vector<RecoveredSession>& sessions) noexcept = 0;
  // The sessions the state holds now, with their timeouts: after recover(), and after
  // truncateLog() or loadSnapshot() replaced the state (the kernel reloads its session list).
  virtual std::vector<RecoveredSession> sessions() const = 0;

  // ---- replication (ZooKeeper's DIFF, TRUNC and SNAP) ----
  // The zxid of the newest txn whose append completed (0 when none was ever logged): what a
  // learner reports to its leader.
  virtual Zxid lastLoggedZxid() const noexcept = 0;
  // Calls `visit` with every logged txn after `after_zxid`, in zxid order, up to
  // lastLoggedZxid() as it was when the call began; `visit` returning false stops early (ok).
  // kNotFound when the log no longer holds (purged) or never held the txn right after
  // `after_zxid`: the caller sends a snapshot instead. Safe while apply() and append() go on.
  virtual Status readLog(Zxid after_zxid, const std::function<bool(const TxnEntry&)>& visit) noexcept = 0;
  // Drops every logged txn after `zxid` and returns the state to exactly `zxid` (ZooKeeper's
  // TRUNC: truncate the log, reload). Durable before it returns; the next txn appended and
  // applied follows `zxid`. kNotFound when no retained snapshot and log reach back to `zxid`.
  virtual Status truncateLog(Zxid zxid) noexcept = 0;
  // Streams the state to `sink` while apply() goes on, fuzzy like ZooKeeper's snapshots: never
  // a whole-tree copy. Returns the zxid the stream stands for: every txn up to it is in the
  // stream, later ones may be in part, so applying every txn after it with kReplay gives the
  // state at the end. The sink's error ends the stream and is returned.
  virtual Result<Zxid> writeSnapshot(const SnapshotSink& sink) noexcept = 0;
  // Replaces the whole state (tree, sessions, log) with the snapshot body read from `source`
  // (exactly its bytes, nothing after them), standing for `zxid`, and makes it durable before
  // it returns: a restart recovers it. Txns after `zxid` are then applied with kReplay. A stream
  // that does not decode is kCorruptData and leaves the state empty (the caller must get a
  // snapshot again before serving).
  virtual Status loadSnapshot(Zxid zxid, const SnapshotSource& source) noexcept = 0;

  // ---- health (any thread; cheap: called for every client write) ----
  // kOk, or why writes cannot be made durable now (a full disk). Meanwhile the kernel answers
  // clients' writes with NotReadOnly instead of sequencing them (reads go on), and txns already
  // appended wait in the storage until they can be written, instead of failing the server.
  virtual Status writable() const noexcept { return Status::ok(); }

  // ---- the quorum config (the apply strand only) ----
  // Sets /zookeeper/config's data outside any txn, as ZooKeeper's initConfigInZKDatabase
  // does in an ensemble: version -1, mzxid `version` (the config's), mtime now; no watch
  // fires and the last applied zxid does not move.
  virtual Status setConfigNode(std::string_view text, Zxid version) noexcept {
    (void)text;
    (void)version;
    return Status(Code::kUnimplemented, "this storage keeps no quorum config");
  }
};

}  // namespace corral::sdk

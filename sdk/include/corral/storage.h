// Storage extension point: owns the data tree and its durability.
//
// Threading and lifetime
// - apply() is called from ONE thread at a time (the kernel's apply strand), in strictly
//   increasing zxid order, each committed txn exactly once.
// - read(), countDescendants(), ephemeralsOf() and stats() may be called from any thread,
//   concurrently with each other and with apply(); the storage synchronises internally and
//   a read sees either all or none of an applied txn (a multi is atomic for readers too).
// - append()/sync() are called from the consensus component; `done` callbacks may run on
//   any thread, in append order, and must not block.
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

// A session that recovery found (from snapshot and log), with its negotiated timeout.
struct RecoveredSession {
  SessionId id = 0;
  int32_t timeout_ms = 0;
};

class BOOST_SYMBOL_VISIBLE Storage : public Plugin {
 public:
  // ---- reads (any thread) ----
  // False when the path does not exist.
  virtual bool read(std::string_view path, uint32_t fields, NodeRead& out) const noexcept = 0;
  // Number of descendants (not counting the node); -1 when it does not exist.
  virtual int64_t countDescendants(std::string_view path) const noexcept = 0;
  virtual std::vector<std::string> ephemeralsOf(SessionId session) const = 0;
  virtual std::vector<ReapCandidate> reapCandidates() const = 0;
  virtual TreeStats stats() const noexcept = 0;

  // ---- apply (the apply strand only) ----
  // Applies one committed txn and reports each op's result (one entry; a multi has one per
  // sub-op, all errors when the multi failed: 0 before the failing op, its code, then -2).
  // A txn that cannot apply as logged (e.g. its parent vanished) is a diverged state: the
  // storage returns the error and the kernel stops the server.
  virtual Status apply(const TxnEntry& txn, std::vector<OpOutcome>& outcomes) noexcept = 0;

  // ---- durability (the consensus component) ----
  // Makes `txns` durable in order; `done` runs once, after all of them are on disk (or
  // failed). Storage may batch several appends into one sync (group commit).
  virtual void append(std::span<const TxnEntry> txns, std::function<void(Status)> done) noexcept = 0;
  // Recovers state at start: called once before start() returns; reports sessions found.
  virtual Status recover(std::vector<RecoveredSession>& sessions) noexcept = 0;
};

}  // namespace corral::sdk

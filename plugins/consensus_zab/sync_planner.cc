#include "sync_planner.h"

#include <algorithm>

#include "corral/data_records.h"
#include "learner_handler.h"
#include "learner_master.h"
#include "zab_peer.h"

namespace corral::plugins::zab {

namespace {

// Larger DIFFs than this are sent as a snapshot instead.
constexpr size_t kMaxDiffBytes = 64u << 20;

// The committed txns after `after` up to `committed`, from the window when it holds `after`
// itself (or starts right after it); otherwise from the log on disk up to where the window
// starts, then the window. False when they cannot all be had, or are too large for a DIFF.
bool collectCommitted(ZabPeer& peer, sdk::Zxid after, sdk::Zxid committed, std::vector<CommittedTxn>& out) {
  const auto first = peer.windowFirst();
  const bool in_window = first && (peer.windowHas(after) || *first == after + 1);
  size_t limit = kMaxDiffBytes;
  if (!in_window) {
    // As ZooKeeper: txns older than the window come from the log only while they are small
    // next to the tree (snapshotSizeFactor); a snapshot is cheaper otherwise.
    const double factor = peer.settings().snapshot_size_factor;
    if (factor < 0) return false;
    limit = std::min<size_t>(
        kMaxDiffBytes, static_cast<size_t>(factor * static_cast<double>(peer.storage().stats().approximate_data_size)));
    size_t bytes = 0;
    bool overflow = false;
    auto read = peer.storage().readLog(after, [&](const sdk::TxnEntry& txn) {
      if (txn.header.zxid > committed || (first && txn.header.zxid >= *first)) return false;
      std::string entry = sdk::encodeToString(txn);
      bytes += entry.size();
      if (bytes > limit) {
        overflow = true;
        return false;
      }
      out.push_back({txn.header.zxid, std::make_shared<const std::string>(std::move(entry))});
      return true;
    });
    if (!read.isOk() || overflow) return false;
  }
  peer.windowAfter(out.empty() ? after : out.back().zxid, out);
  if (!in_window) {
    size_t bytes = 0;
    for (const auto& txn : out) bytes += txn.entry->size();
    if (bytes > limit) return false;
  }
  // Contiguous up to what we committed: no txn of ours may be missing.
  sdk::Zxid previous = after;
  for (const auto& txn : out) {
    if (txn.zxid <= previous) return false;
    if (sdk::epochOf(txn.zxid) == sdk::epochOf(previous) && txn.zxid != previous + 1) return false;
    previous = txn.zxid;
  }
  while (!out.empty() && out.back().zxid > committed) out.pop_back();
  return (out.empty() ? after : out.back().zxid) == committed;
}

}  // namespace

SyncPlan planSync(ZabPeer& peer, sdk::Zxid learner_last, sdk::Zxid committed) {
  SyncPlan plan;
  plan.zxid = committed;
  if (peer.settings().force_snapshot_sync) {
    plan.kind = PacketType::kSnap;
  } else if (learner_last == committed) {
    plan.kind = PacketType::kDiff;
  } else if (learner_last > committed && sdk::counterOf(learner_last) != 0) {
    plan.kind = PacketType::kTrunc;
  } else if (learner_last < committed && collectCommitted(peer, learner_last, committed, plan.txns)) {
    plan.kind = PacketType::kDiff;
  } else {
    plan.kind = PacketType::kSnap;
    plan.txns.clear();
  }
  return plan;
}

void queueSync(LearnerHandler& handler, const SyncPlan& plan, sdk::Zxid learner_last, const char* role) {
  auto& log = handler.master().peer().log();
  switch (plan.kind) {
    case PacketType::kDiff:
      handler.send(makePacket(PacketType::kDiff, plan.zxid));
      if (!plan.txns.empty()) {
        log.info("{}: DIFF {} from 0x{:x} to 0x{:x} ({} txns)", role, handler.describe(), learner_last, plan.zxid,
                 plan.txns.size());
      }
      break;
    case PacketType::kTrunc:
      handler.send(makePacket(PacketType::kTrunc, plan.zxid));
      log.info("{}: TRUNC {} to 0x{:x} (it has 0x{:x})", role, handler.describe(), plan.zxid, learner_last);
      break;
    default:
      log.info("{}: SNAP {} at 0x{:x} (it has 0x{:x})", role, handler.describe(), plan.zxid, learner_last);
      break;
  }
  // PROPOSAL + COMMIT pairs for observers too, as ZooKeeper's queueCommittedProposals sends
  // them (INFORM is for live txns).
  for (const auto& txn : plan.txns) {
    handler.send(makePacket(PacketType::kProposal, txn.zxid, *txn.entry));
    handler.send(makePacket(PacketType::kCommit, txn.zxid));
  }
}

}  // namespace corral::plugins::zab

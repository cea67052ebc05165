// consensus.zab peers in one process, over loopback, each on an in-memory storage that
// completes appends inline (before append() returns, which the SDK allows and which once
// deadlocked the leader on its own mutex): election, epoch files, broadcast in zxid order on
// every member, a re-election with a new epoch after the leader stops; and observers that
// learn through the followers' observer masters, never count, and move to another master.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "corral/data_records.h"
#include "corral/formats/txn_log.h"
#include "corral/jute.h"
#include "plugin_harness.h"
#include "zab_peer.h"

namespace corral::plugins::zab {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Log, applied state and snapshots as a list of txns: enough for replication, no tree.
class ListStorage final : public sdk::Storage {
 public:
  sdk::Code read(std::string_view, uint32_t, sdk::NodeRead&) const noexcept override { return sdk::Code::kNoNode; }
  int64_t countDescendants(std::string_view) const noexcept override { return -1; }
  std::vector<std::string> ephemeralsOf(sdk::SessionId) const override { return {}; }
  std::vector<sdk::ReapCandidate> reapCandidates() const override { return {}; }
  sdk::TreeStats stats() const noexcept override {
    std::lock_guard lock(mutex_);
    sdk::TreeStats s;
    s.last_applied_zxid = applied_.empty() ? base_ : applied_.back();
    s.approximate_data_size = static_cast<int64_t>(applied_.size()) * 100;
    return s;
  }
  sdk::Status apply(const sdk::TxnEntry& txn, sdk::ApplyMode, std::vector<sdk::OpOutcome>&) noexcept override {
    std::lock_guard lock(mutex_);
    applied_.push_back(txn.header.zxid);
    return sdk::Status::ok();
  }
  void append(std::span<const sdk::TxnEntry> txns, std::function<void(sdk::Status)> done) noexcept override {
    {
      std::lock_guard lock(mutex_);
      for (const auto& txn : txns) log_.push_back(txn);
    }
    done(sdk::Status::ok());  // inline, before append() returns
  }
  sdk::Status recover(std::vector<sdk::RecoveredSession>&) noexcept override { return sdk::Status::ok(); }
  std::vector<sdk::RecoveredSession> sessions() const override { return {}; }
  sdk::Zxid lastLoggedZxid() const noexcept override {
    std::lock_guard lock(mutex_);
    return log_.empty() ? base_ : log_.back().header.zxid;
  }
  sdk::Status readLog(sdk::Zxid after, const std::function<bool(const sdk::TxnEntry&)>& visit) noexcept override {
    std::vector<sdk::TxnEntry> copy;
    {
      std::lock_guard lock(mutex_);
      bool held = after == base_;
      for (const auto& txn : log_) {
        if (txn.header.zxid == after) held = true;
        if (txn.header.zxid > after) copy.push_back(txn);
      }
      if (!held) return sdk::Status(sdk::Code::kNotFound, "not in the log");
    }
    for (const auto& txn : copy) {
      if (!visit(txn)) break;
    }
    return sdk::Status::ok();
  }
  sdk::Status truncateLog(sdk::Zxid zxid) noexcept override {
    std::lock_guard lock(mutex_);
    std::erase_if(log_, [&](const sdk::TxnEntry& txn) { return txn.header.zxid > zxid; });
    std::erase_if(applied_, [&](sdk::Zxid z) { return z > zxid; });
    return sdk::Status::ok();
  }
  // Body: int count, then each applied zxid as a long.
  sdk::Result<sdk::Zxid> writeSnapshot(const sdk::SnapshotSink& sink) noexcept override {
    std::string body;
    sdk::Zxid at;
    {
      std::lock_guard lock(mutex_);
      sdk::JuteWriter w(body);
      w.writeInt(static_cast<int32_t>(applied_.size()));
      for (auto z : applied_) w.writeLong(z);
      at = applied_.empty() ? base_ : applied_.back();
    }
    if (auto sent = sink(body); !sent.isOk()) return sent;
    return at;
  }
  sdk::Status loadSnapshot(sdk::Zxid zxid, const sdk::SnapshotSource& source) noexcept override {
    char head[4];
    if (auto got = source(head, 4); !got.isOk()) return got;
    const int32_t count = sdk::JuteReader(std::string_view(head, 4)).readInt();
    std::string longs(static_cast<size_t>(count) * 8, '\0');
    if (auto got = source(longs.data(), longs.size()); !got.isOk()) return got;
    std::lock_guard lock(mutex_);
    applied_.clear();
    sdk::JuteReader r(longs);
    for (int32_t i = 0; i < count; ++i) applied_.push_back(r.readLong());
    log_.clear();
    base_ = zxid;
    return sdk::Status::ok();
  }

  std::vector<sdk::Zxid> applied() const {
    std::lock_guard lock(mutex_);
    return applied_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<sdk::TxnEntry> log_;
  std::vector<sdk::Zxid> applied_;
  sdk::Zxid base_ = 0;
};

// The kernel's side, reduced to what replication needs: commits applied in order.
class ApplyingKernel final : public sdk::ConsensusHost {
 public:
  explicit ApplyingKernel(ListStorage& storage) : storage_(storage) {}
  void commit(sdk::TxnEntry txn, sdk::Status status, sdk::ApplyMode mode) noexcept override {
    ASSERT_TRUE(status.isOk());
    std::vector<sdk::OpOutcome> outcomes;
    EXPECT_TRUE(storage_.apply(txn, mode, outcomes).isOk());
  }
  void roleChanged(sdk::Role role, int64_t epoch) noexcept override {
    role_ = role;
    epoch_ = epoch;
  }
  void stateReplaced() noexcept override {}
  void syncCompleted() noexcept override {}
  std::vector<sdk::SessionTouch> takeSessionTouches() noexcept override { return {}; }
  void submitForwarded(sdk::ForwardedRequest) noexcept override {}
  void afterForwarded(std::function<void()> then) noexcept override { then(); }
  void touchSessions(std::span<const sdk::SessionTouch>) noexcept override {}
  void revalidateSession(sdk::SessionId, int32_t, std::function<void(bool)> done) noexcept override { done(false); }

  std::atomic<sdk::Role> role_{sdk::Role::kLooking};
  std::atomic<int64_t> epoch_{0};

 private:
  ListStorage& storage_;
};

// A port the kernel just gave out and took back (another process could take it meanwhile;
// on a test machine that is rare enough).
int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct Member {
  testing::MinimalHost host;
  ListStorage storage;
  ApplyingKernel kernel{storage};
  std::unique_ptr<ZabPeer> peer;
};

class ZabInProcess : public ::testing::Test {
 protected:
  // The shape: voters, observers after them, and observerMasterPort (0: none). With observer
  // masters every member has its own loopback address (127.0.0.2, .3, ...), as on one machine
  // ZooKeeper needs: the port is the same at every voter's address.
  virtual int voters() const { return 3; }
  virtual int observers() const { return 0; }
  virtual int observerMasterPort() const { return 0; }

  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zab-in-process-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    const int total = voters() + observers();
    for (int64_t id = 1; id <= total; ++id) {
      sdk::EnsembleMember m;
      m.id = id;
      m.host = observerMasterPort() > 0 ? "127.0.0." + std::to_string(id + 1) : "127.0.0.1";
      m.quorum_port = freePort();
      m.election_port = freePort();
      m.type = id > voters() ? sdk::PeerType::kObserver : sdk::PeerType::kParticipant;
      ensemble_.members.push_back(m);
    }
    members_.resize(total);
    for (int i = 0; i < total; ++i) start(i);
  }
  void TearDown() override {
    for (auto& member : members_) {
      if (member && member->peer) member->peer->stop();
    }
    fs::remove_all(dir_);
  }
  void start(int i) {
    if (!members_[i]) members_[i] = std::make_unique<Member>();
    auto& member = *members_[i];
    testing::MapConfig config({{"dataDir", (dir_ / std::to_string(i + 1)).string()},
                               {"tickTime", "100"},
                               {"initLimit", "50"},
                               {"syncLimit", "20"},
                               {"observerMasterPort", std::to_string(observerMasterPort())}});
    auto settings = readZabSettings(config);
    ASSERT_TRUE(settings.isOk());
    member.peer = std::make_unique<ZabPeer>(member.host, *settings);
    sdk::Ensemble mine = ensemble_;
    mine.my_id = i + 1;
    mine.my_type = ensemble_.members[i].type;
    member.peer->attach(member.storage, member.kernel, mine);
    ASSERT_TRUE(member.peer->start().isOk());
  }
  // Index of the leader once one leader and the other running members follow.
  int waitForRoles(const std::vector<int>& running) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      int leaders = 0, followers = 0, leader = -1;
      for (int i : running) {
        const auto role = members_[i]->kernel.role_.load();
        leaders += role == sdk::Role::kLeader;
        followers += role == (i < voters() ? sdk::Role::kFollower : sdk::Role::kObserver);
        if (role == sdk::Role::kLeader) leader = i;
      }
      if (leaders == 1 && leaders + followers == static_cast<int>(running.size())) return leader;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "no leader with followers (and observers) in time";
    return -1;
  }
  void proposeCreates(int leader, int count) {
    auto& peer = *members_[leader]->peer;
    const int64_t epoch = peer.epoch();
    for (int i = 0; i < count; ++i) {
      sdk::TxnEntry txn;
      txn.header = sdk::TxnHeader{0x1000, i, sdk::zxidOf(epoch, ++counter_[epoch]), 1, sdk::OpCode::kCreate};
      txn.body = sdk::CreateTxn{"/n" + std::to_string(i), sdk::OptionalBytes(std::string("v")), {}, false, 0};
      peer.propose(std::move(txn));
    }
  }
  bool waitApplied(const std::vector<int>& members, size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      bool all = true;
      for (int i : members) all = all && members_[i]->storage.applied().size() >= count;
      if (all) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  fs::path dir_;
  sdk::Ensemble ensemble_;
  std::vector<std::unique_ptr<Member>> members_;
  std::map<int64_t, int64_t> counter_;
};

// 3 voters and 2 observers that learn through the followers' observer masters.
class ZabInProcessObservers : public ZabInProcess {
 protected:
  int observers() const override { return 2; }
  int observerMasterPort() const override {
    static const int port = freePort();
    return port;
  }
  // The member an observer learns from, once it is observing through a follower.
  int64_t masterOf(int i) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (members_[i]->kernel.role_.load() == sdk::Role::kObserver) return members_[i]->peer->learnerMasterId();
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
};

TEST_F(ZabInProcess, ElectsOneLeaderAndReplicatesInZxidOrderWithInlineAppends) {
  const int leader = waitForRoles({0, 1, 2});
  ASSERT_GE(leader, 0);
  EXPECT_EQ(leader, 2);  // equal histories: the highest sid wins
  EXPECT_EQ(members_[leader]->peer->epoch(), 1);
  proposeCreates(leader, 200);
  ASSERT_TRUE(waitApplied({0, 1, 2}, 200));
  const auto expected = members_[leader]->storage.applied();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(members_[i]->storage.applied(), expected) << "member " << i;
  for (size_t i = 1; i < expected.size(); ++i) ASSERT_LT(expected[i - 1], expected[i]);
  // currentEpoch and acceptedEpoch as ZooKeeper writes them.
  std::ifstream current(dir_ / "1" / "version-2" / "currentEpoch");
  std::string text((std::istreambuf_iterator<char>(current)), {});
  EXPECT_EQ(text, "1");
}

TEST_F(ZabInProcess, TheSurvivorsElectANewEpochAndKeepEveryCommit) {
  const int leader = waitForRoles({0, 1, 2});
  ASSERT_EQ(leader, 2);
  proposeCreates(leader, 50);
  ASSERT_TRUE(waitApplied({0, 1, 2}, 50));
  members_[leader]->peer->stop();
  const int next = waitForRoles({0, 1});
  ASSERT_EQ(next, 1);  // same zxid and epoch: the higher sid of the two
  EXPECT_EQ(members_[next]->peer->epoch(), 2);
  proposeCreates(next, 30);
  ASSERT_TRUE(waitApplied({0, 1}, 80));
  EXPECT_EQ(members_[0]->storage.applied(), members_[1]->storage.applied());
  EXPECT_EQ(sdk::epochOf(members_[0]->storage.applied().back()), 2);
}

TEST_F(ZabInProcessObservers, ObserversLearnEveryCommitThroughAFollowerAndNeverCount) {
  const int leader = waitForRoles({0, 1, 2, 3, 4});
  ASSERT_EQ(leader, 2);  // the observers' votes elect nobody
  for (int observer : {3, 4}) {
    const int64_t master = masterOf(observer);
    EXPECT_TRUE(master == 1 || master == 2) << "observer " << observer << " learns from sid " << master;
  }
  proposeCreates(leader, 100);
  ASSERT_TRUE(waitApplied({0, 1, 2, 3, 4}, 100));
  const auto expected = members_[leader]->storage.applied();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(members_[i]->storage.applied(), expected) << "member " << i;
  // The leader serves no observer itself: its fan-out is the two followers.
  EXPECT_TRUE(members_[leader]->peer->observers().empty());
  size_t served = 0;
  for (int follower : {0, 1}) served += members_[follower]->peer->observers().size();
  EXPECT_EQ(served, 2u);
  // Two observers and the leader are not a quorum: with both followers gone the term ends.
  members_[0]->peer->stop();
  members_[1]->peer->stop();
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (members_[leader]->kernel.role_.load() == sdk::Role::kLeader && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(members_[leader]->kernel.role_.load(), sdk::Role::kLeader);
}

TEST_F(ZabInProcessObservers, AnObserverWhoseMasterStopsMovesToAnotherAndCatchesUp) {
  const int leader = waitForRoles({0, 1, 2, 3, 4});
  ASSERT_EQ(leader, 2);
  const int64_t master = masterOf(3);
  ASSERT_TRUE(master == 1 || master == 2);
  proposeCreates(leader, 20);
  ASSERT_TRUE(waitApplied({0, 1, 2, 3, 4}, 20));
  members_[master - 1]->peer->stop();
  const int survivor = master == 1 ? 1 : 0;
  ASSERT_EQ(waitForRoles({survivor, 2, 3, 4}), 2);
  EXPECT_EQ(masterOf(3), survivor + 1);
  proposeCreates(leader, 30);
  ASSERT_TRUE(waitApplied({survivor, 2, 3, 4}, 50));
  EXPECT_EQ(members_[3]->storage.applied(), members_[leader]->storage.applied());
}

TEST_F(ZabInProcess, AZxidCounterAboutToRollOverEndsTheEpoch) {
  const int leader = waitForRoles({0, 1, 2});
  ASSERT_EQ(leader, 2);
  proposeCreates(leader, 3);
  ASSERT_TRUE(waitApplied({0, 1, 2}, 3));
  // ZooKeeper's rule: a proposal whose counter would be 0xffffffff is not made; the leader
  // steps down and the next election starts a new epoch (counter 1 again).
  sdk::TxnEntry last;
  last.header = sdk::TxnHeader{0x1000, 99, sdk::zxidOf(1, 0xffffffffLL), 1, sdk::OpCode::kCreate};
  last.body = sdk::CreateTxn{"/rollover", sdk::OptionalBytes(std::string("v")), {}, false, 0};
  members_[leader]->peer->propose(std::move(last));
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  int next = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    next = -1;
    for (int i = 0; i < 3; ++i) {
      if (members_[i]->kernel.role_.load() == sdk::Role::kLeader && members_[i]->peer->epoch() == 2) next = i;
    }
    if (next >= 0) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GE(next, 0) << "no leader in epoch 2";
  for (int i = 0; i < 3; ++i) {
    for (auto zxid : members_[i]->storage.applied()) EXPECT_NE(sdk::counterOf(zxid), 0xffffffffLL);
  }
}

}  // namespace
}  // namespace corral::plugins::zab

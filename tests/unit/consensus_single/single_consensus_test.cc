// consensus.single over a durable storage.memlog in a temp dir: commits in zxid order, and
// no zxid hole on disk when one txn cannot be queued (before the fix the txn was dropped, the
// next one reached the log, and the next start failed on the gap).
#include "single_consensus.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <new>
#include <random>

#include "memlog_storage.h"
#include "tests/support/runtime_test_host.h"

namespace corral::plugins::single {
namespace {

namespace fs = std::filesystem;
using TestHost = corral::testing::RuntimeTestHost;

// Records commits as the kernel would receive them.
class RecordingHost final : public sdk::ConsensusHost {
 public:
  void commit(sdk::TxnEntry txn, sdk::Status status, sdk::ApplyMode) noexcept override {
    std::lock_guard lock(mutex_);
    commits_.emplace_back(txn.header.zxid, status.isOk());
    changed_.notify_all();
  }
  void roleChanged(sdk::Role, int64_t) noexcept override {}
  void stateReplaced() noexcept override {}
  void afterForwarded(std::function<void()> then) noexcept override { then(); }
  void syncCompleted() noexcept override {}
  std::vector<sdk::SessionTouch> takeSessionTouches() noexcept override { return {}; }
  void submitForwarded(sdk::ForwardedRequest) noexcept override {}
  void touchSessions(std::span<const sdk::SessionTouch>) noexcept override {}
  void revalidateSession(sdk::SessionId, int32_t, std::function<void(bool)> done) noexcept override { done(false); }

  std::vector<std::pair<sdk::Zxid, bool>> waitFor(size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(10), [&] { return commits_.size() >= count; });
    return commits_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::pair<sdk::Zxid, bool>> commits_;
};

// Simulates running out of memory while queueing the txn with zxid `failing_zxid`.
class StarvedConsensus final : public SingleConsensus {
 public:
  explicit StarvedConsensus(sdk::Zxid failing_zxid) : failing_zxid_(failing_zxid) {}

 protected:
  void enqueue(sdk::TxnEntry&& txn) override {
    if (txn.header.zxid == failing_zxid_) throw std::bad_alloc();
    SingleConsensus::enqueue(std::move(txn));
  }

 private:
  sdk::Zxid failing_zxid_;
};

struct TempDir {
  TempDir() {
    std::random_device random;
    path = fs::temp_directory_path() / ("corral-single-" + std::to_string(random()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  fs::path path;
};

memlog::DurabilitySettings durableIn(const fs::path& dir) {
  memlog::DurabilitySettings settings;
  settings.durable = true;
  settings.data_dir = dir;
  settings.log_dir = dir;
  settings.prealloc_kb = 64;
  settings.force_sync = false;
  return settings;
}

sdk::TxnEntry createTxn(sdk::Zxid zxid) {
  sdk::TxnEntry txn;
  txn.header = {0x100, static_cast<int32_t>(zxid), zxid, 1700000000000 + zxid, sdk::OpCode::kCreate};
  txn.body = sdk::CreateTxn{"/n" + std::to_string(zxid), std::string("d"), sdk::openAclUnsafe(), false,
                            static_cast<int32_t>(zxid)};
  return txn;
}

TEST(SingleConsensus, CommitsInProposeOrderOnceDurable) {
  TempDir dir;
  TestHost host;
  memlog::MemlogStorage storage(host, durableIn(dir.path));
  ASSERT_TRUE(storage.start().isOk());
  std::vector<sdk::RecoveredSession> sessions;
  ASSERT_TRUE(storage.recover(sessions).isOk());
  RecordingHost kernel;
  SingleConsensus consensus;
  consensus.attach(storage, kernel, sdk::Ensemble{});
  for (sdk::Zxid zxid = 1; zxid <= 50; ++zxid) consensus.propose(createTxn(zxid));
  auto commits = kernel.waitFor(50);
  ASSERT_EQ(commits.size(), 50u);
  for (size_t i = 0; i < commits.size(); ++i) {
    EXPECT_EQ(commits[i].first, static_cast<sdk::Zxid>(i + 1));
    EXPECT_TRUE(commits[i].second);
  }
  EXPECT_EQ(consensus.role(), sdk::Role::kStandalone);
  storage.stop();
}

TEST(SingleConsensus, AnUnqueueableTxnFailsItAndEveryLaterOneWithoutAHoleOnDisk) {
  TempDir dir;
  {
    TestHost host;
    memlog::MemlogStorage storage(host, durableIn(dir.path));
    ASSERT_TRUE(storage.start().isOk());
    std::vector<sdk::RecoveredSession> sessions;
    ASSERT_TRUE(storage.recover(sessions).isOk());
    RecordingHost kernel;
    StarvedConsensus consensus(3);
    consensus.attach(storage, kernel, sdk::Ensemble{});
    for (sdk::Zxid zxid = 1; zxid <= 5; ++zxid) consensus.propose(createTxn(zxid));
    auto commits = kernel.waitFor(5);
    ASSERT_EQ(commits.size(), 5u);
    std::map<sdk::Zxid, bool> ok(commits.begin(), commits.end());
    EXPECT_TRUE(ok[1]);
    EXPECT_TRUE(ok[2]);
    EXPECT_FALSE(ok[3]);  // the kernel stops on this one
    EXPECT_FALSE(ok[4]);  // and these never reach the log
    EXPECT_FALSE(ok[5]);
    storage.stop();
  }
  // The next start recovers exactly what was acknowledged.
  TestHost host;
  memlog::MemlogStorage storage(host, durableIn(dir.path));
  ASSERT_TRUE(storage.start().isOk());
  std::vector<sdk::RecoveredSession> sessions;
  ASSERT_TRUE(storage.recover(sessions).isOk());
  EXPECT_EQ(storage.stats().last_applied_zxid, 2);
  sdk::NodeRead node;
  EXPECT_EQ(storage.read("/n2", sdk::NodeRead::kStat, node), sdk::Code::kOk);
  EXPECT_EQ(storage.read("/n4", sdk::NodeRead::kStat, node), sdk::Code::kNoNode);
  storage.stop();
}

}  // namespace
}  // namespace corral::plugins::single

// ApplyWriter: what the apply strand hands over is readable at once (the overlay), reaches the
// database in batches on the writer's thread, and a failed write is never silently dropped.
// The write function is gated so the test controls when a batch lands.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>

#include "apply_writer.h"
#include "recent_zxids.h"

namespace corral::plugins::rocks {
namespace {

using namespace std::chrono_literals;

// Holds each write until released; counts the batches and txns that landed.
class Gate {
 public:
  rocksdb::Status write(rocksdb::WriteBatch& batch) {
    std::unique_lock lock(mutex_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    ++batches_;
    entries_ += static_cast<int>(batch.Count());
    return fail_ ? rocksdb::Status::IOError("disk gone") : rocksdb::Status::OK();
  }
  void open(bool fail = false) {
    std::lock_guard lock(mutex_);
    open_ = true;
    fail_ = fail;
    cv_.notify_all();
  }
  void waitEntered(int n) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return entered_ >= n; });
  }
  int batches() {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  int entries() {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
  bool fail_ = false;
  int entered_ = 0;
  int batches_ = 0;
  int entries_ = 0;
};

struct Fixture {
  Gate gate;
  std::atomic<int64_t> after_txns{0};
  std::string last_applied;
  sdk::Zxid zxid = 0;
  ApplyWriter writer{[this](rocksdb::WriteBatch& batch) { return gate.write(batch); },
                     [this](int64_t txns) { after_txns += txns; },
                     [this](rocksdb::WriteBatch& batch, const std::string& record) {
                       last_applied = record;
                       (void)batch.Put("applied", record);
                     }};
  Fixture() { writer.start(); }

  sdk::Status put(const std::string& key, std::optional<std::string> value, const std::string& applied) {
    return writer.add(
        [&](rocksdb::WriteBatch& batch, std::vector<ApplyWriter::Change>& changes) {
          if (value) (void)batch.Put(key, *value);
          else (void)batch.Delete(key);
          changes.push_back({Cf::kNodes, key, value});
          return sdk::Status::ok();
        },
        ++zxid, applied);
  }
};

TEST(ApplyWriter, ChangesAreReadableBeforeTheirBatchLandsAndGoneFromTheOverlayAfter) {
  Fixture f;
  ASSERT_TRUE(f.put("/a", "1", "z1").isOk());
  f.gate.waitEntered(1);  // the first batch is being written and held
  ASSERT_TRUE(f.put("/a", "2", "z2").isOk());
  ASSERT_TRUE(f.put("/b", std::nullopt, "z3").isOk());
  EXPECT_EQ(f.writer.pending(Cf::kNodes, "/a"), std::optional<std::optional<std::string>>(std::string("2")))
      << "the newest pending value wins";
  EXPECT_EQ(f.writer.pending(Cf::kNodes, "/b"), std::optional<std::optional<std::string>>(std::in_place, std::nullopt))
      << "a pending delete reads as absent, not as 'ask the database'";
  EXPECT_FALSE(f.writer.pending(Cf::kSessions, "/a")) << "column families do not mix";
  EXPECT_EQ(f.writer.pendingTxns(), 3);

  auto drained = std::async(std::launch::async, [&] { return f.writer.drain(); });
  EXPECT_EQ(drained.wait_for(100ms), std::future_status::timeout) << "drain waits for the held write";
  f.gate.open();
  ASSERT_TRUE(drained.get().isOk());
  EXPECT_EQ(f.writer.pendingTxns(), 0);
  EXPECT_FALSE(f.writer.pending(Cf::kNodes, "/a"));
  EXPECT_FALSE(f.writer.pending(Cf::kNodes, "/b"));
  EXPECT_EQ(f.gate.batches(), 2) << "the two txns added while the first write was held went as one batch";
  EXPECT_EQ(f.gate.entries(), 3 + 2) << "each batch also carries the newest applied record";
  EXPECT_EQ(f.last_applied, "z3");
  EXPECT_EQ(f.writer.writtenZxid(), 3);
}

TEST(ApplyWriter, AHeldWriterLetsListingsMergeItsPendingChangesInsteadOfWaiting) {
  Fixture f;
  ASSERT_TRUE(f.put("/p/x", "1", "z1").isOk());
  f.gate.waitEntered(1);  // held, as a full disk holds it
  ASSERT_TRUE(f.put("/p/y", std::nullopt, "z2").isOk());
  ASSERT_TRUE(f.put("/q/z", "3", "z3").isOk());
  EXPECT_FALSE(f.writer.drainFor(50ms)) << "a bounded wait, not a hang";
  std::map<std::string, std::optional<std::string>> seen;
  f.writer.visitPending(Cf::kNodes, "/p/", [&](std::string_view key, const std::optional<std::string>& value) {
    seen.emplace(std::string(key), value);
  });
  EXPECT_EQ(seen, (std::map<std::string, std::optional<std::string>>{{"/p/x", "1"}, {"/p/y", std::nullopt}}));
  f.gate.open();
  EXPECT_TRUE(f.writer.drainFor(5000ms));
}

TEST(ApplyWriter, AFailedTxnFillLeavesNothingInTheBatch) {
  Fixture f;
  auto failed = f.writer.add(
      [](rocksdb::WriteBatch& batch, std::vector<ApplyWriter::Change>&) {
        (void)batch.Put("/half", "written");
        return sdk::Status(sdk::Code::kIoError, "read failed midway");
      },
      1, "z1");
  EXPECT_FALSE(failed.isOk());
  ASSERT_TRUE(f.put("/whole", "1", "z2").isOk());
  f.gate.open();
  ASSERT_TRUE(f.writer.drain().isOk());
  EXPECT_EQ(f.gate.entries(), 1 + 1) << "only the complete txn (and its applied record) was written";
}

TEST(ApplyWriter, AFailedWriteKeepsTheOverlayAndFailsTheNextAdd) {
  Fixture f;
  ASSERT_TRUE(f.put("/a", "1", "z1").isOk());
  f.gate.open(/*fail=*/true);
  auto drained = f.writer.drain();
  EXPECT_FALSE(drained.isOk()) << "drain reports the failure instead of waiting forever";
  EXPECT_EQ(f.writer.pending(Cf::kNodes, "/a"), std::optional<std::optional<std::string>>(std::string("1")))
      << "readers keep seeing what clients were told";
  auto next = f.put("/b", "2", "z2");
  EXPECT_EQ(next.code(), sdk::Code::kIoError) << next.toString();
  EXPECT_EQ(f.after_txns.load(), 0) << "no flush or trim runs after a failed write";
}

TEST(ApplyWriter, StopWritesEverythingHandedOver) {
  Fixture f;
  f.gate.open();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(f.put("/k" + std::to_string(i % 10), std::to_string(i), "z").isOk());
  f.writer.stop();
  EXPECT_EQ(f.after_txns.load(), 1000);
  EXPECT_EQ(f.writer.pendingTxns(), 0);
  EXPECT_FALSE(f.writer.pending(Cf::kNodes, "/k3"));
  EXPECT_FALSE(f.put("/late", "1", "z").isOk()) << "nothing is accepted once stopped";
}

TEST(RecentZxids, CutsWithinExcessAndLimitAndDeclinesWhenItDoesNotHoldEveryEntry) {
  RecentZxids index;
  for (sdk::Zxid z : {0x100000001, 0x100000002, 0x100000003, 0x200000001, 0x200000002}) index.push(z);
  EXPECT_FALSE(index.plan(2, 7, ~0ULL >> 1)) << "two older entries (from before a restart) are not indexed";
  auto cut = index.plan(3, 5, ~0ULL >> 1);
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->count, 3);
  EXPECT_EQ(cut->last_dropped, 0x100000003) << "counts entries, not zxids: epochs jump";
  cut = index.plan(5, 5, 0x100000002);
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->count, 2) << "never past the limit";
  index.droppedThrough(0x100000002);
  index.droppedAfter(0x200000001);
  cut = index.plan(10, 2, ~0ULL >> 1);
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->count, 2);
  EXPECT_EQ(cut->last_dropped, 0x200000001);
}

}  // namespace
}  // namespace corral::plugins::rocks

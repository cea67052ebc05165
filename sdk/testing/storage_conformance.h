// The conformance suite every storage plugin must pass (storage.memlog, storage.rocksdb, and
// plugins built out of tree).
//
// It loads the plugin as corral-server does (its .so, through the exported descriptor), gives it
// a fresh dataDir/dataLogDir per test, and checks the sdk::Storage contract: apply and reads with
// ZooKeeper's Stat rules, multi atomicity, sequential counters, container and TTL candidates,
// recovery after a restart, reading the log from a zxid (DIFF), truncating it (TRUNC), a fuzzy
// snapshot streamed out while txns are applied and loaded into another instance (SNAP), garbage
// streams, and a fuzzy snapshot written by Apache ZooKeeper 3.8 under write load (the golden set
// in data/zk38_fuzzy, recovered from a data dir and streamed in).
//
// Use (GoogleTest):
//   #include <corral/testing/storage_conformance.h>
//   corral::testing::StorageConformanceCase myCase() { return {"mystore", "/path/libcorral_storage_mystore.so", {}, "/path/to/zk38_fuzzy"}; }
//   using corral::testing::StorageConformance;   // gtest needs the unqualified name
//   INSTANTIATE_TEST_SUITE_P(MyStore, StorageConformance, ::testing::Values(myCase()),
//                            corral::testing::storageCaseName);
// Link with nlohmann_json (the golden set's expected tree is JSON).
#pragma once

#include <gtest/gtest.h>

#include <boost/dll/shared_library.hpp>
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "corral/plugin.h"
#include "corral/storage.h"
#include "corral/txn_records.h"
#include "plugin_harness.h"

namespace corral::testing {

struct StorageConformanceCase {
  std::string label;                          // test-name suffix, [A-Za-z0-9_]
  std::string plugin_file;                    // path to libcorral_storage_<name>.so
  std::map<std::string, std::string> config;  // settings; dataDir and dataLogDir are added
  std::string zk38_fuzzy_dir;                 // sdk/testing/data/zk38_fuzzy (empty: skipped)
};

inline std::string storageCaseName(const ::testing::TestParamInfo<StorageConformanceCase>& info) {
  return info.param.label;
}

// Builders of committed txns as a leader would log them.
namespace txns {

inline const sdk::AclList& openAcl() {
  static const sdk::AclList acl{{31, {"world", "anyone"}}};
  return acl;
}

inline sdk::TxnEntry entry(sdk::Zxid zxid, sdk::OpCode type, sdk::TxnBody body, sdk::SessionId session = 0x100) {
  sdk::TxnEntry txn;
  txn.header = {session, static_cast<int32_t>(zxid & 0xffff), zxid, 1700000000000 + static_cast<int64_t>(zxid), type};
  txn.body = std::move(body);
  return txn;
}

inline sdk::TxnEntry create(sdk::Zxid zxid, std::string path, sdk::OptionalBytes data, int32_t parent_cversion,
                            sdk::SessionId ephemeral_owner = 0, sdk::AclList acl = openAcl()) {
  sdk::CreateTxn body{std::move(path), std::move(data), std::move(acl), ephemeral_owner != 0, parent_cversion};
  return entry(zxid, sdk::OpCode::kCreate, body, ephemeral_owner != 0 ? ephemeral_owner : 0x100);
}

inline sdk::TxnEntry remove(sdk::Zxid zxid, std::string path) {
  return entry(zxid, sdk::OpCode::kDelete, sdk::DeleteTxn{std::move(path)});
}

inline sdk::TxnEntry setData(sdk::Zxid zxid, std::string path, std::string data, int32_t version) {
  return entry(zxid, sdk::OpCode::kSetData, sdk::SetDataTxn{std::move(path), std::move(data), version});
}

inline sdk::TxnEntry session(sdk::Zxid zxid, sdk::SessionId id, int32_t timeout) {
  return entry(zxid, sdk::OpCode::kCreateSession, sdk::CreateSessionTxn{timeout}, id);
}

template <typename Body>
sdk::Txn sub(sdk::OpCode type, const Body& body) {
  return sdk::makeTxn(type, body);
}

}  // namespace txns

// Every node of a storage, read through the SDK (path -> what a client would see).
struct NodeImage {
  sdk::OptionalBytes data;
  sdk::Stat stat;
  sdk::AclList acl;
  friend bool operator==(const NodeImage&, const NodeImage&) = default;
};
using TreeImage = std::map<std::string, NodeImage>;

inline TreeImage imageOf(const sdk::Storage& storage) {
  TreeImage image;
  std::vector<std::string> pending{"/"};
  while (!pending.empty()) {
    const std::string path = pending.back();
    pending.pop_back();
    sdk::NodeRead node;
    const auto fields = sdk::NodeRead::kStat | sdk::NodeRead::kData | sdk::NodeRead::kAcl | sdk::NodeRead::kChildren;
    if (storage.read(path, fields, node) != sdk::Code::kOk) continue;
    image[path] = NodeImage{node.data, node.stat, node.acl};
    for (const auto& child : node.children) pending.push_back(path == "/" ? "/" + child : path + "/" + child);
  }
  return image;
}

class StorageConformance : public ::testing::TestWithParam<StorageConformanceCase> {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/corral-storage-conformance-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
    const auto mode = static_cast<boost::dll::load_mode::type>(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    std::error_code error;
    library_.load(GetParam().plugin_file, mode, error);
    ASSERT_FALSE(error) << "cannot load " << GetParam().plugin_file << ": " << error.message();
    ASSERT_TRUE(library_.has(sdk::kDescriptorSymbol)) << "no descriptor in " << GetParam().plugin_file;
    descriptor_ = &library_.get_alias<const sdk::PluginDescriptor>(sdk::kDescriptorSymbol);
    ASSERT_EQ(descriptor_->abi_version, sdk::kAbiVersion);
    ASSERT_EQ(descriptor_->kind, sdk::PluginKind::kStorage);
  }
  void TearDown() override {
    instances_.clear();
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  struct Instance {
    std::unique_ptr<MapConfig> config;
    std::unique_ptr<sdk::Plugin> plugin;
    sdk::Storage* storage = nullptr;
    std::vector<sdk::RecoveredSession> sessions;
    ~Instance() {
      if (plugin) plugin->stop();
    }
  };

  // A started, recovered storage over `dir` (under the test's temp root).
  sdk::Storage& open(const std::string& dir = "data") {
    auto instance = std::make_unique<Instance>();
    auto values = GetParam().config;
    values["dataDir"] = (root_ / dir).string();
    values["dataLogDir"] = (root_ / dir).string();
    instance->config = std::make_unique<MapConfig>(values);
    EXPECT_TRUE(descriptor_->validate(*instance->config).isOk());
    sdk::Status status;
    instance->plugin.reset(descriptor_->create(host_, *instance->config, &status));
    EXPECT_NE(instance->plugin, nullptr) << status.toString();
    instance->storage = dynamic_cast<sdk::Storage*>(instance->plugin.get());
    EXPECT_NE(instance->storage, nullptr);
    EXPECT_TRUE(instance->plugin->start().isOk());
    const sdk::Status recovered = instance->storage->recover(instance->sessions);
    EXPECT_TRUE(recovered.isOk()) << recovered.toString();
    instances_.push_back(std::move(instance));
    return *instances_.back()->storage;
  }
  void close(sdk::Storage& storage) {
    for (auto it = instances_.begin(); it != instances_.end(); ++it) {
      if ((*it)->storage == &storage) {
        instances_.erase(it);
        return;
      }
    }
  }
  const std::vector<sdk::RecoveredSession>& recoveredSessions() const { return instances_.back()->sessions; }

  // Logs then applies each txn, as a standalone server commits: durable first.
  static sdk::Status commit(sdk::Storage& storage, const sdk::TxnEntry& txn,
                            std::vector<sdk::OpOutcome>* outcomes = nullptr,
                            sdk::ApplyMode mode = sdk::ApplyMode::kLive) {
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<sdk::Status> appended;
    storage.append(std::span<const sdk::TxnEntry>(&txn, 1), [&](sdk::Status st) {
      std::lock_guard lock(mutex);
      appended = std::move(st);
      cv.notify_all();
    });
    {
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return appended.has_value(); });
    }
    if (!appended->isOk()) return *appended;
    std::vector<sdk::OpOutcome> local;
    return storage.apply(txn, mode, outcomes != nullptr ? *outcomes : local);
  }

  // Logs `txns` with one append, then applies them in order.
  static void commitMany(sdk::Storage& storage, const std::vector<sdk::TxnEntry>& txns) {
    std::promise<sdk::Status> appended;
    storage.append(std::span<const sdk::TxnEntry>(txns), [&](sdk::Status st) { appended.set_value(std::move(st)); });
    ASSERT_TRUE(appended.get_future().get().isOk());
    std::vector<sdk::OpOutcome> outcomes;
    for (const auto& txn : txns) ASSERT_TRUE(storage.apply(txn, sdk::ApplyMode::kLive, outcomes).isOk()) << txn.header.zxid;
  }

  // /a, /a/b, /c with data, then 20 nodes /n/0..19; zxids 1..(returned).
  static sdk::Zxid populate(sdk::Storage& storage, sdk::Zxid zxid = 0) {
    EXPECT_TRUE(commit(storage, txns::create(++zxid, "/a", std::string("alpha"), 1)).isOk());
    EXPECT_TRUE(commit(storage, txns::create(++zxid, "/a/b", std::nullopt, 1)).isOk());
    EXPECT_TRUE(commit(storage, txns::create(++zxid, "/c", std::string(""), 2)).isOk());
    EXPECT_TRUE(commit(storage, txns::create(++zxid, "/n", std::string("parent"), 3)).isOk());
    for (int i = 0; i < 20; ++i) {
      EXPECT_TRUE(commit(storage, txns::create(++zxid, "/n/" + std::to_string(i), std::string(30, 'x'), i + 1)).isOk());
    }
    return zxid;
  }

  // A reader of `bytes` as a SNAP source: exactly what is asked, or an error at the end.
  static sdk::SnapshotSource sourceOf(const std::string& bytes, size_t& position) {
    return [&bytes, &position](char* dst, size_t n) -> sdk::Status {
      if (bytes.size() - position < n) return sdk::Status(sdk::Code::kIoError, "end of stream");
      std::memcpy(dst, bytes.data() + position, n);
      position += n;
      return sdk::Status::ok();
    };
  }

  std::filesystem::path root_;
  boost::dll::shared_library library_;
  const sdk::PluginDescriptor* descriptor_ = nullptr;
  MinimalHost host_;
  std::vector<std::unique_ptr<Instance>> instances_;
};

TEST_P(StorageConformance, ApplyAndReadsFollowZooKeepersStatRules) {
  auto& storage = open();
  const sdk::Zxid last = populate(storage);
  sdk::NodeRead node;
  const auto all = sdk::NodeRead::kStat | sdk::NodeRead::kData | sdk::NodeRead::kAcl | sdk::NodeRead::kChildren;
  ASSERT_EQ(storage.read("/a", all, node), sdk::Code::kOk);
  EXPECT_EQ(node.data, sdk::OptionalBytes("alpha"));
  EXPECT_EQ(node.stat.czxid, 1);
  EXPECT_EQ(node.stat.mzxid, 1);
  EXPECT_EQ(node.stat.pzxid, 2);
  EXPECT_EQ(node.stat.cversion, 1);
  EXPECT_EQ(node.stat.num_children, 1);
  EXPECT_EQ(node.stat.data_length, 5);
  EXPECT_EQ(node.acl, txns::openAcl());
  EXPECT_EQ(node.children, std::vector<std::string>{"b"});
  ASSERT_EQ(storage.read("/a/b", all, node), sdk::Code::kOk);
  EXPECT_FALSE(node.data.has_value()) << "null data must stay null, not empty";
  ASSERT_EQ(storage.read("/c", all, node), sdk::Code::kOk);
  EXPECT_EQ(node.data, sdk::OptionalBytes(""));
  EXPECT_EQ(storage.read("/missing", sdk::NodeRead::kStat, node), sdk::Code::kNoNode);
  EXPECT_EQ(storage.read("/a/b/c", sdk::NodeRead::kStat, node), sdk::Code::kNoNode);

  std::vector<sdk::OpOutcome> outcomes;
  ASSERT_TRUE(commit(storage, txns::setData(last + 1, "/a", "beta", 1), &outcomes).isOk());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].stat.version, 1);
  EXPECT_EQ(outcomes[0].stat.mzxid, last + 1);
  ASSERT_TRUE(commit(storage, txns::remove(last + 2, "/a/b")).isOk());
  ASSERT_EQ(storage.read("/a", sdk::NodeRead::kStat | sdk::NodeRead::kData, node), sdk::Code::kOk);
  EXPECT_EQ(node.data, sdk::OptionalBytes("beta"));
  EXPECT_EQ(node.stat.num_children, 0);
  EXPECT_EQ(node.stat.pzxid, last + 2);
  EXPECT_EQ(node.stat.cversion, 2) << "a delete raises the exposed cversion (2 * stored - children)";
  EXPECT_EQ(storage.stats().last_applied_zxid, last + 2);
  EXPECT_EQ(storage.countDescendants("/n"), 20);
  EXPECT_EQ(storage.countDescendants("/missing"), -1);
}

TEST_P(StorageConformance, FailedMultiChangesNothingAndReportsEveryOp) {
  auto& storage = open();
  sdk::Zxid zxid = populate(storage);
  sdk::MultiTxn failed;
  failed.txns.push_back(txns::sub(sdk::OpCode::kCreate, sdk::CreateTxn{"/m1", std::string("x"), txns::openAcl(), false, 5}));
  failed.txns.push_back(txns::sub(sdk::OpCode::kError, sdk::ErrorTxn{sdk::Code::kNoNode}));
  failed.txns.push_back(txns::sub(sdk::OpCode::kError, sdk::ErrorTxn{sdk::Code::kRuntimeInconsistency}));
  const TreeImage before = imageOf(storage);
  std::vector<sdk::OpOutcome> outcomes;
  ASSERT_TRUE(commit(storage, txns::entry(++zxid, sdk::OpCode::kMulti, failed), &outcomes).isOk());
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[0].err, sdk::Code::kOk);
  EXPECT_EQ(outcomes[1].err, sdk::Code::kNoNode);
  EXPECT_EQ(outcomes[2].err, sdk::Code::kRuntimeInconsistency);
  EXPECT_EQ(imageOf(storage), before);

  sdk::MultiTxn good;
  good.txns.push_back(txns::sub(sdk::OpCode::kCreate, sdk::CreateTxn{"/m1", std::string("x"), txns::openAcl(), false, 5}));
  good.txns.push_back(txns::sub(sdk::OpCode::kSetData, sdk::SetDataTxn{"/c", std::string("y"), 1}));
  good.txns.push_back(txns::sub(sdk::OpCode::kDelete, sdk::DeleteTxn{"/n/0"}));
  ASSERT_TRUE(commit(storage, txns::entry(++zxid, sdk::OpCode::kMulti, good), &outcomes).isOk());
  ASSERT_EQ(outcomes.size(), 3u);
  sdk::NodeRead node;
  EXPECT_EQ(storage.read("/m1", sdk::NodeRead::kStat, node), sdk::Code::kOk);
  EXPECT_EQ(node.stat.czxid, zxid) << "every op of a multi carries the multi's zxid";
  EXPECT_EQ(storage.read("/n/0", sdk::NodeRead::kStat, node), sdk::Code::kNoNode);
}

TEST_P(StorageConformance, SequentialCountersFollowTheParentsCversion) {
  auto& storage = open();
  sdk::Zxid zxid = populate(storage);
  sdk::NodeRead node;
  ASSERT_EQ(storage.read("/n", sdk::NodeRead::kStat, node), sdk::Code::kOk);
  EXPECT_EQ(node.stored_cversion, 20) << "the next sequential suffix under /n";
  ASSERT_TRUE(commit(storage, txns::remove(++zxid, "/n/3")).isOk());
  ASSERT_EQ(storage.read("/n", sdk::NodeRead::kStat, node), sdk::Code::kOk);
  EXPECT_EQ(node.stored_cversion, 20) << "a delete does not change the create counter";
  ASSERT_TRUE(commit(storage, txns::create(++zxid, "/n/seq0000000020", std::nullopt, 21)).isOk());
  ASSERT_EQ(storage.read("/n", sdk::NodeRead::kStat, node), sdk::Code::kOk);
  EXPECT_EQ(node.stored_cversion, 21);
  EXPECT_EQ(node.stat.pzxid, zxid);
}

TEST_P(StorageConformance, ContainersAndTtlNodesAreReapCandidates) {
  auto& storage = open();
  sdk::Zxid zxid = 0;
  ASSERT_TRUE(commit(storage, txns::entry(++zxid, sdk::OpCode::kCreateContainer,
                                          sdk::CreateContainerTxn{"/box", std::string(), txns::openAcl(), 1})).isOk());
  ASSERT_TRUE(commit(storage, txns::create(++zxid, "/box/item", std::nullopt, 1)).isOk());
  ASSERT_TRUE(commit(storage, txns::remove(++zxid, "/box/item")).isOk());
  ASSERT_TRUE(commit(storage, txns::entry(++zxid, sdk::OpCode::kCreateTtl,
                                          sdk::CreateTtlTxn{"/ttl", std::string(), txns::openAcl(), 2, 1000})).isOk());
  bool box = false;
  bool ttl = false;
  for (const auto& candidate : storage.reapCandidates()) {
    if (candidate.path == "/box") {
      box = true;
      EXPECT_EQ(candidate.raw_owner, sdk::owner::kContainer);
      EXPECT_EQ(candidate.stored_cversion, 1);
      EXPECT_EQ(candidate.num_children, 0);
    }
    if (candidate.path == "/ttl") {
      ttl = true;
      EXPECT_EQ(candidate.raw_owner, sdk::owner::ttlOwner(1000));
    }
  }
  EXPECT_TRUE(box);
  EXPECT_TRUE(ttl);
}

TEST_P(StorageConformance, RestartRecoversTreeAndSessions) {
  TreeImage before;
  {
    auto& storage = open();
    sdk::Zxid zxid = populate(storage);
    ASSERT_TRUE(commit(storage, txns::session(++zxid, 0x7700000000000001, 30000)).isOk());
    ASSERT_TRUE(commit(storage, txns::create(++zxid, "/eph", std::string("e"), 5, 0x7700000000000001)).isOk());
    before = imageOf(storage);
    EXPECT_EQ(storage.lastLoggedZxid(), zxid);
    close(storage);
  }
  auto& again = open();
  EXPECT_EQ(imageOf(again), before);
  EXPECT_EQ(again.lastLoggedZxid(), 26);
  EXPECT_EQ(again.stats().last_applied_zxid, 26);
  ASSERT_EQ(recoveredSessions().size(), 1u);
  EXPECT_EQ(recoveredSessions()[0].id, 0x7700000000000001);
  EXPECT_EQ(recoveredSessions()[0].timeout_ms, 30000);
  EXPECT_EQ(again.ephemeralsOf(0x7700000000000001), std::vector<std::string>{"/eph"});
}

TEST_P(StorageConformance, ReadLogFromAZxid) {
  auto& storage = open();
  const sdk::Zxid last = populate(storage);
  std::vector<sdk::Zxid> seen;
  auto collect = [&](const sdk::TxnEntry& txn) {
    seen.push_back(txn.header.zxid);
    return true;
  };
  ASSERT_TRUE(storage.readLog(10, collect).isOk());
  ASSERT_EQ(seen.size(), static_cast<size_t>(last - 10));
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<sdk::Zxid>(11 + i));
  seen.clear();
  ASSERT_TRUE(storage.readLog(0, collect).isOk());
  EXPECT_EQ(seen.size(), static_cast<size_t>(last));
  seen.clear();
  ASSERT_TRUE(storage.readLog(last, collect).isOk());
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(storage.readLog(last + 5, collect).code(), sdk::Code::kNotFound) << "a zxid this log never held";
  // Stopping early is not an error; what comes out decodes to what went in.
  sdk::TxnEntry first;
  ASSERT_TRUE(storage.readLog(4, [&](const sdk::TxnEntry& txn) {
                first = txn;
                return false;
              }).isOk());
  EXPECT_EQ(first, txns::create(5, "/n/0", std::string(30, 'x'), 1));
}

TEST_P(StorageConformance, TruncateReturnsToAZxidDurably) {
  auto& storage = open();
  const sdk::Zxid last = populate(storage);
  ASSERT_TRUE(storage.truncateLog(10).isOk());
  EXPECT_EQ(storage.lastLoggedZxid(), 10);
  EXPECT_EQ(storage.stats().last_applied_zxid, 10);
  sdk::NodeRead node;
  EXPECT_EQ(storage.read("/n/5", sdk::NodeRead::kStat, node), sdk::Code::kOk);
  EXPECT_EQ(storage.read("/n/6", sdk::NodeRead::kStat, node), sdk::Code::kNoNode);
  // Another history continues from 10.
  ASSERT_TRUE(commit(storage, txns::create(11, "/other", std::string("o"), 5)).isOk());
  std::vector<sdk::Zxid> seen;
  ASSERT_TRUE(storage.readLog(9, [&](const sdk::TxnEntry& txn) {
                seen.push_back(txn.header.zxid);
                return true;
              }).isOk());
  EXPECT_EQ(seen, (std::vector<sdk::Zxid>{10, 11}));
  const TreeImage after = imageOf(storage);
  close(storage);
  auto& again = open();
  EXPECT_EQ(imageOf(again), after) << "the truncation survives a restart";
  EXPECT_EQ(again.read("/n/" + std::to_string(last - 5), sdk::NodeRead::kStat, node), sdk::Code::kNoNode);
}

TEST_P(StorageConformance, TruncateToAnUnreachableZxidChangesNothing) {
  auto& storage = open();
  const sdk::Zxid last = populate(storage);
  const TreeImage before = imageOf(storage);
  EXPECT_EQ(storage.truncateLog(last + 100).code(), sdk::Code::kNotFound) << "a zxid the log never held";
  EXPECT_EQ(imageOf(storage), before);
  EXPECT_EQ(storage.lastLoggedZxid(), last);
  EXPECT_TRUE(commit(storage, txns::create(last + 1, "/still", std::string("ok"), 5)).isOk());
}

TEST_P(StorageConformance, ReadLogAcrossAnEpochBoundary) {
  auto& storage = open();
  const sdk::Zxid e1 = sdk::Zxid{1} << 32;
  const sdk::Zxid e2 = sdk::Zxid{2} << 32;
  commitMany(storage, {txns::create(e1 | 1, "/x1", std::string("1"), 1), txns::create(e1 | 2, "/x2", std::string("2"), 2),
                       txns::create(e1 | 3, "/x3", std::string("3"), 3)});
  commitMany(storage, {txns::create(e2 | 1, "/y1", std::string("1"), 4), txns::create(e2 | 2, "/y2", std::string("2"), 5)});
  std::vector<sdk::Zxid> seen;
  ASSERT_TRUE(storage.readLog(e1 | 2, [&](const sdk::TxnEntry& txn) {
                seen.push_back(txn.header.zxid);
                return true;
              }).isOk());
  EXPECT_EQ(seen, (std::vector<sdk::Zxid>{e1 | 3, e2 | 1, e2 | 2}));
  EXPECT_EQ(storage.readLog(e1 | 7, [](const sdk::TxnEntry&) { return true; }).code(), sdk::Code::kNotFound)
      << "a zxid of epoch 1 this log never held: the caller's history differs (TRUNC or SNAP)";
}

// A learner with a history of its own takes a leader's snapshot: after a restart it has the
// leader's state, never a txn of its old history after the snapshot's zxid.
TEST_P(StorageConformance, LoadedSnapshotReplacesAnOlderHistoryDurably) {
  auto& leader = open("leader");
  sdk::Zxid zxid = 0;
  commitMany(leader, {txns::create(++zxid, "/leader", std::string("L"), 1), txns::create(++zxid, "/shared", std::string("s"), 2),
                      txns::create(++zxid, "/third", std::string("t"), 3)});
  std::string stream;
  auto out = leader.writeSnapshot([&](std::string_view bytes) {
    stream.append(bytes);
    return sdk::Status::ok();
  });
  ASSERT_TRUE(out.isOk());
  ASSERT_EQ(*out, 3);
  auto& learner = open("learner");
  populate(learner);  // zxids 1..24 of another history
  size_t position = 0;
  ASSERT_TRUE(learner.loadSnapshot(3, sourceOf(stream, position)).isOk());
  EXPECT_EQ(learner.lastLoggedZxid(), 3);
  const TreeImage loaded = imageOf(learner);
  EXPECT_EQ(loaded, imageOf(leader));
  ASSERT_TRUE(commit(learner, txns::create(4, "/next", std::string("n"), 4)).isOk());
  std::vector<sdk::Zxid> seen;
  ASSERT_TRUE(learner.readLog(3, [&](const sdk::TxnEntry& txn) {
                seen.push_back(txn.header.zxid);
                return true;
              }).isOk());
  EXPECT_EQ(seen, std::vector<sdk::Zxid>{4});
  const TreeImage next = imageOf(learner);
  close(learner);
  auto& restarted = open("learner");
  EXPECT_EQ(imageOf(restarted), next);
  sdk::NodeRead node;
  EXPECT_EQ(restarted.read("/n/10", sdk::NodeRead::kStat, node), sdk::Code::kNoNode) << "old history came back";
  EXPECT_EQ(restarted.lastLoggedZxid(), 4);
}

TEST_P(StorageConformance, FuzzySnapshotOutThenInWhileApplying) {
  auto& leader = open("leader");
  sdk::Zxid zxid = 0;
  zxid = populate(leader, zxid);
  std::vector<sdk::TxnEntry> bulk;
  for (int i = 0; i < 20000; ++i) {
    bulk.push_back(txns::create(++zxid, "/bulk" + std::to_string(i), std::string(20, 'b'), 4 + i));
  }
  commitMany(leader, bulk);
  // Writes go on while the snapshot streams (creates, sets, deletes of nodes the walk may or
  // may not have passed); every one of them is then replayed on the loaded copy.
  std::vector<sdk::TxnEntry> during;
  std::atomic<bool> streaming{true};
  std::atomic<int> committed{0};
  std::thread writer([&] {
    sdk::Zxid z = zxid;
    int i = 0;
    while ((streaming.load() || i < 200) && i < 19000) {
      std::vector<sdk::TxnEntry> batch;
      // Each late node has an ACL of its own (a key the stream's ACL map cannot list yet) and a
      // parent the walk may not have reached yet (/bulk<k>, k = 1 mod 3: set, never deleted).
      const sdk::AclList own{{31, {"digest", "u" + std::to_string(i) + ":2Y/8jEXfahf2rSpjp7sAS4yqj1o="}}};
      if (i % 3 == 0) {
        batch.push_back(txns::create(++z, "/bulk" + std::to_string(19999 - i) + "/late", std::string("l"), 1, 0, own));
      }
      if (i % 3 == 1) batch.push_back(txns::setData(++z, "/bulk" + std::to_string(i), "changed", 1));
      if (i % 3 == 2) batch.push_back(txns::remove(++z, "/bulk" + std::to_string(i)));
      for (auto& txn : batch) {
        EXPECT_TRUE(commit(leader, txn).isOk());
        during.push_back(std::move(txn));
        ++committed;
      }
      ++i;
    }
  });
  std::string stream;
  int pieces = 0;
  auto zxid_out = leader.writeSnapshot([&](std::string_view bytes) {
    stream.append(bytes);
    // Let at least one write land between pieces, so the stream is really fuzzy.
    const int seen = committed.load();
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (committed.load() == seen && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    ++pieces;
    return sdk::Status::ok();
  });
  streaming = false;
  writer.join();
  ASSERT_TRUE(zxid_out.isOk()) << zxid_out.status().toString();
  EXPECT_GE(pieces, 2) << "a 20000-node tree should stream in several pieces";
  EXPECT_GT(std::count_if(during.begin(), during.end(), [&](const auto& t) { return t.header.zxid > *zxid_out; }), 0);
  stream += "BenWasHere";  // what follows the body in a SNAP: must not be consumed

  auto& learner = open("learner");
  size_t position = 0;
  ASSERT_TRUE(learner.loadSnapshot(*zxid_out, sourceOf(stream, position)).isOk());
  EXPECT_EQ(stream.substr(position), "BenWasHere") << "the load read past the body";
  EXPECT_EQ(learner.stats().last_applied_zxid, *zxid_out);
  for (const auto& txn : during) {
    if (txn.header.zxid <= *zxid_out) continue;
    ASSERT_TRUE(commit(learner, txn, nullptr, sdk::ApplyMode::kReplay).isOk()) << txn.header.zxid;
  }
  EXPECT_EQ(imageOf(learner), imageOf(leader));
  EXPECT_EQ(learner.stats().node_count, leader.stats().node_count);
  const TreeImage loaded = imageOf(learner);
  close(learner);
  auto& restarted = open("learner");
  EXPECT_EQ(imageOf(restarted), loaded) << "a loaded snapshot is durable";
}

TEST_P(StorageConformance, ReplayModeToleratesWhatASnapshotHolds) {
  auto& storage = open();
  sdk::Zxid zxid = populate(storage);
  const auto again = txns::create(5, "/n/0", std::string(30, 'x'), 1);
  std::vector<sdk::OpOutcome> outcomes;
  EXPECT_FALSE(storage.apply(again, sdk::ApplyMode::kLive, outcomes).isOk()) << "a live create of an existing node is a divergence";
  EXPECT_TRUE(storage.apply(txns::create(++zxid, "/n/0", std::string(30, 'x'), 30), sdk::ApplyMode::kReplay, outcomes).isOk());
  sdk::NodeRead node;
  ASSERT_EQ(storage.read("/n", sdk::NodeRead::kStat, node), sdk::Code::kOk);
  EXPECT_EQ(node.stored_cversion, 30) << "a replayed create meeting its node still advances the parent's cversion";
  EXPECT_EQ(node.stat.pzxid, zxid);
  EXPECT_TRUE(storage.apply(txns::remove(++zxid, "/gone"), sdk::ApplyMode::kReplay, outcomes).isOk());
}

TEST_P(StorageConformance, GarbageSnapshotStreamIsAnErrorNotACrash) {
  auto& storage = open();
  populate(storage);
  std::mt19937 random(7);
  for (int round = 0; round < 50; ++round) {
    std::string garbage(random() % 200, '\0');
    for (auto& c : garbage) c = static_cast<char>(random());
    if (round % 2 == 0 && garbage.size() >= 8) garbage.replace(0, 8, std::string("\0\0\0\0\x7f\xff\xff\xff", 8));
    size_t position = 0;
    const sdk::Status st = storage.loadSnapshot(100, sourceOf(garbage, position));
    EXPECT_FALSE(st.isOk()) << "round " << round;
  }
  // The state is empty (no history claimed) and usable: a fresh history applies.
  EXPECT_EQ(storage.lastLoggedZxid(), 0);
  EXPECT_EQ(storage.stats().last_applied_zxid, 0);
  sdk::NodeRead node;
  EXPECT_EQ(storage.read("/a", sdk::NodeRead::kStat, node), sdk::Code::kNoNode) << "the old tree is gone";
  EXPECT_TRUE(commit(storage, txns::create(1, "/after", std::string("ok"), 1)).isOk());
}

// A fuzzy snapshot may hold a node whose ACL key its ACL map lacks (created with a new ACL
// after the map was written): it loads, and the replayed create gives the node its ACL.
TEST_P(StorageConformance, FuzzySnapshotNodeWithAnAclKeyTheMapLacks) {
  std::string body;
  sdk::JuteWriter w(body);
  w.writeInt(0);  // sessions
  w.writeInt(1);  // ACL map: key 1 = world:anyone
  w.writeLong(1);
  sdk::encode(w, txns::openAcl());
  auto node = [&](std::string_view path, int64_t acl_key, sdk::Zxid czxid) {
    w.writeString(path);
    w.writeBuffer("d");
    w.writeLong(acl_key);
    sdk::StatPersisted stat;
    stat.czxid = stat.mzxid = stat.pzxid = czxid;
    sdk::encode(w, stat);
  };
  node("", 1, 0);
  node("/x", 7, 101);  // key 7: not in the map
  w.writeString("/");
  auto& storage = open();
  size_t position = 0;
  ASSERT_TRUE(storage.loadSnapshot(100, sourceOf(body, position)).isOk());
  EXPECT_EQ(position, body.size());
  const sdk::AclList digest{{31, {"digest", "u:2Y/8jEXfahf2rSpjp7sAS4yqj1o="}}};
  ASSERT_TRUE(commit(storage, txns::create(101, "/x", std::string("d"), 1, 0, digest), nullptr,
                     sdk::ApplyMode::kReplay).isOk());
  sdk::NodeRead read;
  ASSERT_EQ(storage.read("/x", sdk::NodeRead::kAcl | sdk::NodeRead::kStat, read), sdk::Code::kOk);
  EXPECT_EQ(read.acl, digest);
}

// ---- Apache ZooKeeper 3.8's fuzzy snapshot (the golden set) -----------------------------------

struct GoldenTree {
  nlohmann::json doc;
  TreeImage nodes;
};

inline GoldenTree loadGolden(const std::filesystem::path& dir) {
  GoldenTree golden;
  std::ifstream in(dir / "expected.json");
  golden.doc = nlohmann::json::parse(in);
  std::vector<sdk::AclList> acls;
  for (const auto& list : golden.doc["acl_lists"]) {
    sdk::AclList acl;
    for (const auto& entry : list) acl.push_back({entry[0].get<int32_t>(), {entry[1].get<std::string>(), entry[2].get<std::string>()}});
    acls.push_back(acl);
  }
  auto unhex = [](const std::string& hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
  };
  for (const auto& node : golden.doc["nodes"]) {
    NodeImage image;
    if (!node[1].is_null()) image.data = unhex(node[1].get<std::string>());
    image.stat.czxid = node[2].get<int64_t>();
    image.stat.mzxid = node[3].get<int64_t>();
    image.stat.ctime = node[4].get<int64_t>();
    image.stat.mtime = node[5].get<int64_t>();
    image.stat.version = node[6].get<int32_t>();
    image.stat.cversion = node[7].get<int32_t>();
    image.stat.aversion = node[8].get<int32_t>();
    image.stat.ephemeral_owner = node[9].get<int64_t>();
    image.stat.data_length = node[10].get<int32_t>();
    image.stat.num_children = node[11].get<int32_t>();
    image.stat.pzxid = node[12].get<int64_t>();
    image.acl = acls.at(node[13].get<size_t>());
    golden.nodes[node[0].get<std::string>()] = image;
  }
  return golden;
}

inline void expectSameTree(const TreeImage& got, const TreeImage& expected) {
  EXPECT_EQ(got.size(), expected.size());
  int reported = 0;
  for (const auto& [path, node] : expected) {
    auto it = got.find(path);
    if (it == got.end()) {
      if (++reported <= 10) ADD_FAILURE() << "missing " << path;
      continue;
    }
    if (!(it->second == node) && ++reported <= 10) {
      ADD_FAILURE() << path << ": czxid " << it->second.stat.czxid << "/" << node.stat.czxid << " mzxid "
                    << it->second.stat.mzxid << "/" << node.stat.mzxid << " pzxid " << it->second.stat.pzxid << "/"
                    << node.stat.pzxid << " cversion " << it->second.stat.cversion << "/" << node.stat.cversion
                    << " version " << it->second.stat.version << "/" << node.stat.version << " children "
                    << it->second.stat.num_children << "/" << node.stat.num_children;
    }
  }
}

TEST_P(StorageConformance, RecoversZooKeepersFuzzySnapshotDataDir) {
  if (GetParam().zk38_fuzzy_dir.empty()) GTEST_SKIP() << "no golden set given";
  const std::filesystem::path golden_dir = GetParam().zk38_fuzzy_dir;
  const GoldenTree golden = loadGolden(golden_dir);
  std::filesystem::create_directories(root_ / "data");
  std::filesystem::copy(golden_dir / "version-2", root_ / "data" / "version-2");
  auto& storage = open();
  expectSameTree(imageOf(storage), golden.nodes);
  EXPECT_EQ(storage.stats().last_applied_zxid, golden.doc["last_zxid"].get<int64_t>());
  EXPECT_EQ(storage.ephemeralsOf(golden.doc["live_session_id"].get<int64_t>()).size(),
            static_cast<size_t>(std::count_if(golden.nodes.begin(), golden.nodes.end(), [&](const auto& n) {
              return n.second.stat.ephemeral_owner == golden.doc["live_session_id"].get<int64_t>();
            })));
}

TEST_P(StorageConformance, LoadsZooKeepersFuzzySnapshotAsAStream) {
  if (GetParam().zk38_fuzzy_dir.empty()) GTEST_SKIP() << "no golden set given";
  const std::filesystem::path golden_dir = GetParam().zk38_fuzzy_dir;
  const GoldenTree golden = loadGolden(golden_dir);
  // The SNAP payload is the snapshot file's body: drop the 16-byte FileHeader.
  std::ifstream in(golden_dir / "version-2" / golden.doc["snapshot_file"].get<std::string>(), std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string body = file.substr(16);
  auto& storage = open();
  size_t position = 0;
  const sdk::Zxid zxid = golden.doc["snapshot_name_zxid"].get<int64_t>();
  ASSERT_TRUE(storage.loadSnapshot(zxid, sourceOf(body, position)).isOk());
  // The leader then sends every txn after the SNAP zxid: take them from ZooKeeper's logs,
  // through a second storage that recovers the golden data dir.
  std::filesystem::create_directories(root_ / "zk");
  std::filesystem::copy(golden_dir / "version-2", root_ / "zk" / "version-2");
  auto& zk = open("zk");
  std::vector<sdk::TxnEntry> after;
  ASSERT_TRUE(zk.readLog(zxid, [&](const sdk::TxnEntry& txn) {
                after.push_back(txn);
                return true;
              }).isOk());
  EXPECT_EQ(after.size(), static_cast<size_t>(golden.doc["last_zxid"].get<int64_t>() - zxid));
  for (const auto& txn : after) {
    ASSERT_TRUE(commit(storage, txn, nullptr, sdk::ApplyMode::kReplay).isOk()) << txn.header.zxid;
  }
  expectSameTree(imageOf(storage), golden.nodes);
}

}  // namespace corral::testing

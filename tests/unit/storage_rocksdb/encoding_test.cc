// storage.rocksdb's keys and values (encoding.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "encoding.h"

namespace corral::plugins::rocks {
namespace {

TEST(RocksEncoding, KeyOrderPutsParentsBeforeChildrenAndChildrenInOneRange) {
  const std::vector<std::string> paths = {"/", "/a", "/a-b", "/a/b", "/a/b/c", "/a/c", "/ab", "/b", "/a/b-c/d"};
  std::vector<std::string> keys;
  for (const auto& path : paths) keys.push_back(nodeKey(path));
  std::sort(keys.begin(), keys.end());
  // Every parent's key sorts before its children's.
  for (const auto& path : paths) {
    if (path == "/") continue;
    const auto parent = path.substr(0, std::max<size_t>(1, path.rfind('/')));
    EXPECT_LT(nodeKey(parent), nodeKey(path)) << path;
  }
  // The children of /a are exactly the keys with /a's child prefix.
  std::vector<std::string> children;
  const auto prefix = childPrefix("/a");
  for (const auto& key : keys) {
    if (key.starts_with(prefix)) children.emplace_back(pathOfNodeKey(key));
  }
  EXPECT_EQ(children, (std::vector<std::string>{"/a/b", "/a/c"}));
  EXPECT_TRUE(nodeKey("/a").starts_with(childPrefix("/")));
  EXPECT_EQ(pathOfNodeKey(nodeKey("/")), "/");
}

TEST(RocksEncoding, NodeValuesRoundTripAndRejectGarbage) {
  NodeValue node;
  node.stat = {1, 2, 3, 4, 5, 6, 7, 0x1234, 9};
  node.acl_key = 42;
  node.num_children = 3;
  node.assignData(std::string_view("payload\0with nul", 16));
  NodeValue back;
  ASSERT_TRUE(decodeNode(encodeNode(node), back));
  EXPECT_EQ(back.stat, node.stat);
  EXPECT_EQ(back.data, node.data);
  EXPECT_EQ(back.data_length, 16);
  EXPECT_EQ(back.num_children, 3);
  NodeValue without;
  ASSERT_TRUE(decodeNode(encodeNode(node), without, false));
  EXPECT_FALSE(without.data.has_value());
  EXPECT_EQ(without.data_length, 16) << "the Stat's dataLength without the bytes";
  node.assignData(std::nullopt);
  ASSERT_TRUE(decodeNode(encodeNode(node), back));
  EXPECT_FALSE(back.data.has_value()) << "null data stays null";
  const std::string bytes = encodeNode(node);
  EXPECT_FALSE(decodeNode(bytes.substr(0, bytes.size() - 1), back));
  EXPECT_FALSE(decodeNode(bytes + "x", back));
  EXPECT_FALSE(decodeNode("", back));
  EXPECT_FALSE(decodeNode(std::string(200, '\xff'), back));
}

TEST(RocksEncoding, ExposedCversionWrapsAsJavasInt) {
  NodeValue node;
  node.stat.cversion = 0x7fffffff;
  node.num_children = 1;
  EXPECT_EQ(exposedStat(node).cversion, static_cast<int32_t>(0xfffffffdu));
}

TEST(RocksEncoding, UndoRecordsRoundTrip) {
  UndoRecord record;
  record.counters = {10, 2, 300};
  record.entries.push_back({Cf::kNodes, nodeKey("/x"), std::nullopt});
  record.entries.push_back({Cf::kSessions, be64Key(7), std::string("\0\0\0\x10", 4)});
  UndoRecord back;
  ASSERT_TRUE(decodeUndo(encodeUndo(record), back));
  EXPECT_EQ(back.counters, record.counters);
  ASSERT_EQ(back.entries.size(), 2u);
  EXPECT_EQ(back.entries[0].key, record.entries[0].key);
  EXPECT_FALSE(back.entries[0].old_value.has_value());
  EXPECT_EQ(back.entries[1].old_value, record.entries[1].old_value);
  const std::string bytes = encodeUndo(record);
  EXPECT_FALSE(decodeUndo(bytes.substr(0, bytes.size() - 2), back));
}

TEST(RocksEncoding, JavaLengthCountsUtf16Units) {
  EXPECT_EQ(javaLength("/abc"), 4);
  EXPECT_EQ(javaLength("/\xc3\xa9"), 2);          // é: one unit
  EXPECT_EQ(javaLength("/\xf0\x9f\x98\x80"), 3);  // an emoji: a surrogate pair
  EXPECT_EQ(nodeSize("/", 5), 6) << "the root counts as \"/\"";
}

}  // namespace
}  // namespace corral::plugins::rocks

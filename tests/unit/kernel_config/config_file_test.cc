// zoo.cfg syntax: java.util.Properties as ZooKeeper loads it.
#include "kernel/config/config_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace corral::kernel::config {
namespace {

ConfigFile parse(std::string_view text) {
  auto file = parseConfigText(text, "t.cfg");
  EXPECT_TRUE(file.isOk()) << file.status().toString();
  return file.value();
}

TEST(ConfigFile, SeparatorsAndTrimming) {
  auto file = parse("a=1\nb = 2\nc:3\nd : 4\ne 5\n  f\t=\t6  \ng   7\n");
  ASSERT_EQ(file.entries.size(), 7u);
  const char* keys[] = {"a", "b", "c", "d", "e", "f", "g"};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(file.entries[i].key, keys[i]);
    EXPECT_EQ(file.entries[i].value, std::to_string(i + 1));
    EXPECT_EQ(file.entries[i].line, i + 1);
  }
}

TEST(ConfigFile, OnlyFirstSeparatorCounts) {
  auto file = parse("server.1=zk1:2888:3888\nk = =v\nurl=http://x:1/a=b\nk2 : :v\n");
  EXPECT_EQ(file.entries[0].value, "zk1:2888:3888");
  EXPECT_EQ(file.entries[1].value, "=v");  // blanks then '=' is the separator, then "=v"
  EXPECT_EQ(file.entries[2].value, "http://x:1/a=b");
  EXPECT_EQ(file.entries[3].value, ":v");
}

TEST(ConfigFile, CommentsAndBlankLines) {
  auto file = parse("# c\n! also\n\n   \n  # indented\nk=v # not a comment\n");
  ASSERT_EQ(file.entries.size(), 1u);
  EXPECT_EQ(file.entries[0].value, "v # not a comment");
  EXPECT_EQ(file.entries[0].line, 6);
}

TEST(ConfigFile, KeyWithoutValue) {
  auto file = parse("lonely\nempty=\n");
  ASSERT_EQ(file.entries.size(), 2u);
  EXPECT_EQ(file.entries[0].key, "lonely");
  EXPECT_EQ(file.entries[0].value, "");
  EXPECT_EQ(file.entries[1].value, "");
}

TEST(ConfigFile, Continuations) {
  auto file = parse("list=a,\\\n    b,\\\n\tc\nnext=1\n");
  ASSERT_EQ(file.entries.size(), 2u);
  EXPECT_EQ(file.entries[0].value, "a,b,c");
  EXPECT_EQ(file.entries[0].line, 1);
  EXPECT_EQ(file.entries[1].line, 4);
}

TEST(ConfigFile, EvenBackslashesDoNotContinue) {
  auto file = parse("dir=C:\\\\\nnext=1\n");
  ASSERT_EQ(file.entries.size(), 2u);
  EXPECT_EQ(file.entries[0].value, "C:\\");
}

TEST(ConfigFile, CommentLinesNeverContinue) {
  auto file = parse("# comment \\\nk=v\n");
  ASSERT_EQ(file.entries.size(), 1u);
  EXPECT_EQ(file.entries[0].key, "k");
}

TEST(ConfigFile, ContinuationAtEndOfFile) {
  auto file = parse("k=v\\");
  ASSERT_EQ(file.entries.size(), 1u);
  EXPECT_EQ(file.entries[0].value, "v");
}

TEST(ConfigFile, ContinuedLineIsNotAComment) {
  auto file = parse("k=a\\\n#b\n");
  ASSERT_EQ(file.entries.size(), 1u);
  EXPECT_EQ(file.entries[0].value, "a#b");
}

TEST(ConfigFile, Escapes) {
  auto file = parse("a\\ b=c\\:d\nt=x\\ty\nu=\\u00e9\\u0041\npath=C:\\zk\n");
  EXPECT_EQ(file.entries[0].key, "a b");
  EXPECT_EQ(file.entries[0].value, "c:d");
  EXPECT_EQ(file.entries[1].value, "x\ty");
  EXPECT_EQ(file.entries[2].value, "\xc3\xa9" "A");
  EXPECT_EQ(file.entries[3].value, "C:zk");  // as in Java: a backslash escapes 'z'
}

TEST(ConfigFile, EscapedSeparatorInKey) {
  auto file = parse("a\\=b=c\n");
  EXPECT_EQ(file.entries[0].key, "a=b");
  EXPECT_EQ(file.entries[0].value, "c");
}

TEST(ConfigFile, MalformedUnicodeEscape) {
  auto file = parseConfigText("\n\nk=\\u12g4\n", "bad.cfg");
  ASSERT_FALSE(file.isOk());
  EXPECT_EQ(file.status().code(), sdk::Code::kInvalidConfig);
  EXPECT_EQ(file.status().message(), "bad.cfg:3: malformed \\uxxxx escape");
  EXPECT_FALSE(parseConfigText("k=\\u12", "x").isOk());
}

TEST(ConfigFile, LineEndings) {
  auto file = parse("a=1\r\nb=2\rc=3\n\r\nd=4");
  ASSERT_EQ(file.entries.size(), 4u);
  EXPECT_EQ(file.entries[1].value, "2");
  EXPECT_EQ(file.entries[2].line, 3);
  EXPECT_EQ(file.entries[3].line, 5);
  EXPECT_EQ(file.entries[3].value, "4");
}

TEST(ConfigFile, DuplicatesAreKeptInOrder) {
  auto file = parse("k=1\nk=2\n");
  ASSERT_EQ(file.entries.size(), 2u);
  EXPECT_EQ(file.entries[1].value, "2");
}

TEST(ConfigFile, ReadsFiles) {
  std::string path = ::testing::TempDir() + "/corral_config_file_test.cfg";
  {
    std::ofstream out(path);
    out << "tickTime=2000\n";
  }
  auto file = parseConfigFile(path);
  ASSERT_TRUE(file.isOk());
  EXPECT_EQ(file->name, path);
  EXPECT_EQ(file->entries.at(0).value, "2000");
  std::remove(path.c_str());

  auto missing = parseConfigFile("/nonexistent/zoo.cfg");
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().code(), sdk::Code::kIoError);
  EXPECT_EQ(missing.status().message(),
            "/nonexistent/zoo.cfg: cannot read config file: No such file or directory");
}

}  // namespace
}  // namespace corral::kernel::config

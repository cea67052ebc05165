// PathUtils.validatePath rules (client-protocol.md §12) and the path helpers.
#include "corral/path.h"

#include <gtest/gtest.h>

#include <string>

namespace corral::sdk {
namespace {

bool valid(std::string_view p) { return validatePath(p).isOk(); }
bool validSeq(std::string_view p) { return validatePath(p, true).isOk(); }

TEST(ValidatePath, BasicShapes) {
  EXPECT_TRUE(valid("/"));
  EXPECT_TRUE(valid("/a"));
  EXPECT_TRUE(valid("/a/b/c"));
  EXPECT_TRUE(valid("/zookeeper/quota"));
  EXPECT_FALSE(valid(""));
  EXPECT_FALSE(valid("a"));
  EXPECT_FALSE(valid("a/b"));
  EXPECT_FALSE(valid("/a/"));
  EXPECT_FALSE(valid("//a"));
  EXPECT_FALSE(valid("/a//b"));
  EXPECT_FALSE(valid("//"));
}

TEST(ValidatePath, Messages) {
  EXPECT_EQ(validatePath("").message(), "Path length must be > 0");
  EXPECT_EQ(validatePath("a").message(), "Path must start with / character");
  EXPECT_EQ(validatePath("/a/").message(), "Path must not end with / character");
  Status s = validatePath("/a//b");
  EXPECT_EQ(s.code(), Code::kBadArguments);
  EXPECT_EQ(s.message(), "Invalid path string \"/a//b\" caused by empty node name specified @3");
  EXPECT_EQ(validatePath("/a/./b").message(),
            "Invalid path string \"/a/./b\" caused by relative paths not allowed @3");
  EXPECT_EQ(validatePath("/a/..").message(),
            "Invalid path string \"/a/..\" caused by relative paths not allowed @4");
  EXPECT_EQ(validatePath(std::string_view("/a\0b", 4)).message(),
            "Invalid path string \"/a" + std::string(1, '\0') +
                "b\" caused by null character not allowed @2");
  EXPECT_EQ(validatePath("/a\x01").message(),
            "Invalid path string \"/a\x01\" caused by invalid character @2");
  // The index counts UTF-16 units: "é" is one unit although it is two bytes.
  EXPECT_EQ(validatePath("/\xC3\xA9\x01").message(),
            "Invalid path string \"/\xC3\xA9\x01\" caused by invalid character @2");
  EXPECT_EQ(validatePath("/").code(), Code::kOk);
}

TEST(ValidatePath, DotSegments) {
  EXPECT_FALSE(valid("/."));
  EXPECT_FALSE(valid("/.."));
  EXPECT_FALSE(valid("/a/."));
  EXPECT_FALSE(valid("/a/.."));
  EXPECT_FALSE(valid("/a/./b"));
  EXPECT_FALSE(valid("/a/../b"));
  EXPECT_TRUE(valid("/.a"));
  EXPECT_TRUE(valid("/..a"));
  EXPECT_TRUE(valid("/a."));
  EXPECT_TRUE(valid("/a.."));
  EXPECT_TRUE(valid("/..."));
  EXPECT_TRUE(valid("/a/.b/c"));
  EXPECT_TRUE(valid("/a/b../c"));
}

// U+0001, U+001F, tab, U+007F, U+0080, U+009F, U+E000, U+F8FF, U+FFF0, U+1F600 rejected;
// U+00A0, U+D7FF, U+F900, U+FFEF, space accepted; invalid UTF-8 (0xFF) rejected.
TEST(ValidatePath, Characters) {
  EXPECT_FALSE(valid(std::string_view("/a\0", 3)));
  EXPECT_FALSE(valid("/\x01"));
  EXPECT_FALSE(valid("/\x1F"));
  EXPECT_FALSE(valid("/a\tb"));
  EXPECT_FALSE(valid("/\x7F"));
  EXPECT_FALSE(valid("/\xC2\x80"));          // U+0080
  EXPECT_FALSE(valid("/\xC2\x9F"));          // U+009F
  EXPECT_FALSE(valid("/\xEE\x80\x80"));      // U+E000
  EXPECT_FALSE(valid("/\xEF\xA3\xBF"));      // U+F8FF
  EXPECT_FALSE(valid("/\xEF\xBF\xB0"));      // U+FFF0
  EXPECT_FALSE(valid("/\xEF\xBF\xBF"));      // U+FFFF
  EXPECT_FALSE(valid("/\xF0\x9F\x98\x80"));  // U+1F600 (surrogate pair in UTF-16)
  EXPECT_FALSE(valid("/\xED\xA0\xBD\xED\xB8\x80"));  // CESU-8 surrogate pair
  EXPECT_FALSE(valid("/\xFF"));              // invalid byte -> U+FFFD
  EXPECT_FALSE(valid("/a\xC3"));             // truncated sequence
  EXPECT_FALSE(valid("/\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(valid("/\x80"));              // stray continuation byte
  EXPECT_TRUE(valid("/\xC2\xA0"));           // U+00A0
  EXPECT_TRUE(valid("/\xED\x9F\xBF"));       // U+D7FF
  EXPECT_TRUE(valid("/\xEF\xA4\x80"));       // U+F900
  EXPECT_TRUE(valid("/\xEF\xBF\xAF"));       // U+FFEF
  EXPECT_TRUE(valid("/a b"));
  EXPECT_TRUE(valid("/\xC3\xA9t\xC3\xA9"));  // "été"
  EXPECT_TRUE(valid("/~!@#$%^&*()_+-=[]{};':\",<>?|\\"));
}

TEST(ValidatePath, SequentialAppendsOne) {
  EXPECT_TRUE(validSeq("/a/"));
  EXPECT_TRUE(validSeq("/a/."));
  EXPECT_TRUE(validSeq("/a/.."));
  EXPECT_TRUE(validSeq("/a/s-"));
  EXPECT_TRUE(validSeq("/"));  // "/1"
  EXPECT_FALSE(validSeq("/a//"));
  EXPECT_FALSE(validSeq("a"));
  EXPECT_FALSE(validSeq(""));  // "1"
  EXPECT_TRUE(validateSequentialPath("/x/").isOk());
  EXPECT_EQ(validatePath("/a//", true).message(),
            "Invalid path string \"/a//1\" caused by empty node name specified @3");
  EXPECT_FALSE(validatePath("/a/", false).isOk());
}

TEST(PathHelpers, ParentAndLastSegment) {
  EXPECT_EQ(parentOf("/a/b"), "/a");
  EXPECT_EQ(parentOf("/a"), "/");
  EXPECT_EQ(parentOf("/a/b/c"), "/a/b");
  EXPECT_EQ(parentOf("/"), "");
  EXPECT_EQ(lastSegment("/a/b"), "b");
  EXPECT_EQ(lastSegment("/a"), "a");
  EXPECT_EQ(lastSegment("/"), "");
  static_assert(parentOf("/x/y") == "/x");
  static_assert(lastSegment("/x/y") == "y");
}

TEST(PathHelpers, Reserved) {
  EXPECT_TRUE(isReservedPath("/"));
  EXPECT_TRUE(isReservedPath("/zookeeper"));
  EXPECT_TRUE(isReservedPath("/zookeeper/quota"));
  EXPECT_TRUE(isReservedPath("/zookeeper/config"));
  EXPECT_FALSE(isReservedPath("/zookeeper/x"));
  EXPECT_FALSE(isReservedPath("/zoo"));
  EXPECT_FALSE(isReservedPath(""));
}

TEST(PathHelpers, SequentialSuffixLikeJavaFormat) {
  EXPECT_EQ(sequentialSuffix(0), "0000000000");
  EXPECT_EQ(sequentialSuffix(5), "0000000005");
  EXPECT_EQ(sequentialSuffix(1234567890), "1234567890");
  EXPECT_EQ(sequentialSuffix(2147483647), "2147483647");
  EXPECT_EQ(sequentialSuffix(-5), "-000000005");  // String.format("%010d", -5), verified on 3.8.0
  EXPECT_EQ(sequentialSuffix(-1), "-000000001");
  EXPECT_EQ(sequentialSuffix(-123456789), "-123456789");
  EXPECT_EQ(sequentialSuffix(-1234567890), "-1234567890");
  EXPECT_EQ(sequentialSuffix(INT32_MIN), "-2147483648");
  EXPECT_EQ(sequentialPath("/a/s-", 3), "/a/s-0000000003");
  EXPECT_EQ(sequentialPath("/a/", 2), "/a/0000000002");
}

}  // namespace
}  // namespace corral::sdk

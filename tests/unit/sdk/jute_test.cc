// JuteWriter / JuteReader: primitive encodings, framing, bounds checks and sticky failure.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "corral/jute.h"
#include "test_util.h"

namespace corral::sdk {
namespace {

using testing::hex;
using testing::unhex;

TEST(JuteWriter, PrimitivesAreBigEndian) {
  std::string out;
  JuteWriter w(out);
  w.writeByte(-2);
  w.writeBool(true);
  w.writeBool(false);
  w.writeInt(0x01020304);
  w.writeInt(-1);
  w.writeLong(0x0102030405060708LL);
  w.writeLong(INT64_MIN);
  EXPECT_EQ(hex(out), "fe0100" "01020304" "ffffffff" "0102030405060708" "8000000000000000");
}

TEST(JuteWriter, StringsBuffersAndNulls) {
  std::string out;
  JuteWriter w(out);
  w.writeString("ab");
  w.writeBuffer("");
  w.writeOptionalString(std::nullopt);
  w.writeOptionalBuffer(std::string("\x00\x01", 2));
  w.writeNull();
  EXPECT_EQ(hex(out), "000000026162" "00000000" "ffffffff" "000000020001" "ffffffff");
}

TEST(JuteWriter, Vectors) {
  std::string out;
  JuteWriter w(out);
  w.writeStringVector({"a", "bc"});
  w.writeVector(std::vector<int32_t>{7, 8}, [](JuteWriter& jw, int32_t v) { jw.writeInt(v); });
  w.writeStringVector({});
  EXPECT_EQ(hex(out), "00000002" "0000000161" "000000026263" "00000002" "00000007" "00000008" "00000000");
}

TEST(JuteWriter, FramesArePatchedAndNest) {
  std::string out = "xx";  // frames can start anywhere in an existing buffer
  JuteWriter w(out);
  size_t outer = w.beginFrame();
  w.writeInt(1);
  size_t inner = w.beginFrame();
  w.writeString("abc");
  w.endFrame(inner);
  w.endFrame(outer);
  EXPECT_EQ(hex(out), "7878" "0000000f" "00000001" "00000007" "00000003616263");
  size_t empty = w.beginFrame();
  w.endFrame(empty);
  EXPECT_EQ(hex(out).substr(hex(out).size() - 8), "00000000");
}

TEST(JuteReader, ReadsWhatWriterWrote) {
  std::string out;
  JuteWriter w(out);
  w.writeByte(-5);
  w.writeBool(true);
  w.writeInt(-123456);
  w.writeLong(0x7fffffffffffffffLL);
  w.writeString("hello");
  w.writeOptionalBuffer(std::nullopt);
  w.writeOptionalBuffer(std::string());
  w.writeStringVector({"x", "", "yz"});

  JuteReader r(out);
  EXPECT_EQ(r.readByte(), -5);
  EXPECT_TRUE(r.readBool());
  EXPECT_EQ(r.readInt(), -123456);
  EXPECT_EQ(r.readLong(), 0x7fffffffffffffffLL);
  EXPECT_EQ(r.readString(), "hello");
  EXPECT_EQ(r.readOptionalBuffer(), std::nullopt);
  EXPECT_EQ(r.readOptionalBuffer(), std::optional<std::string>(""));
  std::vector<std::string> v;
  bool is_null = true;
  EXPECT_TRUE(r.readStringVector(v, &is_null));
  EXPECT_FALSE(is_null);
  EXPECT_EQ(v, (std::vector<std::string>{"x", "", "yz"}));
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.atEnd());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(JuteReader, AnyNonZeroByteIsTrue) {
  std::string in = unhex("00 01 02 ff");
  JuteReader r(in);
  EXPECT_FALSE(r.readBool());
  EXPECT_TRUE(r.readBool());
  EXPECT_TRUE(r.readBool());
  EXPECT_TRUE(r.readBool());
  EXPECT_TRUE(r.ok());
}

TEST(JuteReader, NullStringReadsEmptyOrNullopt) {
  std::string in = unhex("ffffffff ffffffff ffffffff");
  JuteReader r(in);
  EXPECT_EQ(r.readString(), "");
  EXPECT_EQ(r.readOptionalString(), std::nullopt);
  bool is_null = false;
  EXPECT_TRUE(r.readBytesView(&is_null).empty());
  EXPECT_TRUE(is_null);
  EXPECT_TRUE(r.ok());
}

TEST(JuteReader, FailureIsSticky) {
  std::string in = unhex("00000001 0000");  // an int, then a truncated int
  JuteReader r(in);
  EXPECT_EQ(r.readInt(), 1);
  EXPECT_EQ(r.readInt(), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.readByte(), 0);
  EXPECT_EQ(r.readLong(), 0);
  EXPECT_EQ(r.readString(), "");
  EXPECT_EQ(r.readOptionalString(), std::nullopt);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(r.rest().empty());
  EXPECT_FALSE(r.ok());
}

TEST(JuteReader, TruncatedPrimitivesFail) {
  for (size_t n = 0; n < 8; ++n) {
    std::string in(n, '\x01');
    JuteReader r(in);
    r.readLong();
    EXPECT_FALSE(r.ok()) << n;
  }
  std::string empty;
  JuteReader r(empty);
  r.readByte();
  EXPECT_FALSE(r.ok());
}

TEST(JuteReader, BadStringLengthsFail) {
  for (const char* bad : {"fffffffe", "80000000", "fffffff9", "00000005 61626364", "7fffffff 00"}) {
    std::string in = unhex(bad);
    JuteReader r(in);
    r.readString();
    EXPECT_FALSE(r.ok()) << bad;
    JuteReader r2(in);
    EXPECT_EQ(r2.readOptionalBuffer(), std::nullopt);
    EXPECT_FALSE(r2.ok()) << bad;
  }
}

TEST(JuteReader, MaxLengthIsEnforced) {
  std::string in;
  JuteWriter w(in);
  w.writeBuffer(std::string(100, 'a'));
  {
    JuteReader r(in, 100);
    EXPECT_EQ(r.readBuffer().size(), 100u);
    EXPECT_TRUE(r.ok());
  }
  {
    JuteReader r(in, 99);
    r.readBuffer();
    EXPECT_FALSE(r.ok());
  }
  // The default limit is jute.maxbuffer + extrasize.
  std::string big;
  JuteWriter bw(big);
  bw.writeBuffer(std::string(kJuteMaxLengthDefault + 1, 'b'));
  JuteReader r(big);
  r.readBuffer();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(JuteReader(big).maxLength(), 2 * 0xfffff);
}

TEST(JuteReader, VectorCounts) {
  {
    std::string in = unhex("ffffffff");
    JuteReader r(in);
    std::vector<std::string> v{"stale"};
    bool is_null = false;
    EXPECT_TRUE(r.readStringVector(v, &is_null));
    EXPECT_TRUE(is_null);
    EXPECT_TRUE(v.empty());
  }
  {
    // BinaryInputArchive treats other negative counts as an empty, non-null vector.
    std::string in = unhex("fffffffb");
    JuteReader r(in);
    std::vector<std::string> v;
    bool is_null = true;
    EXPECT_TRUE(r.readStringVector(v, &is_null));
    EXPECT_FALSE(is_null);
    EXPECT_TRUE(v.empty());
  }
  {
    // A huge count fails before anything is allocated.
    std::string in = unhex("7fffffff 00000000");
    JuteReader r(in);
    std::vector<std::string> v;
    EXPECT_FALSE(r.readStringVector(v));
    EXPECT_TRUE(v.empty());
    EXPECT_FALSE(r.ok());
  }
  {
    // Count fits the byte budget but the elements are short: fails at the element.
    std::string in = unhex("00000002 00000001 61 000000");
    JuteReader r(in);
    std::vector<std::string> v;
    EXPECT_FALSE(r.readStringVector(v));
    EXPECT_TRUE(v.empty());
  }
}

TEST(JuteReader, ViewsPointIntoInput) {
  std::string in = unhex("00000003 616263 ff");
  JuteReader r(in);
  std::string_view v = r.readBytesView();
  EXPECT_EQ(v, "abc");
  EXPECT_EQ(v.data(), in.data() + 4);
  EXPECT_EQ(r.position(), 7u);
  EXPECT_EQ(r.rest(), "\xff");
}

TEST(JuteReader, RandomGarbageNeverCrashes) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    std::string in(rng() % 64, '\0');
    for (char& c : in) c = static_cast<char>(rng());
    // Bias towards interesting length prefixes.
    if (in.size() >= 4 && i % 3 == 0) in[0] = in[1] = in[2] = static_cast<char>(0xff);
    JuteReader r(in, 1 << 20);
    for (int k = 0; k < 8 && r.ok(); ++k) {
      switch (rng() % 6) {
        case 0: r.readInt(); break;
        case 1: r.readLong(); break;
        case 2: r.readString(); break;
        case 3: r.readOptionalBuffer(); break;
        case 4: { std::vector<std::string> v; r.readStringVector(v); break; }
        default: r.readBool(); break;
      }
    }
    EXPECT_LE(r.position(), in.size());
  }
}

}  // namespace
}  // namespace corral::sdk

#include "thrift_settings.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "plugin_harness.h"

namespace corral::plugins::thrift {
namespace {

using corral::testing::MapConfig;

TEST(ThriftSettings, Defaults) {
  auto settings = parseSettings(MapConfig(std::map<std::string, std::string>{}));
  ASSERT_TRUE(settings.isOk());
  EXPECT_FALSE(settings->port.has_value());
  EXPECT_EQ(settings->address, "0.0.0.0");
  EXPECT_EQ(settings->protocol, WireProtocol::kBinary);
  EXPECT_FALSE(settings->secure);
  EXPECT_EQ(settings->max_frame, 1048575);
  EXPECT_EQ(settings->max_connections, 0);
}

TEST(ThriftSettings, KeysAndTheFrameDefaultFollowingJuteMaxbuffer) {
  auto settings = parseSettings(MapConfig({{"thrift.port", "9090"},
                                           {"thrift.address", "127.0.0.1"},
                                           {"thrift.protocol", "compact"},
                                           {"thrift.secure", "true"},
                                           {"thrift.maxConnections", "10"},
                                           {"jute.maxbuffer", "4194304"}}));
  ASSERT_TRUE(settings.isOk()) << settings.status().message();
  EXPECT_EQ(settings->port, 9090);
  EXPECT_EQ(settings->address, "127.0.0.1");
  EXPECT_EQ(settings->protocol, WireProtocol::kCompact);
  EXPECT_TRUE(settings->secure);
  EXPECT_EQ(settings->max_frame, 4194304);
  EXPECT_EQ(settings->max_connections, 10);

  auto explicit_frame = parseSettings(MapConfig(std::map<std::string, std::string>{{"thrift.maxFrameSize", "4096"}, {"jute.maxbuffer", "4194304"}}));
  ASSERT_TRUE(explicit_frame.isOk());
  EXPECT_EQ(explicit_frame->max_frame, 4096);
}

TEST(ThriftSettings, BadValuesNameTheKey) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{{"thrift.port", "0"},
                                                                     {"thrift.port", "70000"},
                                                                     {"thrift.protocol", "json"},
                                                                     {"thrift.secure", "maybe"},
                                                                     {"thrift.maxFrameSize", "10"},
                                                                     {"thrift.maxConnections", "-1"},
                                                                     {"thrift.address", ""}}) {
    auto settings = parseSettings(MapConfig(std::map<std::string, std::string>{{key, value}}));
    ASSERT_FALSE(settings.isOk()) << key << "=" << value;
    EXPECT_EQ(settings.status().code(), sdk::Code::kInvalidConfig);
    EXPECT_NE(settings.status().message().find(key), std::string::npos) << settings.status().message();
    EXPECT_NE(settings.status().message().find("test.cfg"), std::string::npos);
  }
}

}  // namespace
}  // namespace corral::plugins::thrift

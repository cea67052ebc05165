// Settings from zoo.cfg keys, and the 4lw whitelist rules (admin-and-ops.md §1).
#include <gtest/gtest.h>

#include "fake_host.h"
#include "frontend_settings.h"

namespace corral::plugins::jute {
namespace {

using testing::MapConfig;

TEST(FrontendSettings, Defaults) {
  auto settings = parseSettings(MapConfig{});
  ASSERT_TRUE(settings.isOk()) << settings.status().toString();
  EXPECT_FALSE(settings->client_port.has_value());  // no clientPort: no listener
  EXPECT_EQ(settings->client_port_address, "0.0.0.0");
  EXPECT_EQ(settings->max_buffer, 1048575);
  EXPECT_EQ(settings->handshake_timeout_ms, 10000);
  EXPECT_TRUE(settings->whitelist.allows("srvr"));
  EXPECT_FALSE(settings->whitelist.allows("ruok"));
  EXPECT_FALSE(settings->whitelist.allows("isro"));
}

TEST(FrontendSettings, ZooKeeperKeys) {
  auto settings = parseSettings(MapConfig({{"clientPort", "2181"},
                                           {"clientPortAddress", "127.0.0.1"},
                                           {"secureClientPort", "2281"},
                                           {"secureClientPortAddress", "127.0.0.2"},
                                           {"jute.maxbuffer", "4096"},
                                           {"zookeeper.4lw.commands.whitelist", "ruok, stat ,,"},
                                           {"readonlymode.enabled", "true"},
                                           {"zookeeper.nio.sessionlessCnxnTimeout", "250"}}));
  ASSERT_TRUE(settings.isOk()) << settings.status().toString();
  EXPECT_EQ(settings->client_port, 2181);
  EXPECT_EQ(settings->client_port_address, "127.0.0.1");
  EXPECT_EQ(settings->secure_client_port, 2281);
  EXPECT_EQ(settings->secure_client_port_address, "127.0.0.2");
  EXPECT_EQ(settings->max_buffer, 4096);
  EXPECT_TRUE(settings->whitelist.allows("ruok"));
  EXPECT_TRUE(settings->whitelist.allows("stat"));
  EXPECT_TRUE(settings->whitelist.allows("srvr"));  // always
  EXPECT_TRUE(settings->whitelist.allows("isro"));  // readonlymode.enabled
  EXPECT_FALSE(settings->whitelist.allows("conf"));
  EXPECT_EQ(settings->handshake_timeout_ms, 250);
}

TEST(FrontendSettings, ClientPortZeroMeansNone) {
  auto settings = parseSettings(MapConfig({{"clientPort", "0"}}));
  ASSERT_TRUE(settings.isOk());
  EXPECT_FALSE(settings->client_port.has_value());
}

TEST(FrontendSettings, BadValuesNameTheKey) {
  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"clientPort", "65536"}, {"clientPort", "-1"}, {"clientPort", "abc"},
           {"jute.maxbuffer", "0"}, {"secureClientPort", "70000"}}) {
    auto settings = parseSettings(MapConfig({{key, value}}));
    ASSERT_FALSE(settings.isOk()) << key << "=" << value;
    EXPECT_EQ(settings.status().code(), sdk::Code::kInvalidConfig);
    EXPECT_NE(settings.status().message().find(key), std::string::npos) << settings.status().message();
    EXPECT_NE(settings.status().message().find("zoo.cfg:1"), std::string::npos);
  }
  auto address_only = parseSettings(MapConfig({{"clientPortAddress", "127.0.0.1"}}));
  ASSERT_FALSE(address_only.isOk());
  EXPECT_NE(address_only.status().message().find("clientPort is not set"), std::string::npos);
  auto secure_address_only = parseSettings(MapConfig({{"secureClientPortAddress", "127.0.0.1"}}));
  ASSERT_FALSE(secure_address_only.isOk());
  EXPECT_NE(secure_address_only.status().message().find("secureClientPort is not set"),
            std::string::npos);
}

TEST(FourLetterWhitelist, Rules) {
  EXPECT_TRUE(FourLetterWhitelist::parse(std::string("*"), false).allows("telnet close"));
  EXPECT_TRUE(FourLetterWhitelist::parse(std::string("ruok,*"), false).allows("mntr"));
  auto list = FourLetterWhitelist::parse(std::string(" mntr ,conf"), false);
  EXPECT_TRUE(list.allows("mntr"));
  EXPECT_TRUE(list.allows("conf"));
  EXPECT_TRUE(list.allows("srvr"));
  EXPECT_FALSE(list.allows("telnet close"));
  EXPECT_EQ(notWhitelistedText("ruok"), "ruok is not executed because it is not in the whitelist.\n");
}

}  // namespace
}  // namespace corral::plugins::jute

// The kernel's admission settings from zoo.cfg keys: maxClientCnxns, maxCnxns,
// globalOutstandingLimit and the output limits (ssl.* are in tls_test.cc).
#include <gtest/gtest.h>

#include "kernel/admission/admission_settings.h"
#include "test_config.h"

namespace corral::kernel::admission {
namespace {

using testing::MapConfig;

TEST(AdmissionSettings, Defaults) {
  auto settings = parseAdmissionSettings(MapConfig{});
  ASSERT_TRUE(settings.isOk()) << settings.status().toString();
  EXPECT_EQ(settings->max_client_cnxns, 60);
  EXPECT_EQ(settings->max_cnxns, 0);
  EXPECT_EQ(settings->global_outstanding_limit, 1000);
  EXPECT_EQ(settings->output.soft_bytes, 4 * 1024 * 1024);
  EXPECT_EQ(settings->output.hard_bytes, 64 * 1024 * 1024);
  EXPECT_FALSE(settings->tls.has_value());
}

TEST(AdmissionSettings, ZooKeeperKeys) {
  auto settings = parseAdmissionSettings(MapConfig({{"maxClientCnxns", "0"},
                                                    {"zookeeper.maxCnxns", "100"},
                                                    {"globalOutstandingLimit", "5"},
                                                    {"clientOutput.softLimitBytes", "1000"},
                                                    {"clientOutput.hardLimitBytes", "5000"}}));
  ASSERT_TRUE(settings.isOk()) << settings.status().toString();
  EXPECT_EQ(settings->max_client_cnxns, 0);
  EXPECT_EQ(settings->max_cnxns, 100);
  EXPECT_EQ(settings->global_outstanding_limit, 5);
  EXPECT_EQ(settings->output.soft_bytes, 1000);
  EXPECT_EQ(settings->output.hard_bytes, 5000);
}

TEST(AdmissionSettings, HardLimitFollowsALargeJuteMaxbuffer) {
  auto settings = parseAdmissionSettings(MapConfig({{"jute.maxbuffer", "104857600"}}));
  ASSERT_TRUE(settings.isOk()) << settings.status().toString();
  EXPECT_EQ(settings->output.hard_bytes, 4 * 104857600LL);
  EXPECT_EQ(defaultOutputHardLimit(1048575), 64 * 1024 * 1024);
}

TEST(AdmissionSettings, BadValuesNameTheKey) {
  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"maxClientCnxns", "-1"}, {"maxCnxns", "-2"}, {"globalOutstandingLimit", "x"},
           {"clientOutput.softLimitBytes", "0"}, {"clientOutput.hardLimitBytes", "abc"},
           {"secureClientPort", "70000"}}) {
    auto settings = parseAdmissionSettings(MapConfig({{key, value}}));
    ASSERT_FALSE(settings.isOk()) << key << "=" << value;
    EXPECT_EQ(settings.status().code(), sdk::Code::kInvalidConfig);
    EXPECT_NE(settings.status().message().find(key), std::string::npos) << settings.status().message();
    EXPECT_NE(settings.status().message().find("zoo.cfg:1"), std::string::npos);
  }
  auto inverted = parseAdmissionSettings(MapConfig(
      {{"clientOutput.softLimitBytes", "2000"}, {"clientOutput.hardLimitBytes", "1000"}}));
  ASSERT_FALSE(inverted.isOk());
  EXPECT_NE(inverted.status().message().find("must not be smaller than clientOutput.softLimitBytes"),
            std::string::npos)
      << inverted.status().message();
}

}  // namespace
}  // namespace corral::kernel::admission

// dynamicConfigFile: the members read from the file zoo.cfg names (its version from the file
// name), or from a newer copy in dataDir; what ZooKeeper refuses is refused with file:line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "kernel/config/config.h"
#include "kernel/config/ensemble_view.h"

namespace corral::kernel::config {
namespace {

namespace fs = std::filesystem;

class DynamicConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("corral_dynamic_" + std::to_string(::getpid()) + "_" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
    std::ofstream(dir_ / "data" / "myid") << "2";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  std::string staticPart() const {
    return "tickTime=2000\ninitLimit=10\nsyncLimit=5\nreconfigEnabled=true\ndataDir=" + (dir_ / "data").string() +
           "\n";
  }
  fs::path dir_;
};

TEST_F(DynamicConfigTest, MembersAndVersionComeFromTheNamedFile) {
  const auto dynamic = write("zoo.cfg.dynamic.100000003",
                             "server.1=127.0.0.2:2888:3888:participant;127.0.0.2:2181\n"
                             "server.2=127.0.0.3:2888:3888:participant;127.0.0.3:2181\n"
                             "server.3=127.0.0.4:2888:3888:observer;127.0.0.4:2181");
  const auto cfg = write("zoo.cfg", staticPart() + "dynamicConfigFile=" + dynamic + "\n");
  auto config = Config::load(cfg);
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  ASSERT_TRUE(config->validate().isOk()) << config->validate().toString();
  EXPECT_EQ(config->servers().size(), 3u);
  EXPECT_EQ(config->serverId(), 2);
  EXPECT_EQ(config->getInt("clientPort"), 2181) << "taken from this member's server line";
  const auto ensemble = ensembleOf(*config);
  EXPECT_EQ(ensemble.version, 0x100000003);
  EXPECT_EQ(ensemble.dynamic_file, dynamic);
  EXPECT_EQ(ensemble.config_file, cfg);
  EXPECT_TRUE(ensemble.reconfig_enabled);
  EXPECT_EQ(ensemble.members.at(2).type, sdk::PeerType::kObserver);
}

TEST_F(DynamicConfigTest, ServerLinesBesideDynamicConfigFileAreRefused) {
  const auto dynamic = write("zoo.cfg.dynamic.1", "server.1=127.0.0.2:2888:3888\nserver.2=127.0.0.3:2888:3888\n");
  const auto cfg = write("zoo.cfg", staticPart() + "server.1=127.0.0.2:2888:3888\ndynamicConfigFile=" + dynamic + "\n");
  auto config = Config::load(cfg);
  ASSERT_FALSE(config.isOk());
  EXPECT_NE(config.status().message().find("server.1 must be in the dynamic config file"), std::string::npos)
      << config.status().message();
}

TEST_F(DynamicConfigTest, VersionOrOtherKeysInsideTheDynamicFileAreRefused) {
  const auto with_version = write("zoo.cfg.dynamic.1", "server.1=127.0.0.2:2888:3888\nversion=1\n");
  auto config = Config::load(write("a.cfg", staticPart() + "dynamicConfigFile=" + with_version + "\n"));
  ASSERT_FALSE(config.isOk());
  EXPECT_NE(config.status().message().find(with_version + ":2: a dynamic config file holds no version"),
            std::string::npos)
      << config.status().message();
  const auto with_other = write("zoo.cfg.dynamic.2", "server.1=127.0.0.2:2888:3888\ntickTime=5\n");
  config = Config::load(write("b.cfg", staticPart() + "dynamicConfigFile=" + with_other + "\n"));
  ASSERT_FALSE(config.isOk());
  EXPECT_NE(config.status().message().find("tickTime: only server.N, group.N and weight.N"), std::string::npos)
      << config.status().message();
}

TEST_F(DynamicConfigTest, ANewerCopyInDataDirWinsOverStaticMembers) {
  // What a member whose zoo.cfg folder is read-only wrote after a reconfig.
  write("data/zoo.cfg.dynamic.100000002", "server.2=127.0.0.3:2888:3888:participant\nserver.3=127.0.0.4:2888:3888:participant");
  write("data/zoo.cfg.dynamic.100000001", "server.1=127.0.0.2:2888:3888:participant\nserver.2=127.0.0.3:2888:3888:participant");
  const auto cfg = write("zoo.cfg", staticPart() + "clientPort=2181\nserver.1=127.0.0.2:2888:3888\nserver.2=127.0.0.3:2888:3888\n");
  auto config = Config::load(cfg);
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  ASSERT_TRUE(config->validate().isOk());
  EXPECT_EQ(config->dynamicSource().version, 0x100000002);
  ASSERT_EQ(config->servers().size(), 2u);
  EXPECT_EQ(config->servers()[0].id, 2);
  EXPECT_EQ(config->servers()[1].id, 3);
  EXPECT_NE(config->servers()[0].where.find("zoo.cfg.dynamic.100000002:1"), std::string::npos);
}

TEST(DynamicConfigFileName, VersionIsTheHexSuffix) {
  EXPECT_EQ(versionFromFileName("/etc/zoo.cfg.dynamic.100000000"), 0x100000000);
  EXPECT_EQ(versionFromFileName("zoo.cfg.dynamic.0"), 0);
  EXPECT_EQ(versionFromFileName("zoo.cfg.dynamic"), std::nullopt);
  EXPECT_EQ(versionFromFileName("zoo.cfg.dynamic.next"), std::nullopt);
}

}  // namespace
}  // namespace corral::kernel::config

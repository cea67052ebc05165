// QuorumConfig (ZooKeeper's QuorumMaj), its files and the Membership that holds the current
// and last seen configs. Expected texts are what ZooKeeper 3.8.0 wrote (see the ensemble
// suite's README for the runs they come from).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <limits>
#include <fstream>
#include <sstream>

#include "config_files.h"
#include "plugin_harness.h"
#include "membership.h"
#include "quorum_config.h"

namespace corral::plugins::zab {
namespace {

namespace fs = std::filesystem;

QuorumConfig parsed(std::string_view text) {
  auto config = QuorumConfig::parse(text);
  EXPECT_TRUE(config.isOk()) << config.status().toString();
  return config.isOk() ? std::move(config).value() : QuorumConfig();
}

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const char* kThree =
    "server.1=127.0.0.2:2888:3888:participant\nserver.2=127.0.0.3:2888:3888:participant\n"
    "server.3=127.0.0.4:2888:3888:participant;0.0.0.0:2181\nversion=100000000";

TEST(QuorumConfig, ParsesAndWritesQuorumMajText) {
  const auto config = parsed(kThree);
  EXPECT_EQ(config.version(), 0x100000000);
  EXPECT_EQ(config.voterCount(), 3u);
  EXPECT_EQ(config.member(3)->client_port, 2181);
  EXPECT_EQ(config.toString(), kThree) << "no trailing newline; a bare client port is 0.0.0.0";
  EXPECT_TRUE(config.containsQuorum({1, 3}));
  EXPECT_FALSE(config.containsQuorum({1, 99}));
}

TEST(QuorumConfig, TextOrderIsJavaHashMapOrder) {
  // Parsed maps have 16 buckets: 17 shares bucket 1 with sid 1 (3.8.0 wrote 1,17,2,3).
  const auto config = parsed("server.1=h:1:2\nserver.2=h:3:4\nserver.3=h:5:6\nserver.17=h:7:8\nversion=5");
  EXPECT_EQ(config.textOrder(), (std::vector<int64_t>{1, 17, 2, 3}));
  // The leader's incremental reconfig copies a 3-member map (8 buckets) and puts joiners in:
  // adding 9 to {1,2,3} gave server.1, server.9, server.2, server.3 in 3.8.0's txn.
  QuorumConfig grown({parsed(kThree).members()[0], parsed(kThree).members()[1], parsed(kThree).members()[2],
                      sdk::EnsembleMember{9, "h", 10, 11, sdk::PeerType::kObserver, "0.0.0.0", 12}},
                     0x10000000b);
  grown.setTextOrder({1, 2, 3, 9}, 3);
  EXPECT_EQ(grown.textOrder(), (std::vector<int64_t>{1, 9, 2, 3}));
  EXPECT_TRUE(grown.toString().starts_with("server.1=127.0.0.2:2888:3888:participant\nserver.9=h:10:11:observer;0.0.0.0:12\n"));
  EXPECT_TRUE(grown.toString().ends_with("\nversion=10000000b"));
}

TEST(QuorumConfig, JoinersNeedThreePortsAndAWellFormedLine) {
  auto joiner = QuorumConfig::parseJoiner("server.100=0.0.0.0:29001:29002:observer;0.0.0.0:29003");
  ASSERT_TRUE(joiner.isOk());
  EXPECT_EQ(joiner->id, 100);
  EXPECT_EQ(joiner->type, sdk::PeerType::kObserver);
  EXPECT_EQ(QuorumConfig::parseJoiner("server.4=h:1:2:participant").status().code(), sdk::Code::kBadArguments)
      << "no client port";
  EXPECT_EQ(QuorumConfig::parseJoiner("some thing").status().code(), sdk::Code::kBadArguments);
  EXPECT_EQ(QuorumConfig::parseJoiner("server.x=h:1:2:participant;5").status().code(), sdk::Code::kMarshallingError);
  EXPECT_EQ(QuorumConfig::parseJoiner("5=h:1:2:participant;5")->id, 5) << "ZooKeeper takes what follows the last dot";
  EXPECT_EQ(QuorumConfig::parseJoiner("server.4=h:1:1:participant;5").status().code(), sdk::Code::kBadArguments);
  EXPECT_EQ(QuorumConfig::parseJoiner("server.4=h:1:2:boss;5").status().code(), sdk::Code::kBadArguments);
}

TEST(QuorumConfig, VersionIsAHexLongAsInZooKeeper) {
  // Long.parseLong(value, 16) in ZooKeeper; trailing whitespace and NULs are trimmed (String.trim).
  EXPECT_EQ(parsed("server.1=h:1:2\nversion=7fffffffffffffff \x01").version(), std::numeric_limits<int64_t>::max());
  // Past Long.MAX_VALUE was read as a negative version that then printed as "-…", which no
  // parser reads back (found by the election fuzzer, in a notification's config).
  EXPECT_FALSE(QuorumConfig::parse("server.1=h:1:2\nversion=eeeeeeeeeeeeeeee").isOk());
  EXPECT_FALSE(QuorumConfig::parse("server.1=h:1:2\nversion=10000000000000000").isOk());
  EXPECT_FALSE(QuorumConfig::parse("server.1=h:1:2\nversion=x1").isOk());
}

TEST(QuorumConfig, SameMembersIgnoresTheVersion) {
  auto a = parsed(kThree);
  auto b = parsed(std::string(kThree).replace(std::string(kThree).find("version=100000000"), 17, "version=200000000"));
  EXPECT_TRUE(a.sameMembers(b));
  EXPECT_FALSE(a.sameMembers(parsed("server.1=127.0.0.2:2888:3888:observer\nversion=1")));
}

class ConfigFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("corral_cfgfiles_" + std::to_string(::getpid()) + "_" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
  }
  void TearDown() override {
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(dir_);
  }
  fs::path dir_;
  corral::testing::MinimalHost::StderrLogger log_;
};

TEST_F(ConfigFilesTest, ActiveConfigGoesBesideZooCfgWhichIsPointedAtIt) {
  const auto cfg = dir_ / "zoo.cfg";
  std::ofstream(cfg) << "# comment kept\ntickTime=2000\nclientPort=2181\npeerType=participant\n"
                        "server.1=127.0.0.2:2888:3888\nserver.2=127.0.0.3:2888:3888\ndataDir=/d\n";
  ConfigFiles files(cfg.string(), (dir_ / "data").string(), log_);
  files.backupStatic();
  EXPECT_TRUE(files.besideStaticFile());
  const auto config = parsed(kThree);
  files.writeNext(config);
  EXPECT_EQ(read(dir_ / "zoo.cfg.dynamic.next"),
            "server.1=127.0.0.2:2888:3888:participant\nserver.2=127.0.0.3:2888:3888:participant\n"
            "server.3=127.0.0.4:2888:3888:participant;0.0.0.0:2181\nversion=100000000");
  ASSERT_TRUE(files.readNext().has_value());
  EXPECT_EQ(files.readNext()->version(), 0x100000000);
  files.writeActive(config, false);
  files.removeNext();
  EXPECT_FALSE(fs::exists(dir_ / "zoo.cfg.dynamic.next"));
  EXPECT_EQ(read(dir_ / "zoo.cfg.dynamic.100000000"),
            "server.1=127.0.0.2:2888:3888:participant\nserver.2=127.0.0.3:2888:3888:participant\n"
            "server.3=127.0.0.4:2888:3888:participant;0.0.0.0:2181")
      << "sorted member lines, no version";
  EXPECT_EQ(read(cfg), "# comment kept\ntickTime=2000\nclientPort=2181\ndataDir=/d\ndynamicConfigFile=" +
                           fs::weakly_canonical(dir_ / "zoo.cfg.dynamic.100000000").string() + "\n");
  EXPECT_TRUE(read(dir_ / "zoo.cfg.bak").find("server.1=") != std::string::npos);
  // A member whose own line carries its client address drops clientPort from zoo.cfg.
  files.writeActive(QuorumConfig(config.members(), 0x100000005), true);
  EXPECT_EQ(read(cfg).find("clientPort"), std::string::npos);
}

// A packaged service: zoo.cfg in a folder the server (not root) cannot write. As root (CI) the
// check runs in a child that drops to nobody, since root writes anywhere.
TEST_F(ConfigFilesTest, AReadOnlyConfigFolderSendsTheFilesToDataDir) {
  const auto etc = dir_ / "etc";
  const auto data = dir_ / "data";
  fs::create_directories(etc);
  std::ofstream(etc / "zoo.cfg") << "server.1=127.0.0.2:2888:3888\n";
  const auto read_only = fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                         fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec;
  fs::permissions(etc, read_only);
  fs::permissions(dir_, read_only | fs::perms::owner_write);
  fs::permissions(data, fs::perms::all);
  auto check = [&]() -> int {
    ConfigFiles files((etc / "zoo.cfg").string(), data.string(), log_);
    if (files.besideStaticFile()) return 10;
    files.writeActive(parsed(kThree), false);
    if (!fs::exists(data / "zoo.cfg.dynamic.100000000")) return 11;
    return 0;
  };
  if (::geteuid() != 0) {
    EXPECT_EQ(check(), 0);
  } else {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(20);
      ::_exit(check());
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "10: wrote beside zoo.cfg, 11: no file in dataDir, 20: could not drop to nobody";
  }
  fs::permissions(etc, fs::perms::owner_all, fs::perm_options::add);
  EXPECT_EQ(read(etc / "zoo.cfg"), "server.1=127.0.0.2:2888:3888\n") << "left alone";
  EXPECT_FALSE(fs::exists(etc / "zoo.cfg.dynamic.100000000"));
}

TEST(Membership, AProposalNeedsBothQuorumsWhileAReconfigIsPending) {
  auto initial = std::make_shared<const QuorumConfig>(parsed(kThree));
  Membership membership(1, initial, true, nullptr);
  EXPECT_EQ(membership.quorumConfigs().size(), 1u);
  EXPECT_FALSE(membership.reconfigInProgress());
  auto next = std::make_shared<const QuorumConfig>(
      parsed("server.1=127.0.0.2:2888:3888:participant\nserver.4=h:1:2:participant\nserver.5=h:3:4:participant\nversion=100000007"));
  std::vector<int64_t> announced;
  membership.onNewMembers([&](const QuorumConfig& config) { announced.push_back(config.version()); });
  EXPECT_TRUE(membership.see(next));
  EXPECT_FALSE(membership.see(next)) << "not newer";
  EXPECT_TRUE(membership.reconfigInProgress());
  ASSERT_EQ(membership.quorumConfigs().size(), 2u);
  EXPECT_EQ(membership.activate(next), initial);
  EXPECT_EQ(membership.activate(next), nullptr) << "not newer";
  EXPECT_FALSE(membership.reconfigInProgress());
  EXPECT_FALSE(membership.isVoter(2));
  EXPECT_TRUE(membership.isVoter(4));
  EXPECT_EQ(announced, (std::vector<int64_t>{0x100000007, 0x100000007}));
}

TEST(Membership, WithReconfigDisabledNothingNewIsSeen) {
  Membership membership(1, std::make_shared<const QuorumConfig>(parsed(kThree)), false, nullptr);
  EXPECT_FALSE(membership.see(std::make_shared<const QuorumConfig>(parsed("server.1=h:1:2\nversion=200000000"))));
  EXPECT_EQ(membership.lastSeen()->version(), 0x100000000);
}

}  // namespace
}  // namespace corral::plugins::zab

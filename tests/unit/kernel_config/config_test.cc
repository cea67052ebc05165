// Config: validation messages with file:line, defaults, ensembles, plugin keys, the
// PluginConfig view, and ZooKeeper's own example config.
#include "kernel/config/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace corral::kernel::config {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMinimal = "tickTime=2000\ndataDir=/tmp/zk\nclientPort=2181\n";

Config make(std::string_view text) {
  auto config = Config::fromText(text, "/etc/x.cfg");
  EXPECT_TRUE(config.isOk()) << config.status().toString();
  return std::move(config).value();
}

// The validate() message for `text`, or "ok".
std::string validationError(std::string_view text) {
  Config config = make(text);
  auto status = config.validate();
  if (status.isOk()) return "ok";
  EXPECT_EQ(status.code(), sdk::Code::kInvalidConfig);
  return status.message();
}

// A dataDir with a myid file, removed at the end of the test.
class TempDataDir {
 public:
  explicit TempDataDir(std::string_view myid) {
    path_ = fs::path(::testing::TempDir()) /
            ("corral_config_" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path_);
    if (!myid.empty()) std::ofstream(path_ / "myid") << myid;
  }
  ~TempDataDir() { fs::remove_all(path_); }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

// --- Basics -----------------------------------------------------------------------------

TEST(Config, MinimalStandaloneValidates) {
  Config config = make(kMinimal);
  ASSERT_TRUE(config.validate().isOk());
  EXPECT_EQ(config.getInt("tickTime"), 2000);
  EXPECT_EQ(config.getString("dataDir"), "/tmp/zk");
  EXPECT_EQ(config.getInt("clientPort"), 2181);
  EXPECT_FALSE(config.isDistributed());
  EXPECT_EQ(config.serverId(), 0);
  EXPECT_TRUE(config.servers().empty());
  EXPECT_TRUE(config.warnings().empty());
  EXPECT_TRUE(config.notImplementedKeys().empty());
}

TEST(Config, DefaultsAndDerivedDefaults) {
  Config config = make("dataDir=/data\n");
  EXPECT_EQ(config.getInt("tickTime"), 3000);  // QuorumPeerConfig's default
  EXPECT_EQ(config.getInt("minSessionTimeout"), 6000);
  EXPECT_EQ(config.getInt("maxSessionTimeout"), 60000);
  EXPECT_EQ(config.getString("dataLogDir"), "/data");
  EXPECT_EQ(config.getInt("maxClientCnxns"), 60);
  EXPECT_EQ(config.getInt("globalOutstandingLimit"), 1000);
  EXPECT_EQ(config.getInt("jute.maxbuffer"), 1048575);
  EXPECT_EQ(config.getInt("jute.maxbuffer.extrasize"), 1048575);
  EXPECT_EQ(config.getList("4lw.commands.whitelist"), std::vector<std::string>{"srvr"});
  EXPECT_FALSE(config.getBool("extendedTypesEnabled"));
  EXPECT_EQ(config.getInt("znode.container.checkIntervalMs"), 60000);
  EXPECT_TRUE(config.getBool("standaloneEnabled"));
  EXPECT_EQ(config.getString("storage"), "memlog");
  EXPECT_EQ(config.getString("consensus"), "single");
  EXPECT_EQ(config.getList("frontends"), std::vector<std::string>{"jute"});
  EXPECT_EQ(config.getList("acl.schemes"), (std::vector<std::string>{"digest", "ip"}));
  EXPECT_EQ(config.getList("admin"), std::vector<std::string>{});
  EXPECT_EQ(config.getString("log.level"), "info");
  EXPECT_EQ(config.getInt("threads"), 1);
  EXPECT_EQ(config.getInt("clientPort"), 0);  // no default
  EXPECT_FALSE(config.get("clientPort").has_value());
  EXPECT_EQ(config.where("tickTime"), "default");
  EXPECT_EQ(config.where("dataDir"), "/etc/x.cfg:1");
  EXPECT_TRUE(config.getBool("forceSync"));
  EXPECT_DOUBLE_EQ(config.getDouble("snapshotSizeFactor"), 0.33);
}

TEST(Config, DerivedDefaultsFollowTickTime) {
  Config config = make("tickTime=1000\ndataDir=/d\ndataLogDir=/l\nminSessionTimeout=-1\n");
  EXPECT_EQ(config.getInt("minSessionTimeout"), 2000);  // -1 is ZooKeeper's "unset"
  EXPECT_EQ(config.getInt("maxSessionTimeout"), 20000);
  EXPECT_EQ(config.getString("dataLogDir"), "/l");
  Config explicit_values = make("tickTime=1000\ndataDir=/d\nminSessionTimeout=4000\n"
                                "maxSessionTimeout=40000\n");
  EXPECT_EQ(explicit_values.getInt("minSessionTimeout"), 4000);
  EXPECT_EQ(explicit_values.getInt("maxSessionTimeout"), 40000);
}

TEST(Config, FallbackGetters) {
  Config config = make("dataDir=/d\nlog.level=debug\nskipACL=YES\nlist=a, b\n");
  EXPECT_EQ(config.getString("log.level", "info"), "debug");
  EXPECT_EQ(config.getString("log.file", ""), "");
  EXPECT_EQ(config.getInt("threads", 4), 4);  // fallback beats the catalog default
  EXPECT_EQ(config.getInt("tickTime", 7), 7);
  EXPECT_TRUE(config.getBool("skipACL", false));
  EXPECT_EQ(config.getString("skipACL", ""), "true");  // booleans read canonically
  EXPECT_EQ(config.get("skipACL"), "YES");             // get() is as written
  EXPECT_TRUE(config.getBool("reconfigEnabled", true));
  EXPECT_EQ(config.getList("list", {}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(config.getList("frontends", {"x"}), std::vector<std::string>{"x"});
  EXPECT_DOUBLE_EQ(config.getDouble("snapshotSizeFactor", 0.5), 0.5);
}

TEST(Config, MalformedValuesReadAsDefaults) {
  Config config = make("dataDir=/d\ntickTime=abc\nskipACL=maybe\n");
  EXPECT_EQ(config.getInt("tickTime"), 3000);
  EXPECT_EQ(config.getInt("tickTime", 5), 5);
  EXPECT_FALSE(config.getBool("skipACL"));
  EXPECT_EQ(config.getInt("minSessionTimeout"), 6000);
}

TEST(Config, LoadFromFile) {
  TempDataDir dir("");
  std::string path = dir.path() + "/zoo.cfg";
  std::ofstream(path) << kMinimal;
  auto config = Config::load(path);
  ASSERT_TRUE(config.isOk());
  EXPECT_EQ(config->fileName(), path);
  EXPECT_EQ(config->where("clientPort"), path + ":3");
  auto missing = Config::load(dir.path() + "/none.cfg");
  EXPECT_EQ(missing.status().code(), sdk::Code::kIoError);
  auto bad = Config::fromText("k=\\uXYZW\n", "b.cfg");
  EXPECT_EQ(bad.status().message(), "b.cfg:1: malformed \\uxxxx escape");
}

// --- Duplicates ---------------------------------------------------------------------------

TEST(Config, LaterDuplicateWinsWithWarning) {
  Config config = make("dataDir=/d\nclientPort=1\n# x\nclientPort=2\n");
  ASSERT_TRUE(config.validate().isOk());
  EXPECT_EQ(config.getInt("clientPort"), 2);
  EXPECT_EQ(config.where("clientPort"), "/etc/x.cfg:4");
  ASSERT_EQ(config.warnings().size(), 1u);
  EXPECT_EQ(config.warnings()[0],
            "/etc/x.cfg:4: 'clientPort' is set again; this value replaces the one from line 2 "
            "(as in ZooKeeper)");
}

TEST(Config, AliasesAreOneKey) {
  Config config = make("dataDir=/d\nclientPort=1\nskipACL=no\nzookeeper.skipACL=yes\n");
  ASSERT_TRUE(config.validate().isOk());
  EXPECT_TRUE(config.getBool("skipACL"));
  EXPECT_TRUE(config.getBool("zookeeper.skipACL"));
  EXPECT_EQ(config.where("skipACL"), "/etc/x.cfg:4");
  EXPECT_EQ(config.warnings().size(), 1u);
}

TEST(Config, OnlyTheEffectiveValueIsChecked) {
  // Properties drops the first line, so ZooKeeper never sees "abc" either.
  EXPECT_EQ(validationError("dataDir=/d\nclientPort=abc\nclientPort=2181\n"), "ok");
}

// --- Errors, with their exact text -------------------------------------------------------

TEST(ConfigErrors, UnknownKeys) {
  EXPECT_EQ(validationError("dataDir=/d\n\n\n\n\n\n\n\n\n\n\nfoo=1\n"),
            "/etc/x.cfg:12: unknown key 'foo'");
  EXPECT_EQ(validationError("dataDir=/d\ntickTme=2000\n"),
            "/etc/x.cfg:2: unknown key 'tickTme' (did you mean 'tickTime'?)");
  EXPECT_EQ(validationError("dataDir=/d\nclientport=2181\n"),
            "/etc/x.cfg:2: unknown key 'clientport' (did you mean 'clientPort'?)");
  EXPECT_EQ(validationError("dataDir=/d\nzookeeper.skipAcl=yes\n"),
            "/etc/x.cfg:2: unknown key 'zookeeper.skipAcl' (did you mean 'zookeeper.skipACL'?)");
  EXPECT_EQ(validationError("dataDir=/d\nzookeeper.tickTime=1\n"),
            "/etc/x.cfg:2: unknown key 'zookeeper.tickTime'");
}

TEST(ConfigErrors, BadValues) {
  EXPECT_EQ(validationError("dataDir=/d\nclientPort=abc\n"),
            "/etc/x.cfg:2: clientPort=abc: not an integer");
  EXPECT_EQ(validationError("dataDir=/d\nclientPort=65536\n"),
            "/etc/x.cfg:2: clientPort=65536: out of range (0..65535)");
  EXPECT_EQ(validationError("dataDir=/d\ntickTime=0\n"),
            "/etc/x.cfg:2: tickTime=0: out of range (at least 1)");
  EXPECT_EQ(validationError("dataDir=/d\nsyncEnabled=maybe\n"),
            "/etc/x.cfg:2: syncEnabled=maybe: not a boolean (true/false/yes/no)");
  EXPECT_EQ(validationError("dataDir=/d\npeerType=spectator\n"),
            "/etc/x.cfg:2: peerType=spectator: not one of participant, observer");
  EXPECT_EQ(validationError("dataDir=/d\nlog.level=loud\n"),
            "/etc/x.cfg:2: log.level=loud: not one of trace, debug, info, warn, error");
  EXPECT_EQ(validationError("dataDir=\n"), "/etc/x.cfg:1: dataDir=: empty value");
  EXPECT_EQ(validationError("dataDir=/d\nelectionAlg=1\n"),
            "/etc/x.cfg:2: electionAlg=1: out of range (3..3)");
  EXPECT_EQ(validationError("dataDir=/d\n4lw.commands.whitelist=stat, rouk\n"),
            "/etc/x.cfg:2: 4lw.commands.whitelist=stat, rouk: 'rouk' is not one of *, conf, "
            "cons, crst, dirs, dump, envi, gtmk, hash, isro, mntr, ruok, srst, srvr, stat, "
            "stmk, wchc, wchp, wchs");
  EXPECT_EQ(validationError("dataDir=/d\nstorage=memlog    # memlog | rocksdb\n"),
            "/etc/x.cfg:2: storage=memlog    # memlog | rocksdb: not a plugin name (letters, "
            "digits, _) ('#' starts a comment only at the beginning of a line)");
  EXPECT_EQ(validationError("dataDir=/d\nthreads=0\n"),
            "/etc/x.cfg:2: threads=0: out of range (1..1024)");
  EXPECT_EQ(validationError("dataDir=/d\nclientPortAddress=not a host\n"),
            "/etc/x.cfg:2: clientPortAddress=not a host: not a host name or IP address");
}

TEST(ConfigErrors, FirstErrorInFileOrder) {
  EXPECT_EQ(validationError("dataDir=/d\nbad1=1\nclientPort=x\n"),
            "/etc/x.cfg:2: unknown key 'bad1'");
  EXPECT_EQ(validationError("clientPort=x\nbad1=1\n"), "/etc/x.cfg:1: clientPort=x: not an integer");
}

TEST(ConfigErrors, MissingDataDir) {
  EXPECT_EQ(validationError("tickTime=2000\nclientPort=2181\n"), "/etc/x.cfg: dataDir is not set");
}

TEST(ConfigErrors, ClientPortAddressWithoutClientPort) {
  EXPECT_EQ(validationError("dataDir=/d\nclientPortAddress=127.0.0.1\n"),
            "/etc/x.cfg:2: clientPortAddress is set but clientPort is not set");
  EXPECT_EQ(validationError("dataDir=/d\nclientPort=1\nsecureClientPortAddress=::1\n"),
            "/etc/x.cfg:3: secureClientPortAddress is set but secureClientPort is not set");
  EXPECT_EQ(validationError("dataDir=/d\nclientPortAddress=127.0.0.1\nclientPort=2181\n"), "ok");
}

TEST(ConfigErrors, NoClientPortIsOnlyAWarning) {
  Config config = make("dataDir=/d\n");
  ASSERT_TRUE(config.validate().isOk());
  ASSERT_EQ(config.warnings().size(), 1u);
  EXPECT_EQ(config.warnings()[0],
            "/etc/x.cfg: neither clientPort nor secureClientPort is set; no client can connect");
}

TEST(ConfigErrors, SessionTimeouts) {
  EXPECT_EQ(validationError("dataDir=/d\nclientPort=1\nminSessionTimeout=5000\n"
                            "maxSessionTimeout=4000\n"),
            "/etc/x.cfg:4: minSessionTimeout (5000) must not be larger than maxSessionTimeout "
            "(4000)");
  // Against the derived maximum (20 * 3000).
  EXPECT_EQ(validationError("dataDir=/d\nclientPort=1\nminSessionTimeout=70000\n"),
            "/etc/x.cfg:3: minSessionTimeout (70000) must not be larger than maxSessionTimeout "
            "(60000)");
}

TEST(ConfigErrors, DynamicConfigFileThatCannotBeReadIsNamed) {
  auto config = Config::fromText("dataDir=/d\nclientPort=1\ndynamicConfigFile=/nonexistent/zoo.dyn\n", "/etc/x.cfg");
  ASSERT_FALSE(config.isOk());
  EXPECT_EQ(config.status().code(), sdk::Code::kInvalidConfig);
  EXPECT_NE(config.status().message().find("/nonexistent/zoo.dyn"), std::string::npos) << config.status().message();
}

TEST(ConfigErrors, QuorumSasl) {
  EXPECT_EQ(validationError("dataDir=/d\nclientPort=1\nquorum.auth.learnerRequireSasl=true\n"),
            "/etc/x.cfg:3: quorum.auth.enableSasl is disabled, so cannot enable "
            "quorum.auth.learnerRequireSasl");
}

TEST(ConfigWarnings, SnapRetainCount) {
  Config config = make("dataDir=/d\nclientPort=1\nautopurge.snapRetainCount=1\n");
  ASSERT_TRUE(config.validate().isOk());
  ASSERT_EQ(config.warnings().size(), 1u);
  EXPECT_EQ(config.warnings()[0], "/etc/x.cfg:3: autopurge.snapRetainCount below 3; ZooKeeper uses 3");
}

// --- Not implemented ----------------------------------------------------------------------

TEST(Config, NotImplementedKeys) {
  Config config = make("dataDir=/d\nclientPort=1\nsnapCount=5\nzookeeper.sslQuorum=yes\n"
                       "sslQuorum=no\nautopurge.purgeInterval=1\ntickTime=10\n");
  ASSERT_TRUE(config.validate().isOk());
  EXPECT_EQ(config.notImplementedKeys(),
            (std::vector<std::string>{"snapCount", "sslQuorum", "autopurge.purgeInterval"}));
  EXPECT_EQ(config.where("snapCount"), "/etc/x.cfg:3");
}

// --- Plugin keys --------------------------------------------------------------------------

TEST(PluginKeys, UnknownUntilRegistered) {
  Config config = make("dataDir=/d\nclientPort=1\nfrontends=jute,thrift\nthrift.port=9090\n");
  EXPECT_EQ(config.validate().message(), "/etc/x.cfg:4: unknown key 'thrift.port'");
  config.addPluginKey("thrift.port", "frontend.thrift");
  EXPECT_TRUE(config.validate().isOk());
  EXPECT_EQ(config.get("thrift.port"), "9090");
  EXPECT_EQ(config.where("thrift.port"), "/etc/x.cfg:4");
  EXPECT_TRUE(config.notImplementedKeys().empty());
}

TEST(PluginKeys, HintsIncludePluginKeys) {
  Config config = make("dataDir=/d\nclientPort=1\nthrift.prot=9090\n");
  config.addPluginKey("thrift.port", "frontend.thrift");
  EXPECT_EQ(config.validate().message(),
            "/etc/x.cfg:3: unknown key 'thrift.prot' (did you mean 'thrift.port'?)");
}

TEST(PluginKeys, PrefixClaims) {
  Config config = make("dataDir=/d\nclientPort=1\nrocksdb.block_cache=1\nrocksdb.x.y=2\n");
  config.addPluginKey("rocksdb.*", "storage.rocksdb");
  EXPECT_TRUE(config.validate().isOk());
  Config bare = make("dataDir=/d\nclientPort=1\nrocksdb.=1\n");
  bare.addPluginKey("rocksdb.*", "storage.rocksdb");
  EXPECT_EQ(bare.validate().message(), "/etc/x.cfg:3: unknown key 'rocksdb.'");
}

TEST(PluginKeys, ClaimingACatalogKeyMarksItImplemented) {
  Config config = make("dataDir=/d\nclientPort=1\nadmin=4lw,http\nadmin.serverPort=8081\n");
  ASSERT_TRUE(config.validate().isOk());
  EXPECT_EQ(config.notImplementedKeys(), std::vector<std::string>{"admin.serverPort"});
  config.addPluginKey("admin.serverPort", "admin.http");
  EXPECT_TRUE(config.notImplementedKeys().empty());
  // The catalog still checks the value.
  Config bad = make("dataDir=/d\nclientPort=1\nadmin.serverPort=http\n");
  bad.addPluginKey("admin.serverPort", "admin.http");
  EXPECT_EQ(bad.validate().message(), "/etc/x.cfg:3: admin.serverPort=http: not an integer");
}

TEST(PluginKeys, EmptyDeclaredKey) {
  Config config = make(kMinimal);
  config.addPluginKey("", "frontend.bad");
  EXPECT_EQ(config.validate().message(), "plugin 'frontend.bad' declares an empty config key");
}

// --- PluginConfig view --------------------------------------------------------------------

TEST(PluginConfigView, EffectiveValuesAndLocations) {
  Config config = make("tickTime=1000\ndataDir=/d\nclientPort=2181\nforceSync=no\n"
                       "thrift.port=9090\nthrift.enabled=Yes\n");
  config.addPluginKey("thrift.port", "frontend.thrift");
  config.addPluginKey("thrift.enabled", "frontend.thrift");
  ASSERT_TRUE(config.validate().isOk());
  PluginConfigView view(config);
  const sdk::PluginConfig& plugin = view;
  EXPECT_EQ(plugin.get("clientPort"), "2181");
  EXPECT_EQ(plugin.where("clientPort"), "/etc/x.cfg:3");
  EXPECT_EQ(plugin.get("minSessionTimeout"), "2000");  // derived
  EXPECT_EQ(plugin.where("minSessionTimeout"), "default");
  EXPECT_EQ(plugin.get("admin.serverPort"), "8080");   // catalog default
  EXPECT_EQ(plugin.get("forceSync"), "false");         // "no", canonical
  EXPECT_EQ(plugin.get("zookeeper.forceSync"), "false");
  EXPECT_EQ(plugin.get("thrift.port"), "9090");
  EXPECT_EQ(plugin.get("thrift.enabled"), "Yes");      // plugin keys as written
  EXPECT_EQ(plugin.get("secureClientPort"), std::nullopt);
  EXPECT_EQ(plugin.get("nothing.here"), std::nullopt);
  EXPECT_EQ(plugin.getOr("nothing.here", "x"), "x");

  auto port = plugin.getInt("thrift.port", 1);
  ASSERT_TRUE(port.isOk());
  EXPECT_EQ(*port, 9090);
  auto sync = plugin.getBool("forceSync", true);
  ASSERT_TRUE(sync.isOk());
  EXPECT_FALSE(sync.value());
  auto enabled = plugin.getBool("thrift.enabled", false);
  EXPECT_FALSE(enabled.isOk());  // the SDK's own parser is case-sensitive
  EXPECT_EQ(enabled.status().message(),
            "/etc/x.cfg:6: thrift.enabled=Yes is not a boolean (true/false/yes/no)");
}

// --- Ensembles ----------------------------------------------------------------------------

std::string ensemble(const std::string& data_dir, std::string_view extra = "") {
  return "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=" + data_dir +
         "\nclientPort=2181\nserver.1=zk1:2888:3888\nserver.2=zk2:2888:3888\n"
         "server.3=zk3:2888:3888:observer;2181\n" + std::string(extra);
}

TEST(Ensemble, ServersAndMyid) {
  TempDataDir dir("2\n");
  Config config = make(ensemble(dir.path()));
  ASSERT_EQ(config.servers().size(), 3u);
  EXPECT_TRUE(config.isDistributed());
  EXPECT_EQ(config.getString("consensus"), "zab");
  EXPECT_EQ(config.serverId(), 0);  // not read before validate()
  auto status = config.validate();
  ASSERT_TRUE(status.isOk()) << status.message();
  EXPECT_EQ(config.serverId(), 2);
  const ServerSpec* third = config.server(3);
  ASSERT_NE(third, nullptr);
  EXPECT_TRUE(third->isObserver());
  EXPECT_EQ(third->client_port, 2181);
  EXPECT_EQ(third->where, "/etc/x.cfg:8");
  EXPECT_EQ(config.servers()[0].addresses[0].host, "zk1");
  EXPECT_EQ(config.server(4), nullptr);
}

TEST(Ensemble, ServerLineClientPortIsTheClientPortWhenClientPortIsUnset) {
  TempDataDir dir("3\n");
  const std::string text =
      "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=" + dir.path() +
      "\nserver.1=zk1:2888:3888;2181\nserver.2=zk2:2888:3888;2182\nserver.3=zk3:2888:3888;127.0.0.3:2183\n";
  Config config = make(text);
  ASSERT_TRUE(config.validate().isOk());
  EXPECT_EQ(config.getInt("clientPort"), 2183);
  EXPECT_EQ(config.getString("clientPortAddress"), "127.0.0.3");
  EXPECT_EQ(config.where("clientPort"), "/etc/x.cfg:7");  // the server line it came from
  // Both given: they must agree (ZooKeeper's setupClientPort).
  TempDataDir two("2\n");
  EXPECT_EQ(validationError(ensemble(two.path()) + "server.2=zk2:2888:3888;2190\n"),
            "/etc/x.cfg:5: clientPort=2181 differs from the client port 2190 of server.2 (/etc/x.cfg:9)");
}

TEST(Ensemble, MyidProblems) {
  TempDataDir none("");
  EXPECT_EQ(validationError(ensemble(none.path())),
            none.path() + "/myid: myid file is missing (the server.N lines in /etc/x.cfg make "
                          "this server an ensemble member; write its id there)");
  TempDataDir text("one\n");
  EXPECT_EQ(validationError(ensemble(text.path())), text.path() + "/myid: 'one' is not a server id");
  TempDataDir stranger("9");
  EXPECT_EQ(validationError(ensemble(stranger.path())),
            stranger.path() + "/myid: server id 9 has no server.9 line in /etc/x.cfg");
}

TEST(Ensemble, ExtendedTypesLimitServerIds) {
  TempDataDir dir("300");
  std::string text = "dataDir=" + dir.path() +
                     "\ninitLimit=5\nsyncLimit=2\nextendedTypesEnabled=true\n"
                     "server.300=a:1:2\nserver.2=b:1:2\n";
  EXPECT_EQ(validationError(text), dir.path() + "/myid: server id 300 is above 254, which "
                                                "extendedTypesEnabled=true does not allow");
}

TEST(Ensemble, InitLimitAndSyncLimitRequired) {
  TempDataDir dir("1");
  EXPECT_EQ(validationError("dataDir=" + dir.path() +
                            "\nsyncLimit=5\nserver.1=a:1:2\nserver.2=b:1:2\n"),
            "/etc/x.cfg: initLimit is not set (an ensemble needs it)");
  EXPECT_EQ(validationError("dataDir=" + dir.path() +
                            "\ninitLimit=5\nserver.1=a:1:2\nserver.2=b:1:2\n"),
            "/etc/x.cfg: syncLimit is not set (an ensemble needs it)");
}

// Corral-only (ZooKeeper accepts these): quorum features Corral's ensembles lack are refused at
// start, naming the key, instead of being accepted silently. Standalone they are ignored, as
// ZooKeeper ignores them.
TEST(Ensemble, QuorumFeaturesNotSupportedYetAreRefused) {
  TempDataDir dir("1");
  EXPECT_EQ(validationError(ensemble(dir.path(), "sslQuorum=true\n")),
            "/etc/x.cfg:9: sslQuorum=true is not supported in a Corral ensemble yet; remove it or set it to false");
  // localSessionsEnabled=true is accepted: sessions stay global (a superset), and read-only
  // mode, for which ZooKeeper 3.8 needs the key, takes local sessions either way.
  Config local_sessions = make(ensemble(dir.path(), "localSessionsEnabled=true\n"));
  EXPECT_TRUE(local_sessions.validate().isOk());
  EXPECT_EQ(validationError(ensemble(dir.path(), "quorum.auth.enableSasl=true\n")),
            "/etc/x.cfg:9: quorum.auth.enableSasl=true is not supported in a Corral ensemble yet; remove it or "
            "set it to false");
  EXPECT_EQ(validationError(ensemble(dir.path(), "multiAddress.enabled=true\n")),
            "/etc/x.cfg:9: multiAddress.enabled=true is not supported in a Corral ensemble yet; remove it or "
            "set it to false");
  EXPECT_EQ(validationError(ensemble(dir.path(), "ssl.quorum.keyStore.location=/k.jks\n")),
            "/etc/x.cfg:9: ssl.quorum.keyStore.location configures quorum TLS/SASL, which a Corral ensemble "
            "does not support yet; remove it");
  // Explicitly off is fine.
  Config off = make(ensemble(dir.path(), "sslQuorum=false\nlocalSessionsEnabled=false\n"));
  EXPECT_TRUE(off.validate().isOk());
  // Standalone: ignored.
  Config standalone = make("dataDir=" + dir.path() + "\nclientPort=2181\nsslQuorum=true\nlocalSessionsEnabled=true\n");
  EXPECT_TRUE(standalone.validate().isOk());
}

TEST(Ensemble, BadServerLine) {
  EXPECT_EQ(validationError("dataDir=/d\nserver.1=zk1:2888\n"),
            "/etc/x.cfg:2: server.1=zk1:2888: does not have the form "
            "host:port:port[:participant|:observer][;[host:]port]");
  EXPECT_EQ(validationError("dataDir=/d\nserver.1=a:1:2|b:1:2\n"),
            "/etc/x.cfg:2: server.1=a:1:2|b:1:2: several addresses separated by '|' need "
            "multiAddress.enabled=true");
  EXPECT_EQ(validationError("dataDir=/d\nmultiAddress.enabled=true\nserver.1=a:1:2|b:1:2\n"
                            "server.2=c:1:2\n"),
            "/etc/x.cfg: initLimit is not set (an ensemble needs it)");
}

TEST(Ensemble, DuplicateIdsAndAddresses) {
  EXPECT_EQ(validationError("dataDir=/d\nserver.1=a:1:2\nserver.01=b:1:2\n"),
            "/etc/x.cfg:3: server.01: server id 1 is already defined at /etc/x.cfg:2");
  EXPECT_EQ(validationError("dataDir=/d\nserver.1=a:1:2\nserver.2=a:2:3\n"),
            "/etc/x.cfg:3: server.2: address a:2 is also used by server.1 (/etc/x.cfg:2)");
}

TEST(Ensemble, OnlyObservers) {
  EXPECT_EQ(validationError("dataDir=/d\nserver.1=a:1:2:observer\nserver.2=b:1:2:observer\n"),
            "/etc/x.cfg:2: the server.N lines define only observers; an ensemble needs at "
            "least one participant");
}

TEST(Ensemble, SingleParticipantRunsStandalone) {
  Config config = make("dataDir=/d\nclientPort=1\nserver.1=a:1:2\n");
  ASSERT_TRUE(config.validate().isOk());
  EXPECT_FALSE(config.isDistributed());
  EXPECT_EQ(config.serverId(), 0);
  EXPECT_EQ(config.getString("consensus"), "single");
  ASSERT_EQ(config.warnings().size(), 1u);
  EXPECT_EQ(config.warnings()[0],
            "/etc/x.cfg:3: only one participant is listed and standaloneEnabled is true: "
            "running standalone (as ZooKeeper does)");
}

TEST(Ensemble, StandaloneDisabledMakesOneServerAnEnsemble) {
  TempDataDir dir("1");
  Config config = make("dataDir=" + dir.path() +
                       "\ninitLimit=5\nsyncLimit=2\nstandaloneEnabled=false\nserver.1=a:1:2\n");
  ASSERT_TRUE(config.validate().isOk());
  EXPECT_TRUE(config.isDistributed());
  EXPECT_EQ(config.serverId(), 1);
}

TEST(Ensemble, PeerTypeMismatchWarns) {
  TempDataDir dir("3");
  Config config = make(ensemble(dir.path(), "peerType=participant\n"));
  ASSERT_TRUE(config.validate().isOk());
  ASSERT_EQ(config.warnings().size(), 1u);
  EXPECT_EQ(config.warnings()[0],
            "/etc/x.cfg:9: peerType=participant does not match server.3 (observer); the "
            "server.N line wins (as in ZooKeeper)");
}

TEST(Ensemble, Groups) {
  TempDataDir dir("1");
  std::string base = "dataDir=" + dir.path() +
                     "\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n";
  // Valid groups, refused because Corral counts majorities only (never silently).
  EXPECT_EQ(validationError(base + "group.1=1:2\ngroup.2=3\nweight.1=2\n"),
            "/etc/x.cfg:7: group.1 (hierarchical quorums) is not supported in a Corral ensemble yet; remove the "
            "group.N and weight.N lines");
  EXPECT_EQ(validationError(base + "group.1=1:2\ngroup.2=2:3\n"),
            "/etc/x.cfg:8: group.2: server 2 is already in group.1");
  EXPECT_EQ(validationError(base + "group.1=1:4\n"),
            "/etc/x.cfg:7: group.1: server 4 has no server.4 line");
  EXPECT_EQ(validationError(base + "group.1=1:2\n"),
            "/etc/x.cfg:6: server.3 is not in any group.N");
  EXPECT_EQ(validationError(base + "group.1=1:x\n"),
            "/etc/x.cfg:7: group.1=1:x: not a colon-separated list of server ids");
}

// --- ZooKeeper's own example config --------------------------------------------------------

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ZooKeeperExample, DebianExampleValidatesUnchanged) {
  for (const char* path : {CORRAL_ZK_EXAMPLE_CFG, CORRAL_ZK_CONF_CFG}) {
    if (!fs::exists(path)) GTEST_SKIP() << path << " is not installed";
    auto config = Config::load(path);
    ASSERT_TRUE(config.isOk()) << config.status().toString();
    auto status = config->validate();
    ASSERT_TRUE(status.isOk()) << path << ": " << status.message();
    EXPECT_EQ(config->getInt("tickTime"), 2000);
    EXPECT_EQ(config->getInt("initLimit"), 10);
    EXPECT_EQ(config->getInt("syncLimit"), 5);
    EXPECT_EQ(config->getString("dataDir"), "/tmp/zookeeper");
    EXPECT_EQ(config->getInt("clientPort"), 2181);
    EXPECT_EQ(config->getInt("minSessionTimeout"), 4000);
    EXPECT_EQ(config->getInt("maxSessionTimeout"), 40000);
    EXPECT_FALSE(config->isDistributed());
    EXPECT_TRUE(config->warnings().empty());
    // initLimit/syncLimit only matter to an ensemble, which consensus.zab implements.
    EXPECT_TRUE(config->notImplementedKeys().empty());
  }
}

TEST(ZooKeeperExample, EveryCommentedSettingValidatesToo) {
  if (!fs::exists(CORRAL_ZK_EXAMPLE_CFG)) GTEST_SKIP() << "example config is not installed";
  // Uncomment "#key=value" lines (maxClientCnxns, autopurge.*, metricsProvider.*).
  std::istringstream in(readFile(CORRAL_ZK_EXAMPLE_CFG));
  std::string text;
  int uncommented = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.size() > 1 && line[0] == '#' && line[1] != ' ' && line[1] != '#' &&
        line.find('=') != std::string::npos) {
      line.erase(0, 1);
      ++uncommented;
    }
    text += line + "\n";
  }
  EXPECT_GE(uncommented, 7);
  auto config = Config::fromText(text, "uncommented.cfg");
  ASSERT_TRUE(config.isOk());
  auto status = config->validate();
  ASSERT_TRUE(status.isOk()) << status.message();
  EXPECT_EQ(config->getInt("maxClientCnxns"), 60);
  EXPECT_EQ(config->getInt("metricsProvider.httpPort"), 7000);
  EXPECT_TRUE(config->getBool("metricsProvider.exportJvmInfo"));
}

}  // namespace
}  // namespace corral::kernel::config

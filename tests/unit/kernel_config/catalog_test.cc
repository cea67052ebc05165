// The key catalog: names, aliases, patterns, value checks.
#include "kernel/config/catalog.h"

#include <gtest/gtest.h>

#include <set>

namespace corral::kernel::config {
namespace {

const Catalog& catalog() { return Catalog::standard(); }

TEST(Catalog, EveryDocumentedKeyIsKnown) {
  // The keys the brief lists from ZooKeeper 3.8's Administrator's Guide, plus the JVM
  // properties settable in the file and Corral's kernel keys.
  for (const char* key :
       {"tickTime", "dataDir", "dataLogDir", "clientPort", "clientPortAddress",
        "secureClientPort", "secureClientPortAddress", "initLimit", "syncLimit",
        "maxClientCnxns", "minSessionTimeout", "maxSessionTimeout", "globalOutstandingLimit",
        "preAllocSize", "snapCount", "snapSizeLimitInKb", "txnLogSizeLimitInKb",
        "commitLogCount", "autopurge.snapRetainCount", "autopurge.purgeInterval",
        "syncEnabled", "electionAlg", "electionPortBindRetry", "quorumListenOnAllIPs",
        "peerType", "standaloneEnabled", "reconfigEnabled", "4lw.commands.whitelist",
        "admin.enableServer", "admin.serverAddress", "admin.serverPort", "admin.idleTimeout",
        "admin.commandURL", "metricsProvider.className", "metricsProvider.httpPort",
        "metricsProvider.httpHost", "metricsProvider.exportJvmInfo", "forceSync", "skipACL",
        "localSessionsEnabled", "localSessionsUpgradingEnabled",
        "connectToLearnerMasterLimit", "leaderServes", "cnxTimeout", "quorumCnxnTimeoutMs",
        "ssl.keyStore.location", "ssl.quorum.trustStore.type", "sslQuorum", "portUnification",
        "authProvider.1", "multiAddress.enabled", "multiAddress.reachabilityCheckTimeoutMs",
        "jute.maxbuffer", "serverCnxnFactory", "clientCnxnSocket", "fips-mode",
        "audit.enable", "dynamicConfigFile", "observerMasterPort", "clientPortListenBacklog",
        "zookeeper.extendedTypesEnabled", "znode.container.checkIntervalMs",
        "znode.container.maxPerMinute", "zookeeper.DigestAuthenticationProvider.superDigest",
        "zookeeper.DigestAuthenticationProvider.enabled", "zookeeper.digest.enabled",
        "zookeeper.snapshot.compression.method", "snapshot.compression.method",
        "zookeeper.4lw.commands.whitelist", "zookeeper.skipACL", "zookeeper.forceSync",
        "zookeeper.maxBatchSize", "zookeeper.closeSessionTxn.enabled",
        "zookeeper.enforce.auth.enabled", "enforce.auth.enabled", "enforce.auth.schemes",
        "server.1", "group.2", "weight.3", "zookeeper.authProvider.sasl",
        "storage", "consensus", "frontends", "acl.schemes", "admin", "plugin.dir", "log.file",
        "log.level", "threads"}) {
    EXPECT_TRUE(catalog().find(key).has_value()) << key;
  }
}

TEST(Catalog, NamesAreUnique) {
  std::set<std::string_view> names;
  for (const auto& spec : catalog().specs()) {
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
  }
}

TEST(Catalog, DefaultsSatisfyTheirOwnTypes) {
  for (const auto& spec : catalog().specs()) {
    if (spec.default_value == nullptr) continue;
    EXPECT_EQ(checkValue(spec, spec.default_value), std::nullopt) << spec.name;
  }
}

TEST(Catalog, AliasesResolveToTheCanonicalName) {
  EXPECT_EQ(catalog().find("zookeeper.skipACL")->canonical, "skipACL");
  EXPECT_EQ(catalog().find("connection_throttle_tokens")->canonical, "connectionMaxTokens");
  EXPECT_EQ(catalog().find("zookeeper.connection_throttle_tokens")->canonical,
            "connectionMaxTokens");
  EXPECT_EQ(catalog().find("zookeeper.observer.syncEnabled")->canonical, "syncEnabled");
  // No zookeeper. form where ZooKeeper has no system property.
  EXPECT_FALSE(catalog().find("zookeeper.tickTime").has_value());
  EXPECT_FALSE(catalog().find("zookeeper.jute.maxbuffer").has_value());
}

TEST(Catalog, Patterns) {
  EXPECT_EQ(catalog().find("server.12")->canonical, "server.12");
  EXPECT_EQ(catalog().find("server.12")->spec->name, "server.N");
  EXPECT_FALSE(catalog().find("server.").has_value());
  EXPECT_FALSE(catalog().find("server.a").has_value());
  EXPECT_FALSE(catalog().find("server").has_value());
  EXPECT_EQ(catalog().find("zookeeper.authProvider.1")->canonical, "authProvider.1");
  EXPECT_EQ(catalog().find("metricsProvider.custom")->spec->name, "metricsProvider.*");
  // An explicit entry wins over the pattern.
  EXPECT_EQ(catalog().find("metricsProvider.httpPort")->spec->name, "metricsProvider.httpPort");
}

TEST(Catalog, CaseSensitiveLikeProperties) {
  EXPECT_FALSE(catalog().find("clientport").has_value());
  EXPECT_FALSE(catalog().find("TICKTIME").has_value());
}

TEST(Catalog, ImplementedFlags) {
  std::set<std::string_view> implemented;
  for (const auto& spec : catalog().specs()) {
    if (spec.implemented()) implemented.insert(spec.name);
  }
  std::set<std::string_view> expected{
      "tickTime", "dataDir", "dataLogDir", "clientPort", "clientPortAddress", "maxClientCnxns",
      "minSessionTimeout", "maxSessionTimeout", "globalOutstandingLimit", "jute.maxbuffer",
      "4lw.commands.whitelist", "extendedTypesEnabled", "znode.container.checkIntervalMs",
      "standaloneEnabled", "storage", "consensus", "frontends", "acl.schemes", "admin",
      "plugin.dir", "log.file", "log.level", "threads", "maxCnxns", "nio.sessionlessCnxnTimeout",
      "skipACL", "znode.container.maxPerMinute", "enforce.auth.enabled", "enforce.auth.schemes",
      // The kernel chooses the admin plugins with these (kernel/server/admin_plugins.h).
      "admin.enableServer", "metricsProvider.className",
      // kernel/admission: TLS of secureClientPort and the output limits of a connection
      "secureClientPort", "ssl.keyStore.location", "ssl.keyStore.password",
      "ssl.keyStore.passwordPath", "ssl.keyStore.type", "ssl.trustStore.location",
      "ssl.trustStore.type", "ssl.protocol", "ssl.enabledProtocols", "ssl.ciphersuites",
      "ssl.hostnameVerification", "ssl.crl", "ssl.ocsp", "ssl.clientAuth",
      "clientOutput.softLimitBytes", "clientOutput.hardLimitBytes",
      // consensus.zab (plugins/consensus_zab/README.md)
      "server.N", "initLimit", "syncLimit", "connectToLearnerMasterLimit", "electionAlg",
      "leaderServes", "cnxTimeout", "quorumListenOnAllIPs", "commitLogCount", "forceSnapshotSync",
      "fastleader.minNotificationInterval", "fastleader.maxNotificationInterval", "snapshotSizeFactor",
      // observers and read-only mode
      "peerType", "observerMasterPort", "syncEnabled", "observer.reconnectDelayMs", "observer.election.DelayMs",
      "readonlymode.enabled", "reconfigEnabled", "dynamicConfigFile"};
  EXPECT_EQ(implemented, expected);
}

KeySpec spec(std::string_view name) { return *catalog().find(name)->spec; }

TEST(CheckValue, Integers) {
  EXPECT_EQ(checkValue(spec("clientPort"), "2181"), std::nullopt);
  EXPECT_EQ(checkValue(spec("clientPort"), "+2181"), std::nullopt);
  EXPECT_EQ(checkValue(spec("clientPort"), "abc"), "not an integer");
  EXPECT_EQ(checkValue(spec("clientPort"), ""), "not an integer");
  EXPECT_EQ(checkValue(spec("clientPort"), "0x10"), "not an integer");
  EXPECT_EQ(checkValue(spec("clientPort"), "2181 # port"),
            "not an integer ('#' starts a comment only at the beginning of a line)");
  EXPECT_EQ(checkValue(spec("clientPort"), "70000"), "out of range (0..65535)");
  EXPECT_EQ(checkValue(spec("tickTime"), "0"), "out of range (at least 1)");
  EXPECT_EQ(checkValue(spec("tickTime"), "3000000000"), "out of range (at most 2147483647)");
  EXPECT_EQ(checkValue(spec("tickTime"), "99999999999999999999"), "not an integer");
  EXPECT_EQ(checkValue(spec("electionAlg"), "1"), "out of range (3..3)");
}

TEST(CheckValue, Booleans) {
  for (const char* ok : {"true", "false", "yes", "no", "TRUE", "No", "Yes"}) {
    EXPECT_EQ(checkValue(spec("skipACL"), ok), std::nullopt) << ok;
  }
  for (const char* bad : {"", "1", "0", "on", "ture"}) {
    EXPECT_EQ(checkValue(spec("skipACL"), bad), "not a boolean (true/false/yes/no)") << bad;
  }
}

TEST(CheckValue, EnumsAndLists) {
  EXPECT_EQ(checkValue(spec("peerType"), "Observer"), std::nullopt);
  EXPECT_EQ(checkValue(spec("peerType"), "spectator"), "not one of participant, observer");
  EXPECT_EQ(checkValue(spec("snapshot.compression.method"), ""), std::nullopt);
  EXPECT_EQ(checkValue(spec("snapshot.compression.method"), "zstd"),
            "not one of (empty), gz, snappy");
  EXPECT_EQ(checkValue(spec("4lw.commands.whitelist"), "stat, ruok, conf, isro"), std::nullopt);
  EXPECT_EQ(checkValue(spec("4lw.commands.whitelist"), "*"), std::nullopt);
  EXPECT_EQ(checkValue(spec("4lw.commands.whitelist"), "stat,bogus"),
            "'bogus' is not one of *, conf, cons, crst, dirs, dump, envi, gtmk, hash, isro, "
            "mntr, ruok, srst, srvr, stat, stmk, wchc, wchp, wchs");
  EXPECT_EQ(checkValue(spec("frontends"), "jute, thrift"), std::nullopt);
  EXPECT_EQ(checkValue(spec("frontends"), "jute,thr-ift"),
            "'thr-ift' is not a plugin name (letters, digits, _)");
  EXPECT_EQ(checkValue(spec("log.level"), "verbose"),
            "not one of trace, debug, info, warn, error");
  EXPECT_EQ(checkValue(spec("storage"), "memlog   # memlog | rocksdb"),
            "not a plugin name (letters, digits, _) ('#' starts a comment only at the "
            "beginning of a line)");
}

TEST(CheckValue, PathsHostsDoublesGroups) {
  EXPECT_EQ(checkValue(spec("dataDir"), ""), "empty value");
  EXPECT_EQ(checkValue(spec("dataDir"), "/var/lib/zookeeper"), std::nullopt);
  EXPECT_EQ(checkValue(spec("clientPortAddress"), "127.0.0.1"), std::nullopt);
  EXPECT_EQ(checkValue(spec("clientPortAddress"), "::1"), std::nullopt);
  EXPECT_EQ(checkValue(spec("clientPortAddress"), "[fe80::1%eth0]"), std::nullopt);
  EXPECT_EQ(checkValue(spec("clientPortAddress"), "zk-1.example.com"), std::nullopt);
  EXPECT_EQ(checkValue(spec("clientPortAddress"), "a b"), "not a host name or IP address");
  EXPECT_EQ(checkValue(spec("snapshotSizeFactor"), "0.5"), std::nullopt);
  EXPECT_EQ(checkValue(spec("snapshotSizeFactor"), "half"), "not a number");
  EXPECT_EQ(checkValue(spec("snapshotSizeFactor"), "nan"), "not a number");
  EXPECT_EQ(checkValue(spec("group.1"), "1:2:3"), std::nullopt);
  EXPECT_EQ(checkValue(spec("group.1"), "1:two"), "not a colon-separated list of server ids");
  KeySpec host_port{.name = "x", .type = ValueType::kHostPort};
  EXPECT_EQ(checkValue(host_port, "localhost:80"), std::nullopt);
  EXPECT_EQ(checkValue(host_port, "[::1]:80"), std::nullopt);
  EXPECT_EQ(checkValue(host_port, "localhost"), "not host:port");
  EXPECT_EQ(checkValue(host_port, "localhost:99999"), "not host:port (port 0..65535)");
}

TEST(Helpers, SplitList) {
  EXPECT_EQ(splitList(" a , b,,c ,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(splitList("").empty());
}

}  // namespace
}  // namespace corral::kernel::config

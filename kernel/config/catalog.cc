#include "kernel/config/catalog.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

#include "corral/formats/server_spec.h"
#include "kernel/config/config.h"

namespace corral::kernel::config {
namespace {

constexpr auto kInt = ValueType::kInt;
constexpr auto kDouble = ValueType::kDouble;
constexpr auto kBool = ValueType::kBool;
constexpr auto kString = ValueType::kString;
constexpr auto kName = ValueType::kName;
constexpr auto kPath = ValueType::kPath;
constexpr auto kHost = ValueType::kHost;
constexpr auto kEnum = ValueType::kEnum;
constexpr auto kList = ValueType::kList;
constexpr auto kServer = ValueType::kServer;
constexpr auto kGroup = ValueType::kGroup;

constexpr uint32_t kImpl = kImplemented;
constexpr uint32_t kSys = kSysProp;

// ZooKeeper's derived defaults (QuorumPeerConfig.parseProperties).
std::optional<std::string> twiceTick(const Config& c) {
  return std::to_string(2 * c.getInt("tickTime"));
}
std::optional<std::string> twentyTicks(const Config& c) {
  return std::to_string(20 * c.getInt("tickTime"));
}
std::optional<std::string> sameAsDataDir(const Config& c) { return c.get("dataDir"); }
std::optional<std::string> sameAsInitLimit(const Config& c) { return c.get("initLimit"); }
std::optional<std::string> sameAsJuteMaxbuffer(const Config& c) {
  return std::to_string(c.getInt("jute.maxbuffer"));
}
// kernel/admission's defaultOutputHardLimit: 64 MiB, or 4 x jute.maxbuffer when larger.
std::optional<std::string> outputHardLimitDefault(const Config& c) {
  return std::to_string(std::max<int64_t>(int64_t{64} * 1024 * 1024, 4 * c.getInt("jute.maxbuffer")));
}
std::optional<std::string> consensusForServers(const Config& c) {
  return std::string(c.isDistributed() ? "zab" : "single");
}

// The four-letter words of ZooKeeper 3.8 (FourLetterCommands), and "*" for all of them.
constexpr std::string_view kFourLetterWords =
    "*,conf,cons,crst,dirs,dump,envi,gtmk,hash,isro,mntr,ruok,srst,srvr,stat,stmk,wchc,wchp,"
    "wchs";

// ssl.* (client TLS) and ssl.quorum.* (quorum TLS) share one set of suffixes (X509Util).
// `impl`: the flag of the suffixes Corral acts on (kernel/admission reads ssl.* for
// secureClientPort; ssl.quorum.* are not implemented).
#define CORRAL_SSL_KEYS(prefix, impl)                                                    \
  {.name = prefix "keyStore.location", .type = kPath, .flags = kSys | (impl)},           \
  {.name = prefix "keyStore.password", .type = kString, .flags = kSys | (impl)},         \
  {.name = prefix "keyStore.passwordPath", .type = kPath, .flags = kSys | (impl)},       \
  {.name = prefix "keyStore.type", .type = kEnum, .flags = kSys | (impl),                \
   .choices = "JKS,PEM,PKCS12,BCFKS"},                                                   \
  {.name = prefix "trustStore.location", .type = kPath, .flags = kSys | (impl)},         \
  {.name = prefix "trustStore.password", .type = kString, .flags = kSys},                \
  {.name = prefix "trustStore.passwordPath", .type = kPath, .flags = kSys},              \
  {.name = prefix "trustStore.type", .type = kEnum, .flags = kSys | (impl),              \
   .choices = "JKS,PEM,PKCS12,BCFKS"},                                                   \
  {.name = prefix "protocol", .type = kString, .default_value = "TLSv1.2",               \
   .flags = kSys | (impl)},                                                              \
  {.name = prefix "enabledProtocols", .type = kList, .flags = kSys | (impl)},            \
  {.name = prefix "ciphersuites", .type = kList, .flags = kSys | (impl)},                \
  {.name = prefix "context.supplier.class", .type = kString, .flags = kSys},             \
  {.name = prefix "hostnameVerification", .type = kBool, .default_value = "true",        \
   .flags = kSys | (impl)},                                                              \
  {.name = prefix "crl", .type = kBool, .default_value = "false", .flags = kSys | (impl)}, \
  {.name = prefix "ocsp", .type = kBool, .default_value = "false", .flags = kSys | (impl)}, \
  {.name = prefix "clientAuth", .type = kEnum, .default_value = "need",                  \
   .flags = kSys | (impl), .choices = "none,want,need"},                                 \
  {.name = prefix "handshakeDetectionTimeoutMillis", .type = kInt,                       \
   .default_value = "5000", .flags = kSys, .min = 1, .max = kIntMax}

// THE TABLE. Order: as the Administrator's Guide (3.8) lists the keys, then keys only
// QuorumPeerConfig or the reference notes know, then Corral's own keys.
std::vector<KeySpec> standardSpecs() {
  return {
      // --- Minimum configuration
      {.name = "clientPort", .type = kInt, .flags = kImpl, .min = 0, .max = 65535},
      {.name = "secureClientPort", .type = kInt, .flags = kImpl, .min = 0, .max = 65535},
      {.name = "observerMasterPort", .type = kInt, .flags = kImpl, .min = 0, .max = 65535},
      {.name = "dataDir", .type = kPath, .flags = kImpl},
      {.name = "tickTime", .type = kInt, .default_value = "3000", .flags = kImpl, .min = 1,
       .max = kIntMax},

      // --- Advanced configuration
      {.name = "dataLogDir", .type = kPath, .flags = kImpl, .derived = sameAsDataDir},
      {.name = "globalOutstandingLimit", .type = kInt, .default_value = "1000",
       .flags = kImpl | kSys, .min = 1, .max = kIntMax},
      {.name = "preAllocSize", .type = kInt, .default_value = "65536", .flags = kSys, .min = 1,
       .max = kNoMax},
      {.name = "snapCount", .type = kInt, .default_value = "100000", .flags = kSys, .min = 2,
       .max = kIntMax},
      {.name = "commitLogCount", .type = kInt, .default_value = "500", .flags = kSys | kImpl, .min = 0,
       .max = kIntMax},
      {.name = "snapSizeLimitInKb", .type = kInt, .default_value = "4194304", .flags = kSys},
      {.name = "txnLogSizeLimitInKb", .type = kInt, .default_value = "-1", .flags = kSys},
      {.name = "maxCnxns", .type = kInt, .default_value = "0", .flags = kSys | kImpl, .min = 0,
       .max = kIntMax},
      // NIOServerCnxnFactory: a connection that sends nothing is closed after this long.
      {.name = "nio.sessionlessCnxnTimeout", .type = kInt, .default_value = "10000",
       .flags = kSys | kImpl, .min = 1, .max = kIntMax},
      {.name = "maxClientCnxns", .type = kInt, .default_value = "60", .flags = kImpl, .min = 0,
       .max = kIntMax},
      {.name = "clientPortAddress", .type = kHost, .flags = kImpl},
      // -1 (ZooKeeper's "unset") also selects the derived default.
      {.name = "minSessionTimeout", .type = kInt, .flags = kImpl, .min = -1, .max = kIntMax,
       .derived = twiceTick},
      {.name = "maxSessionTimeout", .type = kInt, .flags = kImpl, .min = -1, .max = kIntMax,
       .derived = twentyTicks},
      {.name = "fsync.warningthresholdms", .type = kInt, .default_value = "1000",
       .flags = kSys, .min = 0},
      {.name = "maxResponseCacheSize", .type = kInt, .default_value = "400", .flags = kSys,
       .max = kIntMax},
      {.name = "maxGetChildrenResponseCacheSize", .type = kInt, .default_value = "400",
       .flags = kSys, .max = kIntMax},
      // ZooKeeper raises values below 3 to 3 with a warning; so does Config (warnings()).
      {.name = "autopurge.snapRetainCount", .type = kInt, .default_value = "3", .min = 0,
       .max = kIntMax},
      {.name = "autopurge.purgeInterval", .type = kInt, .default_value = "0", .min = 0,
       .max = kIntMax},
      {.name = "syncEnabled", .type = kBool, .default_value = "true", .flags = kSys | kImpl,
       .aliases = "observer.syncEnabled"},
      {.name = "extendedTypesEnabled", .type = kBool, .default_value = "false",
       .flags = kImpl | kSys},
      {.name = "emulate353TTLNodes", .type = kBool, .default_value = "false", .flags = kSys},
      {.name = "watchManagerName", .type = kString, .flags = kSys},
      {.name = "watcherCleanThreadsNum", .type = kInt, .default_value = "2", .flags = kSys,
       .min = 1, .max = kIntMax},
      {.name = "watcherCleanThreshold", .type = kInt, .default_value = "1000", .flags = kSys,
       .min = 1, .max = kIntMax},
      {.name = "watcherCleanIntervalInSeconds", .type = kInt, .default_value = "600",
       .flags = kSys, .min = 1, .max = kIntMax},
      {.name = "maxInProcessingDeadWatchers", .type = kInt, .default_value = "-1",
       .flags = kSys, .max = kIntMax},
      {.name = "bitHashCacheSize", .type = kInt, .default_value = "10", .flags = kSys,
       .min = 0, .max = kIntMax},
      {.name = "fastleader.minNotificationInterval", .type = kInt, .default_value = "200",
       .flags = kSys | kImpl, .min = 0, .max = kIntMax},
      {.name = "fastleader.maxNotificationInterval", .type = kInt, .default_value = "60000",
       .flags = kSys | kImpl, .min = 0, .max = kIntMax},
      {.name = "connectionMaxTokens", .type = kInt, .default_value = "0", .flags = kSys,
       .min = 0, .aliases = "connection_throttle_tokens"},
      {.name = "connectionTokenFillTime", .type = kInt, .default_value = "1", .flags = kSys,
       .min = 0, .aliases = "connection_throttle_fill_time"},
      {.name = "connectionTokenFillCount", .type = kInt, .default_value = "1", .flags = kSys,
       .min = 0, .aliases = "connection_throttle_fill_count"},
      {.name = "connectionFreezeTime", .type = kInt, .default_value = "-1", .flags = kSys,
       .aliases = "connection_throttle_freeze_time"},
      {.name = "connectionDropIncrease", .type = kDouble, .default_value = "0.02",
       .flags = kSys, .aliases = "connection_throttle_drop_increase"},
      {.name = "connectionDropDecrease", .type = kDouble, .default_value = "0.002",
       .flags = kSys, .aliases = "connection_throttle_drop_decrease"},
      {.name = "connectionDecreaseRatio", .type = kDouble, .default_value = "0",
       .flags = kSys, .aliases = "connection_throttle_decrease_ratio"},
      {.name = "connection_throttle_weight_enabled", .type = kBool, .default_value = "false",
       .flags = kSys},
      {.name = "connection_throttle_global_session_weight", .type = kInt,
       .default_value = "3", .flags = kSys, .min = 1, .max = kIntMax},
      {.name = "connection_throttle_local_session_weight", .type = kInt,
       .default_value = "1", .flags = kSys, .min = 1, .max = kIntMax},
      {.name = "connection_throttle_renew_session_weight", .type = kInt,
       .default_value = "2", .flags = kSys, .min = 1, .max = kIntMax},
      {.name = "clientPortListenBacklog", .type = kInt, .default_value = "-1", .min = -1,
       .max = kIntMax},
      {.name = "serverCnxnFactory", .type = kString, .default_value = "NIOServerCnxnFactory",
       .flags = kSys},
      {.name = "flushDelay", .type = kInt, .default_value = "0", .flags = kSys, .min = 0},
      {.name = "maxWriteQueuePollTime", .type = kInt, .flags = kSys, .min = 0},
      {.name = "maxBatchSize", .type = kInt, .default_value = "1000", .flags = kSys,
       .min = 1, .max = kIntMax},
      {.name = "enforceQuota", .type = kBool, .default_value = "false", .flags = kSys},
      {.name = "requestThrottleLimit", .type = kInt, .default_value = "0", .flags = kSys,
       .min = 0, .max = kIntMax, .aliases = "request_throttle_max_requests"},
      {.name = "requestThrottleStallTime", .type = kInt, .default_value = "100",
       .flags = kSys, .min = 0, .max = kIntMax, .aliases = "request_throttle_stall_time"},
      {.name = "requestThrottleDropStale", .type = kBool, .default_value = "true",
       .flags = kSys, .aliases = "request_throttle_drop_stale"},
      {.name = "requestStaleLatencyCheck", .type = kBool, .default_value = "false",
       .flags = kSys, .aliases = "request_stale_latency_check"},
      {.name = "requestStaleConnectionCheck", .type = kBool, .default_value = "true",
       .flags = kSys, .aliases = "request_stale_connection_check"},
      {.name = "request_throttler.shutdownTimeout", .type = kInt, .default_value = "10000",
       .flags = kSys, .min = 0},
      {.name = "advancedFlowControlEnabled", .type = kBool, .default_value = "false",
       .flags = kSys, .aliases = "netty.advancedFlowControl.enabled"},
      {.name = "enableEagerACLCheck", .type = kBool, .default_value = "false", .flags = kSys},
      {.name = "maxConcurrentSnapSyncs", .type = kInt, .default_value = "10", .flags = kSys,
       .min = 1, .max = kIntMax, .aliases = "leader.maxConcurrentSnapSyncs"},
      {.name = "maxConcurrentDiffSyncs", .type = kInt, .default_value = "100", .flags = kSys,
       .min = 1, .max = kIntMax, .aliases = "leader.maxConcurrentDiffSyncs"},
      {.name = "digest.enabled", .type = kBool, .default_value = "true", .flags = kSys},
      {.name = "snapshot.compression.method", .type = kEnum, .default_value = "",
       .flags = kSys, .choices = ",gz,snappy"},
      {.name = "snapshot.trust.empty", .type = kBool, .default_value = "false", .flags = kSys},
      {.name = "audit.enable", .type = kBool, .default_value = "false", .flags = kSys},
      {.name = "audit.impl.class", .type = kString, .flags = kSys},
      {.name = "largeRequestMaxBytes", .type = kInt, .default_value = "104857600",
       .flags = kSys, .min = 1, .max = kIntMax},
      {.name = "largeRequestThreshold", .type = kInt, .default_value = "-1", .flags = kSys,
       .min = -1, .max = kIntMax},
      {.name = "outstandingHandshake.limit", .type = kInt, .flags = kSys,
       .aliases = "netty.server.outstandingHandshake.limit"},
      {.name = "netty.server.earlyDropSecureConnectionHandshakes", .type = kBool,
       .default_value = "false", .flags = kSys},
      {.name = "throttledOpWaitTime", .type = kInt, .default_value = "0", .flags = kSys,
       .min = 0, .max = kIntMax, .aliases = "throttled_op_wait_time"},
      {.name = "learner.closeSocketAsync", .type = kBool, .default_value = "false",
       .flags = kSys},
      {.name = "leader.closeSocketAsync", .type = kBool, .default_value = "false",
       .flags = kSys},
      {.name = "learner.asyncSending", .type = kBool, .default_value = "false", .flags = kSys},
      {.name = "forward_learner_requests_to_commit_processor_disabled", .type = kBool,
       .default_value = "false", .flags = kSys},

      // --- Cluster options
      {.name = "electionAlg", .type = kInt, .default_value = "3", .flags = kImpl, .min = 3, .max = 3},
      {.name = "maxTimeToWaitForEpoch", .type = kInt, .default_value = "-1", .flags = kSys,
       .max = kIntMax, .aliases = "leader.maxTimeToWaitForEpoch"},
      {.name = "initLimit", .type = kInt, .flags = kImpl, .min = 1, .max = kIntMax},
      {.name = "connectToLearnerMasterLimit", .type = kInt, .flags = kSys | kImpl, .min = 0,
       .max = kIntMax, .derived = sameAsInitLimit},
      {.name = "leaderServes", .type = kBool, .default_value = "true", .flags = kSys | kImpl},
      {.name = "server.N", .type = kServer, .flags = kImpl},
      {.name = "syncLimit", .type = kInt, .flags = kImpl, .min = 1, .max = kIntMax},
      {.name = "group.N", .type = kGroup},
      {.name = "weight.N", .type = kInt, .default_value = "1", .min = 0, .max = kNoMax},
      {.name = "cnxTimeout", .type = kInt, .default_value = "5000", .flags = kSys | kImpl, .min = 1,
       .max = kIntMax},
      {.name = "quorumCnxnTimeoutMs", .type = kInt, .default_value = "-1", .flags = kSys,
       .min = -1, .max = kIntMax},
      {.name = "standaloneEnabled", .type = kBool, .default_value = "true", .flags = kImpl},
      {.name = "reconfigEnabled", .type = kBool, .default_value = "false", .flags = kImpl},
      {.name = "4lw.commands.whitelist", .type = kList, .default_value = "srvr",
       .flags = kImpl | kSys, .choices = kFourLetterWords},
      {.name = "tcpKeepAlive", .type = kBool, .default_value = "false", .flags = kSys},
      {.name = "clientTcpKeepAlive", .type = kBool, .default_value = "false", .flags = kSys},
      {.name = "electionPortBindRetry", .type = kInt, .default_value = "3", .flags = kSys,
       .min = 0, .max = kIntMax},
      {.name = "observer.reconnectDelayMs", .type = kInt, .default_value = "0", .flags = kSys | kImpl,
       .min = 0},
      {.name = "observer.election.DelayMs", .type = kInt, .default_value = "200",
       .flags = kSys | kImpl, .min = 0},
      {.name = "localSessionsEnabled", .type = kBool, .default_value = "false"},
      {.name = "localSessionsUpgradingEnabled", .type = kBool, .default_value = "false"},

      // --- Authentication & authorization
      {.name = "DigestAuthenticationProvider.enabled", .type = kBool, .default_value = "true",
       .flags = kSys},
      {.name = "DigestAuthenticationProvider.superDigest", .type = kString, .flags = kSys},
      {.name = "DigestAuthenticationProvider.digestAlg", .type = kString,
       .default_value = "SHA1", .flags = kSys},
      {.name = "X509AuthenticationProvider.superUser", .type = kString, .flags = kSys},
      {.name = "superUser", .type = kString, .flags = kSys},
      {.name = "superUser.*", .type = kString, .flags = kSys},
      {.name = "ssl.authProvider", .type = kString, .default_value = "x509", .flags = kSys},
      {.name = "ensembleAuthName", .type = kList, .flags = kSys},
      {.name = "sessionRequireClientSASLAuth", .type = kBool, .default_value = "false",
       .flags = kSys},
      {.name = "allowSaslFailedClients", .type = kBool, .default_value = "false",
       .flags = kSys},
      {.name = "enforce.auth.enabled", .type = kBool, .default_value = "false", .flags = kSys | kImpl},
      {.name = "enforce.auth.schemes", .type = kList, .flags = kSys | kImpl},
      {.name = "sslQuorum", .type = kBool, .default_value = "false", .flags = kSys},
      CORRAL_SSL_KEYS("ssl.", kImpl),
      CORRAL_SSL_KEYS("ssl.quorum.", 0u),
      {.name = "client.portUnification", .type = kBool, .default_value = "false",
       .flags = kSys},
      {.name = "authProvider.*", .type = kString, .flags = kSys},
      {.name = "kerberos.removeHostFromPrincipal", .type = kBool, .default_value = "false",
       .flags = kSys},
      {.name = "kerberos.removeRealmFromPrincipal", .type = kBool, .default_value = "false",
       .flags = kSys},
      {.name = "kerberos.canonicalizeHostNames", .type = kBool, .default_value = "false",
       .flags = kSys},
      {.name = "multiAddress.enabled", .type = kBool, .default_value = "false", .flags = kSys},
      {.name = "multiAddress.reachabilityCheckTimeoutMs", .type = kInt,
       .default_value = "1000", .flags = kSys, .min = 0, .max = kIntMax},
      {.name = "fips-mode", .type = kBool, .default_value = "false", .flags = kSys},

      // --- Experimental options
      // ZooKeeper reads it only as the JVM property -Dreadonlymode.enabled=true (a zoo.cfg line
      // is ignored there); Corral honours the line, since it has no JVM flags.
      {.name = "readonlymode.enabled", .type = kBool, .default_value = "false", .flags = kImpl},
      {.name = "follower.skipLearnerRequestToNextProcessor", .type = kBool,
       .default_value = "false", .flags = kSys},

      // --- Unsafe options
      {.name = "forceSync", .type = kBool, .default_value = "true", .flags = kSys},
      // ZooKeeper reads jute.maxbuffer only as a JVM property (a zoo.cfg line is ignored
      // there); Corral honours the line, since it has no JVM flags.
      {.name = "jute.maxbuffer", .type = kInt, .default_value = "1048575", .flags = kImpl,
       .min = 1, .max = kIntMax},
      {.name = "jute.maxbuffer.extrasize", .type = kInt, .flags = kSys, .min = 0,
       .max = kIntMax, .derived = sameAsJuteMaxbuffer},
      {.name = "skipACL", .type = kBool, .default_value = "false", .flags = kSys | kImpl},
      {.name = "quorumListenOnAllIPs", .type = kBool, .default_value = "false", .flags = kImpl},
      {.name = "multiAddress.reachabilityCheckEnabled", .type = kBool,
       .default_value = "true", .flags = kSys},

      // --- Performance tuning
      {.name = "nio.numSelectorThreads", .type = kInt, .flags = kSys, .min = 1,
       .max = kIntMax},
      {.name = "nio.numWorkerThreads", .type = kInt, .flags = kSys, .min = 0, .max = kIntMax},
      {.name = "commitProcessor.numWorkerThreads", .type = kInt, .flags = kSys, .min = 0,
       .max = kIntMax},
      {.name = "commitProcessor.maxReadBatchSize", .type = kInt, .default_value = "-1",
       .flags = kSys, .max = kIntMax},
      {.name = "commitProcessor.maxCommitBatchSize", .type = kInt, .default_value = "1",
       .flags = kSys, .min = 1, .max = kIntMax},
      {.name = "znode.container.checkIntervalMs", .type = kInt, .default_value = "60000",
       .flags = kImpl, .min = 1, .max = kIntMax},
      {.name = "znode.container.maxPerMinute", .type = kInt, .default_value = "10000", .flags = kSys | kImpl,
       .min = 1, .max = kIntMax},
      {.name = "znode.container.maxNeverUsedIntervalMs", .type = kInt, .default_value = "0",
       .min = 0},

      // --- Debug observability
      {.name = "messageTracker.BufferSize", .type = kInt, .default_value = "10",
       .flags = kSys, .min = 1, .max = kIntMax},
      {.name = "messageTracker.Enabled", .type = kBool, .default_value = "false",
       .flags = kSys},

      // --- AdminServer
      {.name = "admin.forceHttps", .type = kBool, .default_value = "false", .flags = kSys},
      {.name = "admin.portUnification", .type = kBool, .default_value = "false",
       .flags = kSys},
      // The kernel reads these two to choose the admin plugins (kernel/server/admin_plugins.h).
      {.name = "admin.enableServer", .type = kBool, .default_value = "true",
       .flags = kSys | kImpl},
      {.name = "admin.serverAddress", .type = kHost, .default_value = "0.0.0.0",
       .flags = kSys},
      {.name = "admin.serverPort", .type = kInt, .default_value = "8080", .flags = kSys,
       .min = 0, .max = 65535},
      {.name = "admin.idleTimeout", .type = kInt, .default_value = "30000", .flags = kSys,
       .min = 0, .max = kIntMax},
      {.name = "admin.commandURL", .type = kString, .default_value = "/commands",
       .flags = kSys},
      {.name = "admin.httpVersion", .type = kInt, .default_value = "11", .flags = kSys},

      // --- Metrics providers (metricsProvider.* is handed to the provider as is)
      {.name = "metricsProvider.className", .type = kString,
       .default_value = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider",
       .flags = kImpl},
      {.name = "metricsProvider.httpHost", .type = kHost, .default_value = "0.0.0.0"},
      {.name = "metricsProvider.httpPort", .type = kInt, .default_value = "7000", .min = 0,
       .max = 65535},
      {.name = "metricsProvider.exportJvmInfo", .type = kBool, .default_value = "true"},
      {.name = "metricsProvider.numWorkerThreads", .type = kInt, .default_value = "1",
       .max = kIntMax},
      {.name = "metricsProvider.maxQueueSize", .type = kInt, .default_value = "1000000",
       .min = 1, .max = kIntMax},
      {.name = "metricsProvider.workerShutdownTimeoutMs", .type = kInt,
       .default_value = "1000", .min = 0},
      {.name = "metricsProvider.*", .type = kString},

      // --- Parsed by QuorumPeerConfig (or noted in the reference) without a guide entry
      {.name = "secureClientPortAddress", .type = kHost},
      {.name = "peerType", .type = kEnum, .default_value = "participant", .flags = kImpl,
       .choices = "participant,observer"},
      {.name = "dynamicConfigFile", .type = kPath, .flags = kImpl},
      {.name = "sslQuorumReloadCertFiles", .type = kBool, .default_value = "false"},
      {.name = "portUnification", .type = kBool, .default_value = "false"},
      {.name = "quorum.auth.enableSasl", .type = kBool, .default_value = "false"},
      {.name = "quorum.auth.learnerRequireSasl", .type = kBool, .default_value = "false"},
      {.name = "quorum.auth.serverRequireSasl", .type = kBool, .default_value = "false"},
      {.name = "quorum.auth.learner.saslLoginContext", .type = kString,
       .default_value = "QuorumLearner"},
      {.name = "quorum.auth.server.saslLoginContext", .type = kString,
       .default_value = "QuorumServer"},
      {.name = "quorum.auth.kerberos.servicePrincipal", .type = kString,
       .default_value = "zkquorum/localhost"},
      {.name = "quorum.cnxn.threads.size", .type = kInt, .default_value = "20", .min = 1,
       .max = kIntMax},
      {.name = "oraclePath", .type = kPath},
      {.name = "jvm.pause.monitor", .type = kBool, .default_value = "false"},
      {.name = "jvm.pause.info-threshold.ms", .type = kInt, .default_value = "1000", .min = 0},
      {.name = "jvm.pause.warn-threshold.ms", .type = kInt, .default_value = "10000",
       .min = 0},
      {.name = "jvm.pause.sleep.time.ms", .type = kInt, .default_value = "500", .min = 1},
      {.name = "snapshotSizeFactor", .type = kDouble, .default_value = "0.33", .flags = kSys | kImpl},
      {.name = "forceSnapshotSync", .type = kBool, .default_value = "false", .flags = kSys | kImpl},
      {.name = "datadir.autocreate", .type = kBool, .default_value = "true", .flags = kSys},
      {.name = "closeSessionTxn.enabled", .type = kBool, .default_value = "true",
       .flags = kSys},
      {.name = "clientCnxnSocket", .type = kString, .flags = kSys},

      // --- Corral's kernel keys (DESIGN.md §4)
      {.name = "storage", .type = kName, .default_value = "memlog", .flags = kImpl},
      {.name = "consensus", .type = kName, .flags = kImpl, .derived = consensusForServers},
      {.name = "frontends", .type = kList, .default_value = "jute",
       .flags = kImpl | kNameElements},
      // world and auth are always on; this adds schemes (digest, ip, ...).
      {.name = "acl.schemes", .type = kList, .default_value = "digest,ip",
       .flags = kImpl | kNameElements},
      {.name = "admin", .type = kList, .default_value = "",
       .flags = kImpl | kNameElements},
      {.name = "plugin.dir", .type = kPath, .flags = kImpl},
      {.name = "log.file", .type = kPath, .flags = kImpl},
      {.name = "log.level", .type = kEnum, .default_value = "info", .flags = kImpl,
       .choices = "trace,debug,info,warn,error"},
      {.name = "threads", .type = kInt, .default_value = "1", .flags = kImpl, .min = 1,
       .max = 1024},
      // Unsent output of one client connection (kernel/admission): above the soft limit it
      // stops taking requests, above the hard limit it is closed. ZooKeeper has no bound.
      {.name = "clientOutput.softLimitBytes", .type = kInt, .default_value = "4194304",
       .flags = kImpl, .min = 1, .max = kNoMax},
      {.name = "clientOutput.hardLimitBytes", .type = kInt, .flags = kImpl, .min = 1,
       .max = kNoMax, .derived = outputHardLimitDefault},
  };
}

#undef CORRAL_SSL_KEYS

constexpr std::string_view kSysPrefix = "zookeeper.";

bool isDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string_view> splitSpaces(std::string_view text) {
  std::vector<std::string_view> words;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) words.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return words;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool inChoices(std::string_view choices, std::string_view value) {
  size_t pos = 0;
  while (pos <= choices.size()) {
    size_t end = choices.find(',', pos);
    if (end == std::string_view::npos) end = choices.size();
    if (equalsIgnoreCase(choices.substr(pos, end - pos), value)) return true;
    pos = end + 1;
  }
  return false;
}

// "a,b,c" -> "a, b, c" for messages; an empty choice shows as "(empty)".
std::string describeChoices(std::string_view choices) {
  std::string out;
  size_t pos = 0;
  while (pos <= choices.size()) {
    size_t end = choices.find(',', pos);
    if (end == std::string_view::npos) end = choices.size();
    if (!out.empty()) out += ", ";
    auto choice = choices.substr(pos, end - pos);
    out += choice.empty() ? std::string("(empty)") : std::string(choice);
    pos = end + 1;
  }
  return out;
}

// "0..65535" when both bounds are meaningful, else the bound that was crossed.
std::string describeRange(int64_t min, int64_t max, int64_t value) {
  if (min != kNoMin && max != kNoMax && max != kIntMax) return fmt::format("{}..{}", min, max);
  if (value < min) return fmt::format("at least {}", min);
  return fmt::format("at most {}", max);
}

// Inline comments do not exist in zoo.cfg; say so when a bad value looks like one.
std::string commentHint(std::string_view value) {
  auto hash = value.find('#');
  if (hash != std::string_view::npos && hash > 0 &&
      (value[hash - 1] == ' ' || value[hash - 1] == '\t')) {
    return " ('#' starts a comment only at the beginning of a line)";
  }
  return "";
}

std::optional<std::string> checkHostPort(std::string_view value) {
  std::string_view host;
  std::string_view port;
  if (value.starts_with('[')) {
    auto close = value.find("]:");
    if (close == std::string_view::npos) return "not host:port";
    host = value.substr(1, close - 1);
    port = value.substr(close + 2);
  } else {
    auto colon = value.rfind(':');
    if (colon == std::string_view::npos) return "not host:port";
    host = value.substr(0, colon);
    port = value.substr(colon + 1);
  }
  if (!isHost(host)) return "not host:port";
  auto number = parseInt(port);
  if (!number || *number < 0 || *number > 65535) return "not host:port (port 0..65535)";
  return std::nullopt;
}

}  // namespace

std::string_view typeName(ValueType type) noexcept {
  switch (type) {
    case ValueType::kInt: return "integer";
    case ValueType::kDouble: return "number";
    case ValueType::kBool: return "boolean";
    case ValueType::kString: return "string";
    case ValueType::kName: return "plugin name";
    case ValueType::kPath: return "path";
    case ValueType::kHost: return "host";
    case ValueType::kHostPort: return "host:port";
    case ValueType::kEnum: return "one of a list";
    case ValueType::kList: return "comma list";
    case ValueType::kServer: return "server address";
    case ValueType::kGroup: return "server id list";
  }
  return "value";
}

Catalog::Catalog(std::vector<KeySpec> specs) : specs_(std::move(specs)) {
  for (size_t i = 0; i < specs_.size(); ++i) {
    const KeySpec& spec = specs_[i];
    if (spec.isPattern()) continue;
    std::vector<std::string_view> names{spec.name};
    for (auto alias : splitSpaces(spec.aliases)) names.push_back(alias);
    for (auto name : names) {
      exact_.emplace_back(std::string(name), i);
      if (spec.flags & kSysProp) exact_.emplace_back(std::string(kSysPrefix) + std::string(name), i);
    }
  }
  std::sort(exact_.begin(), exact_.end());
  for (const auto& [spelling, index] : exact_) spellings_.push_back(spelling);
}

const Catalog& Catalog::standard() {
  static const Catalog catalog(standardSpecs());
  return catalog;
}

std::optional<KeyMatch> Catalog::find(std::string_view key) const {
  auto it = std::lower_bound(exact_.begin(), exact_.end(), key,
                             [](const auto& entry, std::string_view k) { return entry.first < k; });
  if (it != exact_.end() && it->first == key) {
    const KeySpec& spec = specs_[it->second];
    return KeyMatch{&spec, std::string(spec.name)};
  }
  for (const KeySpec& spec : specs_) {
    if (!spec.isPattern()) continue;
    const std::string_view stem = spec.name.substr(0, spec.name.size() - 1);  // "server."
    const bool numeric = spec.name.ends_with(".N");
    auto matches = [&](std::string_view candidate) {
      if (!candidate.starts_with(stem)) return false;
      auto rest = candidate.substr(stem.size());
      return numeric ? isDigits(rest) : !rest.empty();
    };
    if (matches(key)) return KeyMatch{&spec, std::string(key)};
    if ((spec.flags & kSysProp) && key.starts_with(kSysPrefix) &&
        matches(key.substr(kSysPrefix.size()))) {
      return KeyMatch{&spec, std::string(key.substr(kSysPrefix.size()))};
    }
  }
  return std::nullopt;
}

std::optional<int64_t> parseInt(std::string_view text) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && text.front() == '-') return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parseDouble(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string copy(text);
  char* end = nullptr;
  double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  // strtod also takes hex, "inf" and "nan": keep to plain decimals.
  for (char c : copy) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E')) {
      return std::nullopt;
    }
  }
  return value;
}

std::optional<bool> parseBool(std::string_view text) {
  if (equalsIgnoreCase(text, "true") || equalsIgnoreCase(text, "yes")) return true;
  if (equalsIgnoreCase(text, "false") || equalsIgnoreCase(text, "no")) return false;
  return std::nullopt;
}

std::vector<std::string> splitList(std::string_view text) {
  std::vector<std::string> items;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    auto item = text.substr(pos, end - pos);
    while (!item.empty() && static_cast<unsigned char>(item.front()) <= ' ') item.remove_prefix(1);
    while (!item.empty() && static_cast<unsigned char>(item.back()) <= ' ') item.remove_suffix(1);
    if (!item.empty()) items.emplace_back(item);
    pos = end + 1;
  }
  return items;
}

bool isPluginName(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool isHost(std::string_view text) { return formats::isHost(text); }

std::optional<std::string> checkValue(const KeySpec& spec, std::string_view value) {
  switch (spec.type) {
    case ValueType::kInt: {
      auto number = parseInt(value);
      if (!number) return "not an integer" + commentHint(value);
      if (*number < spec.min || *number > spec.max) {
        return "out of range (" + describeRange(spec.min, spec.max, *number) + ")";
      }
      return std::nullopt;
    }
    case ValueType::kDouble:
      if (!parseDouble(value)) return "not a number" + commentHint(value);
      return std::nullopt;
    case ValueType::kBool:
      if (!parseBool(value)) return "not a boolean (true/false/yes/no)" + commentHint(value);
      return std::nullopt;
    case ValueType::kString:
      return std::nullopt;
    case ValueType::kName:
      if (!isPluginName(value)) {
        return "not a plugin name (letters, digits, _)" + commentHint(value);
      }
      return std::nullopt;
    case ValueType::kPath:
      if (value.empty()) return "empty value";
      return std::nullopt;
    case ValueType::kHost:
      if (value.empty()) return "empty value";
      if (!isHost(value)) return "not a host name or IP address" + commentHint(value);
      return std::nullopt;
    case ValueType::kHostPort:
      if (auto error = checkHostPort(value)) return *error + commentHint(value);
      return std::nullopt;
    case ValueType::kEnum:
      if (!inChoices(spec.choices, value)) {
        return "not one of " + describeChoices(spec.choices) + commentHint(value);
      }
      return std::nullopt;
    case ValueType::kList:
      for (const auto& item : splitList(value)) {
        if ((spec.flags & kNameElements) && !isPluginName(item)) {
          return fmt::format("'{}' is not a plugin name (letters, digits, _){}", item,
                             commentHint(value));
        }
        if (!spec.choices.empty() && !inChoices(spec.choices, item)) {
          return fmt::format("'{}' is not one of {}{}", item, describeChoices(spec.choices),
                             commentHint(value));
        }
      }
      return std::nullopt;
    case ValueType::kServer:
      return std::nullopt;  // parsed with its id by parseServerSpec
    case ValueType::kGroup: {
      if (value.empty()) return "empty value";
      size_t pos = 0;
      while (pos <= value.size()) {
        size_t end = value.find(':', pos);
        if (end == std::string_view::npos) end = value.size();
        if (!isDigits(value.substr(pos, end - pos))) {
          return "not a colon-separated list of server ids" + commentHint(value);
        }
        pos = end + 1;
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace corral::kernel::config

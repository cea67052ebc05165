// The plugin set a config asks for: admin plugins implied by ZooKeeper's keys
// (admin.enableServer, metricsProvider.className), merged with Corral's `admin=` list, and
// the ZooKeeper exit codes of their start failures.
#include "kernel/server/admin_plugins.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernel/server/plugin_set.h"

namespace corral::kernel::server {
namespace {

constexpr std::string_view kBase = "tickTime=2000\ndataDir=/tmp/zk\nclientPort=2181\n";  // lines 1-3
constexpr std::string_view kPrometheus = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

config::Config make(std::string_view extra_lines) {
  auto config = config::Config::fromText(std::string(kBase) + std::string(extra_lines), "/etc/x.cfg");
  EXPECT_TRUE(config.isOk()) << config.status().toString();
  return std::move(config).value();
}

// "admin.http@/etc/x.cfg:4" for each admin request, in order; or the error message.
std::vector<std::string> adminPlugins(std::string_view extra_lines) {
  auto requests = adminPluginRequests(make(extra_lines));
  if (!requests.isOk()) {
    EXPECT_EQ(requests.status().code(), sdk::Code::kInvalidConfig);
    return {"error: " + requests.status().message()};
  }
  std::vector<std::string> out;
  for (const auto& request : requests.value()) {
    EXPECT_EQ(request.kind, sdk::PluginKind::kAdmin);
    out.push_back(request.fullName() + "@" + request.where);
  }
  return out;
}

using Names = std::vector<std::string>;

// --- admin.enableServer ----------------------------------------------------------------

TEST(AdminPlugins, AdminServerIsOnByDefaultAsInZooKeeper) {
  EXPECT_EQ(adminPlugins(""), Names{"admin.http@admin.enableServer (true by default)"});
  EXPECT_EQ(adminPlugins("admin.enableServer=true\n"), Names{"admin.http@/etc/x.cfg:4"});
}

TEST(AdminPlugins, EnableServerFalseLoadsNothingInEitherSpelling) {
  EXPECT_EQ(adminPlugins("admin.enableServer=false\n"), Names{});
  EXPECT_EQ(adminPlugins("zookeeper.admin.enableServer=false\n"), Names{});
  EXPECT_EQ(adminPlugins("zookeeper.admin.enableServer=true\n"), Names{"admin.http@/etc/x.cfg:4"});
  // The later line wins, as in java.util.Properties.
  EXPECT_EQ(adminPlugins("admin.enableServer=true\nzookeeper.admin.enableServer=false\n"), Names{});
}

TEST(AdminPlugins, MalformedEnableServerIsAConfigError) {
  EXPECT_EQ(adminPlugins("admin.enableServer=maybe\n"),
            Names{"error: /etc/x.cfg:4: admin.enableServer=maybe: not a boolean (true/false/yes/no)"});
}

// --- metricsProvider.className ---------------------------------------------------------

TEST(AdminPlugins, PrometheusProviderLoadsMetricsBeforeTheAdminServer) {
  EXPECT_EQ(adminPlugins("metricsProvider.className=" + std::string(kPrometheus) + "\n"),
            (Names{"admin.metrics@/etc/x.cfg:4", "admin.http@admin.enableServer (true by default)"}));
  EXPECT_EQ(adminPlugins("admin.enableServer=false\nmetricsProvider.className=" + std::string(kPrometheus) + "\n"),
            Names{"admin.metrics@/etc/x.cfg:5"});
}

TEST(AdminPlugins, ZooKeepersPortlessProvidersLoadNothing) {
  for (const char* provider : {"org.apache.zookeeper.metrics.impl.DefaultMetricsProvider",
                               "org.apache.zookeeper.metrics.impl.NullMetricsProvider"}) {
    EXPECT_EQ(adminPlugins("admin.enableServer=false\nmetricsProvider.className=" + std::string(provider) + "\n"),
              Names{})
        << provider;
  }
}

TEST(AdminPlugins, OtherProviderClassesAreAConfigErrorNamingLineAndKey) {
  auto result = adminPlugins("metricsProvider.httpPort=7001\nmetricsProvider.className=com.example.MyProvider\n");
  ASSERT_EQ(result.size(), 1u);
  EXPECT_TRUE(result[0].starts_with(
      "error: /etc/x.cfg:5: metricsProvider.className=com.example.MyProvider: Corral cannot load Java classes;"))
      << result[0];
  EXPECT_NE(result[0].find(kPrometheus), std::string::npos) << result[0];
  // Class names are case-sensitive in Java.
  EXPECT_TRUE(adminPlugins("metricsProvider.className=org.apache.zookeeper.metrics.prometheus."
                           "prometheusMetricsProvider\n")[0]
                  .starts_with("error: /etc/x.cfg:4:"));
}

// --- admin= ----------------------------------------------------------------------------

TEST(AdminPlugins, ExplicitListMergesWithImpliedPlugins) {
  EXPECT_EQ(adminPlugins("admin=http\n"), Names{"admin.http@admin.enableServer (true by default)"});
  EXPECT_EQ(adminPlugins("metricsProvider.className=" + std::string(kPrometheus) + "\nadmin=http,metrics\n"),
            (Names{"admin.metrics@/etc/x.cfg:4", "admin.http@admin.enableServer (true by default)"}));
}

TEST(AdminPlugins, ExplicitListAddsPlugins) {
  // admin=metrics without a className line: Corral's own way to ask for /metrics.
  EXPECT_EQ(adminPlugins("admin.enableServer=false\nadmin=metrics\n"), Names{"admin.metrics@/etc/x.cfg:5"});
  EXPECT_EQ(adminPlugins("admin=metrics,custom\n"),
            (Names{"admin.http@admin.enableServer (true by default)", "admin.metrics@/etc/x.cfg:4",
                   "admin.custom@/etc/x.cfg:4"}));
}

TEST(AdminPlugins, FourLetterWordsLoadNothing) {
  EXPECT_EQ(adminPlugins("admin.enableServer=false\nadmin=4lw\n"), Names{});
  EXPECT_EQ(adminPlugins("admin=4lw,http\n"), Names{"admin.http@admin.enableServer (true by default)"});
}

TEST(AdminPlugins, ARepeatWithinTheListIsLeftToTheLoader) {
  // The loader rejects it with exit 16 ("listed more than once"); only implied names merge.
  EXPECT_EQ(adminPlugins("admin.enableServer=false\nadmin=custom,custom\n"),
            (Names{"admin.custom@/etc/x.cfg:5", "admin.custom@/etc/x.cfg:5"}));
}

TEST(AdminPlugins, ListContradictingAZooKeeperKeyIsAConfigError) {
  EXPECT_EQ(adminPlugins("admin.enableServer=false\nadmin=http\n"),
            Names{"error: /etc/x.cfg:5: admin=http asks for the AdminServer, but /etc/x.cfg:4: "
                  "admin.enableServer=false turns it off; remove one of the two lines"});
  EXPECT_EQ(adminPlugins("admin=metrics\nmetricsProvider.className=org.apache.zookeeper.metrics.impl."
                         "DefaultMetricsProvider\n"),
            Names{"error: /etc/x.cfg:4: admin=metrics asks for the Prometheus endpoint, but /etc/x.cfg:5: "
                  "metricsProvider.className=org.apache.zookeeper.metrics.impl.DefaultMetricsProvider "
                  "serves none; remove one of the two lines"});
}

TEST(AdminPlugins, BadNameInTheList) {
  EXPECT_EQ(adminPlugins("admin=http,my-plugin\n"),
            Names{"error: /etc/x.cfg:4: admin: 'my-plugin' is not a plugin name (letters, digits, _)"});
}

// --- the whole set ---------------------------------------------------------------------

TEST(PluginSet, AnUnchangedZooCfgGetsTheStandardAssemblyAndTheAdminServer) {
  auto requests = pluginRequests(make(""));
  ASSERT_TRUE(requests.isOk()) << requests.status().message();
  Names names;
  for (const auto& request : requests.value()) names.push_back(request.fullName());
  EXPECT_EQ(names, (Names{"storage.memlog", "consensus.single", "acl.digest", "acl.ip", "frontend.jute",
                          "admin.http"}));
}

TEST(PluginSet, AdminErrorsStopTheWholeSet) {
  auto requests = pluginRequests(make("metricsProvider.className=com.example.MyProvider\n"));
  ASSERT_FALSE(requests.isOk());
  EXPECT_TRUE(requests.status().message().starts_with("/etc/x.cfg:4: metricsProvider.className="));
}

// --- start failures --------------------------------------------------------------------

TEST(StartFailure, AdminServerAndMetricsProviderExitAsZooKeeper) {
  auto admin = zooKeeperStartFailure("admin.http");
  ASSERT_TRUE(admin.has_value());
  EXPECT_EQ(static_cast<int>(admin->code), 4);  // ERROR_STARTING_ADMIN_SERVER
  EXPECT_EQ(admin->text, "Unable to start AdminServer, exiting abnormally");
  auto metrics = zooKeeperStartFailure("admin.metrics");
  ASSERT_TRUE(metrics.has_value());
  EXPECT_EQ(static_cast<int>(metrics->code), 1);  // UNEXPECTED_ERROR
  EXPECT_TRUE(metrics->text.starts_with("Cannot boot MetricsProvider " + std::string(kPrometheus)));
  EXPECT_FALSE(zooKeeperStartFailure("frontend.jute").has_value());
  EXPECT_FALSE(zooKeeperStartFailure("admin.custom").has_value());
}

}  // namespace
}  // namespace corral::kernel::server

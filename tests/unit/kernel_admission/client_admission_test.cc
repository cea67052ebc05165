// ClientAdmissionService: connection limits with ZooKeeper's log lines and connection_rejected,
// globalOutstandingLimit's throttle rule, and the TLS context built at start().
#include <gtest/gtest.h>

#include "corral/basic_metrics_registry.h"
#include "kernel/admission/client_admission_service.h"
#include "test_config.h"

namespace corral::kernel::admission {
namespace {

using testing::CapturingLogger;

struct Fixture {
  explicit Fixture(AdmissionSettings settings) : service(std::move(settings), logger, metrics) {}
  int64_t rejected() { return metrics.counter("connection_rejected", "").value(); }

  CapturingLogger logger;
  sdk::BasicMetricsRegistry metrics;
  ClientAdmissionService service;
};

TEST(ClientAdmission, PerAddressLimitCountsOpenConnections) {
  AdmissionSettings settings;
  settings.max_client_cnxns = 2;
  Fixture f(settings);
  EXPECT_EQ(f.service.admitConnection("10.0.0.1"), sdk::Admission::kAdmitted);
  EXPECT_EQ(f.service.admitConnection("10.0.0.1"), sdk::Admission::kAdmitted);
  EXPECT_EQ(f.service.admitConnection("10.0.0.1"), sdk::Admission::kTooManyFromAddress);
  EXPECT_TRUE(f.logger.contains(
      "Error accepting new connection: Too many connections from /10.0.0.1 - max is 2"));
  EXPECT_EQ(f.rejected(), 1);
  EXPECT_EQ(f.service.admitConnection("10.0.0.2"), sdk::Admission::kAdmitted);
  f.service.releaseConnection("10.0.0.1");
  EXPECT_EQ(f.service.admitConnection("10.0.0.1"), sdk::Admission::kAdmitted);
  EXPECT_EQ(f.rejected(), 1);
}

TEST(ClientAdmission, TotalLimit) {
  AdmissionSettings settings;
  settings.max_client_cnxns = 0;  // unlimited per address
  settings.max_cnxns = 3;
  Fixture f(settings);
  for (const char* address : {"a", "b", "a"}) {
    EXPECT_EQ(f.service.admitConnection(address), sdk::Admission::kAdmitted) << address;
  }
  EXPECT_EQ(f.service.admitConnection("c"), sdk::Admission::kTooManyTotal);
  EXPECT_TRUE(f.logger.contains("Too many connections max allowed is 3"));
  EXPECT_EQ(f.rejected(), 1);
  f.service.releaseConnection("b");
  EXPECT_EQ(f.service.admitConnection("c"), sdk::Admission::kAdmitted);
  // Releasing an address that holds nothing changes nothing.
  f.service.releaseConnection("nobody");
  EXPECT_EQ(f.service.admitConnection("d"), sdk::Admission::kTooManyTotal);
}

TEST(ClientAdmission, ThrottleOnlyConnectionsWithOwnOutstandingRequests) {
  AdmissionSettings settings;
  settings.global_outstanding_limit = 2;
  Fixture f(settings);
  f.service.requestsSubmitted(2);
  EXPECT_FALSE(f.service.shouldThrottle(2)) << "at the limit, not over it";
  f.service.requestsSubmitted(1);
  EXPECT_EQ(f.service.outstandingRequests(), 3);
  EXPECT_TRUE(f.service.shouldThrottle(1));
  EXPECT_FALSE(f.service.shouldThrottle(0)) << "a connection with nothing outstanding reads on";
  f.service.requestsAnswered(1);
  EXPECT_FALSE(f.service.shouldThrottle(1));
}

TEST(ClientAdmission, NoTlsWithoutSecureClientPort) {
  Fixture f(AdmissionSettings{});
  EXPECT_TRUE(f.service.start().isOk());
  EXPECT_EQ(f.service.tlsContext(), nullptr);
  EXPECT_EQ(f.service.verifiedPeerSubject(nullptr), "");
  EXPECT_EQ(f.service.outputLimits().soft_bytes, sdk::OutputLimits{}.soft_bytes);
}

TEST(ClientAdmission, BadKeyStoreFailsStart) {
  AdmissionSettings settings;
  settings.tls.emplace();
  settings.tls->key_store_location = "/nonexistent/key.pem";
  Fixture f(settings);
  const sdk::Status status = f.service.start();
  ASSERT_FALSE(status.isOk());
  EXPECT_NE(status.message().find("ssl.keyStore.location=/nonexistent/key.pem: cannot read"),
            std::string::npos)
      << status.message();
  EXPECT_EQ(f.service.tlsContext(), nullptr);
}

}  // namespace
}  // namespace corral::kernel::admission

#include "ip_scheme.h"

#include <gtest/gtest.h>

namespace corral::plugins::ip {
namespace {

TEST(IpScheme, ValidIds) {
  IpScheme scheme;
  EXPECT_TRUE(scheme.isValid("127.0.0.1"));
  EXPECT_TRUE(scheme.isValid("127.0.0.0/8"));
  EXPECT_TRUE(scheme.isValid("10.0.0.0/0"));
  EXPECT_TRUE(scheme.isValid("::1"));
  EXPECT_TRUE(scheme.isValid("fd00::/8"));
  EXPECT_FALSE(scheme.isValid("300.1.1.1"));
  EXPECT_FALSE(scheme.isValid("127.0.0.1/33"));
  EXPECT_FALSE(scheme.isValid("::1/129"));
  EXPECT_FALSE(scheme.isValid("localhost"));
  EXPECT_FALSE(scheme.isValid("1.2.3.4/x"));
  EXPECT_FALSE(scheme.isValid(""));
}

TEST(IpScheme, MatchesByPrefix) {
  IpScheme scheme;
  EXPECT_TRUE(scheme.matches("127.0.0.1", "127.0.0.0/8"));
  EXPECT_TRUE(scheme.matches("127.0.0.1", "127.0.0.1"));
  EXPECT_FALSE(scheme.matches("127.0.0.1", "10.0.0.0/8"));
  EXPECT_FALSE(scheme.matches("127.0.0.2", "127.0.0.1"));
  EXPECT_TRUE(scheme.matches("192.168.5.9", "192.168.4.0/23"));
  EXPECT_FALSE(scheme.matches("192.168.6.9", "192.168.4.0/23"));
  EXPECT_TRUE(scheme.matches("::1", "::1"));
  EXPECT_TRUE(scheme.matches("fd12::5", "fd00::/8"));
  EXPECT_FALSE(scheme.matches("fe80::1", "fd00::/8"));
  EXPECT_TRUE(scheme.matches("::ffff:127.0.0.1", "127.0.0.0/8"));
  EXPECT_FALSE(scheme.matches("::1", "127.0.0.1"));
}

TEST(IpScheme, ConnectionIdIsThePeerAddress) {
  IpScheme scheme;
  sdk::ConnectionInfo info{"127.0.0.1", 4000, ""};
  auto ids = scheme.authenticate(info, "");
  ASSERT_TRUE(ids.isOk());
  EXPECT_EQ((*ids)[0], (sdk::Id{"ip", "127.0.0.1"}));
  EXPECT_FALSE(scheme.isAuthenticated());
}

}  // namespace
}  // namespace corral::plugins::ip

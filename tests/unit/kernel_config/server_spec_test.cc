// server.N values (QuorumPeer.QuorumServer syntax).
#include "kernel/config/server_spec.h"

#include <gtest/gtest.h>

namespace corral::kernel::config {
namespace {

ServerSpec parse(std::string_view text, bool multi = false) {
  auto spec = parseServerSpec(7, text, multi);
  EXPECT_TRUE(spec.isOk()) << spec.status().toString();
  return spec.value();
}

std::string error(std::string_view text, bool multi = false) {
  auto spec = parseServerSpec(7, text, multi);
  EXPECT_FALSE(spec.isOk()) << text;
  EXPECT_EQ(spec.status().code(), sdk::Code::kInvalidConfig);
  return spec.status().message();
}

TEST(ServerSpec, Basic) {
  auto s = parse("zk1:2888:3888");
  EXPECT_EQ(s.id, 7);
  ASSERT_EQ(s.addresses.size(), 1u);
  EXPECT_EQ(s.addresses[0].host, "zk1");
  EXPECT_EQ(s.addresses[0].quorum_port, 2888);
  EXPECT_EQ(s.addresses[0].election_port, 3888);
  EXPECT_EQ(s.role, LearnerRole::kParticipant);
  EXPECT_EQ(s.client_port, 0);
  EXPECT_EQ(s.client_host, "");
  EXPECT_EQ(s.text, "zk1:2888:3888");
}

TEST(ServerSpec, RoleAndClientPart) {
  auto s = parse("zk1:2888:3888:observer;2181");
  EXPECT_TRUE(s.isObserver());
  EXPECT_EQ(s.client_host, "0.0.0.0");
  EXPECT_EQ(s.client_port, 2181);
  auto t = parse("zk1:2888:3888:PARTICIPANT;127.0.0.1:2182");
  EXPECT_FALSE(t.isObserver());
  EXPECT_EQ(t.client_host, "127.0.0.1");
  EXPECT_EQ(t.client_port, 2182);
}

TEST(ServerSpec, Ipv6) {
  auto s = parse("[::1]:2888:3888;[::1]:2181");
  EXPECT_EQ(s.addresses[0].host, "::1");
  EXPECT_EQ(s.client_host, "::1");
  EXPECT_EQ(error("[::1:2888:3888"), "'[::1:2888:3888' starts with '[' but has no matching ']:'");
}

TEST(ServerSpec, MultipleAddresses) {
  EXPECT_EQ(error("a:1:2|b:1:2"),
            "several addresses separated by '|' need multiAddress.enabled=true");
  auto s = parse("a:1:2|b:3:4", true);
  ASSERT_EQ(s.addresses.size(), 2u);
  EXPECT_EQ(s.addresses[1].host, "b");
  EXPECT_EQ(error("a:1:2:observer|b:3:4:participant", true),
            "all addresses of one server must have the same role");
}

TEST(ServerSpec, Errors) {
  const std::string form =
      "does not have the form host:port:port[:participant|:observer][;[host:]port]";
  EXPECT_EQ(error("zk1:2888"), form);
  EXPECT_EQ(error("zk1"), form);
  EXPECT_EQ(error(""), form);
  EXPECT_EQ(error("zk1:1:2:observer:x"), form);
  EXPECT_EQ(error("zk1:1:2;3;4"), form);
  EXPECT_EQ(error("zk1:1:2;a:b:3"), form);
  EXPECT_EQ(error("zk1:abc:3888"), "'abc' is not a port number");
  EXPECT_EQ(error("zk1:2888:70000"), "port 70000 is out of range (1..65535)");
  EXPECT_EQ(error("zk1:2888:2888"), "quorum port and election port must differ (both 2888)");
  EXPECT_EQ(error("zk1:2888:3888:spectator"), "unknown role 'spectator' (participant or observer)");
  EXPECT_EQ(error("zk1:2888:3888;x"), "'x' is not a port number");
  EXPECT_EQ(error("z k:2888:3888"), "'z k' is not a host name or IP address");
}

}  // namespace
}  // namespace corral::kernel::config

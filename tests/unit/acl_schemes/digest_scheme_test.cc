#include "digest_scheme.h"

#include <gtest/gtest.h>

namespace corral::plugins::digest {
namespace {

TEST(DigestScheme, DigestMatchesZooKeeper) {
  // Computed by the real server (client-protocol.md §15).
  EXPECT_EQ(generateDigest("user:pass"), "user:smGaoVKd/cQkjm7b88GyorAUz20=");
}

TEST(DigestScheme, AuthenticateAddsTheDigestIdAndSuperWhenItMatches) {
  DigestScheme plain("");
  auto ids = plain.authenticate({}, "user:pass");
  ASSERT_TRUE(ids.isOk());
  ASSERT_EQ(ids->size(), 1u);
  EXPECT_EQ((*ids)[0], (sdk::Id{"digest", "user:smGaoVKd/cQkjm7b88GyorAUz20="}));

  DigestScheme with_super("user:smGaoVKd/cQkjm7b88GyorAUz20=");
  ids = with_super.authenticate({}, "user:pass");
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_EQ((*ids)[1], (sdk::Id{"super", ""}));
}

TEST(DigestScheme, AuthWithoutColonStillSucceeds) {
  DigestScheme scheme("");
  auto ids = scheme.authenticate({}, "justuser");
  ASSERT_TRUE(ids.isOk());
  EXPECT_EQ((*ids)[0].id.rfind("justuser:", 0), 0u);
}

TEST(DigestScheme, ValidIdsHaveExactlyOneColonWithText) {
  DigestScheme scheme("");
  EXPECT_TRUE(scheme.isValid("user:abc"));
  EXPECT_TRUE(scheme.isValid(":abc"));
  EXPECT_FALSE(scheme.isValid("nocolon"));
  EXPECT_FALSE(scheme.isValid("a:b:c"));
  EXPECT_FALSE(scheme.isValid("a:"));
}

TEST(DigestScheme, MatchesByEqualityAndNamesTheUser) {
  DigestScheme scheme("");
  EXPECT_TRUE(scheme.matches("u:x", "u:x"));
  EXPECT_FALSE(scheme.matches("u:x", "u:y"));
  EXPECT_EQ(scheme.userName("user:abc"), "user");
  EXPECT_TRUE(scheme.isAuthenticated());
}

}  // namespace
}  // namespace corral::plugins::digest

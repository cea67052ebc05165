// The SDK conformance suite on the token scheme. Tokens are minted here with the same
// HMAC the plugin checks, using the secret given in the plugin's settings.
#include <corral/testing/acl_conformance.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>

namespace {

const std::string kSecret = "0123456789abcdef-test-secret";

std::string mint(const std::string& user, int64_t expiry) {
  std::string message = user + ":" + std::to_string(expiry);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  static const char* kHex = "0123456789abcdef";
  std::string text = message + ":";
  for (unsigned int i = 0; i < length; ++i) {
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 15];
  }
  return text;
}

corral::testing::AclConformanceCase tokenCase() {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  corral::testing::AclConformanceCase c;
  c.label = "token";
  c.plugin_file = TOKEN_PLUGIN_FILE;
  c.scheme = "token";
  c.config = {{"token.secret", kSecret}};
  c.valid_ids = {"alice", "svc-1@prod"};
  c.invalid_ids = {"", "a:b", "has space"};
  c.accepted_auth = {{mint("alice", now + 600), corral::sdk::Id{"token", "alice"}}};
  std::string forged = mint("alice", now + 600);
  forged.back() = forged.back() == '0' ? '1' : '0';
  c.refused_auth = {mint("alice", now - 1), forged, "alice", "alice:notanumber:00", mint("bob", now + 10 * 86400)};
  c.matching = {{"alice", "alice"}};
  c.not_matching = {{"alice", "bob"}};
  c.authenticated = true;
  return c;
}

// The fixture name must be unqualified (gtest pastes it into identifiers).
using corral::testing::AclConformance;
INSTANTIATE_TEST_SUITE_P(Token, AclConformance, ::testing::Values(tokenCase()), corral::testing::caseName);

}  // namespace

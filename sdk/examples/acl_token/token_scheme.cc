// acl.token: an expiring HMAC token scheme, built against the installed Corral SDK.
//
// A service issues tokens "user:expiry:signature" where expiry is a Unix time in seconds
// and signature = hex(HMAC-SHA256(secret, "user:expiry")). A client presents one with
// `addauth token <token>` (kazoo: add_auth("token", token)) and gains the id token:<user>;
// ACL entries "token:<user>" grant it permissions. Expired or forged tokens are refused
// with AuthFailed. Settings: token.secret (required), token.maxTtlSeconds (default 86400,
// refuses tokens valid for longer than that from now).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <charconv>
#include <new>
#include <string>

#include "corral/acl.h"
#include "corral/host.h"
#include "corral/plugin.h"

namespace example::token {
namespace {

using corral::sdk::Code;
using corral::sdk::Id;
using corral::sdk::Result;
using corral::sdk::Status;

std::string hmacHex(const std::string& secret, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  static const char* kHex = "0123456789abcdef";
  std::string text;
  for (unsigned int i = 0; i < length; ++i) {
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 15];
  }
  return text;
}

bool isUserName(std::string_view user) {
  if (user.empty() || user.size() > 128) return false;
  for (char c : user) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.' || c == '@';
    if (!ok) return false;
  }
  return true;
}

class TokenScheme final : public corral::sdk::AclProvider {
 public:
  TokenScheme(corral::sdk::Host& host, std::string secret, int64_t max_ttl)
      : host_(host), secret_(std::move(secret)), max_ttl_(max_ttl) {}

  std::string_view scheme() const noexcept override { return "token"; }

  Result<std::vector<Id>> authenticate(const corral::sdk::ConnectionInfo&, std::string_view auth) const noexcept override {
    try {
      auto first = auth.find(':');
      auto second = first == std::string_view::npos ? first : auth.find(':', first + 1);
      if (second == std::string_view::npos) return Status(Code::kAuthFailed, "malformed token");
      std::string_view user = auth.substr(0, first);
      std::string_view expiry_text = auth.substr(first + 1, second - first - 1);
      std::string_view signature = auth.substr(second + 1);
      int64_t expiry = 0;
      auto [end, error] = std::from_chars(expiry_text.data(), expiry_text.data() + expiry_text.size(), expiry);
      if (!isUserName(user) || error != std::errc() || end != expiry_text.data() + expiry_text.size()) {
        return Status(Code::kAuthFailed, "malformed token");
      }
      std::string expected = hmacHex(secret_, auth.substr(0, second));
      if (signature.size() != expected.size() ||
          CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
        host_.logger().warn("token for '{}' has a bad signature", user);
        return Status(Code::kAuthFailed, "bad signature");
      }
      int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
      if (expiry <= now || expiry - now > max_ttl_) return Status(Code::kAuthFailed, "expired token");
      return std::vector<Id>{Id{"token", std::string(user)}};
    } catch (...) {
      return Status(Code::kAuthFailed);
    }
  }

  bool isValid(std::string_view id) const noexcept override { return isUserName(id); }
  bool matches(std::string_view caller, std::string_view acl) const noexcept override { return caller == acl; }
  bool isAuthenticated() const noexcept override { return true; }

 private:
  corral::sdk::Host& host_;
  std::string secret_;
  int64_t max_ttl_;
};

Status validate(const corral::sdk::PluginConfig& config) noexcept {
  try {
    auto secret = config.get("token.secret");
    if (!secret || secret->size() < 16) {
      return {Code::kInvalidConfig, config.where("token.secret") + ": token.secret must be set (16+ characters)"};
    }
    auto ttl = config.getInt("token.maxTtlSeconds", 86400);
    if (!ttl.isOk()) return ttl.status();
    if (*ttl <= 0) return {Code::kInvalidConfig, config.where("token.maxTtlSeconds") + ": must be positive"};
    return Status::ok();
  } catch (...) {
    return {Code::kInvalidConfig, "token: bad settings"};
  }
}

corral::sdk::Plugin* create(corral::sdk::Host& host, const corral::sdk::PluginConfig& config, Status* error) noexcept {
  try {
    return new TokenScheme(host, *config.get("token.secret"), *config.getInt("token.maxTtlSeconds", 86400));
  } catch (const std::exception& failure) {
    *error = Status(Code::kSystemError, failure.what());
    return nullptr;
  }
}

constexpr const char* kKeys[] = {"token.secret", "token.maxTtlSeconds", nullptr};

}  // namespace

const corral::sdk::PluginDescriptor descriptor{
    corral::sdk::kAbiVersion, corral::sdk::PluginKind::kAcl, "acl.token", "1.0.0",
    "example: expiring HMAC-SHA256 tokens", kKeys, validate, create};

}  // namespace example::token

CORRAL_PLUGIN(example::token::descriptor)

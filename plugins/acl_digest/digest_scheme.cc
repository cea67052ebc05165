#include "digest_scheme.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace corral::plugins::digest {

std::string generateDigest(std::string_view text) {
  unsigned char hash[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), hash);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int length = EVP_EncodeBlock(encoded, hash, SHA_DIGEST_LENGTH);
  auto colon = text.find(':');
  std::string user(text.substr(0, colon));
  return user + ":" + std::string(reinterpret_cast<const char*>(encoded), static_cast<size_t>(length));
}

sdk::Result<std::vector<sdk::Id>> DigestScheme::authenticate(const sdk::ConnectionInfo&,
                                                             std::string_view auth) const noexcept {
  try {
    std::vector<sdk::Id> ids{sdk::Id{"digest", generateDigest(auth)}};
    if (!super_digest_.empty() && ids.front().id == super_digest_) ids.push_back(sdk::Id{"super", ""});
    return ids;
  } catch (...) {
    return sdk::Status(sdk::Code::kAuthFailed);
  }
}

bool DigestScheme::isValid(std::string_view id) const noexcept {
  // Java's id.split(":").length == 2: one ':' with something after it (a leading empty user
  // counts, a trailing empty part does not).
  auto colon = id.find(':');
  if (colon == std::string_view::npos) return false;
  auto rest = id.substr(colon + 1);
  return !rest.empty() && rest.find(':') == std::string_view::npos;
}

bool DigestScheme::matches(std::string_view caller_id, std::string_view acl_id) const noexcept {
  return caller_id == acl_id;
}

std::string DigestScheme::userName(std::string_view id) const {
  return std::string(id.substr(0, id.find(':')));
}

}  // namespace corral::plugins::digest

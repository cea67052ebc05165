#include "ip_scheme.h"

#include <arpa/inet.h>

#include <charconv>

namespace corral::plugins::ip {

std::optional<Prefix> parsePrefix(std::string_view text) {
  Prefix prefix;
  auto slash = text.find('/');
  std::string address(text.substr(0, slash));
  if (inet_pton(AF_INET, address.c_str(), prefix.bytes.data()) == 1) {
    prefix.length = 4;
  } else if (inet_pton(AF_INET6, address.c_str(), prefix.bytes.data()) == 1) {
    prefix.length = 16;
  } else {
    return std::nullopt;
  }
  prefix.bits = prefix.length * 8;
  if (slash != std::string_view::npos) {
    auto bits_text = text.substr(slash + 1);
    int bits = -1;
    auto [end, error] = std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), bits);
    if (error != std::errc() || end != bits_text.data() + bits_text.size() || bits < 0 ||
        bits > prefix.length * 8) {
      return std::nullopt;
    }
    prefix.bits = bits;
  }
  return prefix;
}

sdk::Result<std::vector<sdk::Id>> IpScheme::authenticate(const sdk::ConnectionInfo& connection,
                                                         std::string_view) const noexcept {
  try {
    return std::vector<sdk::Id>{sdk::Id{"ip", connection.remote_address}};
  } catch (...) {
    return sdk::Status(sdk::Code::kAuthFailed);
  }
}

std::vector<sdk::Id> IpScheme::connectIds(const sdk::ConnectionInfo& connection) const {
  return {sdk::Id{"ip", connection.remote_address}};
}

bool IpScheme::isValid(std::string_view id) const noexcept { return parsePrefix(id).has_value(); }

bool IpScheme::matches(std::string_view caller_id, std::string_view acl_id) const noexcept {
  auto caller = parsePrefix(caller_id);
  auto acl = parsePrefix(acl_id);
  if (!caller || !acl) return false;
  // An IPv4 peer seen through an IPv6 socket (::ffff:a.b.c.d) matches IPv4 ids.
  if (caller->length == 16 && acl->length == 4) {
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, caller->bytes.begin())) {
      std::copy(caller->bytes.begin() + 12, caller->bytes.end(), caller->bytes.begin());
      caller->length = 4;
    }
  }
  if (caller->length != acl->length) return false;
  int full = acl->bits / 8;
  for (int i = 0; i < full; ++i) {
    if (caller->bytes[i] != acl->bytes[i]) return false;
  }
  int rest = acl->bits % 8;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (caller->bytes[full] & mask) == (acl->bytes[full] & mask);
}

}  // namespace corral::plugins::ip

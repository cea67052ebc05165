#include "corral/formats/server_spec.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include <fmt/format.h>

namespace corral::formats {
namespace {

using sdk::Code;
using sdk::Status;

constexpr std::string_view kForm =
    "does not have the form host:port:port[:participant|:observer][;[host:]port]";

Status invalid(std::string message) { return Status(Code::kInvalidConfig, std::move(message)); }

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (true) {
    size_t end = text.find(separator, pos);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(pos));
      return parts;
    }
    parts.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
}

// ConfigUtils.getHostAndPort: "[v6]:a:b" keeps the colons inside the brackets.
sdk::Result<std::vector<std::string_view>> hostAndPorts(std::string_view text) {
  if (!text.starts_with('[')) return split(text, ':');
  auto close = text.find("]:");
  if (close == std::string_view::npos) {
    return invalid(fmt::format("'{}' starts with '[' but has no matching ']:'", text));
  }
  std::vector<std::string_view> parts{text.substr(1, close - 1)};
  for (auto part : split(text.substr(close + 2), ':')) parts.push_back(part);
  return parts;
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

sdk::Result<int> port(std::string_view text) {
  auto number = parseInt(text);
  if (!number) return invalid(fmt::format("'{}' is not a port number", text));
  if (*number < 1 || *number > 65535) {
    return invalid(fmt::format("port {} is out of range (1..65535)", *number));
  }
  return static_cast<int>(*number);
}

sdk::Result<LearnerRole> role(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "participant") return LearnerRole::kParticipant;
  if (lower == "observer") return LearnerRole::kObserver;
  return invalid(fmt::format("unknown role '{}' (participant or observer)", text));
}

}  // namespace

bool isHost(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty()) return false;
  // Names, IPv4 and IPv6 literals (with a %zone); resolution happens when a port opens.
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ':' || c == '%';
  });
}

sdk::Result<ServerSpec> parseServerSpec(int64_t id, std::string_view text,
                                        bool multi_address_enabled) {
  ServerSpec spec;
  spec.id = id;
  spec.text = std::string(text);
  auto server_client = split(text, ';');
  if (server_client.size() > 2 || server_client[0].empty()) return invalid(std::string(kForm));

  if (server_client.size() == 2) {
    auto client = hostAndPorts(server_client[1]);
    if (!client.isOk()) return client.status();
    if (client->size() > 2) return invalid(std::string(kForm));
    spec.client_host = client->size() == 2 ? std::string((*client)[0]) : "0.0.0.0";
    if (!isHost(spec.client_host)) {
      return invalid(fmt::format("client address '{}' is not a host name or IP address",
                                 spec.client_host));
    }
    auto client_port = port(client->back());
    if (!client_port.isOk()) return client_port.status();
    spec.client_port = *client_port;
  }

  auto addresses = split(server_client[0], '|');
  if (addresses.size() > 1 && !multi_address_enabled) {
    return invalid("several addresses separated by '|' need multiAddress.enabled=true");
  }
  bool role_seen = false;
  for (auto address : addresses) {
    auto parts = hostAndPorts(address);
    if (!parts.isOk()) return parts.status();
    if (parts->size() < 3 || parts->size() > 4) return invalid(std::string(kForm));
    QuorumAddress quorum;
    quorum.host = std::string((*parts)[0]);
    if (!isHost(quorum.host)) {
      return invalid(fmt::format("'{}' is not a host name or IP address", quorum.host));
    }
    auto quorum_port = port((*parts)[1]);
    if (!quorum_port.isOk()) return quorum_port.status();
    auto election_port = port((*parts)[2]);
    if (!election_port.isOk()) return election_port.status();
    quorum.quorum_port = *quorum_port;
    quorum.election_port = *election_port;
    if (quorum.quorum_port == quorum.election_port) {
      return invalid(fmt::format("quorum port and election port must differ (both {})",
                                 quorum.quorum_port));
    }
    if (parts->size() == 4) {
      auto parsed = role((*parts)[3]);
      if (!parsed.isOk()) return parsed.status();
      if (role_seen && *parsed != spec.role) {
        return invalid("all addresses of one server must have the same role");
      }
      spec.role = *parsed;
      role_seen = true;
    }
    spec.addresses.push_back(std::move(quorum));
  }
  return spec;
}

}  // namespace corral::formats

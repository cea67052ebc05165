#include "quorum_config.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "corral/formats/server_spec.h"

namespace corral::plugins::zab {
namespace {

using sdk::Code;
using sdk::Status;

Status bad(std::string message) { return Status(Code::kBadArguments, std::move(message)); }

std::string_view trim(std::string_view text) {
  while (!text.empty() && static_cast<unsigned char>(text.front()) <= ' ') text.remove_prefix(1);
  while (!text.empty() && static_cast<unsigned char>(text.back()) <= ' ') text.remove_suffix(1);
  return text;
}

std::string bracketed(const std::string& host) { return host.find(':') != std::string::npos ? "[" + host + "]" : host; }

sdk::Result<sdk::EnsembleMember> memberOf(int64_t sid, std::string_view spec_text) {
  auto spec = formats::parseServerSpec(sid, trim(spec_text), true);
  if (!spec.isOk()) return bad(fmt::format("server.{}={}: {}", sid, spec_text, spec.status().message()));
  sdk::EnsembleMember member;
  member.id = sid;
  member.host = spec->addresses.front().host;
  member.quorum_port = spec->addresses.front().quorum_port;
  member.election_port = spec->addresses.front().election_port;
  member.type = spec->isObserver() ? sdk::PeerType::kObserver : sdk::PeerType::kParticipant;
  member.client_host = spec->client_host;
  member.client_port = spec->client_port;
  return member;
}

std::optional<int64_t> parseSid(std::string_view text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A Java HashMap<Long, ...> bucket: (h ^ h >>> 16) & (n - 1), h the Long's hash.
size_t javaBucket(int64_t sid, size_t table) {
  const auto u = static_cast<uint64_t>(sid);
  const auto h = static_cast<uint32_t>(u ^ (u >> 32));
  return (h ^ (h >> 16)) & (table - 1);
}

// Iteration order of a HashMap whose entries went in in `inserted` order: by bucket, then
// insertion (a resize keeps each bucket's order).
std::vector<int64_t> bucketOrder(std::vector<int64_t> inserted, size_t table) {
  std::stable_sort(inserted.begin(), inserted.end(),
                   [table](int64_t a, int64_t b) { return javaBucket(a, table) < javaBucket(b, table); });
  return inserted;
}

size_t tableFor(size_t entries, size_t table) {
  while (entries > table * 3 / 4) table *= 2;
  return table;
}

}  // namespace

std::string memberSpec(const sdk::EnsembleMember& m) {
  std::string out = fmt::format("{}:{}:{}:{}", bracketed(m.host), m.quorum_port, m.election_port,
                                m.type == sdk::PeerType::kObserver ? "observer" : "participant");
  if (m.client_port != 0) {
    out += fmt::format(";{}:{}", bracketed(m.client_host.empty() ? "0.0.0.0" : m.client_host), m.client_port);
  }
  return out;
}

QuorumConfig::QuorumConfig(std::vector<sdk::EnsembleMember> members, int64_t version)
    : members_(std::move(members)), version_(version) {
  std::sort(members_.begin(), members_.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
}

sdk::Result<QuorumConfig> QuorumConfig::parse(std::string_view text) {
  std::vector<sdk::EnsembleMember> members;
  int64_t version = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() || line.front() == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) return bad(fmt::format("'{}' is not key=value", line));
    const std::string_view key = trim(line.substr(0, eq));
    const std::string_view value = trim(line.substr(eq + 1));
    if (key == "version") {
      uint64_t parsed = 0;
      auto [ptr, error] = std::from_chars(value.data(), value.data() + value.size(), parsed, 16);
      if (error != std::errc() || ptr != value.data() + value.size()) return bad(fmt::format("version={} is not hex", value));
      // ZooKeeper reads it with Long.parseLong(value, 16): past Long.MAX_VALUE is an error
      // (once taken as a negative version, printed as "-…" and then unreadable; election fuzzer).
      if (parsed > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return bad(fmt::format("version={} is out of range", value));
      version = static_cast<int64_t>(parsed);
      continue;
    }
    if (!key.starts_with("server.")) return bad(fmt::format("unrecognised parameter: {}", key));
    auto sid = parseSid(key.substr(7));
    if (!sid || *sid < 0) return bad(fmt::format("{}: the server id is not a number", key));
    auto member = memberOf(*sid, value);
    if (!member.isOk()) return member.status();
    std::erase_if(members, [&](const auto& m) { return m.id == *sid; });
    members.push_back(std::move(member).value());
  }
  return QuorumConfig(std::move(members), version);
}

sdk::Result<sdk::EnsembleMember> QuorumConfig::parseJoiner(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || text.find('=', eq + 1) != std::string_view::npos) {
    return bad("Wrong format of server string");
  }
  const std::string_view key = trim(text.substr(0, eq));
  auto sid = parseSid(key.substr(key.rfind('.') + 1));
  if (!sid) {
    // ZooKeeper's Long.parseLong throws into PrepRequestProcessor's generic catch.
    return Status(Code::kMarshallingError, fmt::format("'{}': the server id is not a number", key));
  }
  auto member = memberOf(*sid, text.substr(eq + 1));
  if (!member.isOk()) return member.status();
  if (member->client_port == 0) return bad("Wrong format of server string - each server should have 3 ports specified");
  return member;
}

const sdk::EnsembleMember* QuorumConfig::member(int64_t sid) const {
  for (const auto& m : members_) {
    if (m.id == sid) return &m;
  }
  return nullptr;
}

bool QuorumConfig::isVoter(int64_t sid) const {
  const auto* m = member(sid);
  return m != nullptr && m->type == sdk::PeerType::kParticipant;
}

bool QuorumConfig::isObserver(int64_t sid) const {
  const auto* m = member(sid);
  return m != nullptr && m->type == sdk::PeerType::kObserver;
}

size_t QuorumConfig::voterCount() const {
  return static_cast<size_t>(
      std::count_if(members_.begin(), members_.end(), [](const auto& m) { return m.type == sdk::PeerType::kParticipant; }));
}

std::vector<int64_t> QuorumConfig::voters() const {
  std::vector<int64_t> out;
  for (const auto& m : members_) {
    if (m.type == sdk::PeerType::kParticipant) out.push_back(m.id);
  }
  return out;
}

bool QuorumConfig::containsQuorum(const std::set<int64_t>& sids) const {
  size_t agreeing = 0;
  for (int64_t sid : sids) agreeing += isVoter(sid);
  return agreeing > voterCount() / 2;
}

bool QuorumConfig::sameMembers(const QuorumConfig& other) const {
  if (members_.size() != other.members_.size()) return false;
  for (size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].id != other.members_[i].id || memberSpec(members_[i]) != memberSpec(other.members_[i])) return false;
  }
  return true;
}

std::vector<int64_t> QuorumConfig::textOrder() const {
  if (!text_order_.empty()) return text_order_;
  std::vector<int64_t> sids;
  for (const auto& m : members_) sids.push_back(m.id);
  return bucketOrder(std::move(sids), tableFor(sids.size(), 16));
}

void QuorumConfig::setTextOrder(std::vector<int64_t> order, size_t copied) {
  // HashMap(Map): a table of tableSizeFor(n / 0.75 + 1), doubling as puts fill it.
  size_t table = 1;
  const auto wanted = static_cast<size_t>(static_cast<double>(copied) / 0.75 + 1.0);
  while (table < wanted) table *= 2;
  table = tableFor(order.size(), table);
  text_order_ = bucketOrder(std::move(order), table);
}

std::string QuorumConfig::toString() const {
  std::string out;
  for (int64_t sid : textOrder()) {
    if (const auto* m = member(sid)) out += fmt::format("server.{}={}\n", m->id, memberSpec(*m));
  }
  out += fmt::format("version={:x}", version_);
  return out;
}

sdk::Result<ConfigPtr> configOfReconfig(const sdk::TxnEntry& txn) {
  const auto* set = std::get_if<sdk::SetDataTxn>(&txn.body);
  if (set == nullptr || !set->data) return bad(fmt::format("txn 0x{:x} carries no config", txn.header.zxid));
  auto config = QuorumConfig::parse(*set->data);
  if (!config.isOk()) return config.status();
  return std::make_shared<const QuorumConfig>(std::move(config).value());
}

std::string QuorumConfig::dynamicFileText(bool with_version) const {
  std::vector<std::string> lines;
  for (const auto& m : members_) lines.push_back(fmt::format("server.{}={}", m.id, memberSpec(m)));
  if (with_version) lines.push_back(fmt::format("version={:x}", version_));
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : "\n") + line;
  return out;
}

}  // namespace corral::plugins::zab

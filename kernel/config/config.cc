#include "kernel/config/config.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace corral::kernel::config {
namespace {

using sdk::Code;
using sdk::Status;

Status invalid(std::string message) { return Status(Code::kInvalidConfig, std::move(message)); }

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Session timeouts use -1 for "unset" in ZooKeeper, which selects the derived default.
bool meansUnset(const KeySpec& spec, std::string_view value) {
  return spec.derived != nullptr && spec.type == ValueType::kInt && spec.min == -1 &&
         parseInt(value) == -1;
}

std::string trimmed(std::string text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return text.substr(begin, end - begin);
}

}  // namespace

Config::Config() : catalog_(&Catalog::standard()) {}

Config::Config(ConfigFile file, const Catalog& catalog)
    : file_(std::move(file)), catalog_(&catalog) {
  buildIndex();
  buildServers();
  warnings_ = index_warnings_;
}

sdk::Result<Config> Config::load(const std::string& path) {
  auto file = parseConfigFile(path);
  if (!file.isOk()) return file.status();
  return withDynamicMembers(std::move(file).value());
}

sdk::Result<Config> Config::fromText(std::string_view text, std::string name) {
  auto file = parseConfigText(text, std::move(name));
  if (!file.isOk()) return file.status();
  return withDynamicMembers(std::move(file).value());
}

sdk::Result<Config> Config::withDynamicMembers(ConfigFile file) {
  auto source = mergeDynamicConfig(file);
  if (!source.isOk()) return source.status();
  Config config(std::move(file));
  config.dynamic_ = std::move(source).value();
  return config;
}

void Config::buildIndex() {
  canonical_.clear();
  index_.clear();
  index_warnings_.clear();
  for (size_t i = 0; i < file_.entries.size(); ++i) {
    const ConfigEntry& entry = file_.entries[i];
    canonical_.push_back(canonical(entry.key));
    auto [it, inserted] = index_.try_emplace(canonical_.back(), i);
    if (!inserted) {
      const ConfigEntry& earlier = file_.entries[it->second];
      index_warnings_.push_back(fmt::format(
          "{}: '{}' is set again; this value replaces the one from line {} (as in ZooKeeper)",
          location(entry), entry.key, earlier.line));
      it->second = i;
    }
  }
}

void Config::buildServers() {
  servers_.clear();
  const bool multi_address = getBool("multiAddress.enabled");
  for (size_t i = 0; i < file_.entries.size(); ++i) {
    if (index_.at(canonical_[i]) != i) continue;  // overridden by a later line
    const std::string& key = canonical_[i];
    const KeySpec* spec = specFor(key);
    if (spec == nullptr || spec->type != ValueType::kServer) continue;
    auto id = parseInt(std::string_view(key).substr(key.find('.') + 1));
    if (!id) continue;
    const ConfigEntry& entry = file_.entries[i];
    auto parsed = parseServerSpec(*id, entry.value, multi_address);
    if (!parsed.isOk()) continue;  // validate() reports it
    parsed->where = location(entry);
    // server.1 and server.01 are the same id; validate() reports that too.
    if (server(*id) == nullptr) servers_.push_back(std::move(parsed).value());
  }
  std::sort(servers_.begin(), servers_.end(),
            [](const ServerSpec& a, const ServerSpec& b) { return a.id < b.id; });
}

std::string Config::canonical(std::string_view key) const {
  if (auto match = catalog_->find(key)) return std::move(match->canonical);
  return std::string(key);
}

const KeySpec* Config::specFor(std::string_view key) const {
  auto match = catalog_->find(key);
  return match ? match->spec : nullptr;
}

std::string Config::location(const ConfigEntry& entry) const {
  return fmt::format("{}:{}", entry.file.empty() ? file_.name : entry.file, entry.line);
}

void Config::addPluginKey(std::string_view key, std::string_view plugin) {
  plugin_keys_.push_back({std::string(key), std::string(plugin)});
  if (auto match = catalog_->find(key)) claimed_.insert(std::string(match->spec->name));
}

bool Config::pluginOwns(std::string_view key) const {
  for (const auto& owned : plugin_keys_) {
    if (owned.key == key) return true;
    if (owned.key.size() > 2 && owned.key.ends_with(".*") &&
        key.size() > owned.key.size() - 1 &&
        key.starts_with(std::string_view(owned.key).substr(0, owned.key.size() - 1))) {
      return true;
    }
  }
  return false;
}

std::string Config::suggestion(std::string_view key) const {
  const std::string wanted = lower(key);
  const size_t limit = std::max<size_t>(1, std::min<size_t>(3, key.size() / 3));
  std::string best;
  size_t best_distance = limit + 1;
  auto consider = [&](std::string_view candidate) {
    if (candidate.ends_with(".*")) return;
    size_t distance = editDistance(wanted, lower(candidate));
    if (distance < best_distance) {
      best_distance = distance;
      best = std::string(candidate);
    }
  };
  for (const auto& spelling : catalog_->spellings()) consider(spelling);
  for (const auto& owned : plugin_keys_) consider(owned.key);
  return best;
}

// ---------------------------------------------------------------------------------------
// Validation

Status Config::validate() {
  warnings_ = index_warnings_;
  server_id_ = 0;
  for (const auto& owned : plugin_keys_) {
    if (owned.key.empty()) {
      return invalid(fmt::format("plugin '{}' declares an empty config key", owned.plugin));
    }
  }
  if (auto status = checkEntries(); !status.isOk()) return status;
  if (auto status = checkRules(); !status.isOk()) return status;
  if (auto status = checkEnsemble(); !status.isOk()) return status;
  return readServerId();
}

Status Config::checkEntries() {
  const bool multi_address = getBool("multiAddress.enabled");
  for (size_t i = 0; i < file_.entries.size(); ++i) {
    const ConfigEntry& entry = file_.entries[i];
    auto match = catalog_->find(entry.key);
    if (!match) {
      if (pluginOwns(entry.key)) continue;
      std::string hint = suggestion(entry.key);
      return invalid(fmt::format("{}: unknown key '{}'{}", location(entry), entry.key,
                                 hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    // Only the effective occurrence matters (Properties drops the others).
    if (index_.at(canonical_[i]) != i) continue;
    const KeySpec& spec = *match->spec;
    if (spec.type == ValueType::kServer) {
      const int64_t id = *parseInt(match->canonical.substr(match->canonical.find('.') + 1));
      auto parsed = parseServerSpec(id, entry.value, multi_address);
      if (!parsed.isOk()) {
        return invalid(fmt::format("{}: {}={}: {}", location(entry), entry.key, entry.value,
                                   parsed.status().message()));
      }
      const ServerSpec* first = server(id);
      if (first != nullptr && first->where != location(entry)) {
        return invalid(fmt::format("{}: {}: server id {} is already defined at {}",
                                   location(entry), entry.key, id, first->where));
      }
      continue;
    }
    if (auto error = checkValue(spec, entry.value)) {
      return invalid(fmt::format("{}: {}={}: {}", location(entry), entry.key, entry.value, *error));
    }
  }
  return Status::ok();
}

Status Config::checkRules() {
  if (!isSet("dataDir")) return invalid(fmt::format("{}: dataDir is not set", file_.name));

  // QuorumPeerConfig: an address without its port is an error; no port at all is not.
  for (auto [address, port] : {std::pair{"clientPortAddress", "clientPort"},
                               std::pair{"secureClientPortAddress", "secureClientPort"}}) {
    if (const ConfigEntry* set = entry(address); set != nullptr && getInt(port) == 0) {
      return invalid(fmt::format("{}: {} is set but {} is not set", location(*set), address, port));
    }
  }

  const int64_t min_timeout = getInt("minSessionTimeout");
  const int64_t max_timeout = getInt("maxSessionTimeout");
  if (min_timeout > max_timeout) {
    std::string at = isSet("maxSessionTimeout") ? where("maxSessionTimeout")
                                                : where("minSessionTimeout");
    return invalid(fmt::format(
        "{}: minSessionTimeout ({}) must not be larger than maxSessionTimeout ({})", at,
        min_timeout, max_timeout));
  }

  // QuorumPeerConfig refuses these combinations (IllegalArgumentException).
  const bool sasl = getBool("quorum.auth.enableSasl");
  const bool learner_sasl = getBool("quorum.auth.learnerRequireSasl");
  const bool server_sasl = getBool("quorum.auth.serverRequireSasl");
  if (!sasl && server_sasl) {
    return invalid(fmt::format("{}: quorum.auth.enableSasl is disabled, so cannot enable "
                               "quorum.auth.serverRequireSasl", where("quorum.auth.serverRequireSasl")));
  }
  if (!sasl && learner_sasl) {
    return invalid(fmt::format("{}: quorum.auth.enableSasl is disabled, so cannot enable "
                               "quorum.auth.learnerRequireSasl", where("quorum.auth.learnerRequireSasl")));
  }
  if (!learner_sasl && server_sasl) {
    return invalid(fmt::format("{}: quorum.auth.learnerRequireSasl is disabled, so cannot enable "
                               "quorum.auth.serverRequireSasl", where("quorum.auth.serverRequireSasl")));
  }

  if (isSet("autopurge.snapRetainCount") && getInt("autopurge.snapRetainCount") < 3) {
    warnings_.push_back(fmt::format("{}: autopurge.snapRetainCount below 3; ZooKeeper uses 3",
                                    where("autopurge.snapRetainCount")));
  }
  return Status::ok();
}

Status Config::checkEnsemble() {
  if (servers_.empty()) {
    if (getInt("clientPort") == 0 && getInt("secureClientPort") == 0) {
      warnings_.push_back(fmt::format(
          "{}: neither clientPort nor secureClientPort is set; no client can connect",
          file_.name));
    }
    return Status::ok();
  }
  // Two servers must not share a quorum or election address (QuorumVerifier).
  for (size_t a = 0; a < servers_.size(); ++a) {
    for (size_t b = a + 1; b < servers_.size(); ++b) {
      for (const auto& x : servers_[a].addresses) {
        for (const auto& y : servers_[b].addresses) {
          for (int xp : {x.quorum_port, x.election_port}) {
            for (int yp : {y.quorum_port, y.election_port}) {
              if (x.host == y.host && xp == yp) {
                return invalid(fmt::format("{}: server.{}: address {}:{} is also used by server.{} ({})",
                                           servers_[b].where, servers_[b].id, y.host, yp,
                                           servers_[a].id, servers_[a].where));
              }
            }
          }
        }
      }
    }
  }
  const auto participants = std::count_if(servers_.begin(), servers_.end(),
                                          [](const ServerSpec& s) { return !s.isObserver(); });
  if (participants == 0) {
    return invalid(fmt::format("{}: the server.N lines define only observers; an ensemble "
                               "needs at least one participant", servers_.front().where));
  }

  // group.N: ids of listed servers, each server in at most one group, all or none grouped.
  std::map<int64_t, std::string> group_of;
  bool any_group = false;
  for (const auto& [key, index] : index_) {
    const KeySpec* spec = specFor(key);
    if (spec == nullptr || spec->type != ValueType::kGroup) continue;
    any_group = true;
    const ConfigEntry& group = file_.entries[index];
    std::string_view members = group.value;
    size_t pos = 0;
    while (pos <= members.size()) {
      size_t end = members.find(':', pos);
      if (end == std::string_view::npos) end = members.size();
      int64_t id = parseInt(members.substr(pos, end - pos)).value_or(-1);
      if (server(id) == nullptr) {
        return invalid(fmt::format("{}: {}: server {} has no server.{} line", location(group),
                                   group.key, id, id));
      }
      if (auto [it, fresh] = group_of.emplace(id, group.key); !fresh) {
        return invalid(fmt::format("{}: {}: server {} is already in {}", location(group),
                                   group.key, id, it->second));
      }
      pos = end + 1;
    }
  }
  if (any_group) {
    for (const auto& s : servers_) {
      if (!group_of.contains(s.id)) {
        return invalid(fmt::format("{}: server.{} is not in any group.N", s.where, s.id));
      }
    }
  }

  if (!isDistributed()) {
    warnings_.push_back(fmt::format(
        "{}: only one participant is listed and standaloneEnabled is true: running standalone "
        "(as ZooKeeper does)", servers_.front().where));
    return Status::ok();
  }
  for (const char* key : {"initLimit", "syncLimit"}) {
    if (!isSet(key)) {
      return invalid(fmt::format("{}: {} is not set (an ensemble needs it)", file_.name, key));
    }
  }
  if (any_group) {
    // Hierarchical quorums count votes by group and weight; consensus.zab counts a majority of
    // participants. Starting anyway would form quorums the other members would not.
    for (const auto& entry : file_.entries) {
      if (entry.key.starts_with("group.")) {
        return invalid(fmt::format("{}:{}: {} (hierarchical quorums) is not supported in a Corral ensemble "
                                   "yet; remove the group.N and weight.N lines", file_.name, entry.line, entry.key));
      }
    }
  }
  return refuseUnsupportedQuorumFeatures();
}

// Ensemble features Corral does not have yet: a member must not start as if it had them (a
// ZooKeeper peer expecting TLS or SASL on the quorum port would get something else).
// Standalone, ZooKeeper ignores these keys, and so do we. localSessionsEnabled=true is
// accepted (warned about as without effect): Corral's sessions stay global, a superset of a
// local session (it may own ephemerals and move between members), and read-only mode, for
// which ZooKeeper 3.8 needs the key, takes local sessions in Corral either way.
Status Config::refuseUnsupportedQuorumFeatures() const {
  for (const char* key : {"sslQuorum", "quorum.auth.enableSasl", "quorum.auth.learnerRequireSasl",
                          "quorum.auth.serverRequireSasl", "multiAddress.enabled"}) {
    if (isSet(key) && getBool(key)) {
      return invalid(fmt::format("{}: {}=true is not supported in a Corral ensemble yet; remove it or set it "
                                 "to false", where(key), key));
    }
  }
  for (size_t i = 0; i < file_.entries.size(); ++i) {
    const std::string& key = file_.entries[i].key;
    const std::string_view bare = std::string_view(key).starts_with("zookeeper.") ? std::string_view(key).substr(10)
                                                                                   : std::string_view(key);
    if (bare.starts_with("ssl.quorum.") || (bare.starts_with("quorum.auth.") && bare != "quorum.auth.enableSasl" &&
                                            bare != "quorum.auth.learnerRequireSasl" &&
                                            bare != "quorum.auth.serverRequireSasl")) {
      return invalid(fmt::format("{}:{}: {} configures quorum TLS/SASL, which a Corral ensemble does not "
                                 "support yet; remove it", file_.name, file_.entries[i].line, key));
    }
  }
  return Status::ok();
}

Status Config::readServerId() {
  if (!isDistributed()) return Status::ok();
  const std::string path = getString("dataDir") + "/myid";
  std::ifstream in(path);
  if (!in) {
    return invalid(fmt::format("{}: myid file is missing (the server.N lines in {} make this "
                               "server an ensemble member; write its id there)",
                               path, file_.name));
  }
  std::string first_line;
  std::getline(in, first_line);
  first_line = trimmed(first_line);
  auto id = parseInt(first_line);
  if (!id || *id < 0) {
    return invalid(fmt::format("{}: '{}' is not a server id", path, first_line));
  }
  const ServerSpec* self = server(*id);
  if (self == nullptr) {
    return invalid(fmt::format("{}: server id {} has no server.{} line in {}", path, *id, *id,
                               file_.name));
  }
  if (getBool("extendedTypesEnabled") && *id > 254) {
    return invalid(fmt::format("{}: server id {} is above 254, which extendedTypesEnabled=true "
                               "does not allow", path, *id));
  }
  if (isSet("peerType")) {
    const bool observer = lower(getString("peerType")) == "observer";
    if (observer != self->isObserver()) {
      warnings_.push_back(fmt::format(
          "{}: peerType={} does not match server.{} ({}); the server.N line wins (as in "
          "ZooKeeper)", where("peerType"), getString("peerType"), *id,
          self->isObserver() ? "observer" : "participant"));
    }
  }
  server_id_ = *id;
  return adoptClientAddress(*self);
}

// ZooKeeper's setupClientPort: the ";[host:]port" part of this member's server line is its
// client address when clientPort is not set; when both are, they must agree.
Status Config::adoptClientAddress(const ServerSpec& self) {
  if (self.client_port == 0) return Status::ok();
  if (isSet("clientPort")) {
    if (getInt("clientPort") != self.client_port) {
      return invalid(fmt::format("{}: clientPort={} differs from the client port {} of server.{} ({})",
                                 where("clientPort"), getInt("clientPort"), self.client_port, self.id,
                                 self.where));
    }
    return Status::ok();
  }
  int line = 0;
  for (const auto& entry : file_.entries) {
    if (canonical(entry.key) == canonical(fmt::format("server.{}", self.id))) line = entry.line;
  }
  auto adopt = [&](const std::string& key, std::string value) {
    file_.entries.push_back(ConfigEntry{key, std::move(value), line, ""});
    canonical_.push_back(canonical(key));
    index_[canonical_.back()] = file_.entries.size() - 1;
  };
  adopt("clientPort", std::to_string(self.client_port));
  if (!isSet("clientPortAddress") && !self.client_host.empty() && self.client_host != "0.0.0.0") {
    adopt("clientPortAddress", self.client_host);
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------
// Lookup

const ConfigEntry* Config::entry(std::string_view key) const {
  auto it = index_.find(canonical(key));
  return it == index_.end() ? nullptr : &file_.entries[it->second];
}

bool Config::isSet(std::string_view key) const { return entry(key) != nullptr; }

std::optional<std::string> Config::get(std::string_view key) const {
  const ConfigEntry* found = entry(key);
  if (found == nullptr) return std::nullopt;
  return found->value;
}

std::optional<std::string> Config::value(std::string_view key) const {
  const KeySpec* spec = specFor(key);
  const ConfigEntry* found = entry(key);
  if (found != nullptr && !(spec != nullptr && meansUnset(*spec, found->value))) {
    if (spec != nullptr && spec->type == ValueType::kBool) {
      if (auto parsed = parseBool(found->value)) return std::string(*parsed ? "true" : "false");
    }
    return found->value;
  }
  if (spec == nullptr) return std::nullopt;
  if (spec->derived != nullptr) return spec->derived(*this);
  if (spec->default_value != nullptr) return std::string(spec->default_value);
  return std::nullopt;
}

std::string Config::where(std::string_view key) const {
  const ConfigEntry* found = entry(key);
  return found == nullptr ? std::string("default") : location(*found);
}

const ServerSpec* Config::server(int64_t id) const {
  for (const auto& s : servers_) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

bool Config::isDistributed() const {
  if (servers_.empty()) return false;
  const auto participants = std::count_if(servers_.begin(), servers_.end(),
                                          [](const ServerSpec& s) { return !s.isObserver(); });
  return participants > 1 || !getBool("standaloneEnabled");
}

std::vector<std::string> Config::notImplementedKeys() const {
  std::vector<std::string> keys;
  for (size_t i = 0; i < file_.entries.size(); ++i) {
    if (index_.at(canonical_[i]) != i) continue;  // report the effective occurrence only
    const KeySpec* spec = specFor(file_.entries[i].key);
    if (spec == nullptr || spec->implemented() || claimed_.contains(spec->name)) continue;
    keys.push_back(file_.entries[i].key);
  }
  return keys;
}

// --- Typed getters: the effective value, or the fallback when the file does not set it.

std::string Config::getString(std::string_view key) const { return value(key).value_or(""); }

std::string Config::getString(std::string_view key, std::string fallback) const {
  return isSet(key) ? value(key).value_or(std::move(fallback)) : std::move(fallback);
}

int64_t Config::getInt(std::string_view key) const {
  if (auto text = value(key)) {
    if (auto number = parseInt(*text)) return *number;
  }
  // A malformed value falls back to the catalog default.
  const KeySpec* spec = specFor(key);
  if (spec != nullptr && spec->default_value != nullptr) {
    return parseInt(spec->default_value).value_or(0);
  }
  return 0;
}

int64_t Config::getInt(std::string_view key, int64_t fallback) const {
  if (!isSet(key)) return fallback;
  auto text = value(key);
  auto number = text ? parseInt(*text) : std::nullopt;
  return number.value_or(fallback);
}

bool Config::getBool(std::string_view key) const {
  if (auto text = value(key)) {
    if (auto parsed = parseBool(*text)) return *parsed;
  }
  const KeySpec* spec = specFor(key);
  return spec != nullptr && spec->default_value != nullptr &&
         parseBool(spec->default_value).value_or(false);
}

bool Config::getBool(std::string_view key, bool fallback) const {
  if (!isSet(key)) return fallback;
  return parseBool(*get(key)).value_or(fallback);
}

double Config::getDouble(std::string_view key) const {
  if (auto text = value(key)) {
    if (auto number = parseDouble(*text)) return *number;
  }
  const KeySpec* spec = specFor(key);
  if (spec != nullptr && spec->default_value != nullptr) {
    return parseDouble(spec->default_value).value_or(0.0);
  }
  return 0.0;
}

double Config::getDouble(std::string_view key, double fallback) const {
  if (!isSet(key)) return fallback;
  return parseDouble(*get(key)).value_or(fallback);
}

std::vector<std::string> Config::getList(std::string_view key) const {
  return splitList(value(key).value_or(""));
}

std::vector<std::string> Config::getList(std::string_view key,
                                         std::vector<std::string> fallback) const {
  if (!isSet(key)) return fallback;
  return splitList(*get(key));
}

// ---------------------------------------------------------------------------------------

std::optional<std::string> PluginConfigView::get(std::string_view key) const {
  return config_.value(key);
}

std::string PluginConfigView::where(std::string_view key) const { return config_.where(key); }

}  // namespace corral::kernel::config

// The server's configuration: a parsed zoo.cfg checked against the key catalog.
//
// Life cycle (kernel/server):
//   auto config = Config::load(path);        // syntax only; getters work from here on
//   config->addPluginKey(key, plugin);        // for every key a loaded plugin declares
//   config->validate();                       // unknown keys, bad values, cross-key rules
//   config->notImplementedKeys();             // warn once at start
//   PluginConfigView view(*config);           // what plugins see
//
// Duplicates: as java.util.Properties (and therefore ZooKeeper, verified on 3.8.0), a key
// set twice takes the later value. Config accepts that, so an unchanged zoo.cfg still
// starts, and records a warning naming both lines (warnings()). `skipACL` and
// `zookeeper.skipACL` are the same key and count as a duplicate too.
//
// Getters never fail: `get*(key)` returns the value set in the file or the catalog default
// (derived defaults included: minSessionTimeout = 2 * tickTime, maxSessionTimeout =
// 20 * tickTime, dataLogDir = dataDir, consensus = zab with an ensemble, else single);
// `get*(key, fallback)` returns the value set in the file or `fallback`. A malformed value
// (possible only before validate() succeeded) reads as the default/fallback.
//
// Threading: const methods only read, so a Config (and a PluginConfigView of it) may be
// read from any number of threads once nobody calls addPluginKey() or validate().
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "corral/host.h"
#include "corral/status.h"
#include "kernel/config/catalog.h"
#include "kernel/config/config_file.h"
#include "kernel/config/dynamic_config.h"
#include "kernel/config/server_spec.h"

namespace corral::kernel::config {

class Config {
 public:
  Config();  // empty: no file, no keys
  explicit Config(ConfigFile file, const Catalog& catalog = Catalog::standard());

  // parseConfigFile + Config(file). kIoError or kInvalidConfig on failure.
  static sdk::Result<Config> load(const std::string& path);
  // parseConfigText + Config(file); `name` stands for the file in messages.
  static sdk::Result<Config> fromText(std::string_view text, std::string name);

  const ConfigFile& file() const noexcept { return file_; }
  // Where the members came from when not from zoo.cfg itself, and their version.
  const DynamicConfigSource& dynamicSource() const noexcept { return dynamic_; }
  const std::string& fileName() const noexcept { return file_.name; }
  const Catalog& catalog() const noexcept { return *catalog_; }

  // A key a loaded plugin owns (PluginDescriptor::keys). "prefix.*" claims every key
  // under the prefix. Claiming a catalog key (e.g. admin.serverPort) marks it implemented.
  void addPluginKey(std::string_view key, std::string_view plugin);

  // Checks in file order and returns the first error as "file:line: message" (or
  // "file: message" for a missing key), kInvalidConfig. Rules: every key known (catalog or
  // plugin); every catalog value of the right type and range; dataDir set;
  // clientPortAddress only with clientPort; minSessionTimeout <= maxSessionTimeout;
  // server.N syntax, unique ids and addresses, not only observers; group.N members;
  // with an ensemble initLimit and syncLimit set and dataDir/myid naming a listed server
  // (read here: serverId() is valid after success). Also refreshes warnings().
  sdk::Status validate();

  // --- Lookup. `key` may be any accepted spelling (skipACL, zookeeper.skipACL).
  bool isSet(std::string_view key) const;
  // The value as written (last occurrence), or nullopt when the file does not set it.
  std::optional<std::string> get(std::string_view key) const;
  // The effective value: as written (booleans as "true"/"false"), else the default.
  std::optional<std::string> value(std::string_view key) const;
  // "file:line" of the effective occurrence, or "default".
  std::string where(std::string_view key) const;
  // The effective occurrence, or nullptr.
  const ConfigEntry* entry(std::string_view key) const;

  std::string getString(std::string_view key) const;
  std::string getString(std::string_view key, std::string fallback) const;
  int64_t getInt(std::string_view key) const;  // 0 when unset and without default
  int64_t getInt(std::string_view key, int64_t fallback) const;
  bool getBool(std::string_view key) const;  // false when unset and without default
  bool getBool(std::string_view key, bool fallback) const;
  double getDouble(std::string_view key) const;
  double getDouble(std::string_view key, double fallback) const;
  std::vector<std::string> getList(std::string_view key) const;
  std::vector<std::string> getList(std::string_view key, std::vector<std::string> fallback) const;

  // --- Ensemble (ZooKeeper semantics)
  // Every well-formed server.N line, by id (available before validate()).
  const std::vector<ServerSpec>& servers() const noexcept { return servers_; }
  const ServerSpec* server(int64_t id) const;
  // QuorumPeerConfig.isDistributed: server.N lines and (more than one participant or
  // standaloneEnabled=false). One participant with standaloneEnabled runs standalone.
  bool isDistributed() const;
  // myid when distributed (read by validate()), else 0.
  int64_t serverId() const noexcept { return server_id_; }

  // --- Reports
  // Keys set in the file (as spelled there, file order, once each) that Corral accepts
  // but does not act on yet and that no loaded plugin claimed.
  std::vector<std::string> notImplementedKeys() const;
  // Things ZooKeeper accepts that are probably mistakes (duplicates, a lone server.N
  // line, ...), each "file:line: text"; log them once at start.
  const std::vector<std::string>& warnings() const noexcept { return warnings_; }

 private:
  static sdk::Result<Config> withDynamicMembers(ConfigFile file);
  sdk::Status refuseUnsupportedQuorumFeatures() const;
  struct PluginKey {
    std::string key;
    std::string plugin;
  };

  std::string canonical(std::string_view key) const;
  const KeySpec* specFor(std::string_view key) const;
  std::string location(const ConfigEntry& entry) const;
  bool pluginOwns(std::string_view key) const;
  std::string suggestion(std::string_view key) const;
  void buildIndex();
  void buildServers();
  sdk::Status checkEntries();
  sdk::Status checkRules();
  sdk::Status checkEnsemble();
  sdk::Status readServerId();
  sdk::Status adoptClientAddress(const ServerSpec& self);

  ConfigFile file_;
  const Catalog* catalog_;
  std::map<std::string, size_t, std::less<>> index_;  // canonical key -> effective entry
  std::vector<std::string> canonical_;                // per entry
  std::vector<PluginKey> plugin_keys_;
  std::set<std::string, std::less<>> claimed_;        // catalog names a plugin owns
  std::vector<ServerSpec> servers_;
  std::vector<std::string> index_warnings_;
  std::vector<std::string> warnings_;
  int64_t server_id_ = 0;
  DynamicConfigSource dynamic_;
};

// The view plugins get (sdk::PluginConfig). get() returns the effective value: what the
// file says, else the catalog default for catalog keys (booleans as "true"/"false", so
// PluginConfig::getBool accepts every spelling Config accepted); plugin keys as written.
class PluginConfigView final : public sdk::PluginConfig {
 public:
  explicit PluginConfigView(const Config& config) : config_(config) {}
  std::optional<std::string> get(std::string_view key) const override;
  std::string where(std::string_view key) const override;

 private:
  const Config& config_;
};

}  // namespace corral::kernel::config

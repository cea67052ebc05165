// libFuzzer target: a zoo.cfg as corral-server reads it at start (kernel/server/server.cc serve()),
// with the dynamic config file it may name and the myid file of its dataDir.
//
// Input: `zoo.cfg` [NUL `dynamic file` [NUL `myid`]]. The files are written into a scratch folder
// that is the working directory while the input runs, so the config names them by relative paths; a config whose
// dataDir or dynamicConfigFile is absolute, empty, or leaves the folder ("..") is only parsed
// (parseConfigText), never loaded: the fuzzer must not make the server code read /dev/zero.
// Without a dynamicConfigFile key the dynamic file is put in dataDir as
// zoo.cfg.dynamic.100000000 (where a member whose config folder is read-only keeps it).
//
// Steps, as the server takes them: Config::load (parseConfigFile, mergeDynamicConfig), the admin
// plugins the keys ask for (adminPluginRequests), the plugin keys of the plugins it would load,
// Config::validate, warnings and notImplementedKeys, then each plugin's settings from the
// PluginConfigView (storage.memlog's DurabilitySettings, consensus.zab's ZabSettings, the
// kernel's admission settings) and the ensemble handed to consensus (ensembleOf). Every
// catalog key is read through the typed getters.
// Checked: parseConfigText's entries are in line order and it agrees with what Config::load
// read; the ensemble's config text (QuorumConfig::toString, dynamicFileText) parses back to the
// same members and version; the dynamic file parsed by consensus.zab (QuorumConfig::parse, as
// for zoo.cfg.dynamic.next) round-trips the same way.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/check.h"
#include "common/sampling.h"
#include "common/scratch_dir.h"
#include "kernel/admission/admission_settings.h"
#include "kernel/config/catalog.h"
#include "kernel/config/config.h"
#include "kernel/config/config_file.h"
#include "kernel/config/dynamic_config.h"
#include "kernel/config/ensemble_view.h"
#include "kernel/server/admin_plugins.h"
#include "quorum_config.h"
#include "settings.h"
#include "zab_settings.h"

namespace {

namespace config = corral::kernel::config;
namespace fs = std::filesystem;
using corral::plugins::zab::QuorumConfig;


// A relative path that stays inside the scratch folder.
bool safePath(std::string_view value) {
  if (value.empty() || value.size() > 200 || value.front() == '/' || value.find('\0') != std::string_view::npos) {
    return false;
  }
  for (const auto& part : fs::path(value)) {
    if (part == "..") return false;
  }
  return true;
}

void checkQuorumRoundTrip(const QuorumConfig& quorum) {
  auto again = QuorumConfig::parse(quorum.toString());
  CHECK(again.isOk() && again->sameMembers(quorum) && again->version() == quorum.version());
  auto next = QuorumConfig::parse(quorum.dynamicFileText(true));
  CHECK(next.isOk() && next->sameMembers(quorum) && next->version() == quorum.version());
  auto dynamic = QuorumConfig::parse(quorum.dynamicFileText(false));
  CHECK(dynamic.isOk() && dynamic->sameMembers(quorum));
  for (const auto& member : quorum.members()) {
    (void)quorum.isVoter(member.id);
    auto joiner = QuorumConfig::parseJoiner("server." + std::to_string(member.id) + "=" +
                                            corral::plugins::zab::memberSpec(member));
    if (member.client_port != 0) CHECK(joiner.isOk() && joiner->id == member.id);
  }
  (void)quorum.containsQuorum({});
}

// The keys of the plugins the server would load for this config (their descriptors' lists).
void addPluginKeys(config::Config& cfg, const std::vector<corral::kernel::loader::PluginRequest>& admin) {
  static const std::vector<std::string_view> memlog = {
      "dataDir", "dataLogDir", "snapCount", "preAllocSize", "forceSync", "autopurge.snapRetainCount",
      "autopurge.purgeInterval", "snapshot.compression.method", "txnLogSizeLimitInKb", "snapSizeLimitInKb",
      "digest.enabled", "snapshot.trust.empty", "datadir.autocreate", "maxBatchSize", "fsync.warningthresholdms"};
  static const std::vector<std::string_view> rocksdb = {
      "dataDir", "dataLogDir", "forceSync", "datadir.autocreate", "digest.enabled", "maxBatchSize",
      "fsync.warningthresholdms", "rocksdb.cacheSizeMb", "rocksdb.writeBufferMb", "rocksdb.backgroundJobs",
      "rocksdb.compression", "rocksdb.logRetainTxns", "rocksdb.undoRetainTxns", "rocksdb.maxOpenFiles",
      "rocksdb.minFreeDiskMb"};
  const bool on_rocksdb = cfg.getString("storage") == "rocksdb";
  for (auto key : on_rocksdb ? rocksdb : memlog) cfg.addPluginKey(key, on_rocksdb ? "storage.rocksdb" : "storage.memlog");
  for (const auto& frontend : cfg.getList("frontends")) {
    if (frontend == "jute") {
      for (auto key : {"secureClientPortAddress", "serverCnxnFactory"}) cfg.addPluginKey(key, "frontend.jute");
    } else if (frontend == "thrift") {
      for (auto key : {"thrift.port", "thrift.address", "thrift.protocol", "thrift.secure", "thrift.maxFrameSize",
                       "thrift.maxConnections"}) {
        cfg.addPluginKey(key, "frontend.thrift");
      }
    }
  }
  cfg.addPluginKey("zookeeper.DigestAuthenticationProvider.superDigest", "acl.digest");
  cfg.addPluginKey("zookeeper.X509AuthenticationProvider.superUser", "acl.x509");
  for (const auto& request : admin) {
    if (request.name == "http") {
      for (auto key : {"admin.enableServer", "admin.serverAddress", "admin.serverPort", "admin.commandURL",
                       "admin.idleTimeout"}) {
        cfg.addPluginKey(key, "admin.http");
      }
    } else if (request.name == "metrics") {
      for (auto key : {"metricsProvider.className", "metricsProvider.httpHost", "metricsProvider.httpPort",
                       "metricsProvider.exportJvmInfo"}) {
        cfg.addPluginKey(key, "admin.metrics");
      }
    }
  }
}

void readEveryKey(const config::Config& cfg) {
  for (const auto& spec : cfg.catalog().specs()) {
    if (spec.isPattern()) continue;
    const std::string_view key = spec.name;
    (void)cfg.value(key);
    (void)cfg.where(key);
    switch (spec.type) {
      case config::ValueType::kInt: (void)cfg.getInt(key); break;
      case config::ValueType::kDouble: (void)cfg.getDouble(key); break;
      case config::ValueType::kBool: (void)cfg.getBool(key); break;
      case config::ValueType::kList: (void)cfg.getList(key); break;
      default: (void)cfg.getString(key); break;
    }
  }
}

// The scratch folder is the working directory during one input only: libFuzzer resolves its
// own relative paths (corpus, artifacts) between inputs.
class InScratchDir {
 public:
  InScratchDir() : previous_(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    static const fs::path dir = [] {
      fs::path made = corral::fuzz::scratchDir() / "cfg";
      fs::create_directories(made);
      return made;
    }();
    if (previous_ < 0 || ::chdir(dir.c_str()) != 0) std::abort();
  }
  ~InScratchDir() {
    if (::fchdir(previous_) != 0) std::abort();
    ::close(previous_);
  }
  InScratchDir(const InScratchDir&) = delete;
  InScratchDir& operator=(const InScratchDir&) = delete;

 private:
  int previous_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const InScratchDir in_scratch;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t first_nul = input.find('\0');
  const std::string_view zoo_cfg = input.substr(0, first_nul);
  std::optional<std::string_view> dynamic_file;
  std::optional<std::string_view> myid;
  if (first_nul != std::string_view::npos) {
    std::string_view rest = input.substr(first_nul + 1);
    const size_t second_nul = rest.find('\0');
    dynamic_file = rest.substr(0, second_nul);
    if (second_nul != std::string_view::npos) myid = rest.substr(second_nul + 1);
  }

  // consensus.zab's reader of dynamic files (zoo.cfg.dynamic.next, /zookeeper/config).
  if (dynamic_file) {
    auto quorum = QuorumConfig::parse(*dynamic_file);
    if (quorum.isOk()) checkQuorumRoundTrip(*quorum);
  }

  auto parsed = config::parseConfigText(zoo_cfg, "zoo.cfg");
  if (!parsed.isOk()) return 0;
  int last_line = 0;
  std::vector<std::string> data_dirs;
  std::optional<std::string> dynamic_path;
  for (const auto& entry : parsed->entries) {
    CHECK(entry.line > last_line);
    last_line = entry.line;
    if (entry.key == "dataDir" || entry.key == "zookeeper.dataDir") data_dirs.push_back(entry.value);
    if (entry.key == "dynamicConfigFile") dynamic_path = entry.value;
    if (!safePath(entry.value) &&
        (entry.key == "dataDir" || entry.key == "zookeeper.dataDir" || entry.key == "dynamicConfigFile")) {
      return 0;  // would read outside the scratch folder
    }
  }

  // The scratch folder (the working directory): zoo.cfg, dataDir with myid, the dynamic file.
  std::error_code error;
  for (const auto& item : fs::directory_iterator(".", error)) fs::remove_all(item.path(), error);
  corral::fuzz::writeFile("zoo.cfg", zoo_cfg);
  for (const auto& dir : data_dirs) {
    fs::create_directories(dir, error);
    if (myid) {
      std::ofstream(fs::path(dir) / "myid", std::ios::binary).write(myid->data(), static_cast<std::streamsize>(myid->size()));
    }
  }
  if (dynamic_file) {
    fs::path where;
    if (dynamic_path) {
      where = *dynamic_path;
    } else if (!data_dirs.empty()) {
      where = fs::path(data_dirs.back()) / "zoo.cfg.dynamic.100000000";
    }
    if (!where.empty()) {
      if (where.has_parent_path()) fs::create_directories(where.parent_path(), error);
      std::ofstream(where, std::ios::binary).write(dynamic_file->data(), static_cast<std::streamsize>(dynamic_file->size()));
    }
  }

  // 1. Config: syntax and ZooKeeper/kernel keys.
  auto loaded = config::Config::load("zoo.cfg");
  if (!loaded.isOk()) return 0;
  config::Config& cfg = *loaded;
  // The members may come from the dynamic file; everything else is what the text said.
  for (const auto& entry : cfg.file().entries) {
    if (!entry.file.empty()) CHECK(entry.key.starts_with("server.") || entry.key.starts_with("group") ||
                                   entry.key.starts_with("weight"));
  }
  (void)config::versionFromFileName(cfg.dynamicSource().path);

  // 2. Plugins: the admin plugins the keys imply, then every loaded plugin's keys.
  auto admin = corral::kernel::server::adminPluginRequests(cfg);
  if (!admin.isOk()) return 0;
  addPluginKeys(cfg, *admin);

  // 3. Validation, then what plugins read of it. An unknown key stops validate() with a hint at
  // the nearest catalog spelling (Config::suggestion: an edit distance against every spelling,
  // most of the cost of an input under the sanitizers, and seconds for a long garbage key). So
  // for one input in 8 (common/sampling.h; every input in the replay) unknown keys are refused
  // as the server refuses them (not when longer than 64 bytes; no catalog key is); for the
  // rest a plugin claims them, as a loaded plugin claims its keys, and validation goes on to
  // the values, the rules and the ensemble.
  if (corral::fuzz::takesCostlyPath(input, 8)) {
    for (const auto& entry : cfg.file().entries) {
      if (entry.key.size() > 64) return 0;
    }
  } else {
    for (const auto& entry : cfg.file().entries) {
      if (!cfg.catalog().find(entry.key)) cfg.addPluginKey(entry.key, "fuzz.plugin");
    }
  }
  const auto valid = cfg.validate();
  (void)cfg.warnings();
  (void)cfg.notImplementedKeys();
  readEveryKey(cfg);
  if (!valid.isOk()) return 0;
  config::PluginConfigView view(cfg);
  (void)corral::plugins::memlog::DurabilitySettings::fromConfig(view);
  (void)corral::kernel::admission::parseAdmissionSettings(view);
  const auto ensemble = config::ensembleOf(cfg);
  if (cfg.isDistributed()) {
    (void)corral::plugins::zab::readZabSettings(view);
    CHECK(ensemble.my_id == cfg.serverId() && !ensemble.members.empty());
    checkQuorumRoundTrip(QuorumConfig(ensemble.members, ensemble.version));
  }
  return 0;
}

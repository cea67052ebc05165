// The dynamic half of an ensemble's configuration (ZooKeeper 3.5+ dynamic reconfiguration):
// the server.N, group.N and weight.N lines live in a file of their own, named by
// `dynamicConfigFile=` in zoo.cfg, whose name ends in the config's version in hex
// (`zoo.cfg.dynamic.100000000`); the file holds no `version=` line. ZooKeeper writes it next
// to zoo.cfg. Corral also writes it into dataDir when the config's folder is read-only (a
// packaged service): a newer version found there wins over the file zoo.cfg names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "corral/status.h"
#include "kernel/config/config_file.h"

namespace corral::kernel::config {

struct DynamicConfigSource {
  std::string path;      // the file the members were read from ("" when in zoo.cfg itself)
  int64_t version = 0;   // from its name's suffix (0 without one)
};

// The version a dynamic file's name carries ("zoo.cfg.dynamic.1001" -> 0x1001), or nullopt.
std::optional<int64_t> versionFromFileName(const std::string& path);

// Appends the members of the dynamic file `file` uses (its dynamicConfigFile, or a newer
// `<zoo.cfg name>.dynamic.<hex>` in its dataDir) to `file`'s entries, each naming its own
// file. kInvalidConfig for what ZooKeeper refuses: server.N/group/weight lines in zoo.cfg
// next to dynamicConfigFile, a `version` or any other key inside the dynamic file, a file
// that cannot be read.
sdk::Result<DynamicConfigSource> mergeDynamicConfig(ConfigFile& file);

}  // namespace corral::kernel::config

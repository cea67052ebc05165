// PluginLoader finds plugin libraries, opens them and checks their descriptors.
//
// It never calls into a plugin whose ABI version differs from the kernel's: abi_version is
// the first field of the descriptor and is read before anything else. Libraries are opened
// with RTLD_NODELETE and never closed, so objects a plugin created can never outlive its
// code (see sdk/include/corral/plugin.h).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "corral/plugin.h"
#include "kernel/loader/load_error.h"

namespace corral::kernel::loader {

struct LoadedPlugin {
  const sdk::PluginDescriptor* descriptor = nullptr;
  std::filesystem::path file;
  std::string name() const { return descriptor->name; }
};

// What the config asked for: a plugin of `kind` called `name` (the part after "<kind>.").
struct PluginRequest {
  sdk::PluginKind kind;
  std::string name;
  std::string where;  // "file:line" of the config key that asked for it, for messages
  std::string fullName() const;      // "storage.memlog"
  std::string fileName() const;      // "libcorral_storage_memlog.so"
};

class PluginLoader {
 public:
  // Folders searched in order; the first folder holding the file wins.
  explicit PluginLoader(std::vector<std::filesystem::path> search_dirs);

  const std::vector<std::filesystem::path>& searchDirs() const { return search_dirs_; }

  // Loads every requested plugin, or stops at the first failure.
  LoadError loadAll(const std::vector<PluginRequest>& requests, std::vector<LoadedPlugin>& out);

  // Opens one library file and checks its descriptor against `request`.
  LoadError load(const PluginRequest& request, LoadedPlugin& out);

  // Opens a file and returns its descriptor with only the ABI and field checks
  // (for `corral-server --list-plugins`).
  LoadError inspect(const std::filesystem::path& file, LoadedPlugin& out);

 private:
  std::filesystem::path find(const PluginRequest& request) const;
  std::vector<std::filesystem::path> search_dirs_;
};

// The default plugin folder: next to the executable, at the relative path fixed at build time.
std::filesystem::path defaultPluginDir();

}  // namespace corral::kernel::loader

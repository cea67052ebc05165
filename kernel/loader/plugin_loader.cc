#include "kernel/loader/plugin_loader.h"

#include <dlfcn.h>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>
#include <set>

namespace corral::kernel::loader {
namespace {

namespace dll = boost::dll;

std::string joinDirs(const std::vector<std::filesystem::path>& dirs) {
  std::string text;
  for (const auto& dir : dirs) {
    if (!text.empty()) text += ", ";
    text += dir.string();
  }
  return text;
}

// Libraries are kept open for the life of the process: a plugin's objects, vtables and
// exception types must stay valid until exit, and dlclose is unreliable anyway
// (STB_GNU_UNIQUE symbols). Intentionally never destroyed.
std::vector<dll::shared_library>& openLibraries() {
  static auto* libraries = new std::vector<dll::shared_library>();
  return *libraries;
}

bool isPrintableName(const char* text) {
  if (text == nullptr || *text == '\0') return false;
  for (const char* c = text; *c != '\0'; ++c) {
    if (static_cast<unsigned char>(*c) < 0x21 || static_cast<unsigned char>(*c) > 0x7e) return false;
  }
  return true;
}

}  // namespace

std::string PluginRequest::fullName() const {
  return fmt::format("{}.{}", sdk::kindName(kind), name);
}

std::string PluginRequest::fileName() const {
  return fmt::format("libcorral_{}_{}.so", sdk::kindName(kind), name);
}

PluginLoader::PluginLoader(std::vector<std::filesystem::path> search_dirs)
    : search_dirs_(std::move(search_dirs)) {}

std::filesystem::path PluginLoader::find(const PluginRequest& request) const {
  for (const auto& dir : search_dirs_) {
    std::error_code ec;
    auto candidate = dir / request.fileName();
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  }
  return {};
}

LoadError PluginLoader::inspect(const std::filesystem::path& file, LoadedPlugin& out) {
  dll::shared_library library;
  std::error_code ec;
  // RTLD_NOW: an unresolved symbol fails here, with dlerror's text, not later mid-request.
  auto mode = static_cast<dll::load_mode::type>(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  library.load(file, mode, ec);
  if (ec) {
    const char* reason = dlerror();
    return {LoadFailure::kNotLoadable,
            fmt::format("cannot load plugin file {}: {}", file.string(),
                        reason != nullptr ? reason : ec.message())};
  }
  if (!library.has(sdk::kDescriptorSymbol)) {
    return {LoadFailure::kNoDescriptor,
            fmt::format("{} is not a Corral plugin: it exports no '{}' descriptor "
                        "(build it with CORRAL_PLUGIN(...))",
                        file.string(), sdk::kDescriptorSymbol)};
  }
  const auto& descriptor = library.get_alias<const sdk::PluginDescriptor>(sdk::kDescriptorSymbol);
  // Read the ABI version before anything else: the rest of the layout may differ.
  if (descriptor.abi_version != sdk::kAbiVersion) {
    return {LoadFailure::kAbiMismatch,
            fmt::format("{} was built against Corral SDK ABI {}, but this corral-server has ABI "
                        "{}: rebuild the plugin against this SDK",
                        file.string(), descriptor.abi_version, sdk::kAbiVersion)};
  }
  if (!isPrintableName(descriptor.name) || descriptor.create == nullptr ||
      descriptor.validate == nullptr) {
    return {LoadFailure::kBadDescriptor,
            fmt::format("{} has a malformed descriptor: it needs a name, validate() and create()",
                        file.string())};
  }
  out.descriptor = &descriptor;
  out.file = file;
  openLibraries().push_back(std::move(library));
  return {};
}

LoadError PluginLoader::load(const PluginRequest& request, LoadedPlugin& out) {
  auto file = find(request);
  if (file.empty()) {
    return {LoadFailure::kFileMissing,
            fmt::format("{}: plugin '{}' not found: no {} in {}", request.where,
                        request.fullName(), request.fileName(), joinDirs(search_dirs_))};
  }
  if (auto error = inspect(file, out)) {
    error.message = fmt::format("{}: plugin '{}': {}", request.where, request.fullName(),
                                error.message);
    return error;
  }
  const auto& descriptor = *out.descriptor;
  if (descriptor.kind != request.kind) {
    return {LoadFailure::kWrongKind,
            fmt::format("{}: plugin '{}': {} is a {} plugin, not a {} plugin", request.where,
                        request.fullName(), file.string(), sdk::kindName(descriptor.kind),
                        sdk::kindName(request.kind))};
  }
  if (request.fullName() != descriptor.name) {
    return {LoadFailure::kWrongKind,
            fmt::format("{}: plugin '{}': {} declares the name '{}'", request.where,
                        request.fullName(), file.string(), descriptor.name)};
  }
  return {};
}

LoadError PluginLoader::loadAll(const std::vector<PluginRequest>& requests,
                                std::vector<LoadedPlugin>& out) {
  std::set<std::string> names;
  for (const auto& request : requests) {
    if (!names.insert(request.fullName()).second) {
      return {LoadFailure::kDuplicateName,
              fmt::format("{}: plugin '{}' is listed more than once", request.where,
                          request.fullName())};
    }
  }
  for (const auto& request : requests) {
    LoadedPlugin plugin;
    if (auto error = load(request, plugin)) return error;
    out.push_back(plugin);
  }
  return {};
}

std::filesystem::path defaultPluginDir() {
  std::error_code ec;
  auto exe = dll::program_location(ec);
  if (ec) return {};
  return (exe.parent_path() / CORRAL_PLUGIN_RELDIR).lexically_normal();
}

}  // namespace corral::kernel::loader

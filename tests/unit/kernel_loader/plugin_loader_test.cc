// The loader against one deliberately broken plugin per failure (tests/fixtures/plugins):
// each failure has its own code and a message naming the file and the cause.
#include "kernel/loader/plugin_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace corral::kernel::loader {
namespace {

using ::testing::HasSubstr;

const std::filesystem::path kFixtures = CORRAL_FIXTURE_PLUGIN_DIR;
const std::filesystem::path kBuilt = CORRAL_BUILD_PLUGIN_DIR;

PluginRequest admin(const std::string& name) {
  return {sdk::PluginKind::kAdmin, name, "test.cfg:3"};
}

LoadError loadOne(const PluginRequest& request, LoadedPlugin* out = nullptr) {
  PluginLoader loader({kFixtures, kBuilt});
  LoadedPlugin plugin;
  auto error = loader.load(request, plugin);
  if (out != nullptr) *out = plugin;
  return error;
}

TEST(PluginLoader, LoadsAWellFormedPlugin) {
  LoadedPlugin plugin;
  auto error = loadOne(admin("fixture_ok"), &plugin);
  ASSERT_FALSE(error) << error.message;
  EXPECT_EQ(plugin.name(), "admin.fixture_ok");
  EXPECT_EQ(plugin.file, kFixtures / "libcorral_admin_fixture_ok.so");
  EXPECT_STREQ(plugin.descriptor->version, "1.0.0");
}

TEST(PluginLoader, LoadsTheBuiltInStorage) {
  LoadedPlugin plugin;
  auto error = loadOne({sdk::PluginKind::kStorage, "memlog", "default"}, &plugin);
  ASSERT_FALSE(error) << error.message;
  EXPECT_EQ(plugin.name(), "storage.memlog");
  EXPECT_EQ(plugin.descriptor->kind, sdk::PluginKind::kStorage);
}

TEST(PluginLoader, MissingFileNamesTheFileAndEveryFolder) {
  auto error = loadOne(admin("nosuch"));
  EXPECT_EQ(error.failure, LoadFailure::kFileMissing);
  EXPECT_EQ(error.message, "test.cfg:3: plugin 'admin.nosuch' not found: no libcorral_admin_nosuch.so in " +
                               kFixtures.string() + ", " + kBuilt.string());
}

TEST(PluginLoader, FileThatIsNotASharedLibrary) {
  auto error = loadOne(admin("fixture_garbage"));
  EXPECT_EQ(error.failure, LoadFailure::kNotLoadable);
  EXPECT_THAT(error.message, HasSubstr("test.cfg:3: plugin 'admin.fixture_garbage': cannot load plugin file " +
                                      (kFixtures / "libcorral_admin_fixture_garbage.so").string()));
}

TEST(PluginLoader, UnresolvedSymbolIsRefusedAtLoad) {
  auto error = loadOne(admin("fixture_unresolved"));
  EXPECT_EQ(error.failure, LoadFailure::kNotLoadable);
  EXPECT_THAT(error.message, HasSubstr("undefined symbol: corral_fixture_function_nobody_defines"));
}

TEST(PluginLoader, LibraryWithoutDescriptor) {
  auto error = loadOne(admin("fixture_no_descriptor"));
  EXPECT_EQ(error.failure, LoadFailure::kNoDescriptor);
  EXPECT_EQ(error.message, "test.cfg:3: plugin 'admin.fixture_no_descriptor': " +
                               (kFixtures / "libcorral_admin_fixture_no_descriptor.so").string() +
                               " is not a Corral plugin: it exports no 'corral_plugin' descriptor "
                               "(build it with CORRAL_PLUGIN(...))");
}

TEST(PluginLoader, AbiMismatchIsCaughtBeforeAnyCall) {
  auto error = loadOne(admin("fixture_abi_mismatch"));
  EXPECT_EQ(error.failure, LoadFailure::kAbiMismatch);
  EXPECT_EQ(error.message, "test.cfg:3: plugin 'admin.fixture_abi_mismatch': " +
                               (kFixtures / "libcorral_admin_fixture_abi_mismatch.so").string() +
                               " was built against Corral SDK ABI " + std::to_string(sdk::kAbiVersion + 998) +
                               ", but this corral-server has ABI " + std::to_string(sdk::kAbiVersion) +
                               ": rebuild the plugin against this SDK");
}

TEST(PluginLoader, DescriptorWithoutFactory) {
  auto error = loadOne(admin("fixture_bad_descriptor"));
  EXPECT_EQ(error.failure, LoadFailure::kBadDescriptor);
  EXPECT_THAT(error.message, HasSubstr("has a malformed descriptor: it needs a name, validate() and create()"));
}

TEST(PluginLoader, WrongKind) {
  auto error = loadOne(admin("fixture_wrong_kind"));
  EXPECT_EQ(error.failure, LoadFailure::kWrongKind);
  EXPECT_EQ(error.message, "test.cfg:3: plugin 'admin.fixture_wrong_kind': " +
                               (kFixtures / "libcorral_admin_fixture_wrong_kind.so").string() +
                               " is a storage plugin, not a admin plugin");
}

TEST(PluginLoader, NameDiffersFromFile) {
  auto error = loadOne(admin("fixture_misnamed"));
  EXPECT_EQ(error.failure, LoadFailure::kWrongKind);
  EXPECT_EQ(error.message, "test.cfg:3: plugin 'admin.fixture_misnamed': " +
                               (kFixtures / "libcorral_admin_fixture_misnamed.so").string() +
                               " declares the name 'admin.somebody_else'");
}

TEST(PluginLoader, DuplicateRequestIsRefusedBeforeLoading) {
  PluginLoader loader({kFixtures});
  std::vector<LoadedPlugin> loaded;
  auto error = loader.loadAll({admin("fixture_ok"), {sdk::PluginKind::kAdmin, "fixture_ok", "test.cfg:9"}}, loaded);
  EXPECT_EQ(error.failure, LoadFailure::kDuplicateName);
  EXPECT_EQ(error.message, "test.cfg:9: plugin 'admin.fixture_ok' is listed more than once");
  EXPECT_TRUE(loaded.empty());
}

TEST(PluginLoader, FirstFolderWins) {
  // A plugin.dir copy shadows the built-in one.
  PluginLoader loader({kBuilt, kFixtures});
  LoadedPlugin plugin;
  ASSERT_FALSE(loader.load({sdk::PluginKind::kStorage, "memlog", "x"}, plugin));
  EXPECT_EQ(plugin.file.parent_path(), kBuilt);
}

}  // namespace
}  // namespace corral::kernel::loader

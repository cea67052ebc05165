// Runs the SDK's storage conformance suite on every storage plugin of this repository.
#include "testing/storage_conformance.h"

namespace {

corral::testing::StorageConformanceCase memlog() {
  corral::testing::StorageConformanceCase c;
  c.label = "memlog";
  c.plugin_file = std::string(CORRAL_BUILD_PLUGIN_DIR) + "/libcorral_storage_memlog.so";
  // Small logs and frequent snapshots, so rolls and background snapshots happen in the tests.
  c.config = {{"preAllocSize", "16"}, {"snapCount", "200"}};
  c.zk38_fuzzy_dir = CORRAL_ZK38_FUZZY_DIR;
  return c;
}

corral::testing::StorageConformanceCase memlogGzip() {
  auto c = memlog();
  c.label = "memlog_gzip_snapshots";
  c.config["snapshot.compression.method"] = "gz";
  return c;
}

}  // namespace

using corral::testing::StorageConformance;
INSTANTIATE_TEST_SUITE_P(BuiltIn, StorageConformance, ::testing::Values(memlog(), memlogGzip()),
                         corral::testing::storageCaseName);

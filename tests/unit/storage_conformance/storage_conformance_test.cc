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

corral::testing::StorageConformanceCase rocksdb() {
  corral::testing::StorageConformanceCase c;
  c.label = "rocksdb";
  c.plugin_file = std::string(CORRAL_BUILD_PLUGIN_DIR) + "/libcorral_storage_rocksdb.so";
  // The smallest cache and retention the plugin takes, so trimming runs in the tests.
  c.config = {{"rocksdb.cacheSizeMb", "8"}, {"rocksdb.writeBufferMb", "2"}, {"rocksdb.undoRetainTxns", "100"},
              {"rocksdb.logRetainTxns", "1000"}};
  c.zk38_fuzzy_dir = CORRAL_ZK38_FUZZY_DIR;
  return c;
}

}  // namespace

using corral::testing::StorageConformance;
INSTANTIATE_TEST_SUITE_P(BuiltIn, StorageConformance, ::testing::Values(memlog(), memlogGzip(), rocksdb()),
                         corral::testing::storageCaseName);

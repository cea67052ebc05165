// memlog_tree_bench: memory (and rough speed) of the DataTree with 1,000,000 znodes of 100 bytes
// under 1,000 parents. Prints RSS growth per znode from /proc/self/status (VmRSS).
// Usage: memlog_tree_bench [nodes] [parents] [data_bytes] [--no-digest]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "data_tree.h"

namespace {

long rssKb() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  long kb = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) kb = std::strtol(line + 6, nullptr, 10);
  }
  std::fclose(f);
  return kb;
}

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  long nodes = 1000000, parents = 1000, data_bytes = 100;
  bool digest = true;
  int pos = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no-digest") == 0) {
      digest = false;
      continue;
    }
    const long v = std::strtol(argv[i], nullptr, 10);
    if (pos == 0) nodes = v;
    if (pos == 1) parents = v;
    if (pos == 2) data_bytes = v;
    ++pos;
  }
  using corral::plugins::memlog::DataTree;
  auto tree = std::make_unique<DataTree>();
  tree->setDigestEnabled(digest);
  const corral::sdk::AclList acl = corral::sdk::openAclUnsafe();
  const std::string data(static_cast<size_t>(data_bytes), 'd');
  std::vector<std::string> parent_paths;
  int64_t zxid = 1;
  for (long p = 0; p < parents; ++p) {
    parent_paths.push_back("/parent" + std::to_string(p));
    if (!tree->createNode(parent_paths.back(), "", acl, 0, -1, zxid++, 1700000000000).isOk()) return 1;
  }
  const long before = rssKb();
  auto t0 = std::chrono::steady_clock::now();
  std::string path;
  for (long i = 0; i < nodes; ++i) {
    const std::string& parent = parent_paths[static_cast<size_t>(i % parents)];
    path.assign(parent);
    path += "/node";
    path += std::to_string(i);
    if (!tree->createNode(path, data, acl, 0, -1, zxid++, 1700000000000 + i).isOk()) {
      std::fprintf(stderr, "create %s failed\n", path.c_str());
      return 1;
    }
  }
  const double create_s = secondsSince(t0);
  const long after = rssKb();

  t0 = std::chrono::steady_clock::now();
  long found = 0;
  for (long i = 0; i < nodes; ++i) {
    path.assign(parent_paths[static_cast<size_t>(i % parents)]);
    path += "/node";
    path += std::to_string(i);
    found += tree->exists(path).isOk() ? 1 : 0;
  }
  const double lookup_s = secondsSince(t0);

  std::printf("znodes=%ld parents=%ld data=%ldB digest=%s path_example=%s (%zu bytes)\n", nodes, parents,
              data_bytes, digest ? "on" : "off", path.c_str(), path.size());
  std::printf("rss_before=%ld kB rss_after=%ld kB growth=%.1f MB\n", before, after, (after - before) / 1024.0);
  std::printf("rss_per_znode=%.1f bytes\n", (after - before) * 1024.0 / static_cast<double>(nodes));
  std::printf("create=%.0f ns/op exists=%.0f ns/op found=%ld approx_data_size=%lld\n",
              create_s * 1e9 / static_cast<double>(nodes), lookup_s * 1e9 / static_cast<double>(nodes), found,
              static_cast<long long>(tree->approximateDataSize()));
  return found == nodes ? 0 : 1;
}

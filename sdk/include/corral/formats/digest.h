// ZooKeeper 3.8's tree digest (DigestCalculator, version 2): a CRC32 per znode, summed over the
// tree; snapshots end with it and txns carry it, so a replica can check it holds the same tree.
#pragma once

#include <cstdint>
#include <string_view>

#include "corral/types.h"

namespace corral::formats {

inline constexpr int32_t kDigestVersion = 2;

// The digest of one znode as a snapshot stores it (0 for nodes under "/zookeeper/", which
// ZooKeeper leaves out); null data digests like empty data.
uint64_t znodeDigest(std::string_view path, std::string_view data, const sdk::StatPersisted& stat);

}  // namespace corral::formats

// ZooKeeper's checksum: java.util.zip.Adler32, as the txn log records and snapshot seals use it.
#pragma once

#include <cstdint>
#include <string_view>

namespace corral::formats {

// java.util.zip.Adler32 over `bytes`, continuing from `running` (1 = a fresh checksum).
uint32_t adler32Of(std::string_view bytes, uint32_t running = 1);

}  // namespace corral::formats

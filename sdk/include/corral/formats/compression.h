// Snapshot compression as ZooKeeper's SnapStream writes it: gzip (java.util.zip) and snappy-java's
// framed stream, both over Debian's libraries (zlib, libsnappy).
#pragma once

#include <string>
#include <string_view>

#include "corral/status.h"

namespace corral::formats {

// ---- compression codecs (exposed for tests and the tool) --------------------------------------

sdk::Result<std::string> gunzip(std::string_view compressed);
// snappy-java's framed stream (SnappyOutputStream): magic + versions, then int32-length blocks.
sdk::Result<std::string> unsnappyStream(std::string_view compressed);
std::string snappyStreamHeader();
// One raw snappy block (libsnappy when available, else an all-literal encoding).
std::string snappyCompressBlock(std::string_view block);
sdk::Result<std::string> snappyUncompressBlock(std::string_view block);

}  // namespace corral::formats

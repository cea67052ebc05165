#include "corral/formats/checksum.h"

#include <zlib.h>

#include <algorithm>

namespace corral::formats {

uint32_t adler32Of(std::string_view bytes, uint32_t running) {
  uLong a = running;
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    const uInt step = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    a = adler32(a, reinterpret_cast<const Bytef*>(p), step);
    p += step;
    n -= step;
  }
  return static_cast<uint32_t>(a);
}

}  // namespace corral::formats

// Jute: ZooKeeper's binary record encoding (org.apache.jute.BinaryOutputArchive /
// BinaryInputArchive), used on the client wire, in quorum packets and on disk.
//
// Encoding (client-protocol.md §2): int = 4 bytes BE, long = 8 bytes BE, boolean = 1 byte,
// ustring/buffer = int32 length + bytes with -1 meaning null, vector = int32 count + items with
// -1 meaning null, records = fields concatenated.
//
// JuteWriter appends to a caller-owned std::string, so a connection can encode replies straight
// into its output buffer. JuteReader decodes from a std::string_view without allocating except for
// the values it returns; every read is bounds-checked and the first error makes the reader
// "failed" for good (later reads return defaults), so decoders can read a whole record and check
// ok() once. Garbage input can never make it read out of bounds or allocate more than the input
// size (lengths and vector counts are checked against the remaining bytes before any allocation).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::sdk {

// jute.maxbuffer default (0xfffff): the request frame limit of a ZooKeeper server.
inline constexpr int32_t kJuteMaxBufferDefault = 0xfffff;
// What BinaryInputArchive accepts for one string/buffer by default: maxbuffer + extrasize
// (zookeeper.jute.maxbuffer.extrasize defaults to maxbuffer).
inline constexpr int32_t kJuteMaxLengthDefault = 2 * kJuteMaxBufferDefault;

namespace jute_detail {

inline uint32_t loadBe32(const char* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  return v;
}

inline uint64_t loadBe64(const char* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

inline void storeBe32(char* p, uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof v);
}

inline void storeBe64(char* p, uint64_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  std::memcpy(p, &v, sizeof v);
}

}  // namespace jute_detail

class JuteWriter {
 public:
  explicit JuteWriter(std::string& out) noexcept : out_(&out) {}

  std::string& buffer() noexcept { return *out_; }
  size_t size() const noexcept { return out_->size(); }

  void writeByte(int8_t v) { out_->push_back(static_cast<char>(v)); }
  void writeBool(bool v) { out_->push_back(v ? '\x01' : '\x00'); }

  void writeInt(int32_t v) {
    char bytes[4];
    jute_detail::storeBe32(bytes, static_cast<uint32_t>(v));
    out_->append(bytes, sizeof bytes);
  }

  void writeLong(int64_t v) {
    char bytes[8];
    jute_detail::storeBe64(bytes, static_cast<uint64_t>(v));
    out_->append(bytes, sizeof bytes);
  }

  // ustring and buffer share one encoding; the two names document intent at call sites.
  void writeString(std::string_view v) { writeBytes(v); }
  void writeBuffer(std::string_view v) { writeBytes(v); }

  void writeOptionalString(const std::optional<std::string>& v) {
    if (v) writeBytes(*v); else writeInt(-1);
  }
  void writeOptionalBuffer(const std::optional<std::string>& v) { writeOptionalString(v); }

  // Writes `-1` (a null string, buffer or vector).
  void writeNull() { writeInt(-1); }

  // vector<T>: count + elements, each written by write_element(JuteWriter&, const T&).
  template <typename T, typename F>
  void writeVector(const std::vector<T>& items, F&& write_element) {
    writeInt(static_cast<int32_t>(items.size()));
    for (const T& item : items) write_element(*this, item);
  }

  void writeStringVector(const std::vector<std::string>& items) {
    writeInt(static_cast<int32_t>(items.size()));
    for (const std::string& item : items) writeBytes(item);
  }

  // Every wire message is `int32 len + payload`: beginFrame reserves the length and returns its
  // offset; endFrame patches it with the number of bytes written since. Frames may nest.
  size_t beginFrame() {
    size_t offset = out_->size();
    out_->append(4, '\0');
    return offset;
  }

  void endFrame(size_t offset) {
    size_t payload = out_->size() - offset - 4;
    jute_detail::storeBe32(out_->data() + offset, static_cast<uint32_t>(payload));
  }

  // Raw bytes with no length prefix (pre-encoded records, trailing bytes).
  void writeRaw(std::string_view bytes) { out_->append(bytes.data(), bytes.size()); }

 private:
  void writeBytes(std::string_view v) {
    const size_t old = out_->size();
    out_->resize(old + 4 + v.size());
    char* p = out_->data() + old;
    jute_detail::storeBe32(p, static_cast<uint32_t>(v.size()));
    if (!v.empty()) std::memcpy(p + 4, v.data(), v.size());
  }

  std::string* out_;
};

class JuteReader {
 public:
  // max_length bounds every string/buffer length (jute.maxbuffer + extrasize in ZooKeeper).
  explicit JuteReader(std::string_view data, int32_t max_length = kJuteMaxLengthDefault) noexcept
      : data_(data), max_length_(max_length) {}

  bool ok() const noexcept { return !failed_; }
  bool failed() const noexcept { return failed_; }
  size_t remaining() const noexcept { return data_.size() - pos_; }
  bool atEnd() const noexcept { return pos_ == data_.size(); }
  size_t position() const noexcept { return pos_; }
  int32_t maxLength() const noexcept { return max_length_; }
  // The bytes not read yet (empty once failed).
  std::string_view rest() const noexcept { return failed_ ? std::string_view() : data_.substr(pos_); }

  // Marks the reader failed; decoders call it for semantic errors (e.g. an unknown op type).
  void fail() noexcept {
    failed_ = true;
    pos_ = data_.size();
  }

  int8_t readByte() noexcept {
    if (!need(1)) return 0;
    return static_cast<int8_t>(data_[pos_++]);
  }

  // Like BinaryInputArchive: any non-zero byte is true.
  bool readBool() noexcept { return readByte() != 0; }

  int32_t readInt() noexcept {
    if (!need(4)) return 0;
    uint32_t v = jute_detail::loadBe32(data_.data() + pos_);
    pos_ += 4;
    return static_cast<int32_t>(v);
  }

  int64_t readLong() noexcept {
    if (!need(8)) return 0;
    uint64_t v = jute_detail::loadBe64(data_.data() + pos_);
    pos_ += 8;
    return static_cast<int64_t>(v);
  }

  // Zero-copy string/buffer: the view points into the input. `is_null` (if given) reports -1.
  std::string_view readBytesView(bool* is_null = nullptr) noexcept {
    if (is_null) *is_null = false;
    int32_t len = readInt();
    if (failed_) return {};
    if (len == -1) {
      if (is_null) *is_null = true;
      return {};
    }
    if (len < 0 || len > max_length_ || static_cast<size_t>(len) > remaining()) {
      fail();
      return {};
    }
    std::string_view v = data_.substr(pos_, static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return v;
  }

  // A null ustring/buffer reads as empty; use the optional variants where null matters.
  std::string readString() { return std::string(readBytesView()); }
  std::string readBuffer() { return std::string(readBytesView()); }

  std::optional<std::string> readOptionalString() {
    bool is_null = false;
    std::string_view v = readBytesView(&is_null);
    if (is_null || failed_) return std::nullopt;
    return std::string(v);
  }
  std::optional<std::string> readOptionalBuffer() { return readOptionalString(); }

  // Reads a vector count. Returns -1 for a null vector, otherwise a count >= 0 that is known to
  // fit: count * min_element_size <= remaining() (every jute element takes at least one byte, so
  // a hostile count fails here instead of driving a huge loop or reserve). Like
  // BinaryInputArchive, a negative count other than -1 means an empty (non-null) vector.
  int32_t readVectorCount(size_t min_element_size = 1) noexcept {
    int32_t count = readInt();
    if (failed_) return 0;
    if (count == -1) return -1;
    if (count < 0) return 0;
    if (min_element_size == 0) min_element_size = 1;
    if (static_cast<size_t>(count) > remaining() / min_element_size) {
      fail();
      return 0;
    }
    return count;
  }

  // vector<T> into `out` (cleared first); elements read by read_element(JuteReader&, T&).
  // Returns false if the reader failed. `is_null` (if given) reports a -1 count; a null vector
  // leaves `out` empty.
  template <typename T, typename F>
  bool readVector(std::vector<T>& out, F&& read_element, size_t min_element_size = 1,
                  bool* is_null = nullptr) {
    out.clear();
    int32_t count = readVectorCount(min_element_size);
    if (is_null) *is_null = (count == -1);
    if (count <= 0) return ok();
    out.resize(static_cast<size_t>(count));
    for (T& item : out) {
      read_element(*this, item);
      if (failed_) {
        out.clear();
        return false;
      }
    }
    return true;
  }

  bool readStringVector(std::vector<std::string>& out, bool* is_null = nullptr) {
    return readVector(out, [](JuteReader& r, std::string& s) { s = r.readString(); }, 4, is_null);
  }

 private:
  bool need(size_t n) noexcept {
    if (failed_ || remaining() < n) {
      fail();
      return false;
    }
    return true;
  }

  std::string_view data_;
  size_t pos_ = 0;
  int32_t max_length_;
  bool failed_ = false;
};

}  // namespace corral::sdk

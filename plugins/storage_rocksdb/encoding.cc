#include "encoding.h"

#include <algorithm>
#include <cstring>

namespace corral::plugins::rocks {

namespace {

constexpr char kNodeFormat = 1;
constexpr char kAppliedFormat = 1;
constexpr char kUndoFormat = 1;

template <typename T>
void putLe(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // x86-64 and arm64 are little-endian
  out.append(bytes, sizeof(T));
}

// Reads fixed-size fields off a byte view; `ok` turns false on a short read.
struct Cursor {
  std::string_view bytes;
  bool ok = true;
  template <typename T>
  T le() {
    T v{};
    if (bytes.size() < sizeof(T)) {
      ok = false;
      return v;
    }
    std::memcpy(&v, bytes.data(), sizeof(T));
    bytes.remove_prefix(sizeof(T));
    return v;
  }
  std::string_view take(size_t n) {
    if (bytes.size() < n) {
      ok = false;
      return {};
    }
    auto out = bytes.substr(0, n);
    bytes.remove_prefix(n);
    return out;
  }
};

}  // namespace

const char* cfName(Cf cf) {
  switch (cf) {
    case Cf::kMeta: return "default";
    case Cf::kNodes: return "nodes";
    case Cf::kEphemerals: return "ephemerals";
    case Cf::kSessions: return "sessions";
    case Cf::kAcls: return "acls";
    case Cf::kLog: return "log";
    case Cf::kUndo: return "undo";
    case Cf::kCount: break;
  }
  return "?";
}

std::string endOfKeys() { return std::string(16, '\xff'); }

void putBe32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void putBe64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
uint32_t getBe32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t getBe64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
std::string be64Key(uint64_t v) {
  std::string out;
  putBe64(out, v);
  return out;
}

uint32_t depthOf(std::string_view path) {
  if (path == "/" || path.empty()) return 0;
  uint32_t depth = 0;
  for (char c : path) depth += c == '/' ? 1 : 0;
  return depth;
}

std::string nodeKey(std::string_view path) {
  std::string key;
  key.reserve(4 + path.size());
  putBe32(key, depthOf(path));
  key.append(path.empty() ? std::string_view("/") : path);
  return key;
}

std::string childPrefix(std::string_view parent) {
  std::string key;
  putBe32(key, depthOf(parent) + 1);
  key.append(parent == "/" || parent.empty() ? std::string_view() : parent);
  key.push_back('/');
  return key;
}

std::string_view pathOfNodeKey(std::string_view key) { return key.size() <= 4 ? std::string_view("/") : key.substr(4); }

std::string ephemeralKey(int64_t owner, std::string_view path) {
  std::string key;
  key.reserve(8 + path.size());
  putBe64(key, static_cast<uint64_t>(owner));
  key.append(path);
  return key;
}

int64_t javaLength(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;  // every non-continuation byte is one UTF-16 unit
    if (c >= 0xF0) ++n;           // a 4-byte sequence is a surrogate pair
  }
  return n;
}

std::string encodeNode(const NodeValue& node) {
  std::string out;
  out.reserve(1 + 8 * 7 + 4 * 5 + (node.data ? node.data->size() : 0));
  out.push_back(kNodeFormat);
  const auto& s = node.stat;
  putLe(out, s.czxid);
  putLe(out, s.mzxid);
  putLe(out, s.ctime);
  putLe(out, s.mtime);
  putLe(out, s.version);
  putLe(out, s.cversion);
  putLe(out, s.aversion);
  putLe(out, s.ephemeral_owner);
  putLe(out, s.pzxid);
  putLe(out, node.acl_key);
  putLe(out, node.num_children);
  putLe(out, node.data ? static_cast<int32_t>(node.data->size()) : int32_t{-1});
  if (node.data) out.append(*node.data);
  return out;
}

bool decodeNode(std::string_view bytes, NodeValue& out, bool with_data) {
  Cursor c{bytes};
  if (c.le<char>() != kNodeFormat) return false;
  auto& s = out.stat;
  s.czxid = c.le<int64_t>();
  s.mzxid = c.le<int64_t>();
  s.ctime = c.le<int64_t>();
  s.mtime = c.le<int64_t>();
  s.version = c.le<int32_t>();
  s.cversion = c.le<int32_t>();
  s.aversion = c.le<int32_t>();
  s.ephemeral_owner = c.le<int64_t>();
  s.pzxid = c.le<int64_t>();
  out.acl_key = c.le<int64_t>();
  out.num_children = c.le<int32_t>();
  const int32_t length = c.le<int32_t>();
  if (!c.ok || length < -1 || static_cast<size_t>(std::max(length, 0)) != c.bytes.size()) return false;
  out.data_length = std::max(length, 0);
  if (length >= 0 && with_data) {
    out.data.emplace(c.bytes);
  } else {
    out.data.reset();
  }
  return true;
}

sdk::Stat exposedStat(const NodeValue& node) {
  sdk::Stat s;
  s.czxid = node.stat.czxid;
  s.mzxid = node.stat.mzxid;
  s.ctime = node.stat.ctime;
  s.mtime = node.stat.mtime;
  s.version = node.stat.version;
  // DataNode.copyStat: int arithmetic, so it wraps like Java's.
  s.cversion = static_cast<int32_t>(static_cast<uint32_t>(node.stat.cversion) * 2u -
                                    static_cast<uint32_t>(node.num_children));
  s.aversion = node.stat.aversion;
  s.ephemeral_owner = sdk::owner::exposed(node.stat.ephemeral_owner);
  s.data_length = node.data_length;
  s.num_children = node.num_children;
  s.pzxid = node.stat.pzxid;
  return s;
}

std::string encodeApplied(sdk::Zxid zxid, const TreeCounters& counters) {
  std::string out;
  out.push_back(kAppliedFormat);
  putLe(out, zxid);
  putLe(out, counters.nodes);
  putLe(out, counters.ephemerals);
  putLe(out, counters.data_size);
  return out;
}

bool decodeApplied(std::string_view bytes, sdk::Zxid& zxid, TreeCounters& counters) {
  Cursor c{bytes};
  if (c.le<char>() != kAppliedFormat) return false;
  zxid = c.le<int64_t>();
  counters.nodes = c.le<int64_t>();
  counters.ephemerals = c.le<int64_t>();
  counters.data_size = c.le<int64_t>();
  return c.ok && c.bytes.empty();
}

std::string encodeUndo(const UndoRecord& record) {
  std::string out;
  out.push_back(kUndoFormat);
  putLe(out, record.counters.nodes);
  putLe(out, record.counters.ephemerals);
  putLe(out, record.counters.data_size);
  putLe(out, static_cast<uint32_t>(record.entries.size()));
  for (const auto& entry : record.entries) {
    out.push_back(static_cast<char>(entry.cf));
    putLe(out, static_cast<uint32_t>(entry.key.size()));
    out.append(entry.key);
    out.push_back(entry.old_value ? 1 : 0);
    if (entry.old_value) {
      putLe(out, static_cast<uint32_t>(entry.old_value->size()));
      out.append(*entry.old_value);
    }
  }
  return out;
}

bool decodeUndo(std::string_view bytes, UndoRecord& out) {
  Cursor c{bytes};
  if (c.le<char>() != kUndoFormat) return false;
  out.counters.nodes = c.le<int64_t>();
  out.counters.ephemerals = c.le<int64_t>();
  out.counters.data_size = c.le<int64_t>();
  const uint32_t count = c.le<uint32_t>();
  out.entries.clear();
  for (uint32_t i = 0; i < count && c.ok; ++i) {
    UndoEntry entry;
    const auto cf = c.le<uint8_t>();
    if (cf >= static_cast<uint8_t>(Cf::kCount)) return false;
    entry.cf = static_cast<Cf>(cf);
    entry.key = std::string(c.take(c.le<uint32_t>()));
    if (c.le<char>() != 0) entry.old_value = std::string(c.take(c.le<uint32_t>()));
    out.entries.push_back(std::move(entry));
  }
  return c.ok && c.bytes.empty();
}

}  // namespace corral::plugins::rocks

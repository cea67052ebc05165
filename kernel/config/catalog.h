// The catalog: every config key Corral knows, in one table (catalog.cc).
//
// It holds every key ZooKeeper 3.8's Administrator's Guide documents for zoo.cfg (plus the
// few more QuorumPeerConfig parses), the JVM system properties that can be written in the
// same file, and Corral's kernel keys (DESIGN.md §4). Keys owned by plugins are not here:
// Config::addPluginKey adds them once the plugins are loaded.
//
// Names. ZooKeeper turns an unrecognised zoo.cfg key K into the system property
// "zookeeper.K"; a KeySpec with kSysProp therefore also accepts "zookeeper.<name>" (and
// "zookeeper.<alias>"), so `skipACL` and `zookeeper.skipACL` are one key. Aliases cover
// documented names that differ from the property (connectionMaxTokens and
// connection_throttle_tokens). Patterns: a name ending in ".N" matches a decimal id
// (server.N), one ending in ".*" any non-empty suffix (authProvider.*).
//
// Booleans. ZooKeeper is inconsistent: QuorumPeerConfig accepts only true/false (any case),
// system properties use Boolean.parseBoolean (anything but "true" is false) or compare with
// "yes"/"no" (forceSync, skipACL, leaderServes). Corral is strict and uniform: true, false,
// yes and no in any case, anything else is an error (a typo must not silently mean false).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::kernel::config {

class Config;

enum class ValueType {
  kInt,       // decimal, optional sign, within [min, max]
  kDouble,    // decimal number
  kBool,      // true/false/yes/no, any case
  kString,    // anything, may be empty
  kName,      // a plugin name: letters, digits, '_'
  kPath,      // non-empty file or directory path
  kHost,      // host name or IP address (IPv6 with or without brackets)
  kHostPort,  // host:port or [v6]:port
  kEnum,      // one of `choices` (case-insensitive)
  kList,      // comma list; elements trimmed, empty ones dropped; each in `choices` if given
  kServer,    // server.N value: host:port:port[:role][|...][;[host:]port]
  kGroup,     // group.N value: colon list of server ids
};

std::string_view typeName(ValueType type) noexcept;

enum KeyFlag : uint32_t {
  kNoFlags = 0,
  kImplemented = 1u << 0,  // Corral acts on it today (others are accepted and reported)
  kSysProp = 1u << 1,      // also accepted with the "zookeeper." prefix
  kNameElements = 1u << 2, // kList: every element must be a plugin name
};

// Computes a default from other settings (minSessionTimeout = 2 * tickTime).
using DerivedDefault = std::optional<std::string> (*)(const Config& config);

inline constexpr int64_t kNoMin = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kNoMax = std::numeric_limits<int64_t>::max();
inline constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();  // Java int

struct KeySpec {
  std::string_view name;               // canonical name or pattern
  ValueType type = ValueType::kString;
  const char* default_value = nullptr; // nullptr: no default (or see `derived`)
  uint32_t flags = kNoFlags;
  int64_t min = kNoMin;                // kInt bounds, inclusive
  int64_t max = kNoMax;
  std::string_view choices = {};       // kEnum/kList: comma list of allowed values
  std::string_view aliases = {};       // other accepted names, space separated
  DerivedDefault derived = nullptr;    // used when the key is not set

  bool implemented() const noexcept { return (flags & kImplemented) != 0; }
  bool isPattern() const noexcept { return name.ends_with(".N") || name.ends_with(".*"); }
};

// A key resolved against the catalog: its spec and canonical spelling (the spec's name, or
// for a pattern the key itself without a "zookeeper." prefix).
struct KeyMatch {
  const KeySpec* spec = nullptr;
  std::string canonical;
};

class Catalog {
 public:
  explicit Catalog(std::vector<KeySpec> specs);

  // ZooKeeper 3.8's keys plus Corral's kernel keys.
  static const Catalog& standard();

  // Exact names and aliases first, then patterns. Case-sensitive, like Properties.
  std::optional<KeyMatch> find(std::string_view key) const;
  const std::vector<KeySpec>& specs() const noexcept { return specs_; }
  // Every accepted literal spelling (names, aliases, zookeeper.-prefixed forms), for hints.
  const std::vector<std::string>& spellings() const noexcept { return spellings_; }

 private:
  std::vector<KeySpec> specs_;
  std::vector<std::string> spellings_;
  std::vector<std::pair<std::string, size_t>> exact_;  // sorted spelling -> spec index
};

// Value checks shared by Config and tests. Each returns an error text without the
// location, e.g. "not an integer", or nullopt when the value is fine.
std::optional<std::string> checkValue(const KeySpec& spec, std::string_view value);

// Parsing helpers; nullopt when the text is not of that type.
std::optional<int64_t> parseInt(std::string_view text);
std::optional<double> parseDouble(std::string_view text);
std::optional<bool> parseBool(std::string_view text);
// Comma list: elements trimmed, empty elements dropped.
std::vector<std::string> splitList(std::string_view text);
bool isPluginName(std::string_view text);
bool isHost(std::string_view text);

}  // namespace corral::kernel::config

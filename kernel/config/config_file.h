// Reading a zoo.cfg file: the syntax of java.util.Properties, as ZooKeeper's
// QuorumPeerConfig loads it, with the line of every key kept for error messages.
//
// Syntax (Properties.load, then QuorumPeerConfig trims key and value):
// - `key=value`, `key: value` and `key value` (the first unescaped '=', ':' or blank ends
//   the key); blanks around key and value are dropped.
// - Lines whose first non-blank character is '#' or '!' are comments; blank lines are
//   skipped. A '#' later in a line is part of the value (no inline comments).
// - A line ending in an odd number of backslashes continues on the next line, whose
//   leading blanks are dropped. A comment line never continues.
// - Escapes: \t \n \r \f, \uXXXX (written out as UTF-8), and '\' before any other
//   character stands for that character (so `C:\\zk` is `C:\zk`).
// - Every occurrence is kept in order; the meaning of duplicates (the last one wins, as in
//   Properties) is applied by Config.
// Bytes other than escapes pass through unchanged (Java reads the file as ISO-8859-1; the
// two only differ for non-ASCII text).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "corral/status.h"

namespace corral::kernel::config {

// One `key=value` occurrence.
struct ConfigEntry {
  std::string key;
  std::string value;
  int line = 0;  // 1-based line where the (possibly continued) line starts
  std::string file;  // the file it came from when not the main one (a dynamic config file)
};

// A parsed file: its name as given (used in messages) and every entry in file order.
struct ConfigFile {
  std::string name;
  std::vector<ConfigEntry> entries;
};

// Parse `text` as a config file called `name` (the name only appears in messages).
// Fails with kInvalidConfig only for a malformed \uXXXX escape, as Properties does.
sdk::Result<ConfigFile> parseConfigText(std::string_view text, std::string name);

// Read and parse a file; kIoError names the path when it cannot be read.
sdk::Result<ConfigFile> parseConfigFile(const std::string& path);

}  // namespace corral::kernel::config

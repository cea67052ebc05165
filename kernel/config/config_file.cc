#include "kernel/config/config_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace corral::kernel::config {
namespace {

using sdk::Code;
using sdk::Status;

// Properties' blanks: space, tab, form feed (not newline: lines are already split).
bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

// Java's String.trim(): everything up to U+0020 counts as white space.
std::string_view javaTrim(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && static_cast<unsigned char>(text[begin]) <= ' ') ++begin;
  while (end > begin && static_cast<unsigned char>(text[end - 1]) <= ' ') --end;
  return text.substr(begin, end - begin);
}

void appendUtf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Properties.loadConvert: resolve escapes. Returns false on a malformed \uXXXX.
bool unescape(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '\\' || i + 1 >= in.size()) {
      // A lone trailing backslash only survives at end of file; Java drops it.
      if (c != '\\') out += c;
      continue;
    }
    c = in[++i];
    switch (c) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        if (i + 4 >= in.size()) return false;  // needs four hex digits after 'u'
        uint32_t code = 0;
        for (int k = 1; k <= 4; ++k) {
          int v = hexValue(in[i + k]);
          if (v < 0) return false;
          code = code * 16 + static_cast<uint32_t>(v);
        }
        appendUtf8(out, code);
        i += 4;
        break;
      }
      default: out += c; break;
    }
  }
  return true;
}

// True when `line` ends in an odd number of backslashes (a continuation).
bool continues(std::string_view line) {
  size_t count = 0;
  while (count < line.size() && line[line.size() - 1 - count] == '\\') ++count;
  return count % 2 == 1;
}

// Split text into natural lines on \n, \r or \r\n.
std::vector<std::string_view> naturalLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || text[i] == '\r') {
      lines.push_back(text.substr(start, i - start));
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

std::string_view skipLeadingBlanks(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && isBlank(line[i])) ++i;
  return line.substr(i);
}

}  // namespace

sdk::Result<ConfigFile> parseConfigText(std::string_view text, std::string name) {
  ConfigFile file;
  file.name = std::move(name);
  auto lines = naturalLines(text);
  for (size_t n = 0; n < lines.size(); ++n) {
    const int first_line = static_cast<int>(n) + 1;
    std::string_view natural = skipLeadingBlanks(lines[n]);
    if (natural.empty()) continue;
    if (natural.front() == '#' || natural.front() == '!') continue;

    // Join continuation lines into one logical line.
    std::string logical;
    std::string_view piece = natural;
    while (continues(piece)) {
      logical.append(piece.substr(0, piece.size() - 1));
      if (n + 1 >= lines.size()) {
        piece = {};
        break;
      }
      piece = skipLeadingBlanks(lines[++n]);
    }
    logical.append(piece);

    // Properties.load0: the key ends at the first unescaped '=', ':' or blank; then
    // blanks and at most one '=' or ':' separate it from the value.
    size_t key_len = 0;
    size_t value_start = logical.size();
    bool has_separator = false;
    bool preceding_backslash = false;
    while (key_len < logical.size()) {
      char c = logical[key_len];
      if ((c == '=' || c == ':') && !preceding_backslash) {
        value_start = key_len + 1;
        has_separator = true;
        break;
      }
      if (isBlank(c) && !preceding_backslash) {
        value_start = key_len + 1;
        break;
      }
      preceding_backslash = (c == '\\') ? !preceding_backslash : false;
      ++key_len;
    }
    while (value_start < logical.size()) {
      char c = logical[value_start];
      if (!isBlank(c)) {
        if (!has_separator && (c == '=' || c == ':')) {
          has_separator = true;
        } else {
          break;
        }
      }
      ++value_start;
    }

    ConfigEntry entry;
    entry.line = first_line;
    std::string key;
    std::string value;
    if (!unescape(std::string_view(logical).substr(0, key_len), key) ||
        !unescape(std::string_view(logical).substr(value_start), value)) {
      return Status(Code::kInvalidConfig,
                    fmt::format("{}:{}: malformed \\uxxxx escape", file.name, first_line));
    }
    entry.key = std::string(javaTrim(key));
    entry.value = std::string(javaTrim(value));
    file.entries.push_back(std::move(entry));
  }
  return file;
}

sdk::Result<ConfigFile> parseConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(Code::kIoError,
                  fmt::format("{}: cannot read config file: {}", path, std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return Status(Code::kIoError, fmt::format("{}: error while reading config file", path));
  }
  return parseConfigText(buffer.str(), path);
}

}  // namespace corral::kernel::config

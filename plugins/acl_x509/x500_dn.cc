#include "x500_dn.h"

#include <openssl/asn1.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <vector>

namespace corral::plugins::x509 {
namespace {

constexpr std::array<std::string_view, 21> kKeywords = {
    "CN",      "C",       "L",          "S",        "ST",       "O",        "OU",
    "T",       "IP",      "STREET",     "DC",       "DNQUALIFIER", "DNQ",   "SURNAME",
    "GIVENNAME", "INITIALS", "GENERATION", "EMAIL", "EMAILADDRESS", "UID", "SERIALNUMBER"};

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool isHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool isOid(std::string_view text) {
  if (text.size() > 4 && (text.substr(0, 4) == "OID." || text.substr(0, 4) == "oid.")) {
    text.remove_prefix(4);
  }
  int arcs = 0;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('.', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view arc = text.substr(begin, end - begin);
    if (arc.empty() || !std::all_of(arc.begin(), arc.end(),
                                    [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    if (arcs == 0 && (arc.size() != 1 || arc[0] > '2')) return false;
    ++arcs;
    begin = end + 1;
  }
  return arcs >= 2;
}

bool isKeyword(std::string_view type) {
  std::string upper(type);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return std::find(kKeywords.begin(), kKeywords.end(), upper) != kKeywords.end() || isOid(type);
}

// One complete DER value (tag, length, contents) and nothing after it.
bool isDer(std::string_view hex) {
  std::vector<unsigned char> bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<unsigned char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  const unsigned char* cursor = bytes.data();
  ASN1_TYPE* value = d2i_ASN1_TYPE(nullptr, &cursor, static_cast<long>(bytes.size()));
  if (value == nullptr) return false;
  ASN1_TYPE_free(value);
  return cursor == bytes.data() + bytes.size();
}

bool isSeparator(char c) { return c == ',' || c == ';' || c == '+'; }

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  bool parse() {
    if (text_.empty()) return true;
    while (true) {
      if (!parseAva()) return false;
      if (pos_ == text_.size()) return true;
      ++pos_;  // the separator; an empty RDN or AVA after it is an error
      if (trim(text_.substr(pos_)).empty()) return false;
    }
  }

 private:
  bool parseAva() {
    const size_t equals = text_.find('=', pos_);
    if (equals == std::string_view::npos) return false;
    const std::string_view type = trim(text_.substr(pos_, equals - pos_));
    if (type.empty() || std::any_of(type.begin(), type.end(), isSeparator) || !isKeyword(type)) {
      return false;
    }
    pos_ = equals + 1;
    while (pos_ < text_.size() && isSpace(text_[pos_])) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '"') return parseQuoted();
    if (pos_ < text_.size() && text_[pos_] == '#') return parseHex();
    return parseString();
  }

  // After a quoted or hex value only spaces may come before the separator.
  bool endOfValue() {
    while (pos_ < text_.size() && isSpace(text_[pos_])) ++pos_;
    return pos_ == text_.size() || isSeparator(text_[pos_]);
  }

  bool parseQuoted() {
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\\') {
        if (++pos_ == text_.size()) return false;
      }
      ++pos_;
    }
    if (pos_ == text_.size()) return false;
    ++pos_;
    return endOfValue();
  }

  bool parseHex() {
    const size_t begin = ++pos_;
    while (pos_ < text_.size() && isHex(text_[pos_])) ++pos_;
    const std::string_view hex = text_.substr(begin, pos_ - begin);
    if (hex.empty() || hex.size() % 2 != 0 || !isDer(hex)) return false;
    return endOfValue();
  }

  bool parseString() {
    // Checked against Java 17: an unescaped '=' or '#' inside a value (and a line feed) is
    // accepted, '<', '>' and '"' are not.
    static constexpr std::string_view kUnescaped = "<>\"";
    while (pos_ < text_.size() && !isSeparator(text_[pos_])) {
      const char c = text_[pos_];
      if (c == '\\') {
        if (pos_ + 1 == text_.size()) return false;
        if (isHex(text_[pos_ + 1])) {
          // "\4A" is a hex pair; "\A" alone is not (Java insists on the pair).
          if (pos_ + 2 == text_.size() || !isHex(text_[pos_ + 2])) return false;
          pos_ += 3;
        } else {
          pos_ += 2;
        }
        continue;
      }
      if (kUnescaped.find(c) != std::string_view::npos) return false;
      ++pos_;
    }
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

bool isValidDistinguishedName(std::string_view name) {
  try {
    return Parser(name).parse();
  } catch (...) {
    return false;
  }
}

}  // namespace corral::plugins::x509

#include "four_letter_whitelist.h"

#include <algorithm>

namespace corral::plugins::jute {
namespace {

std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

FourLetterWhitelist FourLetterWhitelist::parse(const std::optional<std::string>& list,
                                               bool read_only_mode) {
  FourLetterWhitelist whitelist;
  if (list) {
    std::string_view rest = *list;
    while (true) {
      const size_t comma = rest.find(',');
      const std::string_view entry = trim(rest.substr(0, comma));
      if (entry == "*") {
        whitelist.all_ = true;
      } else if (!entry.empty() && !whitelist.allows(entry)) {
        whitelist.words_.emplace_back(entry);
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (read_only_mode && !whitelist.allows("isro")) whitelist.words_.emplace_back("isro");
  return whitelist;
}

bool FourLetterWhitelist::allows(std::string_view word) const {
  return all_ || std::find(words_.begin(), words_.end(), word) != words_.end();
}

std::string notWhitelistedText(std::string_view word) {
  std::string text(word);
  text += " is not executed because it is not in the whitelist.\n";
  return text;
}

}  // namespace corral::plugins::jute

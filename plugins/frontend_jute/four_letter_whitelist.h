// Which four-letter words may run on the client port (ZooKeeper's FourLetterCommands.isEnabled).
//
// Rules (admin-and-ops.md §1, client-protocol.md §14): `4lw.commands.whitelist` is a comma list
// of words, entries trimmed; an entry `*` enables every known word (including "telnet close");
// `srvr` is always enabled (zkServer.sh status needs it); `isro` too when
// readonlymode.enabled=true. Unset = only `srvr`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::plugins::jute {

class FourLetterWhitelist {
 public:
  FourLetterWhitelist() : words_{"srvr"} {}
  static FourLetterWhitelist parse(const std::optional<std::string>& list, bool read_only_mode);

  bool allows(std::string_view word) const;
  bool allowsAll() const noexcept { return all_; }

 private:
  bool all_ = false;
  std::vector<std::string> words_;
};

// The `<word> is not executed because it is not in the whitelist.\n` reply.
std::string notWhitelistedText(std::string_view word);

}  // namespace corral::plugins::jute

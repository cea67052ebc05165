// Whether standard error is connected to the systemd journal: systemd sets $JOURNAL_STREAM
// to "<device>:<inode>" of the stream it connected, and a process that finds its stderr to be
// that very stream may log to the journal natively instead (with priorities), as
// systemd.exec(5) recommends. A redirected stderr (2>file, a pipe) no longer matches.
#pragma once

#include <optional>
#include <string_view>
#include <sys/types.h>

namespace corral::kernel::runtime {

struct StreamId {
  dev_t device = 0;
  ino_t inode = 0;
};

// Parses "<device>:<inode>" (decimal); nullopt when malformed.
std::optional<StreamId> parseJournalStream(std::string_view value);

// $JOURNAL_STREAM names the file open as standard error.
bool stderrIsJournal();

}  // namespace corral::kernel::runtime

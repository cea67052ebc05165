// RocksDB's info log into the server's own log instead of a LOG file in the database folder.
// That file sits on the database's disk: when the disk fills, a failed write to it leaves its
// writer in an error state, and Debian's librocksdb (built with assertions) aborts the process
// on the next message. RocksDB's chatter (INFO) becomes debug lines; its warnings and errors
// (a failed flush, a stall, a background error) stay visible.
#pragma once

#include <cstdarg>

#include <rocksdb/env.h>

#include "corral/host.h"

namespace corral::plugins::rocks {

class RocksLogger final : public rocksdb::Logger {
 public:
  explicit RocksLogger(sdk::Logger& out);
  using rocksdb::Logger::Logv;
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override;

 private:
  sdk::Logger& out_;
};

}  // namespace corral::plugins::rocks

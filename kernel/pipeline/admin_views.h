// Read-only views of the pipeline for admin commands (cons, wchs/wchc/wchp, dump), each
// consistent per call because it is taken on the pipeline strand.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "corral/types.h"

namespace corral::kernel::pipeline {

struct ConnectionView {
  std::string remote_address;
  int remote_port = 0;
  sdk::SessionId session = 0;
  int32_t timeout_ms = 0;
  int64_t queued = 0;
  int64_t received = 0;
  int64_t sent = 0;
  std::string last_op = "NA";
  int64_t established_ms = 0;     // wall clock
  int32_t last_cxid = -1;
  sdk::Zxid last_zxid = -1;
  int64_t last_response_ms = 0;   // monotonic, as ZooKeeper prints it
  int64_t last_latency = 0;
  int64_t min_latency = 0;
  int64_t avg_latency = 0;
  int64_t max_latency = 0;
};

// The data-watch table by path and by session (wchs/wchc/wchp).
struct WatchReport {
  size_t connections = 0;
  size_t total = 0;
  std::map<std::string, std::vector<sdk::SessionId>> by_path;
  std::map<sdk::SessionId, std::vector<std::string>> by_session;
};

// Sessions by expiry bucket and their ephemerals (dump).
struct SessionReport {
  size_t session_count = 0;
  std::map<int64_t, std::vector<sdk::SessionId>> buckets;  // expiry (monotonic ms) → sessions
  std::map<sdk::SessionId, std::vector<std::string>> ephemerals;
};

}  // namespace corral::kernel::pipeline

// What the client pipeline keeps per client connection: the front end's handle, the session
// it serves, its auth ids, and the figures `cons`/`stat` print (ZooKeeper's ServerCnxn stats).
// Strand only.
#pragma once

#include <climits>
#include <cstdint>
#include <memory>
#include <vector>

#include "corral/frontend.h"
#include "kernel/watch/watch_table.h"

namespace corral::kernel::pipeline {

struct ConnectionState {
  watch::WatcherId id = 0;
  std::shared_ptr<sdk::ClientConnection> link;
  sdk::SessionId session = 0;
  std::vector<sdk::Id> ids;  // auth ids: ip:<addr> plus what AuthPackets added
  bool closed = false;
  int64_t received = 0;
  int64_t sent = 0;
  sdk::OpCode last_op = sdk::OpCode::kNotification;
  bool any_op = false;
  int64_t established_ms = 0;
  int32_t last_cxid = -1;
  sdk::Zxid last_zxid = -1;
  int64_t last_response_ms = 0;
  int64_t last_latency = 0;
  int64_t min_latency = INT64_MAX;
  int64_t max_latency = 0;
  int64_t total_latency = 0;
  int64_t count = 0;

  void resetStats() {
    received = sent = 0;
    any_op = false;
    last_cxid = -1;
    last_zxid = -1;
    last_response_ms = last_latency = max_latency = total_latency = count = 0;
    min_latency = INT64_MAX;
  }
  void addId(sdk::Id id) {
    for (const auto& known : ids) {
      if (known == id) return;
    }
    ids.push_back(std::move(id));
  }
};

}  // namespace corral::kernel::pipeline

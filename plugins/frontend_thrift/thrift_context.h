// What every connection of one frontend.thrift instance shares: the SDK's stream context
// (logger, admission, metrics, the live connections) plus the Thrift settings.
#pragma once

#include <utility>

#include "corral/host.h"
#include "corral/net/stream_context.h"
#include "thrift_settings.h"

namespace corral::plugins::thrift {

class ThriftContext : public sdk::net::StreamContext {
 public:
  ThriftContext(ThriftSettings settings_in, sdk::Host& host)
      : sdk::net::StreamContext(host, sdk::net::StreamLimits{settings_in.max_frame,
                                                             settings_in.handshake_timeout_ms,
                                                             settings_in.max_connections}),
        settings(std::move(settings_in)) {}

  const ThriftSettings settings;
};

}  // namespace corral::plugins::thrift

// What every connection of one frontend.jute instance shares: the SDK's stream context
// (logger, admission, metrics, the live connections; corral/net/stream_context.h) plus the
// jute settings and what four-letter words need.
#pragma once

#include "corral/admin.h"
#include "corral/host.h"
#include "corral/net/stream_context.h"
#include "frontend_settings.h"

namespace boost::asio {
class thread_pool;
}

namespace corral::plugins::jute {

class FrontendContext : public sdk::net::StreamContext {
 public:
  FrontendContext(FrontendSettings settings_in, sdk::Host& host)
      : sdk::net::StreamContext(host, sdk::net::StreamLimits{settings_in.max_buffer,
                                                             settings_in.handshake_timeout_ms}),
        settings(std::move(settings_in)),
        commands(host.commands()),
        blocking_pool(host.blockingPool()) {}

  const FrontendSettings settings;
  sdk::CommandRegistry& commands;
  boost::asio::thread_pool& blocking_pool;
};

}  // namespace corral::plugins::jute

// frontend.thrift: the Corral Thrift service (sdk/thrift/corral.thrift) on thrift.port. This
// header is Asio-free so the plugin entry and tests stay cheap to compile.
#pragma once

#include <cstdint>
#include <memory>

#include "corral/frontend.h"
#include "corral/host.h"
#include "thrift_settings.h"

namespace corral::plugins::thrift {

class ThriftFrontend : public sdk::Frontend {
 public:
  // The bound port after a successful start() (useful with an ephemeral port); 0 otherwise.
  virtual uint16_t localPort() const noexcept = 0;
};

std::unique_ptr<ThriftFrontend> makeThriftFrontend(sdk::Host& host, ThriftSettings settings);

}  // namespace corral::plugins::thrift

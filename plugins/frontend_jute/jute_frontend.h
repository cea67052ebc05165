// frontend.jute: the ZooKeeper client protocol on clientPort (and over TLS on secureClientPort). This header is Asio-free so the
// plugin entry and tests stay cheap to compile; the implementation is in jute_frontend.cc.
#pragma once

#include <cstdint>
#include <memory>

#include "corral/frontend.h"
#include "corral/host.h"
#include "frontend_settings.h"

namespace corral::plugins::jute {

class JuteFrontend : public sdk::Frontend {
 public:
  // The bound port after a successful start() (useful with an ephemeral port); 0 otherwise.
  virtual uint16_t localPort() const noexcept = 0;
  // The bound secureClientPort (TLS) after a successful start(); 0 otherwise.
  virtual uint16_t localSecurePort() const noexcept = 0;
};

std::unique_ptr<JuteFrontend> makeJuteFrontend(sdk::Host& host, FrontendSettings settings);

}  // namespace corral::plugins::jute

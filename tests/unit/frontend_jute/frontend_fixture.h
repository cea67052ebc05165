// A started frontend.jute on 127.0.0.1 (ephemeral port) over a FakeHost and FakeClientService.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "fake_client_service.h"
#include "fake_host.h"
#include "jute_frontend.h"
#include "raw_client.h"

namespace corral::plugins::jute::testing {

class FrontendTest : public ::testing::Test {
 protected:
  // Override to change settings before start.
  virtual void configure(FrontendSettings& settings) {}
  // Override to change the kernel's admission settings (limits) before start.
  virtual void configureAdmission(kernel::admission::AdmissionSettings& settings) {}

  void SetUp() override {
    kernel::admission::AdmissionSettings admission;
    configureAdmission(admission);
    host_.setAdmissionSettings(std::move(admission));
    FrontendSettings settings;
    settings.client_port = 0;
    settings.client_port_address = "127.0.0.1";
    configure(settings);
    startFrontend(std::move(settings));
  }

  void TearDown() override {
    if (frontend_) frontend_->stop();
  }

  void startFrontend(FrontendSettings settings) {
    frontend_ = makeJuteFrontend(host_, std::move(settings));
    frontend_->attach(service_);
    const sdk::Status status = frontend_->start();
    ASSERT_TRUE(status.isOk()) << status.toString();
    port_ = frontend_->localPort();
  }

  // A client with an established session; the session is returned too.
  std::shared_ptr<FakeSession> connectSession(RawClient& client, size_t index) {
    auto response = client.handshake();
    if (!response || response->session_id == 0) return nullptr;
    return service_.waitSession(index);
  }

  FakeHost host_;
  FakeClientService service_;
  std::unique_ptr<JuteFrontend> frontend_;
  uint16_t port_ = 0;
};

}  // namespace corral::plugins::jute::testing

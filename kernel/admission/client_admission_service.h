// The kernel's sdk::ClientAdmission: one per server, shared by every front end through
// Host::admission() (runtime::PluginHost). See sdk/include/corral/admission.h for the contract.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "corral/admission.h"
#include "corral/host.h"
#include "corral/metrics.h"
#include "corral/status.h"
#include "kernel/admission/admission_settings.h"
#include "kernel/admission/connection_limiter.h"
#include "kernel/admission/outstanding_requests.h"

namespace corral::kernel::admission {

class ClientAdmissionService final : public sdk::ClientAdmission {
 public:
  // `logger` and `metrics` outlive the service. Registers connection_rejected.
  ClientAdmissionService(AdmissionSettings settings, sdk::Logger& logger,
                         sdk::MetricsRegistry& metrics);

  // Builds the TLS context of secureClientPort (reads the key and trust stores) when one is
  // configured. Call once, before any front end starts: a bad file fails the start with a
  // message naming the key and the file, before any port opens.
  sdk::Status start() noexcept;

  const AdmissionSettings& settings() const noexcept { return settings_; }

  sdk::Admission admitConnection(std::string_view remote_address) noexcept override;
  void releaseConnection(std::string_view remote_address) noexcept override;
  void requestsSubmitted(int64_t count) noexcept override { outstanding_.add(count); }
  void requestsAnswered(int64_t count) noexcept override { outstanding_.remove(count); }
  int64_t outstandingRequests() const noexcept override { return outstanding_.count(); }
  bool shouldThrottle(int64_t own_outstanding) const noexcept override {
    return outstanding_.shouldThrottle(own_outstanding);
  }
  sdk::OutputLimits outputLimits() const noexcept override { return settings_.output; }
  std::shared_ptr<boost::asio::ssl::context> tlsContext() const noexcept override { return tls_; }
  std::string verifiedPeerSubject(ssl_st* ssl) const noexcept override;

 private:
  const AdmissionSettings settings_;
  sdk::Logger& logger_;
  sdk::Counter& connection_rejected_;
  ConnectionLimiter limiter_;
  OutstandingRequests outstanding_;
  // Set by start() before any front end runs; read-only afterwards.
  std::shared_ptr<boost::asio::ssl::context> tls_;
};

}  // namespace corral::kernel::admission

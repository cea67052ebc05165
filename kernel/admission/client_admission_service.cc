#include "kernel/admission/client_admission_service.h"

#include <exception>
#include <utility>

#include <boost/asio/ssl/context.hpp>

#include "kernel/admission/tls_context.h"

namespace corral::kernel::admission {

ClientAdmissionService::ClientAdmissionService(AdmissionSettings settings, sdk::Logger& logger,
                                               sdk::MetricsRegistry& metrics)
    : settings_(std::move(settings)),
      logger_(logger),
      connection_rejected_(metrics.counter(
          "connection_rejected", "client connections refused by maxClientCnxns/maxCnxns")),
      limiter_(settings_.max_client_cnxns, settings_.max_cnxns),
      outstanding_(settings_.global_outstanding_limit) {}

sdk::Status ClientAdmissionService::start() noexcept {
  if (!settings_.tls || tls_) return sdk::Status::ok();
  try {
    auto made = makeTlsContext(*settings_.tls, logger_);
    if (!made) return made.status();
    tls_ = std::move(made).value();
    return sdk::Status::ok();
  } catch (const std::exception& e) {
    return sdk::Status(sdk::Code::kIoError, std::string("secureClientPort: ") + e.what());
  }
}

sdk::Admission ClientAdmissionService::admitConnection(std::string_view remote_address) noexcept {
  sdk::Admission verdict = sdk::Admission::kTooManyTotal;
  try {
    verdict = limiter_.admit(remote_address);
  } catch (...) {
    // Out of memory for one more address: refusing is the safe answer.
    connection_rejected_.add();
    return verdict;
  }
  if (verdict == sdk::Admission::kAdmitted) return verdict;
  connection_rejected_.add();
  try {
    // ZooKeeper's words (NIOServerCnxnFactory).
    if (verdict == sdk::Admission::kTooManyFromAddress) {
      logger_.warn("Error accepting new connection: Too many connections from /{} - max is {}",
                   remote_address, limiter_.maxPerAddress());
    } else {
      logger_.warn("Error accepting new connection: Too many connections max allowed is {}",
                   limiter_.maxTotal());
    }
  } catch (...) {
    // A log line that cannot be formatted (out of memory) does not change the verdict.
  }
  return verdict;
}

void ClientAdmissionService::releaseConnection(std::string_view remote_address) noexcept {
  try {
    limiter_.release(remote_address);
  } catch (...) {
    // std::mutex::lock failing: nothing sensible is left to do.
  }
}

std::string ClientAdmissionService::verifiedPeerSubject(ssl_st* ssl) const noexcept {
  try {
    return admission::verifiedPeerSubject(ssl);
  } catch (...) {
    return {};  // out of memory: no identity rather than a crash
  }
}

}  // namespace corral::kernel::admission

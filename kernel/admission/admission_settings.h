// The settings of client admission (sdk/include/corral/admission.h), read by the kernel at
// start from ZooKeeper's keys and two of Corral's:
//
//   maxClientCnxns            60          open connections per remote IP, 0 = unlimited
//   maxCnxns                  0           open connections in total, 0 = unlimited
//   globalOutstandingLimit    1000        requests in flight before connections are throttled
//   secureClientPort + ssl.*  none        TLS (tls_settings.h); ssl.* are read only with the port
//   clientOutput.softLimitBytes  4 MiB    unsent output above which a connection stops reading
//   clientOutput.hardLimitBytes  64 MiB, or 4 x jute.maxbuffer when that is larger:
//                                         unsent output above which a connection is closed
//
// The system-property spellings (zookeeper.maxCnxns, zookeeper.ssl.keyStore.location, ...)
// are accepted too.
#pragma once

#include <cstdint>
#include <optional>

#include "corral/admission.h"
#include "corral/host.h"
#include "corral/status.h"
#include "kernel/admission/tls_settings.h"

namespace corral::kernel::admission {

struct AdmissionSettings {
  int64_t max_client_cnxns = 60;            // maxClientCnxns: per remote IP, 0 = unlimited
  int64_t max_cnxns = 0;                    // maxCnxns: all connections, 0 = unlimited
  int64_t global_outstanding_limit = 1000;  // globalOutstandingLimit
  sdk::OutputLimits output;                 // clientOutput.*
  // Set when secureClientPort is (ZooKeeper reads ssl.* only for a secure port).
  std::optional<TlsSettings> tls;
};

// The default hard limit: large enough for a few replies of jute.maxbuffer each, so raising
// jute.maxbuffer for big znodes does not turn every large read into a closed connection.
int64_t defaultOutputHardLimit(int64_t jute_max_buffer) noexcept;

// Reads and checks every setting; the Status (InvalidConfig) names file:line and key of the
// first bad one.
sdk::Result<AdmissionSettings> parseAdmissionSettings(const sdk::PluginConfig& config);

}  // namespace corral::kernel::admission

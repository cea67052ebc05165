// The settings of client admission (sdk/include/corral/admission.h), read by the kernel at
// start from ZooKeeper's keys:
//
//   maxClientCnxns            60          open connections per remote IP, 0 = unlimited
//   maxCnxns                  0           open connections in total, 0 = unlimited
//   globalOutstandingLimit    1000        requests in flight before connections are throttled
//   secureClientPort + ssl.*  none        TLS (tls_settings.h); ssl.* are read only with the port
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
  // Set when secureClientPort is (ZooKeeper reads ssl.* only for a secure port).
  std::optional<TlsSettings> tls;
};

// Reads and checks every setting; the Status (InvalidConfig) names file:line and key of the
// first bad one.
sdk::Result<AdmissionSettings> parseAdmissionSettings(const sdk::PluginConfig& config);

}  // namespace corral::kernel::admission

// Admission of new client connections: maxClientCnxns per remote IP and maxCnxns in total
// (0 = unlimited for both), counted over the connections currently open. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "corral/admission.h"

namespace corral::kernel::admission {

class ConnectionLimiter {
 public:
  ConnectionLimiter(int64_t max_per_address, int64_t max_total)
      : max_per_address_(max_per_address), max_total_(max_total) {}

  // Counts the connection when it is admitted; every admitted connection is release()d once.
  sdk::Admission admit(std::string_view address);
  void release(std::string_view address);

  int64_t maxPerAddress() const noexcept { return max_per_address_; }
  int64_t maxTotal() const noexcept { return max_total_; }

 private:
  const int64_t max_per_address_;
  const int64_t max_total_;
  std::mutex mutex_;
  std::map<std::string, int64_t, std::less<>> per_address_;
  int64_t total_ = 0;
};

}  // namespace corral::kernel::admission

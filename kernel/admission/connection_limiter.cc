#include "kernel/admission/connection_limiter.h"

namespace corral::kernel::admission {

sdk::Admission ConnectionLimiter::admit(std::string_view address) {
  std::lock_guard lock(mutex_);
  if (max_total_ > 0 && total_ >= max_total_) return sdk::Admission::kTooManyTotal;
  auto it = per_address_.find(address);
  const int64_t current = it == per_address_.end() ? 0 : it->second;
  if (max_per_address_ > 0 && current >= max_per_address_) return sdk::Admission::kTooManyFromAddress;
  if (it == per_address_.end()) {
    per_address_.emplace(address, 1);
  } else {
    ++it->second;
  }
  ++total_;
  return sdk::Admission::kAdmitted;
}

void ConnectionLimiter::release(std::string_view address) {
  std::lock_guard lock(mutex_);
  auto it = per_address_.find(address);
  if (it == per_address_.end()) return;
  if (--it->second <= 0) per_address_.erase(it);
  --total_;
}

}  // namespace corral::kernel::admission

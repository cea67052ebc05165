#include "connection_limiter.h"

namespace corral::plugins::jute {

ConnectionLimiter::Admission ConnectionLimiter::admit(const std::string& address) {
  std::lock_guard lock(mutex_);
  if (max_total_ > 0 && total_ >= max_total_) return Admission::kTooManyTotal;
  auto it = per_address_.find(address);
  const int64_t current = it == per_address_.end() ? 0 : it->second;
  if (max_per_address_ > 0 && current >= max_per_address_) return Admission::kTooManyFromAddress;
  if (it == per_address_.end()) {
    per_address_.emplace(address, 1);
  } else {
    ++it->second;
  }
  ++total_;
  return Admission::kAdmitted;
}

void ConnectionLimiter::release(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = per_address_.find(address);
  if (it == per_address_.end()) return;
  if (--it->second <= 0) per_address_.erase(it);
  --total_;
}

}  // namespace corral::plugins::jute

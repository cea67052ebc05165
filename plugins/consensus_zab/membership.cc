#include "membership.h"

namespace corral::plugins::zab {

Membership::Membership(int64_t my_id, ConfigPtr initial, bool reconfig_enabled, std::unique_ptr<ConfigFiles> files)
    : my_id_(my_id), reconfig_enabled_(reconfig_enabled), files_(std::move(files)), current_(initial), last_seen_(initial) {
  if (reconfig_enabled_ && files_) {
    if (auto next = files_->readNext(); next && next->version() > initial->version()) {
      last_seen_ = std::make_shared<const QuorumConfig>(std::move(*next));
    }
  }
}

ConfigPtr Membership::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

ConfigPtr Membership::lastSeen() const {
  std::lock_guard lock(mutex_);
  return last_seen_;
}

std::vector<ConfigPtr> Membership::quorumConfigs() const {
  std::lock_guard lock(mutex_);
  if (last_seen_->version() > current_->version()) return {current_, last_seen_};
  return {current_};
}

bool Membership::reconfigInProgress() const {
  std::lock_guard lock(mutex_);
  return last_seen_->version() != current_->version();
}

bool Membership::see(ConfigPtr config) {
  if (!reconfig_enabled_) return false;
  {
    std::lock_guard lock(mutex_);
    if (config->version() <= last_seen_->version()) return false;
    last_seen_ = config;
    if (files_) files_->writeNext(*config);
  }
  announce(*config);
  return true;
}

ConfigPtr Membership::activate(ConfigPtr config) {
  ConfigPtr previous;
  {
    std::lock_guard lock(mutex_);
    if (config->version() <= current_->version()) return nullptr;
    previous = current_;
    current_ = config;
    if (config->version() >= last_seen_->version()) last_seen_ = config;
    if (files_) {
      const auto* me = config->member(my_id_);
      files_->writeActive(*config, me != nullptr && me->client_port != 0);
      if (config->version() == last_seen_->version()) files_->removeNext();
    }
  }
  announce(*config);
  return previous;
}

void Membership::onNewMembers(std::function<void(const QuorumConfig&)> listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

void Membership::announce(const QuorumConfig& config) {
  std::vector<std::function<void(const QuorumConfig&)>> listeners;
  {
    std::lock_guard lock(mutex_);
    listeners = listeners_;
  }
  for (auto& listener : listeners) listener(config);
}

}  // namespace corral::plugins::zab

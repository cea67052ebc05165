#include "fake_host.h"

#include <stdexcept>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

namespace corral::plugins::jute::testing {

void CapturingLogger::log(sdk::LogLevel, std::string_view message) noexcept {
  {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(message);
  }
  logged_.notify_all();
}

bool CapturingLogger::contains(std::string_view text) const {
  std::lock_guard lock(mutex_);
  return containsLocked(text);
}

bool CapturingLogger::waitFor(std::string_view text, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return logged_.wait_for(lock, timeout, [&] { return containsLocked(text); });
}

bool CapturingLogger::containsLocked(std::string_view text) const {
  for (const auto& line : lines_) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

std::vector<std::string> CapturingLogger::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

sdk::Status SimpleCommands::add(sdk::Command command) noexcept {
  std::lock_guard lock(mutex_);
  commands_.push_back(std::make_unique<sdk::Command>(std::move(command)));
  return sdk::Status::ok();
}

const sdk::Command* SimpleCommands::find(std::string_view name) const noexcept {
  std::lock_guard lock(mutex_);
  for (const auto& command : commands_) {
    if (command->name == name) return command.get();
    for (const auto& alias : command->aliases) {
      if (alias == name) return command.get();
    }
  }
  return nullptr;
}

std::vector<const sdk::Command*> SimpleCommands::all() const {
  std::lock_guard lock(mutex_);
  std::vector<const sdk::Command*> out;
  for (const auto& command : commands_) out.push_back(command.get());
  return out;
}

struct FakeHost::Loop {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  boost::asio::thread_pool pool{1};
  std::vector<std::thread> threads;
};

FakeHost::FakeHost()
    : admission_(std::make_unique<kernel::admission::ClientAdmissionService>(
          kernel::admission::AdmissionSettings{}, logger_, metrics_)),
      loop_(std::make_unique<Loop>()) {
  for (int i = 0; i < 2; ++i) loop_->threads.emplace_back([this] { loop_->io.run(); });
}

FakeHost::~FakeHost() {
  loop_->work.reset();
  loop_->io.stop();
  for (auto& thread : loop_->threads) thread.join();
  loop_->pool.join();
}

void FakeHost::setAdmissionSettings(kernel::admission::AdmissionSettings settings) {
  admission_ = std::make_unique<kernel::admission::ClientAdmissionService>(std::move(settings),
                                                                           logger_, metrics_);
  const sdk::Status started = admission_->start();
  if (!started.isOk()) throw std::runtime_error(started.toString());
}

boost::asio::io_context& FakeHost::ioContext() noexcept { return loop_->io; }
boost::asio::thread_pool& FakeHost::blockingPool() noexcept { return loop_->pool; }

std::optional<std::string> MapConfig::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string MapConfig::where(std::string_view key) const {
  return values_.count(key) ? "zoo.cfg:1" : "default";
}

}  // namespace corral::plugins::jute::testing

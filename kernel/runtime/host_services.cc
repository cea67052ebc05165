#include "kernel/runtime/host_services.h"

#include <boost/asio/post.hpp>

namespace corral::kernel::runtime {

ServerContext::ServerContext(int io_threads, int blocking_threads, int64_t server_id)
    : io_threads_(io_threads < 1 ? 1 : io_threads),
      server_id_(server_id),
      io_(io_threads_),
      work_(boost::asio::make_work_guard(io_)),
      blocking_pool_(blocking_threads < 1 ? 1 : blocking_threads) {}

ServerContext::~ServerContext() {
  stopThreads();
  blocking_pool_.join();
}

void ServerContext::startThreads() {
  for (int i = 0; i < io_threads_; ++i) {
    threads_.emplace_back([this] { io_.run(); });
  }
}

void ServerContext::stopThreads() {
  work_.reset();
  io_.stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

PluginHost::PluginHost(ServerContext& context, const std::string& plugin_name)
    : context_(context), logger_(namedLog(plugin_name)) {}

}  // namespace corral::kernel::runtime

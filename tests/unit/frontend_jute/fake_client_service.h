// A capturing stand-in for the kernel's ClientService/ClientSession.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "corral/frontend.h"

namespace corral::plugins::jute::testing {

using namespace std::chrono_literals;

class FakeSession final : public sdk::ClientSession {
 public:
  FakeSession(sdk::SessionId id, std::shared_ptr<sdk::ClientConnection> connection)
      : id_(id), connection_(std::move(connection)) {}

  sdk::SessionId id() const noexcept override { return id_; }

  void submit(sdk::ClientRequest request) noexcept override {
    std::function<void(FakeSession&, const sdk::ClientRequest&)> respond;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      respond = on_submit_;
    }
    changed_.notify_all();
    if (respond) respond(*this, request);
  }

  void connectionClosed() noexcept override {
    closed_.fetch_add(1);
    changed_.notify_all();
  }

  // Called (outside the lock) for each submitted request, e.g. to answer it.
  void onSubmit(std::function<void(FakeSession&, const sdk::ClientRequest&)> respond) {
    std::lock_guard lock(mutex_);
    on_submit_ = std::move(respond);
  }

  sdk::ClientConnection& connection() { return *connection_; }
  int closedCount() const { return closed_.load(); }

  std::vector<sdk::ClientRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  size_t requestCount() {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }
  bool waitRequests(size_t count, std::chrono::milliseconds timeout = 3s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
  }
  bool waitClosed(std::chrono::milliseconds timeout = 3s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return closed_.load() > 0; });
  }

 private:
  const sdk::SessionId id_;
  std::shared_ptr<sdk::ClientConnection> connection_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<sdk::ClientRequest> requests_;
  std::function<void(FakeSession&, const sdk::ClientRequest&)> on_submit_;
  std::atomic<int> closed_{0};
};

// Answers every request with a header-only reply (zxid 7), in order, from the submitting
// thread; closeSession and unknown ops close afterwards, like the kernel.
inline void echoReplies(FakeSession& session, const sdk::ClientRequest& request) {
  sdk::ClientResponse response;
  response.xid = request.xid;
  response.zxid = 7;
  response.err = request.decode_error;
  response.close_after = request.op == sdk::OpCode::kCloseSession;
  session.connection().sendResponse(std::move(response));
}

class FakeClientService final : public sdk::ClientService {
 public:
  using ConnectHook = std::function<void(const sdk::ConnectRequest&,
                                         std::shared_ptr<sdk::ClientConnection>,
                                         std::function<void(sdk::ConnectOutcome)>)>;

  // By default every ConnectRequest gets a new established session at once.
  void connect(const sdk::ConnectRequest& request, std::shared_ptr<sdk::ClientConnection> connection,
               std::function<void(sdk::ConnectOutcome)> done) noexcept override {
    ConnectHook hook;
    {
      std::lock_guard lock(mutex_);
      connects_.push_back(request);
      hook = hook_;
    }
    if (hook) return hook(request, std::move(connection), std::move(done));
    done(establish(request, std::move(connection)));
  }

  sdk::Zxid lastProcessedZxid() const noexcept override { return 7; }

  // A new session for `connection` and the reply that goes with it.
  sdk::ConnectOutcome establish(const sdk::ConnectRequest& request,
                                std::shared_ptr<sdk::ClientConnection> connection) {
    sdk::ConnectOutcome outcome;
    auto session = std::make_shared<FakeSession>(0x0100000000000001LL + nextIndex(), std::move(connection));
    {
      std::lock_guard lock(mutex_);
      if (default_responder_) session->onSubmit(default_responder_);
      sessions_.push_back(session);
    }
    changed_.notify_all();
    sdk::ConnectResponse response;
    response.timeout = request.timeout;
    response.session_id = session->id();
    response.passwd = std::string(16, '\x5a');
    if (request.read_only) response.read_only = false;
    outcome.response = response;
    outcome.session = session;
    return outcome;
  }

  void setConnectHook(ConnectHook hook) {
    std::lock_guard lock(mutex_);
    hook_ = std::move(hook);
  }
  void setDefaultResponder(std::function<void(FakeSession&, const sdk::ClientRequest&)> responder) {
    std::lock_guard lock(mutex_);
    default_responder_ = std::move(responder);
  }

  std::shared_ptr<FakeSession> waitSession(size_t index, std::chrono::milliseconds timeout = 3s) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return sessions_.size() > index; })) return nullptr;
    return sessions_[index];
  }
  std::vector<sdk::ConnectRequest> connects() {
    std::lock_guard lock(mutex_);
    return connects_;
  }

 private:
  int64_t nextIndex() {
    std::lock_guard lock(mutex_);
    return static_cast<int64_t>(sessions_.size());
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  ConnectHook hook_;
  std::function<void(FakeSession&, const sdk::ClientRequest&)> default_responder_;
  std::vector<sdk::ConnectRequest> connects_;
  std::vector<std::shared_ptr<FakeSession>> sessions_;
};

}  // namespace corral::plugins::jute::testing

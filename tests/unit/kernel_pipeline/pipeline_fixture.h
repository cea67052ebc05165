// What the pipeline tests share: the kernel's real parts (RoleWiring and everything it
// assembles) on a real io_context thread, storage.memlog's tree in memory, and two test
// doubles at the edges the kernel does not own: a consensus that either commits at once
// (standalone/leader) or records what a learner would send to its leader, and client
// connections that record what the kernel sends them.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "digest_scheme.h"
#include "kernel/pipeline/role_wiring.h"
#include "memlog_storage.h"
#include "tests/support/runtime_test_host.h"

namespace corral::kernel::pipeline::testing {

using corral::testing::QuietLogger;
using TestHost = corral::testing::RuntimeTestHost;

// Waits (bounded) until `done()` holds.
class Waiter {
 public:
  void notify() {
    std::lock_guard lock(mutex_);
    changed_.notify_all();
  }
  // Woken by every notify(), and every 5 ms for state nobody notifies about (a role change
  // the strand has applied).
  bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::unique_lock lock(mutex_);
    for (;;) {
      lock.unlock();
      const bool ok = done();
      lock.lock();
      if (ok) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      changed_.wait_for(lock, std::chrono::milliseconds(5));
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
};

// A consensus whose role the test sets. As standalone or leader it commits every proposal at
// once (the memlog tree is memory-only, nothing to log); as a learner it records forwarded
// requests and revalidations, and the test plays the leader through the ConsensusHost.
class TestConsensus final : public sdk::Consensus {
 public:
  explicit TestConsensus(Waiter& waiter) : waiter_(waiter) {}
  void attach(sdk::Storage&, sdk::ConsensusHost& host, const sdk::Ensemble&) noexcept override { host_ = &host; }
  void propose(sdk::TxnEntry txn) noexcept override {
    {
      std::lock_guard lock(mutex_);
      proposed_.push_back(txn);
    }
    host_->commit(std::move(txn), sdk::Status::ok(), sdk::ApplyMode::kLive);
    waiter_.notify();
  }
  void forward(sdk::ForwardedRequest request) noexcept override {
    std::lock_guard lock(mutex_);
    forwarded_.push_back(std::move(request));
    waiter_.notify();
  }
  void revalidate(sdk::SessionId id, int32_t timeout_ms, std::function<void(bool)> done) noexcept override {
    std::lock_guard lock(mutex_);
    revalidations_.push_back({id, timeout_ms, std::move(done)});
    waiter_.notify();
  }
  sdk::Role role() const noexcept override { return role_; }
  int64_t epoch() const noexcept override { return epoch_; }
  sdk::ConsensusReport report() const noexcept override { return {}; }

  // The test changes the role as an election would.
  void become(sdk::Role role, int64_t epoch) {
    role_ = role;
    epoch_ = epoch;
    host_->roleChanged(role, epoch);
  }
  void setInitialRole(sdk::Role role) { role_ = role; }

  struct Revalidation {
    sdk::SessionId id;
    int32_t timeout_ms;
    std::function<void(bool)> done;
  };
  std::vector<sdk::TxnEntry> proposed() {
    std::lock_guard lock(mutex_);
    return proposed_;
  }
  std::vector<sdk::ForwardedRequest> forwarded() {
    std::lock_guard lock(mutex_);
    return forwarded_;
  }
  std::vector<Revalidation> takeRevalidations() {
    std::lock_guard lock(mutex_);
    return std::exchange(revalidations_, {});
  }

 private:
  Waiter& waiter_;
  sdk::ConsensusHost* host_ = nullptr;
  std::atomic<sdk::Role> role_{sdk::Role::kStandalone};
  std::atomic<int64_t> epoch_{0};
  std::mutex mutex_;
  std::vector<sdk::TxnEntry> proposed_;
  std::vector<sdk::ForwardedRequest> forwarded_;
  std::vector<Revalidation> revalidations_;
};

// A client connection as a front end would hold it, recording everything.
class RecordingConnection final : public sdk::ClientConnection {
 public:
  explicit RecordingConnection(Waiter& waiter) : waiter_(waiter) { info_.remote_address = "127.0.0.1"; }
  void sendResponse(sdk::ClientResponse response) noexcept override {
    {
      std::lock_guard lock(mutex_);
      responses_.push_back(std::move(response));
    }
    waiter_.notify();
  }
  void sendEvent(const sdk::WatcherEvent& event) noexcept override {
    {
      std::lock_guard lock(mutex_);
      events_.push_back(event);
    }
    waiter_.notify();
  }
  void close() noexcept override {
    closed_ = true;
    waiter_.notify();
  }
  const sdk::ConnectionInfo& info() const noexcept override { return info_; }

  std::vector<sdk::ClientResponse> responses() {
    std::lock_guard lock(mutex_);
    return responses_;
  }
  size_t responseCount() {
    std::lock_guard lock(mutex_);
    return responses_.size();
  }
  std::vector<sdk::WatcherEvent> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  bool closed() const { return closed_.load(); }

 private:
  Waiter& waiter_;
  sdk::ConnectionInfo info_;
  std::mutex mutex_;
  std::vector<sdk::ClientResponse> responses_;
  std::vector<sdk::WatcherEvent> events_;
  std::atomic<bool> closed_{false};
};

// One connected client: its connection and the session handle the kernel gave it.
struct TestClient {
  std::shared_ptr<RecordingConnection> connection;
  std::shared_ptr<sdk::ClientSession> session;
  sdk::ConnectResponse response;
  int32_t next_xid = 1;
};

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest() : storage_(host_), consensus_(waiter_) { acl_.addProvider(&digest_); }
  ~PipelineTest() override {
    if (wiring_) wiring_->stop();
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  void startAs(sdk::Role role, RoleSettings settings = {}) {
    settings.sequencer.container_check_ms = 0;
    consensus_.setInitialRole(role);
    wiring_ = std::make_unique<RoleWiring>(io_, storage_, consensus_, acl_, settings, logger_, host_.registry());
    consensus_.attach(storage_, *wiring_, sdk::Ensemble{});
    thread_ = std::thread([this] { io_.run(); });
    std::vector<sdk::RecoveredSession> none;
    wiring_->start(none);
  }

  // Connects a new session (or reattaches `session_id`); waits for the outcome.
  std::optional<TestClient> connect(sdk::SessionId session_id = 0, std::string passwd = {},
                                    const std::function<void()>& meanwhile = {},
                                    std::optional<bool> read_only = std::nullopt) {
    auto connection = std::make_shared<RecordingConnection>(waiter_);
    sdk::ConnectRequest request;
    request.read_only = read_only;
    request.timeout = 10000;
    request.session_id = session_id;
    request.passwd = passwd.empty() ? std::string(16, '\0') : passwd;
    std::mutex mutex;
    std::optional<sdk::ConnectOutcome> outcome;
    wiring_->clientService().connect(request, connection, [&](sdk::ConnectOutcome result) {
      {
        std::lock_guard lock(mutex);
        outcome = std::move(result);
      }
      waiter_.notify();
    });
    if (meanwhile) meanwhile();
    bool answered = waiter_.waitFor([&] {
      std::lock_guard lock(mutex);
      return outcome.has_value();
    });
    EXPECT_TRUE(answered) << "no answer to the ConnectRequest";
    std::lock_guard lock(mutex);
    if (!outcome || !outcome->response) return std::nullopt;
    TestClient client{connection, outcome->session, *outcome->response};
    return client;
  }

  // Submits a request and returns its xid.
  int32_t submit(TestClient& client, sdk::OpCode op, sdk::RequestBody body) {
    const int32_t xid = client.next_xid++;
    client.session->submit(sdk::ClientRequest{xid, op, std::move(body), sdk::Code::kOk});
    return xid;
  }
  // Waits for the reply to `xid`.
  std::optional<sdk::ClientResponse> reply(TestClient& client, int32_t xid) {
    std::optional<sdk::ClientResponse> found;
    waiter_.waitFor([&] {
      for (auto& response : client.connection->responses()) {
        if (response.xid == xid) {
          found = response;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  sdk::ClientResponse call(TestClient& client, sdk::OpCode op, sdk::RequestBody body) {
    auto response = reply(client, submit(client, op, std::move(body)));
    EXPECT_TRUE(response.has_value()) << "no reply to op " << static_cast<int>(op);
    return response.value_or(sdk::ClientResponse{});
  }
  static sdk::CreateRequest createRequest(const std::string& path, int32_t flags = 0) {
    return sdk::CreateRequest{path, std::string("d"), sdk::openAclUnsafe(), false, flags};
  }

  Waiter waiter_;
  TestHost host_;
  QuietLogger logger_;
  plugins::memlog::MemlogStorage storage_;
  AclChecker acl_;
  plugins::digest::DigestScheme digest_{""};
  TestConsensus consensus_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{io_.get_executor()};
  std::thread thread_;
  std::unique_ptr<RoleWiring> wiring_;
};

}  // namespace corral::kernel::pipeline::testing

// The shared Beast HTTP server: keep-alive, HEAD, bad requests, handler failures, idle
// timeout, and stop() with open connections. Real sockets on 127.0.0.1.
#include "http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <utility>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <stdexcept>
#include <thread>

namespace corral::plugins::http {
namespace {

class QuietLogger final : public sdk::Logger {
 public:
  void log(sdk::LogLevel, std::string_view) noexcept override {}
  bool enabled(sdk::LogLevel) const noexcept override { return false; }
};

class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~Client() { close(fd_); }
  bool connected() const { return connected_; }
  void send(const std::string& bytes) { ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size())); }
  // Reads until `until` appears, the peer closes, or `timeout_ms` passes.
  std::string read(const std::string& until, int timeout_ms = 5000) {
    std::string out;
    while (until.empty() || out.find(until) == std::string::npos) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, timeout_ms) <= 0) break;
      char buffer[4096];
      ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) threads.emplace_back([this] { io.run(); });
  }
  void TearDown() override {
    if (server) server->stop();
    work.reset();
    io.stop();
    for (auto& thread : threads) thread.join();
    pool.join();
  }
  void start(HttpServerOptions options = {}) {
    options.address = "127.0.0.1";
    options.port = 0;
    server = makeHttpServer(io, pool, logger, options, [this](const HttpRequest& request) {
      ++calls;
      if (request.target == "/throw") throw std::runtime_error("boom");
      HttpResponse response;
      response.content_type = "text/plain";
      response.headers.emplace_back("X-Test", "1");
      response.body = request.method + " " + request.target + " from " + request.remote_address;
      return response;
    });
    ASSERT_TRUE(server->start().isOk());
    ASSERT_GT(server->port(), 0);
  }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::vector<std::thread> threads;
  boost::asio::thread_pool pool{2};
  QuietLogger logger;
  std::unique_ptr<HttpServer> server;
  std::atomic<int> calls{0};
};

TEST_F(HttpServerTest, KeepAliveAndHead) {
  start();
  Client client(server->port());
  ASSERT_TRUE(client.connected());
  client.send("GET /a?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string first = client.read("from 127.0.0.1");
  EXPECT_NE(first.find("HTTP/1.1 200 OK"), std::string::npos) << first;
  EXPECT_NE(first.find("X-Test: 1"), std::string::npos);
  EXPECT_NE(first.find("GET /a?x=1 from 127.0.0.1"), std::string::npos);
  client.send("HEAD /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string second = client.read("");
  EXPECT_NE(second.find("HTTP/1.1 200 OK"), std::string::npos) << second;
  EXPECT_NE(second.find("Content-Length: 22"), std::string::npos) << second;
  EXPECT_EQ(second.find("HEAD /b from"), std::string::npos);
  EXPECT_TRUE(client.closed());
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndGarbageIs400) {
  start();
  {
    Client client(server->port());
    client.send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_NE(client.read("\r\n\r\n").find("HTTP/1.1 500"), std::string::npos);
  }
  {
    Client client(server->port());
    client.send("NOT HTTP AT ALL\r\n\r\n");
    std::string reply = client.read("");
    EXPECT_NE(reply.find("HTTP/1.1 400"), std::string::npos) << reply;
  }
  // Still serving.
  Client client(server->port());
  client.send("GET /ok HTTP/1.0\r\n\r\n");
  EXPECT_NE(client.read("").find("GET /ok"), std::string::npos);
}

TEST_F(HttpServerTest, IdleConnectionsAreClosed) {
  HttpServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  start(options);
  Client client(server->port());
  client.read("", 3000);
  EXPECT_TRUE(client.closed());
}

TEST_F(HttpServerTest, StopClosesOpenConnectionsAndRefusesNewOnes) {
  start();
  int port = server->port();
  Client idle(port);
  ASSERT_TRUE(idle.connected());
  Client busy(port);
  busy.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  busy.read("from 127.0.0.1");
  auto started = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  idle.read("", 2000);
  EXPECT_TRUE(idle.closed());
  Client refused(port);
  EXPECT_FALSE(refused.connected());
  int before = calls.load();
  server->stop();  // twice is fine
  EXPECT_EQ(calls.load(), before);
}

TEST_F(HttpServerTest, PortInUseIsAnError) {
  start();
  HttpServerOptions options;
  options.address = "127.0.0.1";
  options.port = server->port();
  auto second = makeHttpServer(io, pool, logger, options, [](const HttpRequest&) { return HttpResponse{}; });
  auto status = second->start();
  EXPECT_FALSE(status.isOk());
  EXPECT_NE(status.message().find("cannot listen"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace corral::plugins::http

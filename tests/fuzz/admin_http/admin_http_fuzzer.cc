// libFuzzer target: the bytes of one HTTP connection to admin.http (ZooKeeper's AdminServer).
//
// Input: what a client sends. As the server's connection loop (plugins/admin_http/
// http_server.cc serve()) does, Boost.Beast's request_parser<string_body> with its limits
// (16 KiB of header, 64 KiB of body) reads request after request from the bytes, which arrive
// in pieces (the first byte picks the read size, 1 << (byte & 7)); each parsed request's method
// and target go to the CommandRouter (command_http.h: target split, percent-decoding, query
// parsing, routing, JSON rendering) over a registry of a few commands that echo the query back
// into their JSON, as AdminServer commands do with their parameters. Three routers are tried:
// the default admin.commandURL (/commands) and two others (/ and a nested one).
// Checked: a JSON answer is valid JSON (a command's answer names the command), whatever bytes
// the path and query held; a 405 names the methods allowed; parseQuery keys are never empty
// and percent-decoding never grows a string; a parsed request, written again by Beast, parses
// to the same method, target, version and body.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "common/check.h"
#include "command_http.h"
#include "corral/admin.h"

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace http = corral::plugins::http;
namespace sdk = corral::sdk;


// A CommandRegistry as the kernel's: by name or alias.
class Registry final : public sdk::CommandRegistry {
 public:
  sdk::Status add(sdk::Command command) noexcept override {
    commands_.push_back(std::make_unique<sdk::Command>(std::move(command)));
    return sdk::Status::ok();
  }
  const sdk::Command* find(std::string_view name) const noexcept override {
    for (const auto& command : commands_) {
      if (command->name == name) return command.get();
      for (const auto& alias : command->aliases) {
        if (alias == name) return command.get();
      }
    }
    return nullptr;
  }
  std::vector<const sdk::Command*> all() const override {
    std::vector<const sdk::Command*> out;
    for (const auto& command : commands_) out.push_back(command.get());
    return out;
  }

 private:
  std::vector<std::unique_ptr<sdk::Command>> commands_;
};

const Registry& registry() {
  static const Registry* const commands = [] {
    auto* r = new Registry;
    // The query back as data (keys and values are bytes from the request).
    (void)r->add({"echo", {"echo_alias"}, "", false, [](const sdk::CommandArgs& args) {
                    sdk::CommandOutput out;
                    nlohmann::json params = nlohmann::json::object();
                    for (const auto& [key, value] : args.params) params[key] = value;
                    out.data = {{"params", params}, {"remote", args.remote_address}, {"list", {1, "two", nullptr}}};
                    return out;
                  }});
    // A failure whose message carries a parameter.
    (void)r->add({"fail", {}, "", false, [](const sdk::CommandArgs& args) {
                    sdk::CommandOutput out;
                    auto it = args.params.find("why");
                    out.status = sdk::Status(sdk::Code::kBadArguments, it == args.params.end() ? "" : it->second);
                    return out;
                  }});
    // A number parsed from a parameter (NaN, infinities, exponents).
    (void)r->add({"number", {}, "", false, [](const sdk::CommandArgs& args) {
                    sdk::CommandOutput out;
                    auto it = args.params.find("v");
                    const double v = it == args.params.end() ? 0.5 : std::strtod(it->second.c_str(), nullptr);
                    out.data = {{"value", v}, {"int", static_cast<int64_t>(std::isfinite(v) ? std::fmod(v, 1e18) : 0)}};
                    if (it != args.params.end()) out.data["text"] = it->second;
                    return out;
                  }});
    // A command that throws (the router answers with its message).
    (void)r->add({"throws", {}, "", false, [](const sdk::CommandArgs& args) -> sdk::CommandOutput {
                    auto it = args.params.find("what");
                    throw std::runtime_error(it == args.params.end() ? "thrown" : it->second);
                  }});
    // What /ready asks.
    (void)r->add({"server_stats", {"srvr"}, "", true, [](const sdk::CommandArgs&) {
                    sdk::CommandOutput out;
                    out.data = {{"server_stats", {{"server_state", "standalone"}}}};
                    return out;
                  }});
    return r;
  }();
  return *commands;
}

const std::vector<std::unique_ptr<http::CommandRouter>>& routers() {
  static const auto* const all = [] {
    auto* list = new std::vector<std::unique_ptr<http::CommandRouter>>;
    for (const char* url : {"/commands", "/", "admin/cmds/"}) {
      list->push_back(std::make_unique<http::CommandRouter>(registry(), http::RouterSettings{url, "/ready", "/live"}));
    }
    return list;
  }();
  return *all;
}

void route(const http::HttpRequest& request) {
  std::string_view target = request.target;
  const size_t question = target.find('?');
  if (question != std::string_view::npos) {
    const std::string_view query = target.substr(question + 1);
    for (const auto& [key, value] : http::parseQuery(query)) {
      CHECK(!key.empty() && key.size() <= query.size() && value.size() <= query.size());
    }
  }
  CHECK(http::urlDecode(target, false).size() <= target.size());
  CHECK(http::urlDecode(target, true).size() <= target.size());
  for (const auto& router : routers()) {
    const http::HttpResponse response = router->handle(request);
    CHECK(response.status == 200 || response.status == 404 || response.status == 405 || response.status == 503);
    if (response.status == 405) {
      CHECK(response.headers.size() == 1 && response.headers[0].first == "Allow");
    }
    if (response.content_type == "application/json") {
      nlohmann::json parsed = nlohmann::json::parse(response.body, nullptr, false);
      CHECK(!parsed.is_discarded() && parsed.is_object());
    }
  }
}

// What Beast writes for a request with this method, target, version and body parses back the same.
void checkRewrite(const bhttp::request<bhttp::string_body>& message) {
  // Beast refuses to prepare a TRACE with a body (RFC 7231 4.3.8), though it parses one.
  if (message.method() == bhttp::verb::trace && !message.body().empty()) return;
  bhttp::request<bhttp::string_body> copy;
  copy.method_string(message.method_string());
  copy.target(message.target());
  copy.version(message.version());
  copy.body() = message.body();
  copy.prepare_payload();
  std::string wire;
  {
    bhttp::serializer<true, bhttp::string_body> serializer(copy);
    beast::error_code ec;
    do {
      serializer.next(ec, [&](beast::error_code&, const auto& buffers) {
        for (auto buffer : beast::buffers_range_ref(buffers)) {
          wire.append(static_cast<const char*>(buffer.data()), buffer.size());
        }
        serializer.consume(beast::buffer_bytes(buffers));
      });
      CHECK(!ec);
    } while (!serializer.is_done());
  }
  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  beast::error_code ec;
  const size_t used = parser.put(boost::asio::buffer(wire), ec);
  CHECK(!ec && parser.is_done() && used == wire.size());
  const auto& again = parser.get();
  CHECK(again.method_string() == message.method_string() && again.target() == message.target() &&
        again.version() == message.version() && again.body() == message.body());
}

// The client closed: as Beast's read does (end_of_stream before any byte, else put_eof).
void closed(bhttp::request_parser<bhttp::string_body>& parser, beast::error_code& ec) {
  if (!parser.got_some()) {
    ec = bhttp::error::end_of_stream;
  } else {
    parser.put_eof(ec);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = size_t{1} << (data[0] & 7);
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  beast::flat_buffer buffer;
  auto read_more = [&]() {
    if (input.empty()) return false;
    const size_t take = std::min(chunk, input.size());
    auto space = buffer.prepare(take);
    std::memcpy(space.data(), input.data(), take);
    buffer.commit(take);
    input.remove_prefix(take);
    return true;
  };
  // Requests on one kept-alive connection, as serve() reads them.
  for (int requests = 0; requests < 16; ++requests) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(64 * 1024);
    parser.eager(true);  // as http::async_read sets it
    beast::error_code ec;
    for (;;) {
      if (buffer.size() == 0 && !read_more()) {
        closed(parser, ec);
        break;
      }
      const size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == bhttp::error::need_more || (!ec && used == 0 && !parser.is_done())) {
        ec = {};
        if (!read_more()) {
          closed(parser, ec);
          break;
        }
        continue;
      }
      if (ec || parser.is_done()) break;
    }
    if (ec || !parser.is_done()) return 0;  // the connection ends (a 400/413 answer at most)
    const auto& message = parser.get();
    http::HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    request.remote_address = "127.0.0.1";
    request.remote_port = 40000;
    route(request);
    checkRewrite(message);
    if (!message.keep_alive()) return 0;
  }
  return 0;
}

// admin.http without the network: how an HTTP request becomes a registry command and how
// its output becomes ZooKeeper's AdminServer JSON. Pure functions (plus CommandRouter, which
// only reads the registry), so unit tests cover them without sockets.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "corral/admin.h"
#include "http_server.h"

namespace corral::plugins::http {

// Percent-decoding; `plus_is_space` for query strings. Malformed escapes stay as written.
std::string urlDecode(std::string_view text, bool plus_is_space);

// "a=1&b=x%20y&c" -> {a:1, b:"x y", c:""}. A repeated key keeps its first value (as
// ZooKeeper's CommandServlet, which takes getParameterValues()[0]).
std::map<std::string, std::string> parseQuery(std::string_view query);

// JSON as ZooKeeper's AdminServer prints it (Jackson's default pretty printer): 2-space
// indent per object level, `"key" : value`, arrays inline `[ 1, 2 ]`, empty `{ }` / `[ ]`.
// `top` is the top-level object as an ordered list of members.
std::string jacksonPretty(const std::vector<std::pair<std::string, nlohmann::json>>& top);
std::string jacksonPretty(const nlohmann::json& value);

// The AdminServer body for a command's output: the data members, then "command" (the
// primary name) and "error" (null); on failure "error" (the message) comes first, as in
// ZooKeeper 3.8.
std::string commandJson(std::string_view name, const sdk::CommandOutput& output);
// {"command": "<asked>", "error": "Unknown command: <asked>"}
std::string unknownCommandJson(std::string_view asked);

struct RouterSettings {
  std::string command_url = "/commands";  // admin.commandURL
  std::string ready_path = "/ready";      // readiness (Corral; ZooKeeper 3.8 has none)
  std::string live_path = "/live";        // liveness (Corral)
};

// Routes AdminServer requests to registry commands. Thread-safe (the registry is).
class CommandRouter {
 public:
  CommandRouter(const sdk::CommandRegistry& registry, RouterSettings settings);

  HttpResponse handle(const HttpRequest& request) const;

  // Readiness also fails while stopping (set before the listener closes).
  void setStopping(bool stopping) noexcept { stopping_.store(stopping); }

  // The sorted primary names and the HTML list ZooKeeper serves on the command URL.
  std::string listing() const;
  // {ready, server_state, [reason]}: ready when server_stats answers with a serving state.
  std::pair<bool, nlohmann::json> readiness() const;

 private:
  HttpResponse runCommand(std::string_view name, std::string_view query, const HttpRequest& request) const;

  const sdk::CommandRegistry& registry_;
  RouterSettings settings_;
  std::atomic<bool> stopping_{false};
};

}  // namespace corral::plugins::http

#include "command_http.h"

#include <algorithm>
#include <cmath>
#include <exception>

#include <fmt/format.h>

namespace corral::plugins::http {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kNotServing = "This ZooKeeper instance is not currently serving requests";

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string jsonString(const std::string& text) {
  // Invalid UTF-8 (a path is bytes) is replaced, never thrown.
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void writeValue(std::string& out, const nlohmann::json& value, int depth);

void writeMembers(std::string& out, const std::vector<std::pair<std::string, const nlohmann::json*>>& members,
                  int depth) {
  if (members.empty()) {
    out += "{ }";
    return;
  }
  std::string indent(static_cast<size_t>(2 * (depth + 1)), ' ');
  out += "{\n";
  bool first = true;
  for (const auto& [key, value] : members) {
    if (!first) out += ",\n";
    first = false;
    out += indent;
    out += jsonString(key);
    out += " : ";
    writeValue(out, *value, depth + 1);
  }
  out += "\n";
  out.append(static_cast<size_t>(2 * depth), ' ');
  out += "}";
}

void writeValue(std::string& out, const nlohmann::json& value, int depth) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      std::vector<std::pair<std::string, const nlohmann::json*>> members;
      for (auto it = value.begin(); it != value.end(); ++it) members.emplace_back(it.key(), &it.value());
      writeMembers(out, members, depth);
      return;
    }
    case nlohmann::json::value_t::array: {
      if (value.empty()) {
        out += "[ ]";
        return;
      }
      out += "[ ";
      bool first = true;
      for (const auto& element : value) {
        if (!first) out += ", ";
        first = false;
        writeValue(out, element, depth);  // Jackson's array indenter is inline
      }
      out += " ]";
      return;
    }
    case nlohmann::json::value_t::number_float: {
      double number = value.get<double>();
      if (!std::isfinite(number)) {
        out += "null";
        return;
      }
      std::string text = fmt::format("{}", number);
      // Java prints doubles with a decimal point ("0.0", "7.5").
      if (text.find_first_of(".eE") == std::string::npos) text += ".0";
      out += text;
      return;
    }
    case nlohmann::json::value_t::string:
      out += jsonString(value.get_ref<const std::string&>());
      return;
    case nlohmann::json::value_t::discarded:
      out += "null";
      return;
    default:
      out += value.dump();
      return;
  }
}

HttpResponse jsonResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = std::string(kJson);
  response.body = std::move(body);
  return response;
}

HttpResponse textResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::move(body);
  return response;
}

std::string normalizeUrl(std::string url) {
  if (url.empty() || url.front() != '/') url.insert(url.begin(), '/');
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  return url;
}

bool isServingState(std::string_view state) {
  return state == "standalone" || state == "leader" || state == "follower" || state == "observer" ||
         state == "read-only";
}

}  // namespace

std::string urlDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int high = hexValue(text[i + 1]);
      int low = hexValue(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::map<std::string, std::string> parseQuery(std::string_view query) {
  std::map<std::string, std::string> params;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(pos, end - pos);
    if (!pair.empty()) {
      size_t equals = pair.find('=');
      std::string key = urlDecode(pair.substr(0, equals), true);
      std::string value = equals == std::string_view::npos ? "" : urlDecode(pair.substr(equals + 1), true);
      if (!key.empty()) params.emplace(std::move(key), std::move(value));  // first one wins
    }
    pos = end + 1;
  }
  return params;
}

std::string jacksonPretty(const std::vector<std::pair<std::string, nlohmann::json>>& top) {
  std::vector<std::pair<std::string, const nlohmann::json*>> members;
  members.reserve(top.size());
  for (const auto& [key, value] : top) members.emplace_back(key, &value);
  std::string out;
  writeMembers(out, members, 0);
  return out;
}

std::string jacksonPretty(const nlohmann::json& value) {
  std::string out;
  writeValue(out, value, 0);
  return out;
}

std::string commandJson(std::string_view name, const sdk::CommandOutput& output) {
  std::vector<std::pair<std::string, nlohmann::json>> top;
  bool failed = !output.status.isOk();
  if (failed) {
    const auto& message = output.status.message();
    top.emplace_back("error", message.empty() ? output.status.toString() : message);
  }
  if (output.data.is_object()) {
    for (auto it = output.data.begin(); it != output.data.end(); ++it) {
      if (it.key() == "command" || it.key() == "error") continue;
      top.emplace_back(it.key(), it.value());
    }
  } else if (!output.data.is_null()) {
    top.emplace_back("data", output.data);  // not a kernel shape; kept rather than lost
  }
  top.emplace_back("command", std::string(name));
  if (!failed) top.emplace_back("error", nullptr);
  return jacksonPretty(top);
}

std::string unknownCommandJson(std::string_view asked) {
  std::vector<std::pair<std::string, nlohmann::json>> top = {
      {"command", std::string(asked)}, {"error", fmt::format("Unknown command: {}", asked)}};
  return jacksonPretty(top);
}

CommandRouter::CommandRouter(const sdk::CommandRegistry& registry, RouterSettings settings)
    : registry_(registry), settings_(std::move(settings)) {
  settings_.command_url = normalizeUrl(settings_.command_url);
}

std::string CommandRouter::listing() const {
  std::vector<std::string> names;
  for (const auto* command : registry_.all()) {
    if (command != nullptr) names.push_back(command->name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string prefix = settings_.command_url == "/" ? "" : settings_.command_url;
  std::string html;
  for (const auto& name : names) {
    html += fmt::format("<a href=\"{}/{}\">{}</a>\n<br/>\n", prefix, name, name);
  }
  return html;
}

std::pair<bool, nlohmann::json> CommandRouter::readiness() const {
  nlohmann::json body = nlohmann::json::object();
  if (stopping_.load()) {
    body = {{"ready", false}, {"reason", "stopping"}};
    return {false, body};
  }
  const sdk::Command* command = registry_.find("server_stats");
  if (command == nullptr || !command->run) {
    body = {{"ready", false}, {"reason", "no server_stats command"}};
    return {false, body};
  }
  sdk::CommandOutput output;
  try {
    output = command->run(sdk::CommandArgs{});
  } catch (const std::exception& e) {
    body = {{"ready", false}, {"reason", e.what()}};
    return {false, body};
  }
  if (!output.status.isOk()) {
    body = {{"ready", false},
            {"reason", output.status.message().empty() ? output.status.toString() : output.status.message()}};
    return {false, body};
  }
  std::string state;
  if (output.data.is_object()) {
    auto stats = output.data.find("server_stats");
    if (stats != output.data.end() && stats->is_object()) {
      auto found = stats->find("server_state");
      if (found != stats->end() && found->is_string()) state = found->get<std::string>();
    }
  }
  bool ready = isServingState(state);
  body = {{"ready", ready}, {"server_state", state}};
  if (!ready) body["reason"] = std::string(kNotServing);
  return {ready, body};
}

HttpResponse CommandRouter::runCommand(std::string_view name, std::string_view query,
                                       const HttpRequest& request) const {
  const sdk::Command* command = registry_.find(name);
  if (command == nullptr || !command->run) return jsonResponse(200, unknownCommandJson(name));
  sdk::CommandArgs args;
  args.params = parseQuery(query);
  args.remote_address = request.remote_address;
  args.remote_port = request.remote_port;
  sdk::CommandOutput output;
  try {
    output = command->run(args);
  } catch (const std::exception& e) {
    output = sdk::CommandOutput{};
    output.status = sdk::Status(sdk::Code::kInternal, e.what());
  } catch (...) {
    output = sdk::CommandOutput{};
    output.status = sdk::Status(sdk::Code::kInternal, "command failed");
  }
  return jsonResponse(200, commandJson(command->name, output));
}

HttpResponse CommandRouter::handle(const HttpRequest& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    auto response = textResponse(405, fmt::format("HTTP method {} is not supported by this URL\n", request.method));
    response.headers.emplace_back("Allow", "GET, HEAD");
    return response;
  }
  std::string_view target = request.target;
  std::string_view raw_path = target.substr(0, target.find('?'));
  std::string_view query = raw_path.size() < target.size() ? target.substr(raw_path.size() + 1) : std::string_view();
  // A fragment is never sent by clients, but be safe.
  query = query.substr(0, query.find('#'));
  std::string path = urlDecode(raw_path, false);

  if (!settings_.ready_path.empty() && path == settings_.ready_path) {
    auto [ready, body] = readiness();
    auto response = jsonResponse(ready ? 200 : 503, jacksonPretty(body));
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
  }
  if (!settings_.live_path.empty() && path == settings_.live_path) {
    auto response = jsonResponse(200, jacksonPretty(nlohmann::json{{"live", true}}));
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
  }
  const std::string& url = settings_.command_url;
  if (path == url || path == url + "/" || (url == "/" && path.empty())) {
    HttpResponse response;
    response.content_type = "text/html; charset=utf-8";
    response.body = listing();
    return response;
  }
  std::string prefix = url == "/" ? "/" : url + "/";
  if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0) {
    return runCommand(std::string_view(path).substr(prefix.size()), query, request);
  }
  return textResponse(404, "Not Found\n");
}

}  // namespace corral::plugins::http

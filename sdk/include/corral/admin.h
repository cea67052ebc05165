// Admin extension point: commands, and the plugins that serve them (4lw, HTTP, metrics).
//
// Contract
// - A Command is written once and served by every admin transport: the four-letter-word
//   plugin prints `text` (or a rendering of `data`), the HTTP AdminServer returns `data` as
//   JSON. Commands are read-only views of server state unless documented otherwise.
// - CommandRegistry is thread-safe. Commands are registered while plugins are created (before
//   start) and never removed; run() may be called from any thread, concurrently.
// - An admin plugin is a Plugin of kind kAdmin that serves registry commands; it opens its
//   port in start() and closes it in stop().
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "corral/status.h"

namespace corral::sdk {

struct CommandArgs {
  std::map<std::string, std::string> params;  // HTTP query parameters
  std::string body;                           // extra bytes after a 4lw (e.g. stmk's mask)
  std::string remote_address;                 // the caller of a 4lw (listed by stat/cons)
  int remote_port = 0;
};

struct CommandOutput {
  nlohmann::json data = nlohmann::json::object();  // HTTP AdminServer body (without "command"/"error")
  std::string text;                                // four-letter-word output, exactly as ZooKeeper prints it
  Status status;                                   // a non-ok status becomes the "error" entry
};

struct Command {
  std::string name;                  // AdminServer name, e.g. "server_stats"
  std::vector<std::string> aliases;  // e.g. {"srvr"}; the four-letter word is an alias
  std::string doc;
  bool four_letter = false;          // also served on the client port as a 4lw (name or alias)
  std::function<CommandOutput(const CommandArgs&)> run;
};

class CommandRegistry {
 public:
  virtual ~CommandRegistry() = default;
  // AlreadyExists if the name or an alias is taken.
  virtual Status add(Command command) noexcept = 0;
  // By name or alias; nullptr when unknown.
  virtual const Command* find(std::string_view name_or_alias) const noexcept = 0;
  virtual std::vector<const Command*> all() const = 0;
};

}  // namespace corral::sdk

// admin.http routing and ZooKeeper-shaped JSON, without sockets.
#include "command_http.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace corral::plugins::http {
namespace {

class FakeRegistry final : public sdk::CommandRegistry {
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

HttpRequest get(std::string target) { return HttpRequest{"GET", std::move(target), "127.0.0.1", 4242}; }

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)registry.add({"watch_summary", {"wchs"}, "", true, [](const sdk::CommandArgs&) {
                          sdk::CommandOutput output;
                          output.data = {{"num_connections", 1}, {"num_paths", 2}, {"num_total_watches", 3}};
                          return output;
                        }});
    (void)registry.add({"set_trace_mask", {"stmk"}, "", true, [this](const sdk::CommandArgs& args) {
                          last_args = args;
                          sdk::CommandOutput output;
                          auto it = args.params.find("traceMask");
                          if (it == args.params.end()) {
                            output.status = sdk::Status(sdk::Code::kBadArguments,
                                                        "setTraceMask requires long traceMask argument");
                          } else {
                            output.data["tracemask"] = std::stoll(it->second);
                          }
                          return output;
                        }});
    (void)registry.add({"throws", {}, "", false, [](const sdk::CommandArgs&) -> sdk::CommandOutput {
                          throw std::runtime_error("boom");
                        }});
    (void)registry.add({"server_stats", {"srvr"}, "", true, [this](const sdk::CommandArgs&) {
                          sdk::CommandOutput output;
                          output.data = {{"server_stats", {{"server_state", state}}}};
                          return output;
                        }});
  }

  FakeRegistry registry;
  sdk::CommandArgs last_args;
  std::string state = "standalone";
};

TEST(UrlTest, DecodesPercentAndPlus) {
  EXPECT_EQ(urlDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(urlDecode("a%20b+c", false), "a b+c");
  EXPECT_EQ(urlDecode("bad%zz%4", false), "bad%zz%4");
  EXPECT_EQ(urlDecode("%2F", false), "/");
}

TEST(UrlTest, QueryFirstValueWins) {
  auto params = parseQuery("traceMask=42&x=a%26b&traceMask=7&flag&=novalue&&");
  EXPECT_EQ(params.at("traceMask"), "42");
  EXPECT_EQ(params.at("x"), "a&b");
  EXPECT_EQ(params.at("flag"), "");
  EXPECT_EQ(params.count(""), 0u);
}

TEST(JsonTest, JacksonPrettyPrinterShape) {
  nlohmann::json data = {{"connections", nlohmann::json::array({{{"a", 1}, {"b", "x"}}})},
                         {"empty", nlohmann::json::array()},
                         {"map", nlohmann::json::object()},
                         {"ids", {1, 2}},
                         {"avg", 7.0}};
  sdk::CommandOutput output;
  output.data = data;
  EXPECT_EQ(commandJson("connections", output),
            "{\n"
            "  \"avg\" : 7.0,\n"
            "  \"connections\" : [ {\n"
            "    \"a\" : 1,\n"
            "    \"b\" : \"x\"\n"
            "  } ],\n"
            "  \"empty\" : [ ],\n"
            "  \"ids\" : [ 1, 2 ],\n"
            "  \"map\" : { },\n"
            "  \"command\" : \"connections\",\n"
            "  \"error\" : null\n"
            "}");
}

TEST(JsonTest, ErrorComesFirstAndInvalidUtf8IsReplaced) {
  sdk::CommandOutput output;
  output.status = sdk::Status(sdk::Code::kBadArguments, "server is not initialized");
  EXPECT_EQ(commandJson("leader", output), "{\n  \"error\" : \"server is not initialized\",\n  \"command\" : \"leader\"\n}");
  sdk::CommandOutput bytes;
  bytes.data["path"] = std::string("/a\xff");
  EXPECT_NE(commandJson("x", bytes).find("\"path\" : \"/a"), std::string::npos);
  EXPECT_EQ(unknownCommandJson("nope"), "{\n  \"command\" : \"nope\",\n  \"error\" : \"Unknown command: nope\"\n}");
}

TEST_F(RouterTest, AliasAnswersWithPrimaryName) {
  CommandRouter router(registry, {});
  auto response = router.handle(get("/commands/wchs"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "application/json");
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["command"], "watch_summary");
  EXPECT_TRUE(body["error"].is_null());
  EXPECT_EQ(body["num_total_watches"], 3);
}

TEST_F(RouterTest, ParametersReachTheCommand) {
  CommandRouter router(registry, {});
  auto body = nlohmann::json::parse(router.handle(get("/commands/stmk?traceMask=42")).body);
  EXPECT_EQ(body["tracemask"], 42);
  EXPECT_EQ(last_args.remote_address, "127.0.0.1");
  EXPECT_EQ(last_args.remote_port, 4242);
  body = nlohmann::json::parse(router.handle(get("/commands/set_trace_mask")).body);
  EXPECT_EQ(body["error"], "setTraceMask requires long traceMask argument");
  EXPECT_EQ(body["command"], "set_trace_mask");
}

TEST_F(RouterTest, UnknownAndThrowingCommandsAreErrorsNotCrashes) {
  CommandRouter router(registry, {});
  auto body = nlohmann::json::parse(router.handle(get("/commands/nope")).body);
  EXPECT_EQ(body["error"], "Unknown command: nope");
  body = nlohmann::json::parse(router.handle(get("/commands/throws")).body);
  EXPECT_EQ(body["error"], "boom");
  EXPECT_EQ(body["command"], "throws");
  body = nlohmann::json::parse(router.handle(get("/commands/a%2Fb/c")).body);
  EXPECT_EQ(body["error"], "Unknown command: a/b/c");
}

TEST_F(RouterTest, ListingIsZooKeepersHtml) {
  CommandRouter router(registry, {});
  auto response = router.handle(get("/commands"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body,
            "<a href=\"/commands/server_stats\">server_stats</a>\n<br/>\n"
            "<a href=\"/commands/set_trace_mask\">set_trace_mask</a>\n<br/>\n"
            "<a href=\"/commands/throws\">throws</a>\n<br/>\n"
            "<a href=\"/commands/watch_summary\">watch_summary</a>\n<br/>\n");
  EXPECT_EQ(router.handle(get("/commands/")).body, response.body);
}

TEST_F(RouterTest, CustomCommandUrlAndOtherPaths) {
  CommandRouter router(registry, {"/admin/", "/ready", "/live"});
  EXPECT_EQ(router.handle(get("/admin/wchs")).status, 200);
  EXPECT_EQ(router.handle(get("/commands/wchs")).status, 404);
  EXPECT_EQ(router.handle(get("/admin")).body.find("<a href=\"/admin/server_stats\">"), 0u);
  auto post = get("/admin/wchs");
  post.method = "POST";
  EXPECT_EQ(router.handle(post).status, 405);
}

TEST_F(RouterTest, Readiness) {
  CommandRouter router(registry, {});
  auto response = router.handle(get("/ready"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(nlohmann::json::parse(response.body)["server_state"], "standalone");
  state = "looking";
  EXPECT_EQ(router.handle(get("/ready")).status, 503);
  state = "follower";
  EXPECT_EQ(router.handle(get("/ready")).status, 200);
  router.setStopping(true);
  EXPECT_EQ(router.handle(get("/ready")).status, 503);
  EXPECT_EQ(router.handle(get("/live")).status, 200);
}

TEST(ReadinessTest, NoServerStatsMeansNotReady) {
  FakeRegistry empty;
  CommandRouter router(empty, {});
  EXPECT_EQ(router.handle(get("/ready")).status, 503);
}

}  // namespace
}  // namespace corral::plugins::http

// Four-letter words on the client port (client-protocol.md §14, admin-and-ops.md §1).
#include <gtest/gtest.h>

#include <mutex>

#include "frontend_fixture.h"

namespace corral::plugins::jute::testing {
namespace {

sdk::Command word(std::string name, std::string text, bool four_letter = true) {
  sdk::Command command;
  command.name = name == "srvr" ? "server_stats" : name + "_command";
  command.aliases = {name};
  command.four_letter = four_letter;
  command.run = [text](const sdk::CommandArgs&) {
    sdk::CommandOutput output;
    output.text = text;
    return output;
  };
  return command;
}

class FourLetterWordTest : public FrontendTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(host_.commands().add(word("srvr", "Zookeeper version: corral\nMode: standalone\n")).isOk());
    ASSERT_TRUE(host_.commands().add(word("ruok", "imok")).isOk());
    ASSERT_TRUE(host_.commands().add(word("lsnp", "not a 4lw", false)).isOk());
    sdk::Command stmk = word("stmk", "");
    stmk.run = [this](const sdk::CommandArgs& args) {
      std::lock_guard lock(mutex_);
      stmk_body_ = args.body;
      sdk::CommandOutput output;
      output.text = std::to_string(args.body.size());
      return output;
    };
    ASSERT_TRUE(host_.commands().add(stmk).isOk());
    FrontendTest::SetUp();
  }

  std::string ask(std::string_view bytes) {
    RawClient client(port_);
    client.send(bytes);
    return client.readUntilClosed();
  }

  std::mutex mutex_;
  std::string stmk_body_;
};

TEST_F(FourLetterWordTest, DefaultWhitelistRunsOnlySrvr) {
  EXPECT_EQ(ask("srvr"), "Zookeeper version: corral\nMode: standalone\n");
  EXPECT_EQ(ask("ruok"), "ruok is not executed because it is not in the whitelist.\n");
  EXPECT_EQ(ask("\xff\xf4\xff\xfd"),
            "telnet close is not executed because it is not in the whitelist.\n");
  EXPECT_TRUE(service_.connects().empty());
}

TEST_F(FourLetterWordTest, UnknownOrUpperCaseWordsAreLengths) {
  for (const char* bytes : {"xxxx", "RUOK", "lsnp"}) {
    RawClient client(port_);
    client.send(bytes);
    EXPECT_TRUE(client.closedWithoutData()) << bytes;  // a length > jute.maxbuffer
  }
}

class WhitelistedTest : public FourLetterWordTest {
 protected:
  void configure(FrontendSettings& settings) override {
    settings.whitelist = FourLetterWhitelist::parse(std::string("ruok, stmk"), false);
  }
};

TEST_F(WhitelistedTest, RunsAndIgnoresExtraBytes) {
  EXPECT_EQ(ask("ruok"), "imok");
  EXPECT_EQ(ask("ruokextra"), "imok");
  EXPECT_EQ(ask("srvr"), "Zookeeper version: corral\nMode: standalone\n");  // always on
}

TEST_F(WhitelistedTest, StmkGetsTheMaskBytes) {
  const std::string mask("\0\0\0\0\0\0\x01\x02", 8);
  EXPECT_EQ(ask("stmk" + mask), "8");
  std::lock_guard lock(mutex_);
  EXPECT_EQ(stmk_body_, mask);
}

class AllWordsTest : public FourLetterWordTest {
 protected:
  void configure(FrontendSettings& settings) override {
    settings.whitelist = FourLetterWhitelist::parse(std::string("*"), false);
  }
};

TEST_F(AllWordsTest, TelnetCloseClosesSilently) {
  RawClient client(port_);
  client.send("\xff\xf4\xff\xfd");
  EXPECT_TRUE(client.closedWithoutData());
  EXPECT_EQ(ask("ruok"), "imok");
}

}  // namespace
}  // namespace corral::plugins::jute::testing

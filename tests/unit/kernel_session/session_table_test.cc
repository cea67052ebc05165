#include "kernel/session/session_table.h"

#include <gtest/gtest.h>

namespace corral::kernel::session {
namespace {

TEST(SessionTable, ExpiresAtTheFirstTickAfterTimeout) {
  SessionTable table(2000);
  table.add(7, 5000, 1000);  // due at 6000 → bucket 8000 (ZooKeeper's ExpiryQueue rounding)
  EXPECT_EQ(table.find(7)->expires_at, 8000);
  EXPECT_TRUE(table.expired(7999).empty());
  EXPECT_EQ(table.expired(8000), std::vector<sdk::SessionId>{7});
}

TEST(SessionTable, TouchPushesExpiryOut) {
  SessionTable table(1000);
  table.add(1, 4000, 0);
  EXPECT_TRUE(table.touch(1, 3500));
  EXPECT_TRUE(table.expired(5000).empty());
  EXPECT_EQ(table.expired(8000), std::vector<sdk::SessionId>{1});
}

TEST(SessionTable, ReattachChangesTimeout) {
  SessionTable table(1000);
  table.add(1, 4000, 0);
  table.touch(1, 0, 10000);
  EXPECT_EQ(table.find(1)->timeout_ms, 10000);
  EXPECT_TRUE(table.expired(9000).empty());
}

TEST(SessionTable, ClosingSessionsAreNotReportedAgain) {
  SessionTable table(1000);
  table.add(1, 1000, 0);
  table.find(1)->closing = true;
  EXPECT_TRUE(table.expired(5000).empty());
  EXPECT_FALSE(table.touch(1, 5000));
}

TEST(SessionTable, RemoveForgetsTheSession) {
  SessionTable table(1000);
  table.add(1, 1000, 0);
  table.add(2, 1000, 0);
  table.remove(1);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.expired(5000), std::vector<sdk::SessionId>{2});
}

}  // namespace
}  // namespace corral::kernel::session

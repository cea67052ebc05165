// The conformance suite every ACL scheme plugin must pass.
//
// It loads the plugin the way corral-server does (its .so, through the exported
// descriptor), creates it with a minimal host, and checks the AclProvider contract: ids
// it calls valid and invalid, what authenticate() grants and refuses, matching, that an
// authenticated id matches itself, that no input (however malformed) throws or crashes,
// and that concurrent calls are safe.
//
// Use (GoogleTest):
//   #include <corral/testing/acl_conformance.h>
//   corral::testing::AclConformanceCase tokenCase() { ... }
//   using corral::testing::AclConformance;   // gtest needs the unqualified name
//   INSTANTIATE_TEST_SUITE_P(Token, AclConformance, ::testing::Values(tokenCase()),
//                            corral::testing::caseName);
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/dll/shared_library.hpp>
#include <dlfcn.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "corral/acl.h"
#include "corral/admin.h"
#include "corral/basic_metrics_registry.h"
#include "corral/host.h"
#include "corral/plugin.h"
#include "plugin_harness.h"

namespace corral::testing {

struct AclConformanceCase {
  std::string label;                              // test-name suffix, [A-Za-z0-9_]
  std::string plugin_file;                        // path to libcorral_acl_<name>.so
  std::string scheme;                             // what scheme() must return
  std::map<std::string, std::string> config;      // the plugin's settings
  std::vector<std::string> valid_ids;
  std::vector<std::string> invalid_ids;
  sdk::ConnectionInfo connection{"127.0.0.1", 40000, ""};
  // Auth bytes that must succeed, each with an id it must grant.
  std::vector<std::pair<std::string, sdk::Id>> accepted_auth;
  // Auth bytes that must fail with AuthFailed (-115). Empty for schemes that accept anything.
  std::vector<std::string> refused_auth;
  // (caller id, ACL id) pairs that must and must not match.
  std::vector<std::pair<std::string, std::string>> matching;
  std::vector<std::pair<std::string, std::string>> not_matching;
  bool authenticated = false;                     // isAuthenticated(): may stand in for `auth` ACLs
};

inline std::string caseName(const ::testing::TestParamInfo<AclConformanceCase>& info) {
  return info.param.label;
}

class AclConformance : public ::testing::TestWithParam<AclConformanceCase> {
 protected:
  void SetUp() override {
    const auto& param = GetParam();
    auto mode = static_cast<boost::dll::load_mode::type>(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    std::error_code error;
    library_.load(param.plugin_file, mode, error);
    ASSERT_FALSE(error) << "cannot load " << param.plugin_file << ": " << error.message();
    ASSERT_TRUE(library_.has(sdk::kDescriptorSymbol)) << "no descriptor in " << param.plugin_file;
    descriptor_ = &library_.get_alias<const sdk::PluginDescriptor>(sdk::kDescriptorSymbol);
    ASSERT_EQ(descriptor_->abi_version, sdk::kAbiVersion);
    config_ = std::make_unique<MapConfig>(param.config);
    ASSERT_TRUE(descriptor_->validate(*config_).isOk());
    sdk::Status status;
    plugin_.reset(descriptor_->create(host_, *config_, &status));
    ASSERT_NE(plugin_, nullptr) << status.toString();
    provider_ = dynamic_cast<sdk::AclProvider*>(plugin_.get());
    ASSERT_NE(provider_, nullptr) << "create() did not return an AclProvider";
    ASSERT_TRUE(plugin_->start().isOk());
  }
  void TearDown() override {
    if (plugin_) plugin_->stop();
    plugin_.reset();
  }

  boost::dll::shared_library library_;
  const sdk::PluginDescriptor* descriptor_ = nullptr;
  MinimalHost host_;
  std::unique_ptr<MapConfig> config_;
  std::unique_ptr<sdk::Plugin> plugin_;
  sdk::AclProvider* provider_ = nullptr;
};

TEST_P(AclConformance, DescriptorNamesTheScheme) {
  EXPECT_EQ(descriptor_->kind, sdk::PluginKind::kAcl);
  EXPECT_EQ(std::string(descriptor_->name), "acl." + GetParam().scheme);
  EXPECT_EQ(provider_->scheme(), GetParam().scheme);
  EXPECT_EQ(provider_->isAuthenticated(), GetParam().authenticated);
}

TEST_P(AclConformance, ValidAndInvalidIds) {
  for (const auto& id : GetParam().valid_ids) EXPECT_TRUE(provider_->isValid(id)) << id;
  for (const auto& id : GetParam().invalid_ids) EXPECT_FALSE(provider_->isValid(id)) << id;
}

TEST_P(AclConformance, AuthenticationGrantsValidIdsThatMatchThemselves) {
  for (const auto& [auth, expected] : GetParam().accepted_auth) {
    auto ids = provider_->authenticate(GetParam().connection, auth);
    ASSERT_TRUE(ids.isOk()) << auth << ": " << ids.status().toString();
    bool found = false;
    for (const auto& id : *ids) {
      found = found || id == expected;
      if (id.scheme != GetParam().scheme) continue;
      EXPECT_TRUE(provider_->isValid(id.id)) << "granted an id it calls invalid: " << id.id;
      EXPECT_TRUE(provider_->matches(id.id, id.id)) << "granted id does not match itself: " << id.id;
    }
    EXPECT_TRUE(found) << auth << " did not grant " << expected.scheme << ":" << expected.id;
  }
}

TEST_P(AclConformance, AuthenticationFailuresAreAuthFailed) {
  for (const auto& auth : GetParam().refused_auth) {
    auto ids = provider_->authenticate(GetParam().connection, auth);
    EXPECT_FALSE(ids.isOk()) << auth;
    EXPECT_EQ(ids.status().code(), sdk::Code::kAuthFailed) << auth;
  }
}

TEST_P(AclConformance, Matching) {
  for (const auto& [caller, acl] : GetParam().matching) EXPECT_TRUE(provider_->matches(caller, acl)) << caller << " ~ " << acl;
  for (const auto& [caller, acl] : GetParam().not_matching) EXPECT_FALSE(provider_->matches(caller, acl)) << caller << " !~ " << acl;
}

TEST_P(AclConformance, GarbageNeverThrowsOrCrashes) {
  std::mt19937 random(42);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(random() % 64, '\0');
    for (auto& c : bytes) c = static_cast<char>(random());
    EXPECT_NO_THROW({
      (void)provider_->isValid(bytes);
      (void)provider_->matches(bytes, bytes);
      (void)provider_->matches(bytes, "x");
      (void)provider_->authenticate(GetParam().connection, bytes);
    });
  }
}

TEST_P(AclConformance, ConcurrentCallsAreSafe) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        for (const auto& id : GetParam().valid_ids) (void)provider_->isValid(id);
        for (const auto& [auth, expected] : GetParam().accepted_auth) (void)provider_->authenticate(GetParam().connection, auth);
        for (const auto& [caller, acl] : GetParam().matching) (void)provider_->matches(caller, acl);
      }
    });
  }
  for (auto& thread : threads) thread.join();
}

}  // namespace corral::testing

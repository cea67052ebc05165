// consensus.single: the standalone server's consensus. A txn is committed as soon as the
// local storage has made it durable; there is no one else to ask.
//
// Order: propose() calls arrive in zxid order (the kernel's prepare stage is serial) and the
// storage calls `done` in append order, so commits come out in zxid order exactly once.
#include <new>
#include <utility>

#include "corral/consensus.h"
#include "corral/host.h"
#include "corral/storage.h"

namespace corral::plugins::single {
namespace {

class SingleConsensus final : public sdk::Consensus {
 public:
  void attach(sdk::Storage& storage, sdk::CommitSink& sink) noexcept override {
    storage_ = &storage;
    sink_ = &sink;
  }

  void propose(sdk::TxnEntry txn) noexcept override {
    auto* entry = new (std::nothrow) sdk::TxnEntry(std::move(txn));
    if (entry == nullptr) return;  // out of memory: the request times out, the session survives
    storage_->append(std::span<const sdk::TxnEntry>(entry, 1), [sink = sink_, entry](sdk::Status status) {
      sink->commit(std::move(*entry), std::move(status));
      delete entry;
    });
  }

  sdk::Role role() const noexcept override { return sdk::Role::kStandalone; }
  int64_t epoch() const noexcept override { return 0; }

 private:
  sdk::Storage* storage_ = nullptr;
  sdk::CommitSink* sink_ = nullptr;
};

sdk::Status validate(const sdk::PluginConfig&) noexcept { return sdk::Status::ok(); }

sdk::Plugin* create(sdk::Host&, const sdk::PluginConfig&, sdk::Status* error) noexcept {
  auto* plugin = new (std::nothrow) SingleConsensus();
  if (plugin == nullptr) *error = sdk::Status(sdk::Code::kSystemError, "out of memory");
  return plugin;
}

}  // namespace

const sdk::PluginDescriptor descriptor{
    sdk::kAbiVersion, sdk::PluginKind::kConsensus, "consensus.single", "0.1.0",
    "standalone: commit on local durability", nullptr, validate, create};

}  // namespace corral::plugins::single

CORRAL_PLUGIN(corral::plugins::single::descriptor)

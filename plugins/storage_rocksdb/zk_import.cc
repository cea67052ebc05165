#include "zk_import.h"

#include <chrono>

#include <fmt/format.h>

#include "corral/admin.h"
#include "corral/basic_metrics_registry.h"
#include "corral/formats/data_files.h"
#include "corral/jute.h"
#include "corral/records.h"
#include "memlog_storage.h"

namespace corral::plugins::rocks {

using sdk::Code;
using sdk::Status;

namespace {

// The host the import's memlog instance runs on: the server's logger and threads, but its
// own metrics and commands, so nothing it registers outlives it.
class ImportHost final : public sdk::Host {
 public:
  explicit ImportHost(sdk::Host& host) : host_(host) {}
  sdk::Logger& logger() noexcept override { return host_.logger(); }
  sdk::MetricsRegistry& metrics() noexcept override { return metrics_; }
  boost::asio::io_context& ioContext() noexcept override { return host_.ioContext(); }
  boost::asio::thread_pool& blockingPool() noexcept override { return host_.blockingPool(); }
  sdk::CommandRegistry& commands() noexcept override { return commands_; }
  int64_t serverId() const noexcept override { return host_.serverId(); }

 private:
  class NoCommands final : public sdk::CommandRegistry {
   public:
    Status add(sdk::Command) noexcept override { return Status::ok(); }
    const sdk::Command* find(std::string_view) const noexcept override { return nullptr; }
    std::vector<const sdk::Command*> all() const override { return {}; }
  };
  sdk::Host& host_;
  sdk::BasicMetricsRegistry metrics_;
  NoCommands commands_;
};

}  // namespace

bool hasZooKeeperFiles(const RocksSettings& settings) {
  return !formats::listDataFiles(settings.data_dir / "version-2", "snapshot").empty() ||
         !formats::listDataFiles(settings.log_dir / "version-2", "log").empty();
}

Status importZooKeeperFiles(sdk::Host& host, const RocksSettings& settings, BulkLoader& loader, sdk::Zxid& zxid,
                            sdk::Zxid& log_base) {
  const auto started = std::chrono::steady_clock::now();
  auto& log = host.logger();
  log.info("importing the ZooKeeper-format files of {} (first start on this data dir)",
           settings.data_dir.string());
  ImportHost import_host(host);
  memlog::DurabilitySettings files;
  files.durable = true;
  files.data_dir = settings.data_dir;
  files.log_dir = settings.log_dir;
  files.digest_enabled = settings.digest_enabled;
  files.autocreate = false;
  files.force_sync = settings.force_sync;
  memlog::MemlogStorage source(import_host, files);
  if (auto status = source.start(); !status.isOk()) return status;
  std::vector<sdk::RecoveredSession> sessions;
  Status recovered = source.recover(sessions);
  if (!recovered.isOk()) {
    source.stop();
    return Status(recovered.code(), "import: " + recovered.message());
  }
  zxid = source.stats().last_applied_zxid;
  log.info("import: recovered zxid {:#x}, {} nodes, {} sessions; writing them to RocksDB", zxid,
           source.stats().node_count, sessions.size());
  Status failed;
  for (const auto& session : sessions) {
    if (failed.isOk()) failed = loader.session(session.id, session.timeout_ms);
  }
  if (failed.isOk()) {
    source.tree().visitSnapshot(
        [&](int64_t key, const sdk::AclList& acl) {
          if (failed.isOk()) failed = loader.acl(key, acl);
        },
        [&](const memlog::NodeRecord& node) {
          if (failed.isOk()) failed = loader.node(node.path, node.data, node.acl_key, node.stat);
        });
  }
  log_base = source.lastRecovery().snapshot_zxid;
  if (failed.isOk()) {
    auto read = source.readLog(log_base, [&](const sdk::TxnEntry& txn) {
      std::string bytes;
      sdk::JuteWriter w(bytes);
      sdk::encode(w, txn);
      failed = loader.logEntry(txn.header.zxid, bytes);
      return failed.isOk();
    });
    if (!read.isOk()) {
      // The tree is complete without them: followers then get a snapshot instead of a DIFF.
      log.warn("import: the txn logs after {:#x} are not kept: {}", log_base, read.toString());
      log_base = zxid;
    }
  }
  source.stop();
  if (failed.isOk()) failed = loader.finish();
  if (!failed.isOk()) return failed;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  log.info("import done: {} nodes up to zxid {:#x} in {:.2f} s (the ZooKeeper files stay in place)",
           loader.nodes(), zxid, seconds);
  return Status::ok();
}

}  // namespace corral::plugins::rocks

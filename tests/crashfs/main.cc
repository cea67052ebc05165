// corral-crashfs: a FUSE filesystem that forgets, at unmount, everything that was not made
// durable: file data and sizes not fsynced, and directory entries (creates, renames, removes)
// whose directory was not fsynced. Mount it, run a server on it, kill the server, unmount:
// STATE then holds what a restart after a power cut would find. See README.md.


#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "fuse_ops.h"

namespace {

namespace fs = std::filesystem;
using corral::crashfs::DurableTree;
using corral::crashfs::MetadataModel;
using corral::crashfs::SyncPolicy;

constexpr const char* kUsage =
    "usage: corral-crashfs [options] STATE MOUNTPOINT\n"
    "  Mounts STATE (a directory, all of it durable) at MOUNTPOINT, in the foreground. At\n"
    "  unmount (umount MOUNTPOINT, or SIGTERM) STATE is replaced by the durable state only.\n"
    "options:\n"
    "  --metadata=strict    POSIX: a directory's entries are durable when it is fsynced (default)\n"
    "  --metadata=journal   ext4/xfs-like: any fsync also makes every directory's entries durable\n"
    "  --ignore-fsync=GLOB  fsync of files whose name matches GLOB does nothing (repeatable)\n"
    "  --ignore-dir-fsync[=GLOB]  fsync of directories (whose name matches GLOB) does nothing\n"
    "  --debug              FUSE's debug trace on stderr\n"
    "signals: SIGUSR1 makes every fsync fail with EIO from then on (a dying disk; data written\n"
    "  before it is never made durable by a later fsync), SIGUSR2 makes them work again.\n";

struct Options {
  SyncPolicy policy;
  fs::path state;
  std::string mountpoint;
  bool debug = false;
};

bool parse(int argc, char** argv, Options& out) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--metadata=strict") {
      out.policy.metadata = MetadataModel::kStrict;
    } else if (arg == "--metadata=journal") {
      out.policy.metadata = MetadataModel::kJournal;
    } else if (arg.rfind("--ignore-fsync=", 0) == 0) {
      out.policy.ignore_file_fsync.push_back(arg.substr(std::strlen("--ignore-fsync=")));
    } else if (arg == "--ignore-dir-fsync") {
      out.policy.ignore_dir_fsync.push_back("*");
    } else if (arg.rfind("--ignore-dir-fsync=", 0) == 0) {
      out.policy.ignore_dir_fsync.push_back(arg.substr(std::strlen("--ignore-dir-fsync=")));
    } else if (arg == "--debug") {
      out.debug = true;
    } else if (arg.rfind("-", 0) == 0) {
      std::fprintf(stderr, "corral-crashfs: unknown option %s\n%s", arg.c_str(), kUsage);
      return false;
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 2) {
    std::fputs(kUsage, stderr);
    return false;
  }
  out.state = fs::absolute(positional[0]);  // FUSE may chdir("/") before the dump
  out.mountpoint = positional[1];
  return true;
}

void onSyncSignal(int signal) {
  corral::crashfs::syncsFail().store(signal == SIGUSR1, std::memory_order_relaxed);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  Options options;
  if (!parse(argc, argv, options)) return 2;
  DurableTree tree(options.policy);
  try {
    tree.load(options.state);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-crashfs: cannot load %s: %s\n", options.state.c_str(), e.what());
    return 1;
  }

  struct sigaction action {};
  action.sa_handler = onSyncSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, nullptr);
  sigaction(SIGUSR2, &action, nullptr);

  // Foreground, one thread (the tree has no locks), our own name in /proc/mounts.
  std::vector<std::string> args = {argv[0], options.mountpoint, "-f", "-s", "-o",
                                   "fsname=corral-crashfs,subtype=crashfs"};
  if (options.debug) args.push_back("-d");
  std::vector<char*> fuse_argv;
  for (auto& a : args) fuse_argv.push_back(a.data());
  const int rc = fuse_main(static_cast<int>(fuse_argv.size()), fuse_argv.data(),
                           &corral::crashfs::fuseOperations(), &tree);
  if (rc != 0) return rc;

  // The power cut: only the durable state survives.
  const fs::path next = options.state.string() + ".durable";
  try {
    fs::remove_all(next);
    tree.dumpDurable(next);
    fs::remove_all(options.state);
    fs::rename(next, options.state);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corral-crashfs: cannot write the durable state: %s\n", e.what());
    return 1;
  }
  const auto& c = tree.counts();
  std::printf("{\"file_syncs\": %llu, \"dir_syncs\": %llu, \"ignored_file_syncs\": %llu, "
              "\"ignored_dir_syncs\": %llu, \"failed_syncs\": %llu}\n",
              static_cast<unsigned long long>(c.file_syncs),
              static_cast<unsigned long long>(c.dir_syncs),
              static_cast<unsigned long long>(c.ignored_file_syncs),
              static_cast<unsigned long long>(c.ignored_dir_syncs),
              static_cast<unsigned long long>(c.failed_syncs));
  return 0;
}

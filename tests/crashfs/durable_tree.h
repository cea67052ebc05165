// The filesystem model of corral-crashfs: every file and directory has two states, what the
// running system sees (volatile) and what would be on the platter after a power cut (durable).
//
// Operations change the volatile state only. fsync of a file copies its data and size to the
// durable state; fsync of a directory copies its entries (names -> nodes). Under the strict
// POSIX model that is all: a file created, renamed or removed in a directory that was never
// fsynced since is, after the crash, as it was before. Under the journal model (ext4 and xfs in
// practice: metadata goes through one journal that every fsync commits) any fsync also makes
// every directory's entries durable, but still not other files' data.
//
// A crash keeps the durable state only (dumpDurable). The model is single-threaded: the FUSE
// layer runs its loop on one thread.
#pragma once

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace corral::crashfs {

enum class MetadataModel { kStrict, kJournal };

// What the model does with the syncs it is asked for. An ignored fsync stands for code that
// lacks the call: the durability tests show that their crash rounds catch the loss.
struct SyncPolicy {
  MetadataModel metadata = MetadataModel::kStrict;
  std::vector<std::string> ignore_file_fsync;  // fnmatch(3) patterns on the file's name
  std::vector<std::string> ignore_dir_fsync;   // ... on the directory's name ("" for the root)
};

struct SyncCounts {
  uint64_t file_syncs = 0;
  uint64_t dir_syncs = 0;
  uint64_t ignored_file_syncs = 0;
  uint64_t ignored_dir_syncs = 0;
  uint64_t failed_syncs = 0;
};

class Node {
 public:
  static constexpr size_t kBlockSize = 4096;

  Node(bool is_dir, mode_t mode, uint64_t ino) : is_dir_(is_dir), mode_(mode), ino_(ino) {}

  bool isDir() const { return is_dir_; }
  uint64_t ino() const { return ino_; }
  mode_t mode() const { return mode_; }
  void setMode(mode_t mode) { mode_ = mode & 07777; }
  timespec mtime{};

  // Files.
  uint64_t size() const { return size_; }
  uint64_t durableSize() const { return durable_size_; }
  size_t read(char* out, size_t count, uint64_t offset) const;
  void write(const char* data, size_t count, uint64_t offset);
  void truncate(uint64_t size);
  void syncData();
  // A failed fsync (EIO): what was written since the last sync will never be made durable by
  // a later fsync (Linux marks the pages clean after a writeback error), though reads still
  // see it until the cut.
  void dropUnsynced() { dirty_.clear(); }
  // Fills the file from a real file's descriptor (holes and blocks of zeros stay holes), all
  // durable; false with errno set on failure.
  bool loadDurableFrom(int fd);
  // Writes the durable bytes to `fd` (holes stay holes); false with errno set on failure.
  bool writeDurableTo(int fd) const;
  // The durable bytes, holes as zeros.
  std::string durableBytes() const;
  std::string volatileBytes() const;

  // Directories: name -> node, as seen now and as durable.
  std::map<std::string, std::shared_ptr<Node>> entries;
  std::map<std::string, std::shared_ptr<Node>> durable_entries;
  void syncEntries() { durable_entries = entries; }

 private:
  using Block = std::array<char, kBlockSize>;
  using Blocks = std::map<uint64_t, std::shared_ptr<Block>>;
  Block& writableBlock(uint64_t index);
  static std::string bytesOf(const Blocks& blocks, uint64_t size);

  bool is_dir_;
  mode_t mode_;
  uint64_t ino_;
  // Copy on write: a synced block is shared by both maps until the next write to it.
  Blocks blocks_;
  Blocks durable_blocks_;
  std::set<uint64_t> dirty_;  // blocks written or dropped since the last sync
  uint64_t size_ = 0;
  uint64_t durable_size_ = 0;
};

// A path inside the mount, "/" separated, absolute ("/a/b").
class DurableTree {
 public:
  explicit DurableTree(SyncPolicy policy);

  // Loads a directory of the real filesystem; everything in it is durable.
  void load(const std::filesystem::path& dir);
  // Writes the durable state to `dir` (which must not exist): what a restart after a power
  // cut would find.
  void dumpDurable(const std::filesystem::path& dir) const;

  std::shared_ptr<Node> lookup(std::string_view path) const;
  // The errors are negated errno values, as FUSE wants them; 0 on success.
  int makeDir(std::string_view path, mode_t mode);
  int makeFile(std::string_view path, mode_t mode, std::shared_ptr<Node>* made);
  int removeFile(std::string_view path);
  int removeDir(std::string_view path);
  int rename(std::string_view from, std::string_view to, bool no_replace);

  // 0, or -EIO while syncs are set to fail.
  int syncFile(Node& node, std::string_view name);
  int syncDir(Node& node, std::string_view name);
  // From now on every fsync fails with EIO (a dying disk), or works again.
  void setSyncsFail(bool fail) { syncs_fail_ = fail; }
  const SyncCounts& counts() const { return counts_; }
  const std::shared_ptr<Node>& root() const { return root_; }

 private:
  std::shared_ptr<Node> newNode(bool is_dir, mode_t mode);
  // Splits "/a/b/c" into the node of "/a/b" and "c".
  int parentOf(std::string_view path, std::shared_ptr<Node>* parent, std::string* name) const;
  void commitAllEntries(Node& dir);
  void loadInto(Node& dir, const std::filesystem::path& from);
  static void dumpInto(const Node& dir, const std::filesystem::path& to);

  SyncPolicy policy_;
  SyncCounts counts_;
  bool syncs_fail_ = false;
  uint64_t next_ino_ = 1;
  std::shared_ptr<Node> root_;
};

}  // namespace corral::crashfs

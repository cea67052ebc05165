#include "durable_tree.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace corral::crashfs {

namespace fs = std::filesystem;

// ----------------------------------------------------------------------------- Node (files)

size_t Node::read(char* out, size_t count, uint64_t offset) const {
  if (offset >= size_) return 0;
  count = static_cast<size_t>(std::min<uint64_t>(count, size_ - offset));
  size_t done = 0;
  while (done < count) {
    const uint64_t at = offset + done;
    const uint64_t index = at / kBlockSize;
    const size_t in_block = at % kBlockSize;
    const size_t chunk = std::min(count - done, kBlockSize - in_block);
    if (auto it = blocks_.find(index); it != blocks_.end()) {
      std::memcpy(out + done, it->second->data() + in_block, chunk);
    } else {
      std::memset(out + done, 0, chunk);  // a hole
    }
    done += chunk;
  }
  return count;
}

Node::Block& Node::writableBlock(uint64_t index) {
  auto& slot = blocks_[index];
  if (!slot) {
    slot = std::make_shared<Block>();
    slot->fill(0);
  } else if (slot.use_count() > 1) {
    slot = std::make_shared<Block>(*slot);  // still shared with the durable state
  }
  dirty_.insert(index);
  return *slot;
}

void Node::write(const char* data, size_t count, uint64_t offset) {
  size_t done = 0;
  while (done < count) {
    const uint64_t at = offset + done;
    const size_t in_block = at % kBlockSize;
    const size_t chunk = std::min(count - done, kBlockSize - in_block);
    std::memcpy(writableBlock(at / kBlockSize).data() + in_block, data + done, chunk);
    done += chunk;
  }
  size_ = std::max<uint64_t>(size_, offset + count);
}

void Node::truncate(uint64_t size) {
  if (size < size_) {
    const uint64_t first_gone = (size + kBlockSize - 1) / kBlockSize;
    for (auto it = blocks_.lower_bound(first_gone); it != blocks_.end();) {
      dirty_.insert(it->first);
      it = blocks_.erase(it);
    }
    // The kept part of the last block must read as zeros if the file grows again.
    if (size % kBlockSize != 0 && blocks_.count(size / kBlockSize) != 0) {
      Block& last = writableBlock(size / kBlockSize);
      std::fill(last.begin() + static_cast<long>(size % kBlockSize), last.end(), 0);
    }
  }
  size_ = size;
}

void Node::syncData() {
  for (uint64_t index : dirty_) {
    if (auto it = blocks_.find(index); it != blocks_.end()) {
      durable_blocks_[index] = it->second;
    } else {
      durable_blocks_.erase(index);
    }
  }
  dirty_.clear();
  durable_size_ = size_;
}

std::string Node::bytesOf(const Blocks& blocks, uint64_t size) {
  std::string out(size, '\0');
  for (const auto& [index, block] : blocks) {
    const uint64_t at = index * kBlockSize;
    if (at >= size) break;
    std::memcpy(out.data() + at, block->data(), std::min<uint64_t>(kBlockSize, size - at));
  }
  return out;
}

bool Node::loadDurableFrom(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return false;
  const auto size = static_cast<uint64_t>(st.st_size);
  static const Block zeros{};
  Block buffer;
  // Only the data extents (a preallocated 64 MiB log is mostly a hole); blocks of zeros stay
  // holes too.
  off_t at = ::lseek(fd, 0, SEEK_DATA);
  while (at >= 0 && static_cast<uint64_t>(at) < size) {
    off_t hole = ::lseek(fd, at, SEEK_HOLE);
    if (hole < 0) hole = static_cast<off_t>(size);
    for (uint64_t block = static_cast<uint64_t>(at) / kBlockSize * kBlockSize;
         block < static_cast<uint64_t>(hole); block += kBlockSize) {
      const ssize_t n = ::pread(fd, buffer.data(), kBlockSize, static_cast<off_t>(block));
      if (n < 0) return false;
      if (std::memcmp(buffer.data(), zeros.data(), static_cast<size_t>(n)) != 0) {
        write(buffer.data(), static_cast<size_t>(n), block);
      }
    }
    at = ::lseek(fd, hole, SEEK_DATA);
  }
  if (at < 0 && errno != ENXIO) return false;  // ENXIO: no data after `hole`
  size_ = size;
  syncData();
  return true;
}

bool Node::writeDurableTo(int fd) const {
  for (const auto& [index, block] : durable_blocks_) {
    const uint64_t at = index * kBlockSize;
    if (at >= durable_size_) break;
    const size_t count = static_cast<size_t>(std::min<uint64_t>(kBlockSize, durable_size_ - at));
    size_t done = 0;
    while (done < count) {
      const ssize_t n = ::pwrite(fd, block->data() + done, count - done, static_cast<off_t>(at + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return false;
      done += static_cast<size_t>(n);
    }
  }
  return ::ftruncate(fd, static_cast<off_t>(durable_size_)) == 0;
}

std::string Node::durableBytes() const { return bytesOf(durable_blocks_, durable_size_); }
std::string Node::volatileBytes() const { return bytesOf(blocks_, size_); }

// ----------------------------------------------------------------------------- DurableTree

DurableTree::DurableTree(SyncPolicy policy)
    : policy_(std::move(policy)), root_(newNode(true, 0755)) {}

std::shared_ptr<Node> DurableTree::newNode(bool is_dir, mode_t mode) {
  auto node = std::make_shared<Node>(is_dir, mode & 07777, next_ino_++);
  clock_gettime(CLOCK_REALTIME, &node->mtime);
  return node;
}

std::shared_ptr<Node> DurableTree::lookup(std::string_view path) const {
  std::shared_ptr<Node> at = root_;
  size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    const size_t end = std::min(path.find('/', pos), path.size());
    if (!at->isDir()) return nullptr;
    auto it = at->entries.find(std::string(path.substr(pos, end - pos)));
    if (it == at->entries.end()) return nullptr;
    at = it->second;
    pos = end;
  }
  return at;
}

int DurableTree::parentOf(std::string_view path, std::shared_ptr<Node>* parent,
                          std::string* name) const {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash + 1 == path.size()) return -EINVAL;
  *parent = lookup(path.substr(0, slash));
  if (!*parent) return -ENOENT;
  if (!(*parent)->isDir()) return -ENOTDIR;
  *name = std::string(path.substr(slash + 1));
  return 0;
}

int DurableTree::makeDir(std::string_view path, mode_t mode) {
  std::shared_ptr<Node> parent;
  std::string name;
  if (int rc = parentOf(path, &parent, &name); rc != 0) return rc;
  if (parent->entries.count(name) != 0) return -EEXIST;
  parent->entries[name] = newNode(true, mode);
  return 0;
}

int DurableTree::makeFile(std::string_view path, mode_t mode, std::shared_ptr<Node>* made) {
  std::shared_ptr<Node> parent;
  std::string name;
  if (int rc = parentOf(path, &parent, &name); rc != 0) return rc;
  if (parent->entries.count(name) != 0) return -EEXIST;
  *made = newNode(false, mode);
  parent->entries[name] = *made;
  return 0;
}

int DurableTree::removeFile(std::string_view path) {
  std::shared_ptr<Node> parent;
  std::string name;
  if (int rc = parentOf(path, &parent, &name); rc != 0) return rc;
  auto it = parent->entries.find(name);
  if (it == parent->entries.end()) return -ENOENT;
  if (it->second->isDir()) return -EISDIR;
  parent->entries.erase(it);
  return 0;
}

int DurableTree::removeDir(std::string_view path) {
  std::shared_ptr<Node> parent;
  std::string name;
  if (int rc = parentOf(path, &parent, &name); rc != 0) return rc;
  auto it = parent->entries.find(name);
  if (it == parent->entries.end()) return -ENOENT;
  if (!it->second->isDir()) return -ENOTDIR;
  if (!it->second->entries.empty()) return -ENOTEMPTY;
  parent->entries.erase(it);
  return 0;
}

int DurableTree::rename(std::string_view from, std::string_view to, bool no_replace) {
  std::shared_ptr<Node> from_dir, to_dir;
  std::string from_name, to_name;
  if (int rc = parentOf(from, &from_dir, &from_name); rc != 0) return rc;
  if (int rc = parentOf(to, &to_dir, &to_name); rc != 0) return rc;
  auto it = from_dir->entries.find(from_name);
  if (it == from_dir->entries.end()) return -ENOENT;
  std::shared_ptr<Node> moving = it->second;
  if (auto target = to_dir->entries.find(to_name); target != to_dir->entries.end()) {
    if (target->second == moving) return 0;
    if (no_replace) return -EEXIST;
    if (target->second->isDir() != moving->isDir()) {
      return moving->isDir() ? -ENOTDIR : -EISDIR;
    }
    if (target->second->isDir() && !target->second->entries.empty()) return -ENOTEMPTY;
  }
  // A directory may not move below itself.
  if (moving->isDir()) {
    for (std::string_view up = to; !up.empty() && up != "/";) {
      if (lookup(up) == moving) return -EINVAL;
      up = up.substr(0, up.rfind('/'));
    }
  }
  from_dir->entries.erase(from_name);
  to_dir->entries[to_name] = moving;
  return 0;
}

void DurableTree::commitAllEntries(Node& dir) {
  dir.syncEntries();
  for (auto& [name, child] : dir.entries) {
    if (child->isDir()) commitAllEntries(*child);
  }
}

namespace {
bool matchesAny(const std::vector<std::string>& patterns, std::string_view name) {
  const std::string text(name);
  for (const auto& pattern : patterns) {
    if (fnmatch(pattern.c_str(), text.c_str(), 0) == 0) return true;
  }
  return false;
}
}  // namespace

int DurableTree::syncFile(Node& node, std::string_view name) {
  if (syncs_fail_) {
    ++counts_.failed_syncs;
    node.dropUnsynced();
    return -EIO;
  }
  if (matchesAny(policy_.ignore_file_fsync, name)) {
    ++counts_.ignored_file_syncs;
    return 0;
  }
  ++counts_.file_syncs;
  node.syncData();
  if (policy_.metadata == MetadataModel::kJournal) commitAllEntries(*root_);
  return 0;
}

int DurableTree::syncDir(Node& node, std::string_view name) {
  if (syncs_fail_) {
    ++counts_.failed_syncs;
    return -EIO;
  }
  if (matchesAny(policy_.ignore_dir_fsync, name)) {
    ++counts_.ignored_dir_syncs;
    return 0;
  }
  ++counts_.dir_syncs;
  if (policy_.metadata == MetadataModel::kJournal) {
    commitAllEntries(*root_);
  } else {
    node.syncEntries();
  }
  return 0;
}

// ----------------------------------------------------------------------------- load / dump

void DurableTree::load(const fs::path& dir) {
  loadInto(*root_, dir);
  commitAllEntries(*root_);
}

void DurableTree::loadInto(Node& dir, const fs::path& from) {
  for (const auto& entry : fs::directory_iterator(from)) {
    const auto status = entry.symlink_status();
    const auto mode = static_cast<mode_t>(status.permissions());
    const std::string name = entry.path().filename();
    if (fs::is_directory(status)) {
      auto child = newNode(true, mode);
      loadInto(*child, entry.path());
      dir.entries[name] = child;
    } else if (fs::is_regular_file(status)) {
      auto child = newNode(false, mode);
      const int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw std::system_error(errno, std::generic_category(), entry.path().string());
      const bool ok = child->loadDurableFrom(fd);
      const int error = errno;
      ::close(fd);
      if (!ok) throw std::system_error(error, std::generic_category(), entry.path().string());
      dir.entries[name] = child;
    } else {
      throw std::runtime_error("only directories and regular files are supported: " +
                               entry.path().string());
    }
  }
}

void DurableTree::dumpDurable(const fs::path& dir) const {
  fs::create_directory(dir);  // throws if it exists: never mix two states
  dumpInto(*root_, dir);
}

void DurableTree::dumpInto(const Node& dir, const fs::path& to) {
  for (const auto& [name, child] : dir.durable_entries) {
    const fs::path path = to / name;
    if (child->isDir()) {
      fs::create_directory(path);
      fs::permissions(path, static_cast<fs::perms>(child->mode()));
      dumpInto(*child, path);
      continue;
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, child->mode());
    if (fd < 0) throw std::system_error(errno, std::generic_category(), path.string());
    if (!child->writeDurableTo(fd)) {
      const int error = errno;
      ::close(fd);
      throw std::system_error(error, std::generic_category(), path.string());
    }
    ::close(fd);
  }
}

}  // namespace corral::crashfs

#include "fuse_ops.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <atomic>
#include <memory>

namespace corral::crashfs {
namespace {

DurableTree& tree() {
  auto& t = *static_cast<DurableTree*>(fuse_get_context()->private_data);
  t.setSyncsFail(syncsFail().load(std::memory_order_relaxed));
  return t;
}

// An open file or directory holds its node, so that it outlives an unlink (hard_remove).
using Handle = std::shared_ptr<Node>;

uint64_t openHandle(std::shared_ptr<Node> node) { return reinterpret_cast<uint64_t>(new Handle(std::move(node))); }
Handle& handleOf(const fuse_file_info* fi) { return *reinterpret_cast<Handle*>(fi->fh); }

std::shared_ptr<Node> nodeOf(const char* path, const fuse_file_info* fi) {
  if (fi != nullptr && fi->fh != 0) return handleOf(fi);
  return path != nullptr ? tree().lookup(path) : nullptr;
}

std::string_view nameOf(const char* path) {
  if (path == nullptr) return {};
  std::string_view p(path);
  return p.substr(p.rfind('/') + 1);
}

void fillStat(const Node& node, struct stat* st) {
  std::memset(st, 0, sizeof(*st));
  st->st_ino = node.ino();
  st->st_mode = (node.isDir() ? S_IFDIR : S_IFREG) | node.mode();
  st->st_nlink = node.isDir() ? 2 : 1;
  st->st_uid = getuid();
  st->st_gid = getgid();
  st->st_size = node.isDir() ? 4096 : static_cast<off_t>(node.size());
  st->st_blksize = Node::kBlockSize;
  st->st_blocks = (st->st_size + 511) / 512;
  st->st_mtim = st->st_ctim = st->st_atim = node.mtime;
}

void touch(Node& node) { clock_gettime(CLOCK_REALTIME, &node.mtime); }

void* onInit(fuse_conn_info*, fuse_config* cfg) {
  // Unlinked files stay usable through their open handles (no .fuse_hidden renames). Paths
  // stay on (no nullpath_ok): fsync needs the name for --ignore-fsync.
  cfg->hard_remove = 1;
  cfg->use_ino = 1;
  // Never trust the kernel's cached attributes or names: the tree is the truth.
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  return fuse_get_context()->private_data;
}

int onGetattr(const char* path, struct stat* st, fuse_file_info* fi) {
  auto node = nodeOf(path, fi);
  if (!node) return -ENOENT;
  fillStat(*node, st);
  return 0;
}

int onReaddir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info* fi,
              fuse_readdir_flags) {
  auto node = nodeOf(path, fi);
  if (!node) return -ENOENT;
  if (!node->isDir()) return -ENOTDIR;
  fill(buf, ".", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  fill(buf, "..", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  for (const auto& [name, child] : node->entries) {
    struct stat st;
    fillStat(*child, &st);
    fill(buf, name.c_str(), &st, 0, static_cast<fuse_fill_dir_flags>(0));
  }
  return 0;
}

int onOpendir(const char* path, fuse_file_info* fi) {
  auto node = tree().lookup(path);
  if (!node) return -ENOENT;
  if (!node->isDir()) return -ENOTDIR;
  fi->fh = openHandle(std::move(node));
  return 0;
}

int onRelease(const char*, fuse_file_info* fi) {
  delete reinterpret_cast<Handle*>(fi->fh);
  fi->fh = 0;
  return 0;
}

int onMkdir(const char* path, mode_t mode) { return tree().makeDir(path, mode); }
int onRmdir(const char* path) { return tree().removeDir(path); }
int onUnlink(const char* path) { return tree().removeFile(path); }

int onRename(const char* from, const char* to, unsigned int flags) {
  if ((flags & ~RENAME_NOREPLACE) != 0) return -EINVAL;  // no RENAME_EXCHANGE/WHITEOUT
  return tree().rename(from, to, (flags & RENAME_NOREPLACE) != 0);
}

int onCreate(const char* path, mode_t mode, fuse_file_info* fi) {
  std::shared_ptr<Node> made;
  if (int rc = tree().makeFile(path, mode, &made); rc != 0) return rc;
  fi->fh = openHandle(std::move(made));
  return 0;
}

int onOpen(const char* path, fuse_file_info* fi) {
  auto node = tree().lookup(path);
  if (!node) return -ENOENT;
  if (node->isDir()) return -EISDIR;
  fi->fh = openHandle(std::move(node));
  return 0;
}

int onRead(const char*, char* buf, size_t size, off_t offset, fuse_file_info* fi) {
  return static_cast<int>(handleOf(fi)->read(buf, size, static_cast<uint64_t>(offset)));
}

int onWrite(const char* path, const char* buf, size_t size, off_t offset, fuse_file_info* fi) {
  Node& node = *handleOf(fi);
  node.write(buf, size, static_cast<uint64_t>(offset));
  touch(node);
  // O_SYNC / O_DSYNC: each write is durable when it returns.
  if ((fi->flags & (O_SYNC | O_DSYNC)) != 0) {
    if (int rc = tree().syncFile(node, nameOf(path)); rc != 0) return rc;
  }
  return static_cast<int>(size);
}

int onTruncate(const char* path, off_t size, fuse_file_info* fi) {
  auto node = nodeOf(path, fi);
  if (!node) return -ENOENT;
  if (node->isDir()) return -EISDIR;
  node->truncate(static_cast<uint64_t>(size));
  touch(*node);
  return 0;
}

int onFallocate(const char* path, int mode, off_t offset, off_t length, fuse_file_info* fi) {
  auto node = nodeOf(path, fi);
  if (!node) return -ENOENT;
  if ((mode & ~FALLOC_FL_KEEP_SIZE) != 0) return -EOPNOTSUPP;  // no punch/collapse/zero
  // Space is not reserved (the tree lives in memory); only the size may grow.
  const auto end = static_cast<uint64_t>(offset + length);
  if ((mode & FALLOC_FL_KEEP_SIZE) == 0 && end > node->size()) node->truncate(end);
  return 0;
}

int onFsync(const char* path, int, fuse_file_info* fi) {
  auto node = nodeOf(path, fi);
  if (!node) return -ENOENT;
  return tree().syncFile(*node, nameOf(path));
}

int onFsyncdir(const char* path, int, fuse_file_info* fi) {
  auto node = nodeOf(path, fi);
  if (!node) return -ENOENT;
  return tree().syncDir(*node, nameOf(path));
}

int onFlush(const char*, fuse_file_info*) { return 0; }

int onChmod(const char* path, mode_t mode, fuse_file_info* fi) {
  auto node = nodeOf(path, fi);
  if (!node) return -ENOENT;
  node->setMode(mode);
  return 0;
}

int onChown(const char*, uid_t, gid_t, fuse_file_info*) { return 0; }

int onUtimens(const char* path, const timespec tv[2], fuse_file_info* fi) {
  auto node = nodeOf(path, fi);
  if (!node) return -ENOENT;
  if (tv == nullptr || tv[1].tv_nsec == UTIME_NOW) {
    touch(*node);
  } else if (tv[1].tv_nsec != UTIME_OMIT) {
    node->mtime = tv[1];
  }
  return 0;
}

int onStatfs(const char*, struct statvfs* st) {
  std::memset(st, 0, sizeof(*st));
  st->f_bsize = st->f_frsize = Node::kBlockSize;
  st->f_blocks = st->f_bfree = st->f_bavail = 1ULL << 24;  // 64 GiB, all free
  st->f_files = st->f_ffree = st->f_favail = 1ULL << 20;
  st->f_namemax = 255;
  return 0;
}

int onAccess(const char* path, int) { return tree().lookup(path) ? 0 : -ENOENT; }

fuse_operations makeOperations() {
  fuse_operations ops{};
  ops.init = onInit;
  ops.getattr = onGetattr;
  ops.readdir = onReaddir;
  ops.opendir = onOpendir;
  ops.releasedir = onRelease;
  ops.mkdir = onMkdir;
  ops.rmdir = onRmdir;
  ops.unlink = onUnlink;
  ops.rename = onRename;
  ops.create = onCreate;
  ops.open = onOpen;
  ops.read = onRead;
  ops.write = onWrite;
  ops.truncate = onTruncate;
  ops.fallocate = onFallocate;
  ops.fsync = onFsync;
  ops.fsyncdir = onFsyncdir;
  ops.flush = onFlush;
  ops.release = onRelease;
  ops.chmod = onChmod;
  ops.chown = onChown;
  ops.utimens = onUtimens;
  ops.statfs = onStatfs;
  ops.access = onAccess;
  return ops;
}

}  // namespace

std::atomic<bool>& syncsFail() {
  static std::atomic<bool> fail{false};
  return fail;
}

const fuse_operations& fuseOperations() {
  static const fuse_operations ops = makeOperations();
  return ops;
}

}  // namespace corral::crashfs

// The FUSE high-level operations of corral-crashfs, over one DurableTree.
#pragma once

#include <fuse.h>

#include <atomic>

#include "durable_tree.h"

namespace corral::crashfs {

// The operations table; every callback finds the tree through fuse_get_context()->private_data.
const fuse_operations& fuseOperations();

// Set from a signal handler (SIGUSR1: every fsync fails with EIO, SIGUSR2: they work again);
// read by each operation.
std::atomic<bool>& syncsFail();

}  // namespace corral::crashfs

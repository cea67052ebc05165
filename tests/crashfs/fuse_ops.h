// The FUSE high-level operations of corral-crashfs, over one DurableTree.
#pragma once

#include <fuse.h>

#include "durable_tree.h"

namespace corral::crashfs {

// The operations table; every callback finds the tree through fuse_get_context()->private_data.
const fuse_operations& fuseOperations();

}  // namespace corral::crashfs

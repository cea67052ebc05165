// What the pipeline needs to know of an opcode: whether it carries a txn, and the name
// ZooKeeper's `cons` prints for it.
#pragma once

#include "corral/frontend.h"
#include "corral/types.h"

namespace corral::kernel::pipeline {

// Ops that become a txn (a client's createSession and closeSession are handled apart).
bool isWrite(sdk::OpCode op);

// Whether a write's decoded body is the record its op needs (multi: every sub-op's too). A
// front end's decoder never makes a mismatch; a request forwarded by a peer might.
bool writeBodyFitsOp(const sdk::ClientRequest& request);

// ZooKeeper's Request.op2String abbreviations, as cons prints them (lop=...).
const char* opName(sdk::OpCode op);

}  // namespace corral::kernel::pipeline

// A committed txn as the leader re-sends it in a DIFF: its zxid and its PROPOSAL data.
#pragma once

#include "corral/types.h"
#include "packet_sender.h"

namespace corral::plugins::zab {

struct CommittedTxn {
  sdk::Zxid zxid = 0;
  PacketBytes entry;  // TxnHeader + body + digest: the PROPOSAL data
};

}  // namespace corral::plugins::zab

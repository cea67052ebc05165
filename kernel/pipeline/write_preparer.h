// WritePreparer: turns a write request into the txn that will be logged, validating it
// against the tree plus every not-yet-applied change (ZooKeeper's PrepRequestProcessor).
//
// Every write consumes a zxid: a request that fails validation becomes an ErrorTxn with
// ZooKeeper's code, exactly as ZooKeeper logs it. The checks run in ZooKeeper's order, so
// a request with several problems fails with the same code on both servers.
// Not thread-safe: the pipeline strand owns it.
#pragma once

#include <vector>

#include "corral/frontend.h"
#include "corral/txn_records.h"
#include "kernel/pipeline/acl_checker.h"
#include "kernel/pipeline/pending_changes.h"

namespace corral::kernel::pipeline {

struct PrepareContext {
  sdk::SessionId session = 0;
  int32_t cxid = 0;
  const std::vector<sdk::Id>* ids = nullptr;  // the connection's auth ids
  sdk::Zxid zxid = 0;
  sdk::TimeMs time = 0;
};

class WritePreparer {
 public:
  WritePreparer(PendingChanges& pending, const AclChecker& acl, bool extended_types)
      : pending_(pending), acl_(acl), extended_types_(extended_types) {}

  // The txn for a client write (create*, delete, setData, setACL, check, multi, or a write
  // whose body did not decode).
  sdk::TxnEntry prepare(const PrepareContext& context, const sdk::ClientRequest& request);
  sdk::TxnEntry createSession(const PrepareContext& context, int32_t timeout_ms);
  // `ephemerals`: the session's ephemeral nodes in the storage; pending creates and deletes
  // of the session are folded in here.
  sdk::TxnEntry closeSession(const PrepareContext& context, std::vector<std::string> ephemerals);
  // A server-issued delete (container and TTL reaper); NoNode/NotEmpty become error txns.
  sdk::TxnEntry deleteNode(const PrepareContext& context, const std::string& path, bool container);
  // A reconfig the consensus accepted: `config` is the new config text. NoAuth without WRITE
  // on /zookeeper/config (super user or skipACL); the node's version becomes -1.
  sdk::TxnEntry reconfig(const PrepareContext& context, std::string config);

 private:
  using SavedStates = std::unordered_map<std::string, std::optional<NodeState>>;
  sdk::Status prepareOp(const PrepareContext& context, sdk::OpCode type, const sdk::RequestBody& body,
                        sdk::OpCode& txn_type, sdk::TxnBody& txn, SavedStates* saved);
  sdk::Status prepareCreate(const PrepareContext& context, sdk::OpCode type, const std::string& path_in,
                            const sdk::OptionalBytes& data, const sdk::AclList& acl, bool acl_null,
                            int32_t flags, int64_t ttl, sdk::OpCode& txn_type, sdk::TxnBody& txn,
                            SavedStates* saved);
  sdk::Status prepareDelete(const PrepareContext& context, const std::string& path, int32_t version,
                            sdk::TxnBody& txn, SavedStates* saved);
  sdk::TxnEntry prepareMulti(const PrepareContext& context, const sdk::MultiRequest& multi);
  void record(const std::string& path, NodeState state, sdk::Zxid zxid, SavedStates* saved);

  PendingChanges& pending_;
  const AclChecker& acl_;
  bool extended_types_;
};

}  // namespace corral::kernel::pipeline

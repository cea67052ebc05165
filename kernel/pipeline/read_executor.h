// ReadExecutor: answers every request that needs no txn, on the server the client is
// connected to: reads (with their watches), sync where it is local, multiRead, watch
// management, auth, sasl, whoAmI, ping, and unknown ops (ZooKeeper's FinalRequestProcessor
// for non-txn requests). Strand only.
#pragma once

#include "corral/frontend.h"
#include "corral/host.h"
#include "corral/storage.h"
#include "kernel/pipeline/acl_checker.h"
#include "kernel/pipeline/connection_state.h"
#include "kernel/pipeline/watch_dispatcher.h"
#include "kernel/runtime/server_metrics.h"

namespace corral::kernel::pipeline {

class ReadExecutor {
 public:
  ReadExecutor(const sdk::Storage& storage, const AclChecker& acl, WatchDispatcher& watches,
               runtime::KernelMetrics& metrics, sdk::Logger& log)
      : storage_(storage), acl_(acl), watches_(watches), metrics_(metrics), log_(log) {}

  // Fills err, body and close_after of `response` (xid and zxid are preset by the caller;
  // this may override them where ZooKeeper answers with special values).
  void execute(ConnectionState& connection, const sdk::ClientRequest& request,
               sdk::ClientResponse& response);

 private:
  void setWatches(ConnectionState& connection, const sdk::SetWatches2& request);
  void countRead(const std::string& path, int64_t bytes);
  // kOk, kNoNode, or kSystemError (logged) when the storage could not read.
  sdk::Code readNode(std::string_view path, uint32_t fields, sdk::NodeRead& node) const;

  const sdk::Storage& storage_;
  const AclChecker& acl_;
  WatchDispatcher& watches_;
  runtime::KernelMetrics& metrics_;
  sdk::Logger& log_;
};

}  // namespace corral::kernel::pipeline

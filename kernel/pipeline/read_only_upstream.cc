#include "kernel/pipeline/read_only_upstream.h"

#include <boost/asio/post.hpp>
#include <chrono>

#include "kernel/session/session_ids.h"

namespace corral::kernel::pipeline {

ReadOnlyUpstream::ReadOnlyUpstream(Strand& strand, int32_t tick_ms, std::function<void(sdk::TxnEntry)> answer,
                                   std::function<sdk::Zxid()> last_zxid)
    : strand_(strand),
      sessions_(tick_ms),
      answer_(std::move(answer)),
      last_zxid_(std::move(last_zxid)),
      expiry_timer_(strand) {
  scheduleExpiry();
}

ReadOnlyUpstream::~ReadOnlyUpstream() {
  *alive_ = false;
  expiry_timer_.cancel();
}

void ReadOnlyUpstream::post(sdk::TxnEntry txn) {
  txn.header.zxid = last_zxid_();
  txn.header.time = session::wallMs();
  boost::asio::post(strand_, [alive = alive_, answer = answer_, txn = std::move(txn)]() mutable {
    if (*alive) answer(std::move(txn));
  });
}

void ReadOnlyUpstream::submit(sdk::ForwardedRequest request, const std::vector<sdk::Id>&) {
  sdk::TxnEntry txn;
  txn.header.client_id = request.session;
  txn.header.cxid = request.request.xid;
  switch (request.request.op) {
    case sdk::OpCode::kCreateSession:
      sessions_.add(request.session, request.session_timeout_ms, session::monotonicMs());
      txn.header.type = sdk::OpCode::kCreateSession;
      txn.body = sdk::CreateSessionTxn{request.session_timeout_ms};
      break;
    case sdk::OpCode::kCloseSession:
      sessions_.remove(request.session);
      txn.header.type = sdk::OpCode::kCloseSession;
      txn.body = sdk::CloseSessionTxn{};
      break;
    default:
      // ZooKeeper's ReadOnlyRequestProcessor: every write, check, multi and sync.
      txn.header.type = sdk::OpCode::kError;
      txn.body = sdk::ErrorTxn{sdk::Code::kNotReadOnly};
      break;
  }
  post(std::move(txn));
}

void ReadOnlyUpstream::touch(sdk::SessionId id, int32_t timeout_ms) {
  sessions_.touch(id, session::monotonicMs(), timeout_ms);
}

void ReadOnlyUpstream::revalidate(sdk::SessionId id, int32_t timeout_ms, std::function<void(bool)> done) {
  done(sessions_.touch(id, session::monotonicMs(), timeout_ms));
}

void ReadOnlyUpstream::scheduleExpiry() {
  expiry_timer_.expires_after(std::chrono::milliseconds(sessions_.tickMs()));
  expiry_timer_.async_wait([this, alive = alive_](const boost::system::error_code& error) {
    if (error || !*alive) return;
    expire();
    scheduleExpiry();
  });
}

// A local session that timed out is closed here: nothing else in the ensemble knows it.
void ReadOnlyUpstream::expire() {
  for (sdk::SessionId id : sessions_.expired(session::monotonicMs())) {
    sessions_.remove(id);
    sdk::TxnEntry txn;
    txn.header.client_id = id;
    txn.header.type = sdk::OpCode::kCloseSession;
    txn.body = sdk::CloseSessionTxn{};
    post(std::move(txn));
  }
}

}  // namespace corral::kernel::pipeline

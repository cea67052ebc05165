#include "kernel/pipeline/forwarder.h"

#include <boost/asio/post.hpp>

namespace corral::kernel::pipeline {

void Forwarder::submit(sdk::ForwardedRequest request, const std::vector<sdk::Id>& auth_ids) {
  // ZooKeeper's learners send createSession without auth ids.
  if (request.request.op != sdk::OpCode::kCreateSession) request.auth_ids = auth_ids;
  consensus_.forward(std::move(request));
}

void Forwarder::revalidate(sdk::SessionId id, int32_t timeout_ms, std::function<void(bool)> done) {
  // The answer comes from the consensus' thread; the pipeline takes it on its strand.
  consensus_.revalidate(id, timeout_ms, [&strand = strand_, done = std::move(done)](bool valid) mutable {
    boost::asio::post(strand, [done = std::move(done), valid] { done(valid); });
  });
}

}  // namespace corral::kernel::pipeline

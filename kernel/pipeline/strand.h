// The one strand the kernel's request path runs on (pipeline, sequencer, forwarder, apply):
// its order is the order of events a client can observe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

namespace corral::kernel::pipeline {

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

}  // namespace corral::kernel::pipeline

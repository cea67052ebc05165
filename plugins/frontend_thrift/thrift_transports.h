// The two in-memory Thrift transports of frontend.thrift, so libthrift's protocols read a
// frame where the connection buffered it and write replies straight into its output buffer,
// without TMemoryBuffer's copies and resets. Both are non-virtual for the templated
// protocols (TBinaryProtocolT<FrameReader>, TCompactProtocolT<StringSink>).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <thrift/transport/TTransportException.h>
#include <thrift/transport/TVirtualTransport.h>

namespace corral::plugins::thrift {

// Reads one frame. Its message size is the frame's, so libthrift's own checks (a string or a
// list longer than the frame) refuse hostile lengths before allocating. Like libthrift's own
// buffered transports it does not count consumed bytes against it (TCompactProtocol's string
// check adds the length's own bytes to the size, expecting exactly that).
class FrameReader : public apache::thrift::transport::TVirtualTransport<FrameReader> {
 public:
  void reset(std::string_view frame) noexcept {
    data_ = frame;
    pos_ = 0;
    knownMessageSize_ = static_cast<long>(frame.size());
    remainingMessageSize_ = knownMessageSize_;
  }

  uint32_t read(uint8_t* buf, uint32_t len) {
    const auto n = static_cast<uint32_t>(std::min<size_t>(len, data_.size() - pos_));
    take(buf, n);
    return n;
  }

  uint32_t readAll(uint8_t* buf, uint32_t len) {
    if (len > data_.size() - pos_) {
      throw apache::thrift::transport::TTransportException(
          apache::thrift::transport::TTransportException::END_OF_FILE, "the message ends early");
    }
    take(buf, len);
    return len;
  }

  const uint8_t* borrow(uint8_t* /*buf*/, uint32_t* len) {
    const size_t left = data_.size() - pos_;
    if (*len > left) return nullptr;
    *len = static_cast<uint32_t>(left);
    return reinterpret_cast<const uint8_t*>(data_.data() + pos_);
  }

  void consume(uint32_t len) {
    if (len > data_.size() - pos_) {
      throw apache::thrift::transport::TTransportException(
          apache::thrift::transport::TTransportException::BAD_ARGS, "consumed more than the frame");
    }
    pos_ += len;
  }

  uint32_t readEnd() { return static_cast<uint32_t>(pos_); }

 private:
  void take(uint8_t* buf, uint32_t n) {
    if (n > 0) std::memcpy(buf, data_.data() + pos_, n);
    pos_ += n;
  }

  std::string_view data_;
  size_t pos_ = 0;
};

// Appends everything written to a string the caller points it at (the connection's output
// buffer, under its lock).
class StringSink : public apache::thrift::transport::TVirtualTransport<StringSink> {
 public:
  void target(std::string* out) noexcept { out_ = out; }
  void write(const uint8_t* buf, uint32_t len) { out_->append(reinterpret_cast<const char*>(buf), len); }

 private:
  std::string* out_ = nullptr;
};

}  // namespace corral::plugins::thrift

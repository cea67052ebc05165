// Status: the one result type that crosses every boundary in Corral.
//
// A Status carries a ZooKeeper error code (the number a client sees, unchanged) or one of
// Corral's internal codes (positive numbers, never sent to a client), plus an optional
// human-readable message. SDK calls return Status instead of throwing: exceptions never
// cross a plugin boundary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace corral::sdk {

// ZooKeeper 3.8 KeeperException.Code values (client-visible), then Corral's internal codes.
enum class Code : int32_t {
  kOk = 0,
  kSystemError = -1,
  kRuntimeInconsistency = -2,
  kDataInconsistency = -3,
  kConnectionLoss = -4,
  kMarshallingError = -5,
  kUnimplemented = -6,
  kOperationTimeout = -7,
  kBadArguments = -8,
  kUnknownSession = -12,
  kNewConfigNoQuorum = -13,
  kReconfigInProgress = -14,
  kApiError = -100,
  kNoNode = -101,
  kNoAuth = -102,
  kBadVersion = -103,
  kNoChildrenForEphemerals = -108,
  kNodeExists = -110,
  kNotEmpty = -111,
  kSessionExpired = -112,
  kInvalidCallback = -113,
  kInvalidAcl = -114,
  kAuthFailed = -115,
  kSessionMoved = -118,
  kNotReadOnly = -119,
  kEphemeralOnLocalSession = -120,
  kNoWatcher = -121,
  kRequestTimeout = -122,
  kReconfigDisabled = -123,
  kSessionClosedRequireSaslAuth = -124,
  kQuotaExceeded = -125,
  kThrottledOp = -127,

  // Internal codes: never written on the client wire.
  kInvalidConfig = 1001,     // a config key or value is wrong
  kIoError = 1002,           // a file or socket operation failed
  kCorruptData = 1003,       // bytes on disk or on the wire do not decode
  kPluginError = 1004,       // a plugin could not be loaded or created
  kNotFound = 1005,          // an internal lookup missed (not a znode)
  kAlreadyExists = 1006,     // an internal registration collided
  kInternal = 1007,          // a broken invariant
};

// ZooKeeper's own text for a code (KeeperException.Code), or a name for internal codes.
constexpr std::string_view codeName(Code code) noexcept {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kSystemError: return "SystemError";
    case Code::kRuntimeInconsistency: return "RuntimeInconsistency";
    case Code::kDataInconsistency: return "DataInconsistency";
    case Code::kConnectionLoss: return "ConnectionLoss";
    case Code::kMarshallingError: return "MarshallingError";
    case Code::kUnimplemented: return "Unimplemented";
    case Code::kOperationTimeout: return "OperationTimeout";
    case Code::kBadArguments: return "BadArguments";
    case Code::kUnknownSession: return "UnknownSession";
    case Code::kNewConfigNoQuorum: return "NewConfigNoQuorum";
    case Code::kReconfigInProgress: return "ReconfigInProgress";
    case Code::kApiError: return "APIError";
    case Code::kNoNode: return "NoNode";
    case Code::kNoAuth: return "NoAuth";
    case Code::kBadVersion: return "BadVersion";
    case Code::kNoChildrenForEphemerals: return "NoChildrenForEphemerals";
    case Code::kNodeExists: return "NodeExists";
    case Code::kNotEmpty: return "Directory not empty";
    case Code::kSessionExpired: return "Session expired";
    case Code::kInvalidCallback: return "Invalid callback";
    case Code::kInvalidAcl: return "InvalidACL";
    case Code::kAuthFailed: return "AuthFailed";
    case Code::kSessionMoved: return "Session moved";
    case Code::kNotReadOnly: return "Not a read-only call";
    case Code::kEphemeralOnLocalSession: return "Ephemeral node on local session";
    case Code::kNoWatcher: return "No such watcher";
    case Code::kRequestTimeout: return "RequestTimeout";
    case Code::kReconfigDisabled: return "Reconfig is disabled";
    case Code::kSessionClosedRequireSaslAuth:
      return "Session closed because client failed to authenticate";
    case Code::kQuotaExceeded: return "Quota has exceeded";
    case Code::kThrottledOp: return "Op throttled due to high load";
    case Code::kInvalidConfig: return "InvalidConfig";
    case Code::kIoError: return "IoError";
    case Code::kCorruptData: return "CorruptData";
    case Code::kPluginError: return "PluginError";
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kInternal: return "Internal";
  }
  return "Unknown";
}

// True for the codes a ZooKeeper client can receive in a ReplyHeader.
constexpr bool isClientVisible(Code code) noexcept { return static_cast<int32_t>(code) <= 0; }

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  explicit Status(Code code) noexcept : code_(code) {}
  Status(Code code, std::string message) noexcept : code_(code), message_(std::move(message)) {}

  static Status ok() noexcept { return Status(); }

  bool isOk() const noexcept { return code_ == Code::kOk; }
  explicit operator bool() const noexcept { return isOk(); }
  Code code() const noexcept { return code_; }
  int32_t number() const noexcept { return static_cast<int32_t>(code_); }
  const std::string& message() const noexcept { return message_; }

  // "NoNode: /a/b" or just "NoNode".
  std::string toString() const {
    std::string text(codeName(code_));
    if (!message_.empty()) {
      text += ": ";
      text += message_;
    }
    return text;
  }

  friend bool operator==(const Status& a, const Status& b) noexcept { return a.code_ == b.code_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)  // NOLINT: implicit on purpose
      : value_(std::move(value)) {}
  Result(Status status) noexcept : status_(std::move(status)) {}  // NOLINT: implicit on purpose

  bool isOk() const noexcept { return status_.isOk(); }
  explicit operator bool() const noexcept { return isOk(); }
  const Status& status() const noexcept { return status_; }
  T& value() & noexcept { return value_; }
  const T& value() const& noexcept { return value_; }
  T&& value() && noexcept { return std::move(value_); }
  T* operator->() noexcept { return &value_; }
  const T* operator->() const noexcept { return &value_; }
  T& operator*() noexcept { return value_; }

 private:
  T value_{};
  Status status_;
};

}  // namespace corral::sdk

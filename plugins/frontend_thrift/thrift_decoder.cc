#include "thrift_decoder.h"

#include <exception>
#include <new>
#include <utility>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>

#include "corral_thrift/Corral.h"
#include "thrift_transports.h"

namespace corral::plugins::thrift {
namespace {

namespace api = ::corral::thrift_api;
using apache::thrift::protocol::TMessageType;
using apache::thrift::protocol::TType;
using sdk::OpCode;

sdk::AclList toAcl(const std::vector<api::ACL>& acl) {
  sdk::AclList out;
  out.reserve(acl.size());
  for (const auto& entry : acl) out.push_back(sdk::Acl{entry.perms, sdk::Id{entry.id.scheme, entry.id.id}});
  return out;
}

bool isTtlMode(int32_t mode) {
  return mode == api::CreateMode::PERSISTENT_WITH_TTL || mode == api::CreateMode::PERSISTENT_SEQUENTIAL_WITH_TTL;
}

// ZooKeeper's client picks the opcode by mode: createContainer for containers, createTTL for
// the TTL modes (and here for any ttl given, so the server can refuse a ttl on another mode as
// ZooKeeper does), create2 otherwise (its reply carries the Stat).
void setCreate(sdk::ClientRequest& request, std::string path, sdk::OptionalBytes data, sdk::AclList acl,
               int32_t mode, int64_t ttl) {
  if (isTtlMode(mode) || ttl != 0) {
    request.op = OpCode::kCreateTtl;
    request.body = sdk::CreateTtlRequest{std::move(path), std::move(data), std::move(acl), false, mode, ttl};
    return;
  }
  request.op = mode == api::CreateMode::CONTAINER ? OpCode::kCreateContainer : OpCode::kCreate2;
  request.body = sdk::CreateRequest{std::move(path), std::move(data), std::move(acl), false, mode};
}

// `path` keeps a copy of the op's path (the failing op's path goes into ZkError.path); the
// request takes the decoded strings themselves.
sdk::MultiOp toMultiOp(api::Op& op, std::string& path) {
  sdk::ClientRequest single;
  if (op.__isset.create) {
    auto& c = op.create;
    path = c.path;
    setCreate(single, std::move(c.path), c.__isset.data ? sdk::OptionalBytes(std::move(c.data)) : std::nullopt,
              toAcl(c.acl), c.mode, c.ttl);
    if (auto* ttl = std::get_if<sdk::CreateTtlRequest>(&single.body)) return {single.op, std::move(*ttl)};
    return {single.op, std::move(std::get<sdk::CreateRequest>(single.body))};
  }
  if (op.__isset.remove) {
    path = op.remove.path;
    return {OpCode::kDelete, sdk::DeleteRequest{std::move(op.remove.path), op.remove.version}};
  }
  if (op.__isset.setData) {
    auto& s = op.setData;
    path = s.path;
    return {OpCode::kSetData,
            sdk::SetDataRequest{std::move(s.path), s.__isset.data ? sdk::OptionalBytes(std::move(s.data)) : std::nullopt,
                                s.version}};
  }
  if (op.__isset.check) {
    path = op.check.path;
    return {OpCode::kCheck, sdk::CheckVersionRequest{std::move(op.check.path), op.check.version}};
  }
  throw std::invalid_argument("an Op with no member set");
}

template <typename Protocol>
class DecoderImpl final : public ThriftDecoder {
 public:
  explicit DecoderImpl(int32_t max_frame)
      : max_frame_(max_frame), reader_(std::make_shared<FrameReader>()), protocol_(makeProtocol(reader_, max_frame)) {}

  Decoded decode(std::string_view message) override {
    Decoded out;
    reader_->reset(message);
    TMessageType type;
    try {
      protocol_->readMessageBegin(out.name, type, out.call.seqid);
    } catch (const std::exception& e) {
      out.error = std::string("not a Thrift message: ") + e.what();
      renew();
      return out;
    }
    if (type != apache::thrift::protocol::T_CALL) {
      out.error = "not a call (message type " + std::to_string(static_cast<int>(type)) + ")";
      return out;
    }
    const Method* method = findMethod(out.name);
    try {
      if (method == nullptr) {
        protocol_->skip(apache::thrift::protocol::T_STRUCT);
        protocol_->readMessageEnd();
        out.kind = Decoded::Kind::kUnknownMethod;
        return out;
      }
      out.call.method = *method;
      readArguments(out);
      protocol_->readMessageEnd();
      out.kind = Decoded::Kind::kCall;
    } catch (const std::bad_alloc&) {
      out.kind = Decoded::Kind::kBadArguments;
      out.error = "the arguments do not fit in memory";
      renew();
    } catch (const std::exception& e) {
      out.kind = Decoded::Kind::kBadArguments;
      out.error = e.what();
      renew();
    }
    return out;
  }

 private:
  static std::unique_ptr<Protocol> makeProtocol(const std::shared_ptr<FrameReader>& reader, int32_t max_frame) {
    const int32_t lists = std::min(kMaxListElements, max_frame);
    if constexpr (std::is_same_v<Protocol, apache::thrift::protocol::TBinaryProtocolT<FrameReader>>) {
      return std::make_unique<Protocol>(reader, max_frame, lists, /*strict_read=*/false, /*strict_write=*/true);
    } else {
      return std::make_unique<Protocol>(reader, max_frame, lists);
    }
  }

  template <typename Args>
  Args read() {
    Args args;
    args.read(protocol_.get());
    return args;
  }

  void readArguments(Decoded& out) {
    sdk::ClientRequest& request = out.request;
    Call& call = out.call;
    request.xid = 0;  // the connection numbers its calls
    switch (call.method) {
      case Method::kOpenSession: {
        auto args = read<api::Corral_openSession_args>();
        const auto& r = args.request;
        out.connect.protocol_version = 0;
        out.connect.last_zxid_seen = r.lastZxidSeen;
        out.connect.timeout = r.timeoutMs;
        out.connect.session_id = r.sessionId;
        out.connect.passwd = r.password;
        out.connect.read_only = r.readOnly;
        return;
      }
      case Method::kPing: {
        auto args = read<api::Corral_ping_args>();
        call.ping_wait_ms = std::max(0, args.waitMs);
        request.op = OpCode::kPing;
        return;
      }
      case Method::kCloseSession:
        read<api::Corral_closeSession_args>();
        request.op = OpCode::kCloseSession;
        return;
      case Method::kAddAuth: {
        auto args = read<api::Corral_addAuth_args>();
        request.op = OpCode::kAuth;
        request.body = sdk::AuthPacket{0, std::move(args.scheme), std::move(args.auth)};
        return;
      }
      case Method::kWhoAmI:
        read<api::Corral_whoAmI_args>();
        request.op = OpCode::kWhoAmI;
        return;
      case Method::kCreate: {
        auto args = read<api::Corral_create_args>();
        call.path = args.path;
        setCreate(request, std::move(args.path),
                  args.__isset.data ? sdk::OptionalBytes(std::move(args.data)) : std::nullopt,
                  toAcl(args.acl), args.mode, args.ttl);
        return;
      }
      case Method::kRemove: {
        auto args = read<api::Corral_remove_args>();
        call.path = args.path;
        request.op = OpCode::kDelete;
        request.body = sdk::DeleteRequest{std::move(args.path), args.version};
        return;
      }
      case Method::kExists: {
        auto args = read<api::Corral_exists_args>();
        call.path = args.path;
        request.op = OpCode::kExists;
        request.body = sdk::ExistsRequest{std::move(args.path), args.watch};
        return;
      }
      case Method::kGetData: {
        auto args = read<api::Corral_getData_args>();
        call.path = args.path;
        request.op = OpCode::kGetData;
        request.body = sdk::GetDataRequest{std::move(args.path), args.watch};
        return;
      }
      case Method::kSetData: {
        auto args = read<api::Corral_setData_args>();
        call.path = args.path;
        request.op = OpCode::kSetData;
        request.body = sdk::SetDataRequest{
            std::move(args.path), args.__isset.data ? sdk::OptionalBytes(std::move(args.data)) : std::nullopt,
            args.version};
        return;
      }
      case Method::kGetChildren: {
        auto args = read<api::Corral_getChildren_args>();
        call.path = args.path;
        request.op = OpCode::kGetChildren2;
        request.body = sdk::GetChildrenRequest{std::move(args.path), args.watch};
        return;
      }
      case Method::kGetAcl: {
        auto args = read<api::Corral_getACL_args>();
        call.path = args.path;
        request.op = OpCode::kGetAcl;
        request.body = sdk::GetAclRequest{std::move(args.path)};
        return;
      }
      case Method::kSetAcl: {
        auto args = read<api::Corral_setACL_args>();
        call.path = args.path;
        request.op = OpCode::kSetAcl;
        request.body = sdk::SetAclRequest{std::move(args.path), toAcl(args.acl), false, args.version};
        return;
      }
      case Method::kSync: {
        auto args = read<api::Corral_sync_args>();
        call.path = args.path;
        request.op = OpCode::kSync;
        request.body = sdk::SyncRequest{std::move(args.path)};
        return;
      }
      case Method::kGetEphemerals: {
        auto args = read<api::Corral_getEphemerals_args>();
        call.path = args.prefixPath;
        request.op = OpCode::kGetEphemerals;
        request.body = sdk::GetEphemeralsRequest{std::move(args.prefixPath)};
        return;
      }
      case Method::kGetAllChildrenNumber: {
        auto args = read<api::Corral_getAllChildrenNumber_args>();
        call.path = args.path;
        request.op = OpCode::kGetAllChildrenNumber;
        request.body = sdk::GetAllChildrenNumberRequest{std::move(args.path)};
        return;
      }
      case Method::kMulti: {
        auto args = read<api::Corral_multi_args>();
        sdk::MultiRequest multi;
        multi.ops.reserve(args.ops.size());
        call.op_paths.resize(args.ops.size());
        for (size_t i = 0; i < args.ops.size(); ++i) multi.ops.push_back(toMultiOp(args.ops[i], call.op_paths[i]));
        request.op = OpCode::kMulti;
        request.body = std::move(multi);
        return;
      }
      case Method::kMultiRead: {
        auto args = read<api::Corral_multiRead_args>();
        sdk::MultiRequest multi;
        multi.ops.reserve(args.ops.size());
        for (auto& op : args.ops) {
          if (op.__isset.getData) {
            multi.ops.push_back({OpCode::kGetData, sdk::GetDataRequest{std::move(op.getData), false}});
          } else if (op.__isset.getChildren) {
            multi.ops.push_back({OpCode::kGetChildren, sdk::GetChildrenRequest{std::move(op.getChildren), false}});
          } else {
            throw std::invalid_argument("a ReadOp with no member set");
          }
        }
        request.op = OpCode::kMultiRead;
        request.body = std::move(multi);
        return;
      }
      case Method::kAddWatch: {
        auto args = read<api::Corral_addWatch_args>();
        call.path = args.path;
        request.op = OpCode::kAddWatch;
        request.body = sdk::AddWatchRequest{std::move(args.path), args.mode};
        return;
      }
      case Method::kRemoveWatches: {
        auto args = read<api::Corral_removeWatches_args>();
        call.path = args.path;
        request.op = OpCode::kRemoveWatches;
        request.body = sdk::RemoveWatchesRequest{std::move(args.path), args.type};
        return;
      }
      case Method::kSetWatches: {
        auto args = read<api::Corral_setWatches_args>();
        request.op = OpCode::kSetWatches2;
        request.body = sdk::SetWatches2{args.relativeZxid,
                                        std::move(args.dataWatches),
                                        std::move(args.existWatches),
                                        std::move(args.childWatches),
                                        std::move(args.persistentWatches),
                                        std::move(args.persistentRecursiveWatches)};
        return;
      }
    }
  }

  // A read that failed half-way leaves the protocol's state (TCompactProtocol's field-id
  // stack) behind: the next message starts on a fresh one.
  void renew() {
    try {
      protocol_ = makeProtocol(reader_, max_frame_);
    } catch (...) {
      // Out of memory: keep the old one; its leftover state only grows a small stack.
    }
  }

  const int32_t max_frame_;
  std::shared_ptr<FrameReader> reader_;
  std::unique_ptr<Protocol> protocol_;
};

}  // namespace

std::unique_ptr<ThriftDecoder> makeDecoder(WireProtocol protocol, int32_t max_frame) {
  if (protocol == WireProtocol::kCompact) {
    return std::make_unique<DecoderImpl<apache::thrift::protocol::TCompactProtocolT<FrameReader>>>(max_frame);
  }
  return std::make_unique<DecoderImpl<apache::thrift::protocol::TBinaryProtocolT<FrameReader>>>(max_frame);
}

}  // namespace corral::plugins::thrift

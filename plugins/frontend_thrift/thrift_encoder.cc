#include "thrift_encoder.h"

#include <utility>

#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>

#include "corral_thrift/Corral.h"
#include "thrift_transports.h"

namespace corral::plugins::thrift {
namespace {

namespace api = ::corral::thrift_api;
using apache::thrift::protocol::T_STRUCT;

api::Stat toStat(const sdk::Stat& s) {
  api::Stat out;
  out.czxid = s.czxid;
  out.mzxid = s.mzxid;
  out.ctime = s.ctime;
  out.mtime = s.mtime;
  out.version = s.version;
  out.cversion = s.cversion;
  out.aversion = s.aversion;
  out.ephemeralOwner = s.ephemeral_owner;
  out.dataLength = s.data_length;
  out.numChildren = s.num_children;
  out.pzxid = s.pzxid;
  return out;
}

std::vector<api::ACL> toAcl(const sdk::AclList& acl) {
  std::vector<api::ACL> out(acl.size());
  for (size_t i = 0; i < acl.size(); ++i) {
    out[i].perms = acl[i].perms;
    out[i].id.scheme = acl[i].id.scheme;
    out[i].id.id = acl[i].id.id;
  }
  return out;
}

std::vector<api::WatchEvent> toEvents(std::vector<sdk::WatcherEvent>& events) {
  std::vector<api::WatchEvent> out(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    out[i].type = static_cast<api::EventType::type>(events[i].type);
    out[i].state = static_cast<api::KeeperState::type>(events[i].state);
    out[i].path = std::move(events[i].path);
  }
  events.clear();
  return out;
}

// Every result struct starts with zxid and events.
template <typename Result>
Result headed(sdk::Zxid zxid, std::vector<sdk::WatcherEvent>& events) {
  Result result;
  result.zxid = zxid;
  result.events = toEvents(events);
  return result;
}

std::vector<api::OpResult> toOpResults(std::vector<sdk::MultiResult>& results) {
  std::vector<api::OpResult> out(results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    sdk::MultiResult& r = results[i];
    api::OpResult& o = out[i];
    if (r.type == sdk::OpCode::kError) {
      o.__set_error(api::OpError());
      o.error.code = static_cast<int32_t>(r.err);
    } else if (auto* created = std::get_if<sdk::Create2Response>(&r.body)) {
      o.__isset.create = true;
      o.create.path = std::move(created->path);
      o.create.__set_stat(toStat(created->stat));
    } else if (auto* plain = std::get_if<sdk::CreateResponse>(&r.body)) {
      o.__isset.create = true;
      o.create.path = std::move(plain->path);
    } else if (auto* set = std::get_if<sdk::SetDataResponse>(&r.body)) {
      o.__isset.setData = true;
      o.setData.stat = toStat(set->stat);
    } else if (r.type == sdk::OpCode::kCheck) {
      o.__isset.check = true;
    } else {
      o.__isset.remove = true;
    }
  }
  return out;
}

std::vector<api::ReadOpResult> toReadResults(std::vector<sdk::MultiResult>& results) {
  std::vector<api::ReadOpResult> out(results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    sdk::MultiResult& r = results[i];
    api::ReadOpResult& o = out[i];
    if (auto* data = std::get_if<sdk::GetDataResponse>(&r.body)) {
      o.__isset.getData = true;
      if (data->data) o.getData.__set_data(std::move(*data->data));
      o.getData.stat = toStat(data->stat);
    } else if (auto* children = std::get_if<sdk::GetChildrenResponse>(&r.body)) {
      o.__isset.getChildren = true;
      o.getChildren.children = std::move(children->children);
    } else {
      o.__isset.error = true;
      o.error.code = static_cast<int32_t>(r.err);
    }
  }
  return out;
}

template <typename Protocol>
class EncoderImpl final : public ThriftEncoder {
 public:
  EncoderImpl() : sink_(std::make_shared<StringSink>()), protocol_(std::make_unique<Protocol>(sink_)) {}

  void appendReply(std::string& out, const Call& call, sdk::ClientResponse& response,
                   std::vector<sdk::WatcherEvent>& events) override {
    const sdk::Zxid zxid = response.zxid;
    if (response.err != sdk::Code::kOk) {
      if (call.method == Method::kExists && response.err == sdk::Code::kNoNode) {
        return success(out, call, headed<api::ExistsResult>(zxid, events));
      }
      return error(out, call, failure(call, response, events));
    }
    switch (call.method) {
      case Method::kPing:
        return success(out, call, headed<api::PingResult>(zxid, events));
      case Method::kCloseSession:
      case Method::kAddAuth:
      case Method::kAddWatch:
      case Method::kRemoveWatches:
      case Method::kSetWatches:
        return success(out, call, headed<api::DoneResult>(zxid, events));
      case Method::kWhoAmI: {
        auto result = headed<api::WhoAmIResult>(zxid, events);
        if (auto* who = std::get_if<sdk::WhoAmIResponse>(&response.body)) {
          result.identities.resize(who->client_info.size());
          for (size_t i = 0; i < who->client_info.size(); ++i) {
            result.identities[i].authScheme = std::move(who->client_info[i].auth_scheme);
            result.identities[i].user = std::move(who->client_info[i].user);
          }
        }
        return success(out, call, result);
      }
      case Method::kCreate: {
        auto result = headed<api::CreateResult>(zxid, events);
        if (auto* created = std::get_if<sdk::Create2Response>(&response.body)) {
          result.path = std::move(created->path);
          result.stat = toStat(created->stat);
        } else if (auto* plain = std::get_if<sdk::CreateResponse>(&response.body)) {
          result.path = std::move(plain->path);
        }
        return success(out, call, result);
      }
      case Method::kRemove:
        return success(out, call, headed<api::DeleteResult>(zxid, events));
      case Method::kExists: {
        auto result = headed<api::ExistsResult>(zxid, events);
        if (auto* exists = std::get_if<sdk::ExistsResponse>(&response.body)) result.__set_stat(toStat(exists->stat));
        return success(out, call, result);
      }
      case Method::kGetData: {
        auto result = headed<api::GetDataResult>(zxid, events);
        if (auto* data = std::get_if<sdk::GetDataResponse>(&response.body)) {
          if (data->data) result.__set_data(std::move(*data->data));
          result.stat = toStat(data->stat);
        }
        return success(out, call, result);
      }
      case Method::kSetData: {
        auto result = headed<api::SetDataResult>(zxid, events);
        if (auto* set = std::get_if<sdk::SetDataResponse>(&response.body)) result.stat = toStat(set->stat);
        return success(out, call, result);
      }
      case Method::kGetChildren: {
        auto result = headed<api::GetChildrenResult>(zxid, events);
        if (auto* children = std::get_if<sdk::GetChildren2Response>(&response.body)) {
          result.children = std::move(children->children);
          result.stat = toStat(children->stat);
        }
        return success(out, call, result);
      }
      case Method::kGetAcl: {
        auto result = headed<api::GetAclResult>(zxid, events);
        if (auto* acl = std::get_if<sdk::GetAclResponse>(&response.body)) {
          result.acl = toAcl(acl->acl);
          result.stat = toStat(acl->stat);
        }
        return success(out, call, result);
      }
      case Method::kSetAcl: {
        auto result = headed<api::SetAclResult>(zxid, events);
        if (auto* set = std::get_if<sdk::SetAclResponse>(&response.body)) result.stat = toStat(set->stat);
        return success(out, call, result);
      }
      case Method::kSync: {
        auto result = headed<api::SyncResult>(zxid, events);
        if (auto* sync = std::get_if<sdk::SyncResponse>(&response.body)) result.path = std::move(sync->path);
        return success(out, call, result);
      }
      case Method::kGetEphemerals: {
        auto result = headed<api::GetEphemeralsResult>(zxid, events);
        if (auto* eph = std::get_if<sdk::GetEphemeralsResponse>(&response.body)) result.paths = std::move(eph->ephemerals);
        return success(out, call, result);
      }
      case Method::kGetAllChildrenNumber: {
        auto result = headed<api::CountResult>(zxid, events);
        if (auto* count = std::get_if<sdk::GetAllChildrenNumberResponse>(&response.body)) result.count = count->total_number;
        return success(out, call, result);
      }
      case Method::kMulti: {
        // A failed multi is answered with err 0 and an ErrorResult per op (as ZooKeeper does);
        // like ZooKeeper's Java client, the first op whose code is not 0 makes it an error.
        if (auto* multi = std::get_if<sdk::MultiResponse>(&response.body)) {
          for (const auto& op : multi->results) {
            if (op.type == sdk::OpCode::kError && op.err != sdk::Code::kOk) {
              response.err = op.err;
              return error(out, call, failure(call, response, events));
            }
          }
        }
        auto result = headed<api::MultiResult>(zxid, events);
        if (auto* multi = std::get_if<sdk::MultiResponse>(&response.body)) result.results = toOpResults(multi->results);
        return success(out, call, result);
      }
      case Method::kMultiRead: {
        auto result = headed<api::MultiReadResult>(zxid, events);
        if (auto* multi = std::get_if<sdk::MultiResponse>(&response.body)) result.results = toReadResults(multi->results);
        return success(out, call, result);
      }
      case Method::kOpenSession:
        break;  // answered by appendSession
    }
    auto events_left = std::move(events);
    appendError(out, call, sdk::Code::kSystemError, "no reply for this call", zxid, events_left);
  }

  void appendSession(std::string& out, const Call& call, const sdk::ConnectResponse& response,
                     bool session_refused, sdk::Zxid zxid) override {
    if (session_refused) {
      std::vector<sdk::WatcherEvent> none;
      return appendError(out, call, sdk::Code::kSessionExpired, sdk::codeName(sdk::Code::kSessionExpired), zxid,
                         none);
    }
    api::SessionInfo info;
    info.zxid = zxid;
    info.sessionId = response.session_id;
    info.password = response.passwd;
    info.timeoutMs = response.timeout;
    info.readOnly = response.read_only.value_or(false);
    success(out, call, info);
  }

  void appendError(std::string& out, const Call& call, sdk::Code code, std::string_view message,
                   sdk::Zxid zxid, std::vector<sdk::WatcherEvent>& events) override {
    api::ZkError failure;
    failure.code = static_cast<int32_t>(code);
    failure.path = call.path;
    failure.message = std::string(message);
    failure.zxid = zxid;
    failure.events = toEvents(events);
    error(out, call, failure);
  }

  void appendApplicationError(std::string& out, std::string_view name, int32_t seqid, int type,
                              const std::string& message) override {
    const size_t start = begin(out, name, apache::thrift::protocol::T_EXCEPTION, seqid);
    apache::thrift::TApplicationException exception(
        static_cast<apache::thrift::TApplicationException::TApplicationExceptionType>(type), message);
    exception.write(protocol_.get());
    finish(out, start);
  }

 private:
  api::ZkError failure(const Call& call, sdk::ClientResponse& response, std::vector<sdk::WatcherEvent>& events) {
    api::ZkError failure;
    failure.code = static_cast<int32_t>(response.err);
    failure.path = call.path;
    failure.message = std::string(sdk::codeName(response.err));
    failure.zxid = response.zxid;
    failure.events = toEvents(events);
    if (call.method == Method::kMulti) {
      if (auto* multi = std::get_if<sdk::MultiResponse>(&response.body)) {
        // The failing op carries the code; those before it 0, those after it -2.
        for (size_t i = 0; i < multi->results.size(); ++i) {
          if (multi->results[i].err != sdk::Code::kOk) {
            failure.__set_failedOp(static_cast<int32_t>(i));
            if (i < call.op_paths.size()) failure.path = call.op_paths[i];
            break;
          }
        }
        failure.__set_results(toOpResults(multi->results));
      }
    }
    return failure;
  }

  size_t begin(std::string& out, std::string_view name, apache::thrift::protocol::TMessageType type, int32_t seqid) {
    const size_t start = out.size();
    out.append(4, '\0');  // the frame length, patched by finish()
    sink_->target(&out);
    protocol_->writeMessageBegin(std::string(name), type, seqid);
    return start;
  }

  void finish(std::string& out, size_t start) {
    protocol_->writeMessageEnd();
    const auto length = static_cast<uint32_t>(out.size() - start - 4);
    out[start] = static_cast<char>(length >> 24);
    out[start + 1] = static_cast<char>(length >> 16);
    out[start + 2] = static_cast<char>(length >> 8);
    out[start + 3] = static_cast<char>(length);
    sink_->target(nullptr);
  }

  // The service's reply struct: field 0 `success`, or field 1 `error`.
  template <typename Result>
  void success(std::string& out, const Call& call, const Result& result) {
    const size_t start = begin(out, methodName(call.method), apache::thrift::protocol::T_REPLY, call.seqid);
    protocol_->writeStructBegin("result");
    protocol_->writeFieldBegin("success", T_STRUCT, 0);
    result.write(protocol_.get());
    protocol_->writeFieldEnd();
    protocol_->writeFieldStop();
    protocol_->writeStructEnd();
    finish(out, start);
  }

  void error(std::string& out, const Call& call, const api::ZkError& failure) {
    const size_t start = begin(out, methodName(call.method), apache::thrift::protocol::T_REPLY, call.seqid);
    protocol_->writeStructBegin("result");
    protocol_->writeFieldBegin("error", T_STRUCT, 1);
    failure.write(protocol_.get());
    protocol_->writeFieldEnd();
    protocol_->writeFieldStop();
    protocol_->writeStructEnd();
    finish(out, start);
  }

  std::shared_ptr<StringSink> sink_;
  std::unique_ptr<Protocol> protocol_;
};

}  // namespace

std::unique_ptr<ThriftEncoder> makeEncoder(WireProtocol protocol) {
  if (protocol == WireProtocol::kCompact) {
    return std::make_unique<EncoderImpl<apache::thrift::protocol::TCompactProtocolT<StringSink>>>();
  }
  return std::make_unique<EncoderImpl<apache::thrift::protocol::TBinaryProtocolT<StringSink>>>();
}

}  // namespace corral::plugins::thrift

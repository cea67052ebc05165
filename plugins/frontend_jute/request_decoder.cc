#include "request_decoder.h"

#include <utility>

#include "corral/client_records.h"
#include "corral/jute.h"

namespace corral::plugins::jute {
namespace {

using sdk::OpCode;

template <typename Record>
void decodeBody(sdk::JuteReader& reader, sdk::ClientRequest& out) {
  decode(reader, out.body.emplace<Record>());
}

// setWatches (101) is a SetWatches2 without the persistent lists: the kernel sees one shape.
void decodeSetWatches(sdk::JuteReader& reader, sdk::ClientRequest& out) {
  sdk::SetWatches old;
  if (!decode(reader, old)) return;
  auto& v2 = out.body.emplace<sdk::SetWatches2>();
  v2.relative_zxid = old.relative_zxid;
  v2.data_watches = std::move(old.data_watches);
  v2.exist_watches = std::move(old.exist_watches);
  v2.child_watches = std::move(old.child_watches);
}

// multi takes only write sub-ops and multiRead only reads; ZooKeeper answers a mix with -5.
void decodeMulti(sdk::JuteReader& reader, sdk::ClientRequest& out) {
  auto& multi = out.body.emplace<sdk::MultiRequest>();
  if (!decode(reader, multi)) return;
  const sdk::MultiKind wrong =
      out.op == OpCode::kMulti ? sdk::MultiKind::kRead : sdk::MultiKind::kWrite;
  if (multi.kind() == wrong) reader.fail();
}

}  // namespace

bool decodeRequestFrame(std::string_view payload, int32_t max_length, sdk::ClientRequest& out) {
  sdk::JuteReader reader(payload, max_length);
  sdk::RequestHeader header;
  if (!decode(reader, header)) return false;
  out.xid = header.xid;
  out.op = header.type;
  out.body.emplace<std::monostate>();
  out.decode_error = sdk::Code::kOk;

  switch (header.type) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer: decodeBody<sdk::CreateRequest>(reader, out); break;
    case OpCode::kCreateTtl: decodeBody<sdk::CreateTtlRequest>(reader, out); break;
    case OpCode::kDelete: decodeBody<sdk::DeleteRequest>(reader, out); break;
    case OpCode::kExists: decodeBody<sdk::ExistsRequest>(reader, out); break;
    case OpCode::kGetData: decodeBody<sdk::GetDataRequest>(reader, out); break;
    case OpCode::kSetData: decodeBody<sdk::SetDataRequest>(reader, out); break;
    case OpCode::kGetAcl: decodeBody<sdk::GetAclRequest>(reader, out); break;
    case OpCode::kSetAcl: decodeBody<sdk::SetAclRequest>(reader, out); break;
    // GetChildren2Request has GetChildrenRequest's layout; the op code keeps them apart.
    case OpCode::kGetChildren:
    case OpCode::kGetChildren2: decodeBody<sdk::GetChildrenRequest>(reader, out); break;
    case OpCode::kSync: decodeBody<sdk::SyncRequest>(reader, out); break;
    case OpCode::kCheck: decodeBody<sdk::CheckVersionRequest>(reader, out); break;
    case OpCode::kMulti:
    case OpCode::kMultiRead: decodeMulti(reader, out); break;
    case OpCode::kReconfig: decodeBody<sdk::ReconfigRequest>(reader, out); break;
    case OpCode::kCheckWatches: decodeBody<sdk::CheckWatchesRequest>(reader, out); break;
    case OpCode::kRemoveWatches: decodeBody<sdk::RemoveWatchesRequest>(reader, out); break;
    case OpCode::kAuth: decodeBody<sdk::AuthPacket>(reader, out); break;
    case OpCode::kSetWatches: decodeSetWatches(reader, out); break;
    case OpCode::kSetWatches2: decodeBody<sdk::SetWatches2>(reader, out); break;
    case OpCode::kSasl: decodeBody<sdk::GetSaslRequest>(reader, out); break;
    case OpCode::kGetEphemerals: decodeBody<sdk::GetEphemeralsRequest>(reader, out); break;
    case OpCode::kGetAllChildrenNumber:
      decodeBody<sdk::GetAllChildrenNumberRequest>(reader, out);
      break;
    case OpCode::kAddWatch: decodeBody<sdk::AddWatchRequest>(reader, out); break;
    // A client never sends createSession; ZooKeeper answers it -5 and keeps the connection.
    case OpCode::kCreateSession: reader.fail(); break;
    // No body: ping, closeSession, whoAmI. deleteContainer's body is raw path bytes the kernel
    // refuses anyway (-8). Unknown ops go through as they are: the kernel answers -6 and closes.
    default: break;
  }

  if (reader.failed()) {
    out.body.emplace<std::monostate>();  // drop partial records (and their memory) right away
    out.decode_error = sdk::Code::kMarshallingError;
  }
  return true;
}

}  // namespace corral::plugins::jute

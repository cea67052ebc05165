#include "kernel/pipeline/op_kinds.h"

namespace corral::kernel::pipeline {

using sdk::OpCode;

bool isWrite(OpCode op) {
  switch (op) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl:
    case OpCode::kDelete:
    case OpCode::kSetData:
    case OpCode::kSetAcl:
    case OpCode::kCheck:
    case OpCode::kMulti:
    case OpCode::kReconfig:
    case OpCode::kDeleteContainer:
      return true;
    default:
      return false;
  }
}

namespace {

template <typename Variant>
bool fits(OpCode op, const Variant& body) {
  switch (op) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer: return std::holds_alternative<sdk::CreateRequest>(body);
    case OpCode::kCreateTtl: return std::holds_alternative<sdk::CreateTtlRequest>(body);
    case OpCode::kDelete: return std::holds_alternative<sdk::DeleteRequest>(body);
    case OpCode::kSetData: return std::holds_alternative<sdk::SetDataRequest>(body);
    case OpCode::kCheck: return std::holds_alternative<sdk::CheckVersionRequest>(body);
    default: return false;
  }
}

}  // namespace

bool writeBodyFitsOp(const sdk::ClientRequest& request) {
  switch (request.op) {
    case OpCode::kSetAcl: return std::holds_alternative<sdk::SetAclRequest>(request.body);
    case OpCode::kReconfig:
    case OpCode::kDeleteContainer: return true;  // answered without reading the body
    case OpCode::kMulti: {
      const auto* multi = std::get_if<sdk::MultiRequest>(&request.body);
      if (multi == nullptr) return false;
      for (const auto& sub : multi->ops) {
        if (!fits(sub.type, sub.op)) return false;
      }
      return true;
    }
    default: return fits(request.op, request.body);
  }
}

const char* opName(OpCode op) {
  switch (op) {
    case OpCode::kCreate: return "CREA";
    case OpCode::kCreate2: return "CRE2";
    case OpCode::kCreateContainer: return "CCON";
    case OpCode::kCreateTtl: return "CTTL";
    case OpCode::kDelete: return "DELE";
    case OpCode::kDeleteContainer: return "DCON";
    case OpCode::kExists: return "EXIS";
    case OpCode::kGetData: return "GETD";
    case OpCode::kSetData: return "SETD";
    case OpCode::kGetAcl: return "GETA";
    case OpCode::kSetAcl: return "SETA";
    case OpCode::kGetChildren: return "GETC";
    case OpCode::kGetChildren2: return "GETC";
    case OpCode::kSync: return "SYNC";
    case OpCode::kPing: return "PING";
    case OpCode::kCreateSession: return "SESS";
    case OpCode::kCloseSession: return "CLOS";
    case OpCode::kMulti: return "MULT";
    case OpCode::kMultiRead: return "MLTR";
    case OpCode::kAuth: return "AUTH";
    case OpCode::kSetWatches: return "SETW";
    case OpCode::kSetWatches2: return "SETW";
    case OpCode::kSasl: return "SASL";
    case OpCode::kCheck: return "CHEC";
    case OpCode::kReconfig: return "RECO";
    case OpCode::kCheckWatches: return "CHKW";
    case OpCode::kRemoveWatches: return "REMW";
    case OpCode::kGetEphemerals: return "GETE";
    case OpCode::kGetAllChildrenNumber: return "GETACN";
    case OpCode::kAddWatch: return "ADDW";
    case OpCode::kWhoAmI: return "HOMI";
    default: return "UNKNOWN";
  }
}

}  // namespace corral::kernel::pipeline

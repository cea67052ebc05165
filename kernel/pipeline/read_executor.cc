#include "kernel/pipeline/read_executor.h"

#include <algorithm>

#include "corral/path.h"

namespace corral::kernel::pipeline {
namespace {

using sdk::Code;
using sdk::OpCode;

// Reads resolve "" to the root, as ZooKeeper's tree keys the root under "" too.
const std::string& lookup(const std::string& path) {
  static const std::string kRoot = "/";
  return path.empty() ? kRoot : path;
}

}  // namespace

// ZooKeeper's DataTree.updateReadStat: path + payload + stat bytes, by top-level znode.
void ReadExecutor::countRead(const std::string& path, int64_t bytes) {
  auto ns = runtime::topNamespace(path);
  if (!ns.empty()) {
    metrics_.read_per_namespace.add(ns, static_cast<int64_t>(path.size()) + bytes + runtime::kStatOverheadBytes);
  }
}

void ReadExecutor::execute(ConnectionState& connection, const sdk::ClientRequest& request,
                           sdk::ClientResponse& response) {
  auto reply = [&](Code err) { response.err = err; };
  if (request.decode_error != Code::kOk) return reply(request.decode_error);
  switch (request.op) {
    case OpCode::kPing:
      response.xid = sdk::xids::kPing;
      return reply(Code::kOk);
    case OpCode::kExists: {
      const auto& exists = std::get<sdk::ExistsRequest>(request.body);
      if (exists.path.find('\0') != std::string::npos) return reply(Code::kBadArguments);
      sdk::NodeRead node;
      const Code found = readNode(lookup(exists.path), sdk::NodeRead::kStat, node);
      if (found != Code::kOk && found != Code::kNoNode) return reply(found);
      if (exists.watch) watches_.data().add(exists.path, connection.id, watch::WatchMode::kStandard);
      if (found == Code::kNoNode) return reply(Code::kNoNode);
      countRead(exists.path, 0);
      response.body = sdk::ExistsResponse{node.stat};
      return reply(Code::kOk);
    }
    case OpCode::kGetData: {
      const auto& get = std::get<sdk::GetDataRequest>(request.body);
      sdk::NodeRead node;
      if (const Code read = readNode(lookup(get.path), sdk::NodeRead::kStat | sdk::NodeRead::kData | sdk::NodeRead::kAcl, node); read != Code::kOk) return reply(read);
      if (!acl_.check(node.acl, sdk::perms::kRead, connection.ids)) return reply(Code::kNoAuth);
      if (get.watch) watches_.data().add(get.path, connection.id, watch::WatchMode::kStandard);
      countRead(get.path, node.data ? static_cast<int64_t>(node.data->size()) : 0);
      response.body = sdk::GetDataResponse{std::move(node.data), node.stat};
      return reply(Code::kOk);
    }
    case OpCode::kGetChildren:
    case OpCode::kGetChildren2: {
      const auto& get = std::get<sdk::GetChildrenRequest>(request.body);
      sdk::NodeRead node;
      if (const Code read = readNode(lookup(get.path), sdk::NodeRead::kStat | sdk::NodeRead::kChildren | sdk::NodeRead::kAcl, node); read != Code::kOk) return reply(read);
      if (!acl_.check(node.acl, sdk::perms::kRead, connection.ids)) return reply(Code::kNoAuth);
      if (get.watch) watches_.children().add(get.path, connection.id, watch::WatchMode::kStandard);
      int64_t name_bytes = 0;
      for (const auto& child : node.children) name_bytes += static_cast<int64_t>(child.size());
      countRead(get.path, name_bytes);
      if (request.op == OpCode::kGetChildren) {
        response.body = sdk::GetChildrenResponse{std::move(node.children)};
      } else {
        response.body = sdk::GetChildren2Response{std::move(node.children), node.stat};
      }
      return reply(Code::kOk);
    }
    case OpCode::kGetAcl: {
      const auto& get = std::get<sdk::GetAclRequest>(request.body);
      sdk::NodeRead node;
      if (const Code read = readNode(lookup(get.path), sdk::NodeRead::kStat | sdk::NodeRead::kAcl, node); read != Code::kOk) return reply(read);
      if (!acl_.check(node.acl, sdk::perms::kRead | sdk::perms::kAdmin, connection.ids)) {
        return reply(Code::kNoAuth);
      }
      // Without ADMIN, digest ids are masked ("user:x") so password hashes do not leak.
      if (!acl_.check(node.acl, sdk::perms::kAdmin, connection.ids)) {
        for (auto& entry : node.acl) {
          if (entry.id.scheme != "digest") continue;
          auto colon = entry.id.id.find(':');
          if (colon != std::string::npos) entry.id.id = entry.id.id.substr(0, colon) + ":x";
        }
      }
      response.body = sdk::GetAclResponse{std::move(node.acl), node.stat};
      return reply(Code::kOk);
    }
    case OpCode::kGetAllChildrenNumber: {
      const auto& get = std::get<sdk::GetAllChildrenNumberRequest>(request.body);
      sdk::NodeRead node;
      if (const Code read = readNode(lookup(get.path), sdk::NodeRead::kAcl, node); read != Code::kOk) return reply(read);
      if (!acl_.check(node.acl, sdk::perms::kRead, connection.ids)) return reply(Code::kNoAuth);
      response.body = sdk::GetAllChildrenNumberResponse{
          static_cast<int32_t>(storage_.countDescendants(get.path))};
      return reply(Code::kOk);
    }
    case OpCode::kGetEphemerals: {
      const auto& get = std::get<sdk::GetEphemeralsRequest>(request.body);
      sdk::GetEphemeralsResponse ephemerals;
      for (auto& path : storage_.ephemeralsOf(connection.session)) {
        if (get.prefix_path.empty() || path.compare(0, get.prefix_path.size(), get.prefix_path) == 0) {
          ephemerals.ephemerals.push_back(std::move(path));
        }
      }
      response.body = std::move(ephemerals);
      return reply(Code::kOk);
    }
    case OpCode::kSync: {
      // Where sync is local (standalone, leader) it is a read: every earlier write of the
      // session is applied, and this server orders all writes.
      response.body = sdk::SyncResponse{std::get<sdk::SyncRequest>(request.body).path};
      return reply(Code::kOk);
    }
    case OpCode::kMultiRead: {
      const auto& multi = std::get<sdk::MultiRequest>(request.body);
      sdk::MultiResponse results;
      for (const auto& op : multi.ops) {
        if (!sdk::isMultiReadOp(op.type)) return reply(Code::kMarshallingError);
      }
      for (const auto& op : multi.ops) {
        sdk::NodeRead node;
        if (op.type == OpCode::kGetData) {
          const auto& get = std::get<sdk::GetDataRequest>(op.op);
          if (const Code read = readNode(lookup(get.path), sdk::NodeRead::kStat | sdk::NodeRead::kData | sdk::NodeRead::kAcl, node); read != Code::kOk) {
            results.results.push_back(sdk::MultiResult::error(read));
          } else if (!acl_.check(node.acl, sdk::perms::kRead, connection.ids)) {
            results.results.push_back(sdk::MultiResult::error(Code::kNoAuth));
          } else {
            results.results.push_back(sdk::MultiResult::getData(std::move(node.data), node.stat));
          }
        } else {
          const auto& get = std::get<sdk::GetChildrenRequest>(op.op);
          if (const Code read = readNode(lookup(get.path), sdk::NodeRead::kChildren | sdk::NodeRead::kAcl, node); read != Code::kOk) {
            results.results.push_back(sdk::MultiResult::error(read));
          } else if (!acl_.check(node.acl, sdk::perms::kRead, connection.ids)) {
            results.results.push_back(sdk::MultiResult::error(Code::kNoAuth));
          } else {
            results.results.push_back(sdk::MultiResult::getChildren(std::move(node.children)));
          }
        }
      }
      response.body = std::move(results);
      return reply(Code::kOk);
    }
    case OpCode::kAddWatch: {
      const auto& add = std::get<sdk::AddWatchRequest>(request.body);
      if (add.mode == static_cast<int32_t>(sdk::AddWatchMode::kPersistent)) {
        watches_.data().add(add.path, connection.id, watch::WatchMode::kPersistent);
        watches_.children().add(add.path, connection.id, watch::WatchMode::kPersistent);
      } else if (add.mode == static_cast<int32_t>(sdk::AddWatchMode::kPersistentRecursive)) {
        watches_.data().add(add.path, connection.id, watch::WatchMode::kPersistentRecursive);
      } else {
        return reply(Code::kMarshallingError);
      }
      response.body = sdk::ErrorResponse{Code::kOk};
      return reply(Code::kOk);
    }
    case OpCode::kCheckWatches:
    case OpCode::kRemoveWatches: {
      const bool remove = request.op == OpCode::kRemoveWatches;
      std::string path;
      int32_t type = 0;
      if (remove) {
        const auto& body = std::get<sdk::RemoveWatchesRequest>(request.body);
        path = body.path;
        type = body.type;
      } else {
        const auto& body = std::get<sdk::CheckWatchesRequest>(request.body);
        path = body.path;
        type = body.type;
      }
      if (type < 1 || type > 3) return reply(Code::kMarshallingError);
      auto kind = static_cast<sdk::WatcherType>(type);
      bool data = kind == sdk::WatcherType::kData || kind == sdk::WatcherType::kAny;
      bool children = kind == sdk::WatcherType::kChildren || kind == sdk::WatcherType::kAny;
      bool found = false;
      if (remove) {
        if (children && watches_.children().remove(path, connection.id)) found = true;
        if (data && watches_.data().remove(path, connection.id)) found = true;
      } else {
        // A persistent-recursive watch lives in the data table only, yet ZooKeeper 3.8
        // reports it for every watcher type.
        found = (children && watches_.children().contains(path, connection.id)) ||
                (data && watches_.data().contains(path, connection.id)) ||
                watches_.data().modeOf(path, connection.id) == watch::WatchMode::kPersistentRecursive;
      }
      return reply(found ? Code::kOk : Code::kNoWatcher);
    }
    case OpCode::kSetWatches:
    case OpCode::kSetWatches2:
      setWatches(connection, std::get<sdk::SetWatches2>(request.body));
      return reply(Code::kOk);
    case OpCode::kAuth: {
      const auto& auth = std::get<sdk::AuthPacket>(request.body);
      response.zxid = 0;
      if (auth.scheme == "world") {
        response.close_after = true;
        return reply(Code::kAuthFailed);
      }
      auto ids = acl_.authenticate(auth.scheme, connection.link->info(), auth.auth);
      if (!ids.isOk()) {
        log_.warn("authentication with scheme '{}' failed for session 0x{:x}", auth.scheme, connection.session);
        response.close_after = true;
        return reply(Code::kAuthFailed);
      }
      for (auto& id : *ids) connection.addId(std::move(id));
      return reply(Code::kOk);
    }
    case OpCode::kSasl:
      response.zxid = 0;
      response.body = sdk::SetSaslResponse{std::nullopt};
      return reply(Code::kOk);
    case OpCode::kWhoAmI: {
      sdk::WhoAmIResponse who;
      for (const auto& id : connection.ids) who.client_info.push_back({id.scheme, acl_.userName(id)});
      response.body = std::move(who);
      return reply(Code::kOk);
    }
    case OpCode::kCreateSession:
      return reply(Code::kMarshallingError);
    default:
      // Unknown op: Unimplemented with zxid -1, then the connection is closed.
      response.zxid = -1;
      response.close_after = true;
      return reply(Code::kUnimplemented);
  }
}

Code ReadExecutor::readNode(std::string_view path, uint32_t fields, sdk::NodeRead& node) const {
  const Code code = storage_.read(path, fields, node);
  if (code == Code::kOk || code == Code::kNoNode) return code;
  // The storage failed (not an absent node): the client gets ZooKeeper's system error.
  log_.log(sdk::LogLevel::kError, fmt::format("storage read of {} failed: {}", path, static_cast<int>(code)));
  return Code::kSystemError;
}

void ReadExecutor::setWatches(ConnectionState& connection, const sdk::SetWatches2& request) {
  const sdk::Zxid relative = request.relative_zxid;
  auto send = [&](sdk::EventType type, const std::string& path) {
    connection.link->sendEvent(sdk::WatcherEvent{type, sdk::KeeperState::kSyncConnected, path});
  };
  for (const auto& path : request.data_watches) {
    sdk::NodeRead node;
    if (readNode(lookup(path), sdk::NodeRead::kStat, node) == Code::kNoNode) {
      send(sdk::EventType::kNodeDeleted, path);
    } else if (node.stat.mzxid > relative) {
      send(sdk::EventType::kNodeDataChanged, path);
    } else {
      watches_.data().add(path, connection.id, watch::WatchMode::kStandard);
    }
  }
  for (const auto& path : request.exist_watches) {
    sdk::NodeRead node;
    if (readNode(lookup(path), sdk::NodeRead::kStat, node) == Code::kOk) {
      send(sdk::EventType::kNodeCreated, path);
    } else {
      watches_.data().add(path, connection.id, watch::WatchMode::kStandard);
    }
  }
  for (const auto& path : request.child_watches) {
    sdk::NodeRead node;
    if (readNode(lookup(path), sdk::NodeRead::kStat, node) == Code::kNoNode) {
      send(sdk::EventType::kNodeDeleted, path);
    } else if (node.stat.pzxid > relative) {
      send(sdk::EventType::kNodeChildrenChanged, path);
    } else {
      watches_.children().add(path, connection.id, watch::WatchMode::kStandard);
    }
  }
  for (const auto& path : request.persistent_watches) {
    watches_.data().add(path, connection.id, watch::WatchMode::kPersistent);
    watches_.children().add(path, connection.id, watch::WatchMode::kPersistent);
  }
  for (const auto& path : request.persistent_recursive_watches) {
    watches_.data().add(path, connection.id, watch::WatchMode::kPersistentRecursive);
  }
}

}  // namespace corral::kernel::pipeline

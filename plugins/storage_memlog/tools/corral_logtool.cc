// corral-logtool: operator tool for ZooKeeper-format data dirs (Corral's and Apache ZooKeeper's).
//
//   corral-logtool log FILE [--json] [--limit N]    txn log dump (like zkTxnLogToolkit.sh)
//   corral-logtool snapshot FILE [--json] [--data]  snapshot dump (like zkSnapShotToolkit.sh)
//   corral-logtool purge DATADIR [DATALOGDIR] [-n N]
//                                                   keep the N newest snapshots (>= 3) and the logs
//                                                   they need (like zkCleanup.sh / PurgeTxnLog)
//
// Exit status: 0 on success, 1 when a file is damaged (CRC error, bad header, undecodable
// record), 2 on usage errors.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "corral/formats/checksum.h"
#include "corral/formats/compression.h"
#include "corral/formats/data_files.h"
#include "corral/formats/file_bytes.h"
#include "corral/formats/snapshot_codec.h"
#include "corral/formats/txn_log.h"
#include "purge.h"

namespace formats = corral::formats;
namespace sdk = corral::sdk;
using nlohmann::json;

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  corral-logtool log FILE [--json] [--limit N]\n"
    "  corral-logtool snapshot FILE [--json] [--data]\n"
    "  corral-logtool purge DATADIR [DATALOGDIR] [-n N]\n"
    "  corral-logtool --version | --help\n";

int usage() {
  std::fputs(kUsage, stderr);
  return 2;
}

std::string timeText(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms % 1000));
}

std::string printable(const sdk::OptionalBytes& data) {
  if (!data) return "null";
  std::string out = "\"";
  for (unsigned char c : *data) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out + "\"";
}

json bytesJson(const sdk::OptionalBytes& data) {
  if (!data) return nullptr;
  bool text = true;
  for (unsigned char c : *data) text = text && c >= 0x20 && c < 0x7f;
  if (text) return *data;
  std::string hex;
  for (unsigned char c : *data) hex += fmt::format("{:02x}", c);
  return json{{"hex", hex}};
}

std::string aclText(const sdk::AclList& acl) {
  std::string out = "[";
  for (size_t i = 0; i < acl.size(); ++i) {
    if (i) out += ",";
    out += fmt::format("{}:{}:{}", acl[i].id.scheme, acl[i].id.id, acl[i].perms);
  }
  return out + "]";
}

json aclJson(const sdk::AclList& acl) {
  json out = json::array();
  for (const auto& a : acl) out.push_back({{"perms", a.perms}, {"scheme", a.id.scheme}, {"id", a.id.id}});
  return out;
}

// One body record as text and as JSON.
void describeBody(sdk::OpCode type, const sdk::TxnBody& body, std::string& text, json& j);

void describeBody(sdk::OpCode type, const sdk::TxnBody& body, std::string& text, json& j) {
  j["type"] = formats::opName(type);
  if (const auto* v = std::get_if<sdk::CreateSessionTxn>(&body)) {
    text = fmt::format("{}", v->timeout);
    j["timeout"] = v->timeout;
  } else if (const auto* v = std::get_if<sdk::CloseSessionTxn>(&body)) {
    text = v->no_body ? "(no body)" : fmt::format("paths2Delete={}", fmt::join(v->paths_to_delete, ","));
    j["paths2Delete"] = v->paths_to_delete;
  } else if (const auto* v = std::get_if<sdk::CreateTxn>(&body)) {
    text = fmt::format("{},{},{},{},{}", v->path, printable(v->data), aclText(v->acl), v->ephemeral,
                       v->parent_cversion);
    j.update({{"path", v->path}, {"data", bytesJson(v->data)}, {"acl", aclJson(v->acl)},
              {"ephemeral", v->ephemeral}, {"parentCVersion", v->parent_cversion}});
  } else if (const auto* v = std::get_if<sdk::CreateContainerTxn>(&body)) {
    text = fmt::format("{},{},{},{}", v->path, printable(v->data), aclText(v->acl), v->parent_cversion);
    j.update({{"path", v->path}, {"data", bytesJson(v->data)}, {"acl", aclJson(v->acl)},
              {"parentCVersion", v->parent_cversion}});
  } else if (const auto* v = std::get_if<sdk::CreateTtlTxn>(&body)) {
    text = fmt::format("{},{},{},{},{}", v->path, printable(v->data), aclText(v->acl), v->parent_cversion, v->ttl);
    j.update({{"path", v->path}, {"data", bytesJson(v->data)}, {"acl", aclJson(v->acl)},
              {"parentCVersion", v->parent_cversion}, {"ttl", v->ttl}});
  } else if (const auto* v = std::get_if<sdk::DeleteTxn>(&body)) {
    text = v->path;
    j["path"] = v->path;
  } else if (const auto* v = std::get_if<sdk::SetDataTxn>(&body)) {
    text = fmt::format("{},{},{}", v->path, printable(v->data), v->version);
    j.update({{"path", v->path}, {"data", bytesJson(v->data)}, {"version", v->version}});
  } else if (const auto* v = std::get_if<sdk::SetAclTxn>(&body)) {
    text = fmt::format("{},{},{}", v->path, aclText(v->acl), v->version);
    j.update({{"path", v->path}, {"acl", aclJson(v->acl)}, {"version", v->version}});
  } else if (const auto* v = std::get_if<sdk::CheckVersionTxn>(&body)) {
    text = fmt::format("{},{}", v->path, v->version);
    j.update({{"path", v->path}, {"version", v->version}});
  } else if (const auto* v = std::get_if<sdk::ErrorTxn>(&body)) {
    text = fmt::format("{}", static_cast<int32_t>(v->err));
    j["err"] = static_cast<int32_t>(v->err);
  } else if (const auto* v = std::get_if<sdk::MultiTxn>(&body)) {
    json ops = json::array();
    std::vector<std::string> parts;
    for (const auto& sub : v->txns) {
      sdk::TxnBody sub_body;
      std::string sub_text;
      json sub_json;
      if (sdk::decodeSubTxn(sub, sub_body)) {
        describeBody(sub.type, sub_body, sub_text, sub_json);
      } else {
        sub_json["type"] = formats::opName(sub.type);
        sub_json["undecodable"] = true;
      }
      parts.push_back(fmt::format("{}:{}", formats::opName(sub.type), sub_text));
      ops.push_back(sub_json);
    }
    text = fmt::format("[{}]", fmt::join(parts, "; "));
    j["ops"] = ops;
  }
}

int dumpLog(const std::string& file, bool as_json, int64_t limit) {
  auto bytes = formats::readLogFile(file);
  if (!bytes.isOk()) {
    std::fprintf(stderr, "%s\n", bytes.status().toString().c_str());
    return 1;
  }
  if (!as_json && bytes->size() >= formats::kFileHeaderSize) {
    sdk::FileHeader header;
    sdk::JuteReader r(std::string_view(*bytes).substr(0, formats::kFileHeaderSize));
    sdk::decode(r, header);
    std::printf("ZooKeeper Transactional Log File with dbid %lld txnlog format version %d\n",
                static_cast<long long>(header.dbid), header.version);
  }
  json txns = json::array();
  int64_t shown = 0;
  bool undecodable = false;
  uint64_t bad_offset = 0;
  auto scan = formats::scanLog(*bytes, [&](const formats::LogRecord& record) {
    if (limit >= 0 && shown >= limit) return false;
    sdk::TxnEntry txn;
    if (!formats::decodeEntry(record.entry, txn).isOk()) {
      undecodable = true;
      bad_offset = record.offset;
      return false;
    }
    std::string text;
    json j;
    describeBody(txn.header.type, txn.body, text, j);
    j["offset"] = record.offset;
    j["session"] = formats::hex(txn.header.client_id);
    j["cxid"] = formats::hex(txn.header.cxid);
    j["zxid"] = formats::hex(txn.header.zxid);
    j["time"] = txn.header.time;
    if (txn.digest) j["digest"] = {{"version", txn.digest->version}, {"treeDigest", txn.digest->tree_digest}};
    if (as_json) {
      txns.push_back(std::move(j));
    } else {
      std::printf("%s session 0x%llx cxid 0x%x zxid 0x%llx %s %s%s\n", timeText(txn.header.time).c_str(),
                  static_cast<unsigned long long>(txn.header.client_id), static_cast<unsigned>(txn.header.cxid),
                  static_cast<unsigned long long>(txn.header.zxid), formats::opName(txn.header.type).c_str(),
                  text.c_str(),
                  txn.digest ? fmt::format(" digest {}", txn.digest->tree_digest).c_str() : "");
    }
    ++shown;
    return true;
  });
  std::string end;
  int rc = 0;
  switch (scan.end) {
    case formats::LogEnd::kClean: end = "clean"; break;
    case formats::LogEnd::kStopped: end = undecodable ? "undecodable" : "limit"; break;
    case formats::LogEnd::kPartial: end = "partial"; break;
    case formats::LogEnd::kCrcError: end = "crc_error"; rc = 1; break;
    case formats::LogEnd::kBadHeader: end = "bad_header"; rc = 1; break;
    case formats::LogEnd::kEmpty: end = "empty"; break;
  }
  if (undecodable) rc = 1;
  const uint64_t end_offset = undecodable ? bad_offset : scan.offset;
  if (as_json) {
    json out{{"file", file},
             {"header", {{"magic", fmt::format("0x{:08x}", static_cast<uint32_t>(scan.header.magic))},
                         {"version", scan.header.version}, {"dbid", scan.header.dbid}}},
             {"txns", txns},
             {"end", end},
             {"end_offset", end_offset}};
    if (!scan.detail.empty()) out["detail"] = scan.detail;
    // Paths, ACL ids and error texts are bytes: invalid UTF-8 is replaced, not thrown.
    std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    std::printf("%s after %lld txns at offset %llu%s%s\n",
                end == "clean" ? "EOF reached" : ("stopped: " + end).c_str(), static_cast<long long>(shown),
                static_cast<unsigned long long>(end_offset), scan.detail.empty() ? "" : ": ",
                scan.detail.c_str());
  }
  return rc;
}

int dumpSnapshot(const std::string& file, bool as_json, bool with_data) {
  auto bytes = formats::readSnapshotFile(file);
  if (!bytes.isOk()) {
    std::fprintf(stderr, "%s\n", bytes.status().toString().c_str());
    return 1;
  }
  struct Node {
    std::string path;
    sdk::OptionalBytes data;
    int64_t acl_key;
    sdk::StatPersisted stat;
  };
  std::vector<Node> nodes;
  std::vector<std::pair<int64_t, int32_t>> sessions;
  std::map<int64_t, sdk::AclList> acls;
  formats::SnapshotVisitor visitor;
  visitor.on_session = [&](sdk::SessionId id, int32_t timeout) { sessions.emplace_back(id, timeout); };
  visitor.on_acl = [&](int64_t key, sdk::AclList acl) {
    acls[key] = std::move(acl);
    return sdk::Status::ok();
  };
  visitor.on_node = [&](std::string_view path, std::optional<std::string_view> data, int64_t acl_key,
                        const sdk::StatPersisted& stat) {
    nodes.push_back({std::string(path), data ? sdk::OptionalBytes(std::string(*data)) : std::nullopt, acl_key, stat});
    return sdk::Status::ok();
  };
  formats::SnapshotInfo info;
  auto status = formats::parseSnapshot(*bytes, true, visitor, info);
  std::map<int64_t, int64_t> ephemerals;
  for (const auto& n : nodes) {
    if (n.stat.ephemeral_owner != 0 && !sdk::owner::isContainer(n.stat.ephemeral_owner) &&
        !sdk::owner::isTtl(n.stat.ephemeral_owner)) {
      ++ephemerals[n.stat.ephemeral_owner];
    }
  }
  if (as_json) {
    json jnodes = json::array();
    for (const auto& n : nodes) {
      json j{{"path", n.path.empty() ? "/" : n.path},
             {"czxid", formats::hex(n.stat.czxid)}, {"mzxid", formats::hex(n.stat.mzxid)},
             {"pzxid", formats::hex(n.stat.pzxid)}, {"ctime", n.stat.ctime}, {"mtime", n.stat.mtime},
             {"version", n.stat.version}, {"cversion", n.stat.cversion}, {"aversion", n.stat.aversion},
             {"ephemeralOwner", formats::hex(n.stat.ephemeral_owner)},
             {"dataLength", n.data ? n.data->size() : 0}, {"aclKey", n.acl_key}};
      if (with_data) j["data"] = bytesJson(n.data);
      jnodes.push_back(std::move(j));
    }
    json jsessions = json::array();
    for (const auto& [id, timeout] : sessions) {
      jsessions.push_back({{"id", formats::hex(id)}, {"timeout", timeout}, {"ephemerals", ephemerals[id]}});
    }
    json jacls = json::array();
    for (const auto& [key, acl] : acls) jacls.push_back({{"key", key}, {"acl", aclJson(acl)}});
    json out{{"file", file}, {"sessions", jsessions}, {"acls", jacls}, {"nodes", jnodes}, {"valid", status.isOk()}};
    if (info.has_digest) {
      out["digest"] = {{"zxid", formats::hex(info.digest_zxid)}, {"version", info.digest_version}, {"digest", info.digest}};
    }
    if (!status.isOk()) out["error"] = status.message();
    // Paths, ACL ids and error texts are bytes: invalid UTF-8 is replaced, not thrown.
    std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    std::printf("ZNode Details (count=%zu):\n", nodes.size());
    for (const auto& n : nodes) {
      std::printf("----\n%s\n", n.path.empty() ? "/" : n.path.c_str());
      std::printf("  cZxid = 0x%llx\n  ctime = %s\n  mZxid = 0x%llx\n  mtime = %s\n  pZxid = 0x%llx\n",
                  static_cast<unsigned long long>(n.stat.czxid), timeText(n.stat.ctime).c_str(),
                  static_cast<unsigned long long>(n.stat.mzxid), timeText(n.stat.mtime).c_str(),
                  static_cast<unsigned long long>(n.stat.pzxid));
      std::printf("  cversion = %d\n  dataVersion = %d\n  aclVersion = %d\n  ephemeralOwner = 0x%llx\n"
                  "  dataLength = %zu\n  acl = %s\n",
                  n.stat.cversion, n.stat.version, n.stat.aversion,
                  static_cast<unsigned long long>(n.stat.ephemeral_owner), n.data ? n.data->size() : 0,
                  n.acl_key == -1 ? "[world:anyone:31] (built-in)" : aclText(acls[n.acl_key]).c_str());
      if (with_data) std::printf("  data = %s\n", printable(n.data).c_str());
    }
    std::printf("----\nSession Details (sid, timeout, ephemeralCount):\n");
    for (const auto& [id, timeout] : sessions) {
      std::printf("0x%llx, %d, %lld\n", static_cast<unsigned long long>(id), timeout,
                  static_cast<long long>(ephemerals[id]));
    }
    std::printf("----\n");
    if (info.has_digest) {
      std::printf("Digest: zxid 0x%llx version %d value %lld\n", static_cast<unsigned long long>(info.digest_zxid),
                  info.digest_version, static_cast<long long>(info.digest));
    }
    if (!status.isOk()) std::printf("ERROR: %s\n", status.message().c_str());
  }
  return status.isOk() ? 0 : 1;
}

int purge(const std::vector<std::string>& args) {
  std::vector<std::string> dirs;
  int retain = 3;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-n" && i + 1 < args.size()) {
      retain = std::stoi(args[++i]);
    } else {
      dirs.push_back(args[i]);
    }
  }
  if (dirs.empty() || dirs.size() > 2) return usage();
  const formats::fs::path data = formats::fs::path(dirs[0]) / "version-2";
  const formats::fs::path logs = formats::fs::path(dirs.size() == 2 ? dirs[1] : dirs[0]) / "version-2";
  auto result = corral::plugins::memlog::purge(data, logs, retain);
  if (!result.isOk()) {
    std::fprintf(stderr, "%s\n", result.status().toString().c_str());
    return 1;
  }
  for (const auto& p : result->kept_snapshots) std::printf("kept %s\n", p.c_str());
  for (const auto& p : result->removed) std::printf("removed %s\n", p.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage();
  if (args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args[0] == "--version") {
    std::printf("%s %s\n", "corral-logtool", CORRAL_VERSION);
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "purge") return purge(args);
    bool as_json = false;
    bool with_data = false;
    int64_t limit = -1;
    std::string file;
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "--json") {
        as_json = true;
      } else if (args[i] == "--data") {
        with_data = true;
      } else if (args[i] == "--limit" && i + 1 < args.size()) {
        limit = std::stoll(args[++i]);
      } else if (file.empty()) {
        file = args[i];
      } else {
        return usage();
      }
    }
    if (file.empty()) return usage();
    if (command == "log") return dumpLog(file, as_json, limit);
    if (command == "snapshot") return dumpSnapshot(file, as_json, with_data);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 2;
  }
  return usage();
}

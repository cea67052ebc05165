// libFuzzer target: a ZooKeeper snapshot file (snapshot.<zxid>[.gz|.snappy]), plain or compressed
// (chosen by its first bytes: 1f 8b gzip, snappy-java's magic snappy, else plain), read the ways
// Corral reads one.
//
// 1. Decompression: formats::gunzip / unsnappyStream on the input bytes, and
//    formats::loadSnapshotBytes + looksLikeValidSnapshot on the bytes written as a file with the
//    matching suffix (storage.memlog's loader, which picks the codec by name); both agree.
// 2. storage.memlog's load (MemlogStorage::loadSnapshotFile): parseSnapshot with the checksums
//    verified into a DataTree (clearForLoad, loadAcl, loadNode, finishLoad), and its second
//    parse (checksums skipped) that sums the tree digest; the supplied digest must then equal
//    the digest the tree computes when it sums while loading. After a failed load, an older
//    snapshot (a fresh tree's) loads into the same tree, as recovery falls back, and must load.
// 3. The SNAP path (formats::parseSnapshotBody, as a learner reads the body inside the quorum
//    stream) on the body after the file header: where both decoders read the whole body they
//    agree record for record, and the body parser reads exactly the body's bytes. A body that
//    parses is then sealed again with its right Adler32 (no digest section) and loaded as in 2,
//    so that a mutated body is loaded, not only refused at the seal.
// 4. Round trips (on the load of 2, or of the re-sealed copy): the records re-encoded with
//    SnapshotBodyEncoder parse back the same; a
//    loaded tree walked and encoded as a leader sends it loads into a second tree with the
//    same nodes and digest; a valid snapshot written again with SnapshotFileWriter (same
//    compression, same digest) loads back the same.
// 5. corral-logtool's `snapshot` command on the file (text and JSON, with data): exit status
//    0 (valid) or 1 (damaged), never 2 (usage error or an exception).
// The parts that work on files (1's loader, 4's writer, 5) cost many times the rest: under
// libFuzzer they run for one input in 4 (common/sampling.h), in the replay for every input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/check.h"
#include "common/memlog_tree.h"
#include "common/sampling.h"
#include "common/scratch_dir.h"
#include "corral/formats/checksum.h"
#include "corral/formats/compression.h"
#include "corral/formats/file_bytes.h"
#include "corral/formats/snapshot_codec.h"
#include "corral/formats/snapshot_stream.h"
#include "corral/jute.h"

#define main corral_logtool_main
#include "tools/corral_logtool.cc"
#undef main

namespace {

namespace sdk = corral::sdk;
namespace formats = corral::formats;
using corral::plugins::memlog::DataTree;


struct Node {
  std::string path;
  std::optional<std::string> data;
  int64_t acl_key = 0;
  sdk::StatPersisted stat;
  friend bool operator==(const Node&, const Node&) = default;
};

// Everything a parse visited, in order (sessions as the map a storage keeps).
struct Records {
  std::map<sdk::SessionId, int32_t> sessions;
  std::vector<std::pair<int64_t, sdk::AclList>> acls;
  std::vector<Node> nodes;
  friend bool operator==(const Records&, const Records&) = default;
};

// A visitor that records, then hands each record to `inner` (when given) as the storage would.
formats::SnapshotVisitor recording(Records& records, const formats::SnapshotVisitor* inner = nullptr) {
  formats::SnapshotVisitor visitor;
  visitor.on_session = [&records, inner](sdk::SessionId id, int32_t timeout) {
    records.sessions[id] = timeout;
    if (inner != nullptr && inner->on_session) inner->on_session(id, timeout);
  };
  visitor.on_acl = [&records, inner](int64_t key, sdk::AclList acl) {
    records.acls.emplace_back(key, acl);
    if (inner != nullptr && inner->on_acl) return inner->on_acl(key, std::move(acl));
    return sdk::Status::ok();
  };
  visitor.on_node = [&records, inner](std::string_view path, std::optional<std::string_view> data,
                                      int64_t acl_key, const sdk::StatPersisted& stat) {
    records.nodes.push_back(Node{std::string(path), data ? std::optional<std::string>(std::string(*data)) : std::nullopt,
                                 acl_key, stat});
    if (inner != nullptr && inner->on_node) return inner->on_node(path, data, acl_key, stat);
    return sdk::Status::ok();
  };
  return visitor;
}

void encodeBody(formats::SnapshotBodyEncoder& encoder, const Records& records) {
  encoder.sessions(records.sessions);
  encoder.aclCount(static_cast<int32_t>(records.acls.size()));
  for (const auto& [key, acl] : records.acls) encoder.acl(key, acl);
  for (const auto& node : records.nodes) {
    encoder.node(node.path, node.data ? std::optional<std::string_view>(*node.data) : std::nullopt, node.acl_key,
                 node.stat);
  }
  encoder.endOfNodes();
}

// What a tree's snapshot walk yields (visitSnapshot: ACL map and nodes under one lock; no
// sessions, which the storage keeps beside the tree).
Records recordsOf(const DataTree& tree) {
  Records records;
  tree.visitSnapshot([&records](int64_t key, const sdk::AclList& acl) { records.acls.emplace_back(key, acl); },
                     [&records](const corral::plugins::memlog::NodeRecord& node) {
                       records.nodes.push_back(Node{std::string(node.path),
                                                    node.data ? std::optional<std::string>(std::string(*node.data))
                                                              : std::nullopt,
                                                    node.acl_key, node.stat});
                     });
  return records;
}

// A ByteSource over `bytes` that counts what it handed out.
formats::ByteSource sourceOver(std::string_view bytes, size_t& position) {
  return [bytes, &position](char* dst, size_t n) {
    if (n > bytes.size() - position) {
      position = bytes.size();
      return sdk::Status(sdk::Code::kConnectionLoss, "end of stream");
    }
    std::memcpy(dst, bytes.data() + position, n);
    position += n;
    return sdk::Status::ok();
  };
}

int logtool(const std::string& file, std::vector<std::string> flags) {
  std::vector<std::string> args{"corral-logtool", "snapshot", file};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return corral_logtool_main(static_cast<int>(args.size()), argv.data());
}

// MemlogStorage::loadSnapshotFile: the checked parse into the tree, the digest parse beside it.
struct Load {
  sdk::Status parsed;
  sdk::Status summed;
  sdk::Status finished;
  formats::SnapshotInfo info;
  Records records;
  uint64_t digest = 0;
};

Load memlogLoad(std::string_view stream, DataTree& tree) {
  Load load;
  std::map<sdk::SessionId, int32_t> sessions;
  tree.clearForLoad(DataTree::DigestSource::kSuppliedByCaller);
  const auto loader = corral::fuzz::treeLoader(tree, sessions);
  load.parsed = formats::parseSnapshot(stream, true, recording(load.records, &loader), load.info);
  formats::SnapshotVisitor digest_visitor;
  digest_visitor.on_node = [&load](std::string_view path, std::optional<std::string_view> data, int64_t,
                                   const sdk::StatPersisted& stat) {
    load.digest += corral::plugins::memlog::znodeDigest(path, data.value_or(std::string_view()), stat);
    return sdk::Status::ok();
  };
  formats::SnapshotInfo digest_info;
  load.summed = formats::parseSnapshot(stream, true, digest_visitor, digest_info, formats::Checksums::kSkip);
  if (load.parsed.isOk() && load.summed.isOk()) {
    load.finished = tree.finishLoad(load.digest);
  } else {
    // MemlogStorage leaves the tree as it is: recovery then loads an older snapshot into it
    // (clearForLoad again) or, with none left, resets it.
    load.finished = sdk::Status(sdk::Code::kCorruptData, "not loaded");
  }
  return load;
}

// The snapshot of a fresh tree (what a new server writes first), sealed: the older snapshot
// recovery falls back to after a newer one failed to load.
std::string freshSnapshot() {
  const Records fresh = recordsOf(DataTree{});
  std::string out;
  {
    sdk::JuteWriter writer(out);
    sdk::encode(writer, sdk::FileHeader{sdk::kSnapshotMagic, sdk::kFileFormatVersion, -1});
  }
  formats::SnapshotBodyEncoder encoder([&out](std::string_view bytes) {
    out.append(bytes);
    return sdk::Status::ok();
  });
  encodeBody(encoder, fresh);
  if (!encoder.flush().isOk()) std::abort();
  const uint32_t adler = formats::adler32Of(out);
  sdk::JuteWriter writer(out);
  writer.writeLong(adler);
  writer.writeString("/");
  return out;
}

formats::Compression compressionOf(std::string_view input) {
  if (input.size() >= 2 && static_cast<unsigned char>(input[0]) == 0x1f && static_cast<unsigned char>(input[1]) == 0x8b) {
    return formats::Compression::kGzip;
  }
  if (input.size() >= 8 && std::memcmp(input.data(), "\x82SNAPPY\0", 8) == 0) return formats::Compression::kSnappy;
  return formats::Compression::kNone;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  corral::fuzz::silenceStdout();
  (void)corral::fuzz::scratchDir();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const formats::Compression compression = compressionOf(input);

  // 1. Decompression, in memory and through the file loader.
  std::string inflated;
  bool readable = true;
  if (compression == formats::Compression::kGzip) {
    auto out = formats::gunzip(input);
    readable = out.isOk();
    if (readable) inflated = std::move(*out);
  } else if (compression == formats::Compression::kSnappy) {
    auto out = formats::unsnappyStream(input);
    readable = out.isOk();
    if (readable) inflated = std::move(*out);
  } else {
    inflated.assign(input);
  }
  // The file-based paths (1's loader, 5, 4's writer) cost many times the rest: one input in 4
  // under libFuzzer (common/sampling.h), every input in the replay.
  const bool with_files = corral::fuzz::takesCostlyPath(input);
  if (with_files) {
    const auto file = corral::fuzz::scratchDir() / formats::snapshotFileName(1, compression);
    corral::fuzz::writeFile(file, input);
    (void)formats::looksLikeValidSnapshot(file);
    auto loaded = formats::loadSnapshotBytes(file);
    CHECK(loaded.isOk() == readable);
    if (readable) CHECK(loaded->view() == inflated);
    // 5. corral-logtool.
    for (const auto& flags : {std::vector<std::string>{"--data"}, std::vector<std::string>{"--json", "--data"}}) {
      const int rc = logtool(file.string(), flags);
      CHECK(rc == 0 || rc == 1);
    }
  }
  if (!readable) return 0;
  const std::string_view stream = inflated;

  // 2. storage.memlog's load. When it fails, recovery goes on to an older snapshot, loaded into
  // the same tree: that load must not be disturbed by what the failed one left behind.
  DataTree tree;
  Load load = memlogLoad(stream, tree);
  if (!load.finished.isOk()) {
    static const std::string older = freshSnapshot();
    CHECK(memlogLoad(older, tree).finished.isOk());
  }
  corral::fuzz::readBack(tree);

  // 3. The SNAP path's decoder on the same body; a body that parses, sealed right and loaded.
  std::string resealed;
  if (stream.size() >= 16) {
    const std::string_view body = stream.substr(16);
    size_t position = 0;
    Records streamed;
    formats::SnapshotInfo info;
    const auto status = formats::parseSnapshotBody(sourceOver(body, position), recording(streamed), info);
    Records whole;
    formats::SnapshotInfo whole_info;
    const auto whole_status =
        formats::parseSnapshot(stream, false, recording(whole), whole_info, formats::Checksums::kSkip);
    if (status.isOk()) {
      // Exactly the body: the "/" end marker is the last thing read; the seal follows.
      CHECK(position >= 5 && body.substr(position - 5, 5) == std::string_view("\0\0\0\x01/", 5));
      if (whole_status.isOk()) CHECK(streamed == whole);
      if (!load.parsed.isOk()) {
        resealed.assign(stream.substr(0, 16 + position));
        const uint32_t adler = formats::adler32Of(resealed);
        sdk::JuteWriter writer(resealed);
        writer.writeLong(adler);
        writer.writeString("/");
      }
    }
  }
  if (!resealed.empty()) {
    load = memlogLoad(resealed, tree);
    if (!load.finished.isOk()) tree.reset();  // nothing left to load: MemlogStorage::resetTree
    corral::fuzz::readBack(tree);
  }
  const std::string_view loaded_stream = resealed.empty() ? stream : std::string_view(resealed);
  if (load.finished.isOk()) {
    // The digest summed beside the load is the one the tree sums itself.
    DataTree computed;
    std::map<sdk::SessionId, int32_t> sessions;
    computed.clearForLoad(DataTree::DigestSource::kComputeWhileLoading);
    formats::SnapshotInfo info;
    CHECK(formats::parseSnapshot(loaded_stream, true, corral::fuzz::treeLoader(computed, sessions), info).isOk());
    CHECK(computed.finishLoad().isOk());
    CHECK(computed.digest() == tree.digest() && computed.nodeCount() == tree.nodeCount());
  }

  // 4. Round trips of whatever parsed.
  if (load.parsed.isOk()) {
    std::string body;
    formats::SnapshotBodyEncoder encoder([&body](std::string_view bytes) {
      body.append(bytes);
      return sdk::Status::ok();
    });
    encodeBody(encoder, load.records);
    CHECK(encoder.flush().isOk());
    size_t position = 0;
    Records again;
    formats::SnapshotInfo info;
    CHECK(formats::parseSnapshotBody(sourceOver(body, position), recording(again), info).isOk());
    CHECK(position == body.size() && again == load.records);

  }
  if (load.parsed.isOk() && with_files) {
    // The written file reads back the same (compression, seals, digest).
    const auto rewritten = corral::fuzz::scratchDir() / formats::snapshotFileName(2, compression);
    auto writer = formats::SnapshotFileWriter::create(rewritten, compression, false);
    CHECK(writer.isOk());
    formats::SnapshotBodyEncoder file_encoder([&writer](std::string_view bytes) { return (*writer)->write(bytes); });
    encodeBody(file_encoder, load.records);
    CHECK(file_encoder.flush().isOk());
    std::optional<std::pair<sdk::Zxid, int64_t>> digest;
    if (load.info.has_digest) digest = std::make_pair(load.info.digest_zxid, load.info.digest);
    CHECK((*writer)->finish(digest).isOk());
    CHECK(formats::looksLikeValidSnapshot(rewritten));
    auto bytes = formats::loadSnapshotBytes(rewritten);
    CHECK(bytes.isOk());
    Records reread;
    formats::SnapshotInfo reread_info;
    CHECK(formats::parseSnapshot(bytes->view(), true, recording(reread), reread_info).isOk());
    CHECK(reread == load.records && reread_info.has_digest == load.info.has_digest);
    if (load.info.has_digest) {
      CHECK(reread_info.digest_zxid == load.info.digest_zxid && reread_info.digest == load.info.digest);
    }
  }
  if (load.finished.isOk()) {
    // The loaded tree as a leader streams it (SNAP), loaded by a learner.
    std::string body;
    {
      formats::SnapshotBodyEncoder encoder([&body](std::string_view bytes) {
        body.append(bytes);
        return sdk::Status::ok();
      });
      Records walked = recordsOf(tree);
      walked.sessions = load.records.sessions;
      encodeBody(encoder, walked);
      CHECK(encoder.flush().isOk());
    }
    DataTree learner;
    std::map<sdk::SessionId, int32_t> sessions;
    learner.clearForLoad();
    size_t position = 0;
    formats::SnapshotInfo info;
    CHECK(formats::parseSnapshotBody(sourceOver(body, position), corral::fuzz::treeLoader(learner, sessions), info)
              .isOk());
    CHECK(learner.finishLoad().isOk());
    CHECK(position == body.size() && learner.nodeCount() == tree.nodeCount() && learner.digest() == tree.digest() &&
          sessions == load.records.sessions);
  }
  return 0;
}

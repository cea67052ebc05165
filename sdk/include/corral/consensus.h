// Consensus extension point: orders txns, decides when they are committed, and tells the
// kernel which role this server plays (ZooKeeper's QuorumPeer states).
//
// The kernel wires a role out of parts (DESIGN.md §11): every role runs the client pipeline;
// a standalone server or a leader also runs the sequencer (prepare, zxids, the global session
// tracker, the container/TTL reaper) and calls propose(); a learner (follower, observer)
// runs the forwarder instead and calls forward() and revalidate(). What crosses between a
// learner and its leader (REQUEST, PING touches, REVALIDATE, SYNC) goes through this plugin.
//
// Threading and lifetime
// - attach() is called once, before start(), with the storage, the kernel's ConsensusHost
//   and the ensemble parsed from the config (server.N lines; empty for a standalone server).
// - propose(), forward() and revalidate() may be called from any thread; txns proposed by one
//   thread are committed in the order proposed, requests forwarded by one thread reach the
//   leader in that order. The kernel only proposes while the role is standalone or leader and
//   only forwards while it is follower or observer; a call that arrives after the role
//   changed is dropped by the plugin (the kernel drops its own pending state on every change).
// - ConsensusHost::commit() is called in strictly increasing zxid order, exactly once per txn,
//   never concurrently with itself, and must not block; so are syncCompleted() and
//   roleChanged(), which are ordered with the commits (a sync completes after every commit the
//   leader had decided before it; a role change after the last commit of the old role).
// - A standalone consensus commits a txn once the storage made it durable; a replicated one
//   once a quorum has.
// - No method throws.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "corral/frontend.h"
#include "corral/plugin.h"
#include "corral/status.h"
#include "corral/storage.h"
#include "corral/txn_records.h"
#include "corral/types.h"

namespace corral::sdk {


enum class Role : int32_t { kStandalone = 0, kLeader = 1, kFollower = 2, kObserver = 3, kLooking = 4 };

constexpr const char* roleName(Role role) noexcept {
  switch (role) {
    case Role::kStandalone: return "standalone";
    case Role::kLeader: return "leader";
    case Role::kFollower: return "follower";
    case Role::kObserver: return "observer";
    case Role::kLooking: return "looking";
  }
  return "unknown";
}

// Roles that order writes themselves (they run the sequencer).
constexpr bool sequencesWrites(Role role) noexcept {
  return role == Role::kStandalone || role == Role::kLeader;
}
// Roles that serve clients at all (a looking server refuses sessions).
constexpr bool servesClients(Role role) noexcept { return role != Role::kLooking; }

// ---- the ensemble, parsed once by the kernel (server.N lines, peerType) ----

enum class PeerType : int32_t { kParticipant = 0, kObserver = 1 };

struct EnsembleMember {
  int64_t id = 0;
  std::string host;            // first address of the server.N line
  int quorum_port = 0;         // learners connect to the leader here
  int election_port = 0;       // fast leader election
  PeerType type = PeerType::kParticipant;
  std::string client_host;     // "" without a ";[host:]port" part
  int client_port = 0;         // 0: none given
};

struct Ensemble {
  int64_t my_id = 0;                        // myid; 0 for a standalone server
  PeerType my_type = PeerType::kParticipant;  // peerType, or the :observer suffix of my line
  std::vector<EnsembleMember> members;      // empty for a standalone server
  // The membership's version (the `version=` line of a dynamic config file, hex; 0 for a
  // static zoo.cfg) and where it was read: the static file given with --config, and the
  // dynamic file it names (dynamicConfigFile; "" when the members are in the static file).
  int64_t version = 0;
  std::string config_file;
  std::string dynamic_file;
  bool reconfig_enabled = false;  // reconfigEnabled

  bool standalone() const noexcept { return members.empty(); }
  const EnsembleMember* member(int64_t id) const noexcept {
    for (const auto& m : members) {
      if (m.id == id) return &m;
    }
    return nullptr;
  }
};

// ---- what travels between a learner and its leader ----

// A request a learner hands to the leader (ZooKeeper's REQUEST packet): a write, sync,
// createSession (body: none; `session_timeout_ms` set, `auth_ids` empty as in ZooKeeper) or
// closeSession, with the ids of the connection it came from (ACL checks and `auth` ACLs are
// decided by the leader's sequencer with these).
struct ForwardedRequest {
  SessionId session = 0;
  ClientRequest request;            // xid = the client's cxid, op, decoded body
  std::vector<Id> auth_ids;
  int32_t session_timeout_ms = 0;   // createSession only
};

// One entry of a learner's PING reply: a session that was active on the learner.
struct SessionTouch {
  SessionId id = 0;
  int32_t timeout_ms = 0;
};

// Figures for mntr / srvr / the AdminServer, beyond role and epoch: ZooKeeper's names
// without the "zk_" prefix (e.g. {"followers", "2"}, {"synced_followers", "2"}), in the
// order mntr prints them.
struct ConsensusReport {
  int64_t leader_id = -1;  // -1 unknown / none
  std::vector<std::pair<std::string, std::string>> fields;
  // mntr's zk_peer_state, printed right after zk_server_state ("leading - broadcast"); empty
  // for a standalone server, which has none.
  std::string peer_state;
  // Lines srvr and stat print after "Node count:" (a leader's "Proposal sizes last/min/max:").
  std::string stats_lines;
  // What conf prints after serverId= in an ensemble (initLimit ... membership ... version=).
  std::string conf_text;
};

// Implemented by the kernel.
class ConsensusHost {
 public:
  virtual ~ConsensusHost() = default;
  // A committed txn, in zxid order. `status` is not ok when the txn could not be made
  // durable: the kernel stops the server (a failed fsync is fatal). `mode` is how the storage
  // applies it: kReplay for txns a fuzzy snapshot just loaded may already hold (a learner after
  // SNAP, as ZooKeeper's learners apply them), kLive otherwise.
  virtual void commit(TxnEntry txn, Status status, ApplyMode mode) noexcept = 0;
  // This server's role changed (also the first decision after start). Leaving a role closes
  // every client connection and drops pending changes; sessions are not expired by it.
  virtual void roleChanged(Role role, int64_t epoch) noexcept = 0;
  // Learner: the storage's state was replaced (Storage::truncateLog or loadSnapshot, while the
  // role is looking): the kernel reloads its session list and last zxid from the storage.
  // Ordered with commits, like roleChanged().
  virtual void stateReplaced() noexcept = 0;
  // Learner: the leader's SYNC answer; completes the oldest forwarded sync still pending.
  virtual void syncCompleted() noexcept = 0;
  // Learner: the sessions active here since the previous call (for the PING reply); the
  // table is reset by the call.
  virtual std::vector<SessionTouch> takeSessionTouches() noexcept = 0;

  // Leader: a learner's REQUEST, to be sequenced as a local one would be.
  virtual void submitForwarded(ForwardedRequest request) noexcept = 0;
  // Leader: runs `then` (on the kernel's thread) once every request this thread submitted
  // before with submitForwarded() has been sequenced (proposed): a learner's SYNC is answered
  // after the writes that learner forwarded before it, as ZooKeeper orders them.
  virtual void afterForwarded(std::function<void()> then) noexcept = 0;
  // Leader: a learner's PING reply.
  virtual void touchSessions(std::span<const SessionTouch> touches) noexcept = 0;
  // Leader: a learner's REVALIDATE; `done(valid)` runs once, on any thread.
  virtual void revalidateSession(SessionId id, int32_t timeout_ms,
                                 std::function<void(bool valid)> done) noexcept = 0;
  // The quorum config in force changed (at start, after a learner's sync, when a reconfig is
  // activated): /zookeeper/config is to hold `text`, as ZooKeeper's initConfigInZKDatabase
  // writes it outside any txn (version -1, mzxid `version`). Ordered with commits.
  virtual void configActivated(std::string text, int64_t version) noexcept {
    (void)text;
    (void)version;
  }
};

class BOOST_SYMBOL_VISIBLE Consensus : public Plugin {
 public:
  virtual void attach(Storage& storage, ConsensusHost& host, const Ensemble& ensemble) noexcept = 0;
  // Sequencer (standalone, leader): replicate and commit `txn`, zxids in order.
  virtual void propose(TxnEntry txn) noexcept = 0;
  // Forwarder (follower, observer): send `request` to the leader. Its txn comes back as a
  // commit; a sync comes back as syncCompleted().
  virtual void forward(ForwardedRequest request) noexcept = 0;
  // Forwarder: ask the leader whether a session a client reattaches to is alive (and move it
  // here); `done(valid)` runs once, on any thread (false when no leader answers).
  virtual void revalidate(SessionId id, int32_t timeout_ms, std::function<void(bool valid)> done) noexcept = 0;
  // Leader: checks a reconfig request for the txn `zxid` will carry, as ZooKeeper's
  // PrepRequestProcessor does before its ACL check (reconfig in progress, fromConfig version,
  // the new membership's syntax and size, a synced quorum in it), and returns the new
  // config's text: the data of the SetDataTxn on /zookeeper/config. Errors carry the client's
  // code. Called on the sequencer's thread right before propose() of that txn (or of an error
  // txn). Default: a consensus without membership (standalone) cannot reconfigure.
  virtual Result<std::string> prepareReconfig(const ReconfigRequest& request, Zxid zxid) noexcept {
    (void)request;
    (void)zxid;
    return Status(Code::kUnimplemented, "reconfig needs an ensemble");
  }
  virtual Role role() const noexcept = 0;
  // The epoch new zxids are issued in (0 for standalone).
  virtual int64_t epoch() const noexcept = 0;
  virtual ConsensusReport report() const noexcept = 0;
};

}  // namespace corral::sdk

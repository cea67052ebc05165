#include "zab_peer.h"

#include <algorithm>
#include <chrono>
#include <random>

#include <fmt/format.h>

#include "corral/data_records.h"
#include "follower.h"
#include "leader.h"
#include "learner_handler.h"
#include "observer_master.h"
#include "zab_admin.h"

namespace corral::plugins::zab {

using namespace std::chrono_literals;

ZabPeer::ZabPeer(sdk::Host& host, ZabSettings settings)
    : host_(host), log_(host.logger()), settings_(std::move(settings)) {
  if (auto added = registerZabCommands(host.commands(), *this); !added.isOk()) {
    log_.warn("zab: admin commands not registered: {}", added.message());
  }
}

ZabPeer::~ZabPeer() { stop(); }

void ZabPeer::attach(sdk::Storage& storage, sdk::ConsensusHost& host, const sdk::Ensemble& ensemble) noexcept {
  storage_ = &storage;
  kernel_ = &host;
  ensemble_ = ensemble;
}

bool ZabPeer::isVoter(int64_t sid) const { return membership_->isVoter(sid); }

size_t ZabPeer::voterCount() const { return membership_->current()->voterCount(); }

bool ZabPeer::hasAllQuorums(const std::set<int64_t>& sids) const {
  for (const auto& config : membership_->quorumConfigs()) {
    if (!config->containsQuorum(sids)) return false;
  }
  return true;
}

// The config of the server.N lines (or the dynamic file) in force at start; with reconfig
// enabled its files are kept up to date from here on (ZooKeeper backs zoo.cfg up first when
// the members are still in it).
bool ZabPeer::startMembership() {
  std::unique_ptr<ConfigFiles> files;
  if (ensemble_.reconfig_enabled && !ensemble_.config_file.empty()) {
    files = std::make_unique<ConfigFiles>(ensemble_.config_file, settings_.data_dir, log_);
    if (ensemble_.dynamic_file.empty()) files->backupStatic();
  }
  auto initial = std::make_shared<const QuorumConfig>(ensemble_.members, ensemble_.version);
  membership_ = std::make_unique<Membership>(ensemble_.my_id, initial, ensemble_.reconfig_enabled, std::move(files));
  if (membership_->current()->member(ensemble_.my_id) == nullptr) return false;
  refreshObserverMasters();
  return true;
}

void ZabPeer::refreshObserverMasters() {
  std::vector<int64_t> voters = membership_->current()->voters();
  std::shuffle(voters.begin(), voters.end(), std::mt19937_64(std::random_device{}()));
  std::lock_guard lock(observer_masters_mutex_);
  observer_masters_ = std::move(voters);
  observer_master_cursor_ = 0;
}

bool ZabPeer::processReconfig(ConfigPtr config, std::optional<int64_t> designated_leader) {
  if (!membership_->reconfigEnabled()) return false;
  const bool was_observer = amObserver();
  auto previous = membership_->activate(config);
  // initConfigInZKDatabase: /zookeeper/config shows the config in force.
  auto current = membership_->current();
  kernel_->configActivated(current->toString(), current->version());
  if (!previous || previous->sameMembers(*config)) return false;
  log_.info("zab: config version {:x} in force ({} voters, {} members)", config->version(), config->voterCount(),
            config->members().size());
  refreshObserverMasters();
  const bool role_change = was_observer != amObserver();
  if (role_change) log_.info("zab: this member is now {}", amObserver() ? "an observer" : "a participant");
  bool leader_change = false;
  const int64_t leader = current_leader_.load();
  if (designated_leader) {
    leader_change = *designated_leader != leader;
    if (leader_change || role_change) {
      std::lock_guard lock(designated_mutex_);
      designated_leader_ = *designated_leader;
      log_.info("zab: suggested leader: sid {}", *designated_leader);
    }
  } else {
    const auto* before = previous->member(leader);
    const auto* after = config->member(leader);
    leader_change = !previous->isVoter(leader) || !config->isVoter(leader) || before == nullptr || after == nullptr ||
                    before->host != after->host || before->quorum_port != after->quorum_port;
  }
  return role_change || leader_change;
}

// The next term's vote: the leader a reconfig designated (ZooKeeper's reconfigFlag: no
// election), or an election.
std::optional<Vote> ZabPeer::nextVote() {
  std::optional<int64_t> designated;
  {
    std::lock_guard lock(designated_mutex_);
    designated.swap(designated_leader_);
  }
  if (designated) {
    const bool leading = *designated == ensemble_.my_id;
    auto vote = election_->adoptLeader(*designated, leading ? ServerState::kLeading
                                                   : amObserver() ? ServerState::kObserving
                                                                  : ServerState::kFollowing);
    log_.info("zab: {} sid {} as the reconfig designated, without an election",
              leading ? "leading as" : amObserver() ? "observing" : "following", *designated);
    return vote;
  }
  setPhase(ZabPhase::kElection);
  return election_->lookForLeader();
}

sdk::Status ZabPeer::start() noexcept {
  try {
    if (storage_ == nullptr || ensemble_.standalone()) {
      return sdk::Status(sdk::Code::kInvalidConfig, "consensus.zab needs server.N lines (an ensemble)");
    }
    epochs_ = std::make_unique<EpochFiles>(std::filesystem::path(settings_.data_dir) / "version-2");
    // Recovery applied every logged txn: what we hold is what we logged.
    last_delivered_ = storage_->stats().last_applied_zxid;
    if (auto loaded = epochs_->load(storage_->lastLoggedZxid()); !loaded.isOk()) return loaded;
    log_.info("zab: sid {} ({}), last zxid 0x{:x}, accepted epoch {}, current epoch {}", ensemble_.my_id,
              ensemble_.my_type == sdk::PeerType::kObserver ? "observer" : "participant", last_delivered_,
              epochs_->accepted(), epochs_->current());
    if (!startMembership()) return sdk::Status(sdk::Code::kInvalidConfig, "myid is not among the server.N lines");
    connections_ = std::make_unique<ElectionConnections>(*membership_, settings_, log_);
    membership_->onNewMembers([this](const QuorumConfig& config) { connections_->addMembers(config); });
    if (auto started = connections_->start(); !started.isOk()) return started;
    election_ = std::make_unique<FastLeaderElection>(
        *membership_, settings_, *connections_, log_,
        FastLeaderElection::Self{[this] { return storage_->lastLoggedZxid(); }, [this] { return epochs_->current(); },
                                 [this](ConfigPtr config) { return processReconfig(std::move(config), std::nullopt); }});
    const auto config = membership_->current();
    kernel_->configActivated(config->toString(), config->version());
    election_->start();
    main_ = std::thread([this] { run(); });
    return sdk::Status::ok();
  } catch (const std::exception& e) {
    return sdk::Status(sdk::Code::kSystemError, fmt::format("consensus.zab: {}", e.what()));
  }
}

void ZabPeer::stop() noexcept {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard lock(term_mutex_);
    if (leader_) leader_->shutdown("stopping");
    if (follower_) follower_->shutdown();
  }
  if (election_) election_->stop();
  if (main_.joinable()) main_.join();
  if (connections_) connections_->stop();
}

void ZabPeer::run() {
  while (!stopping_) {
    auto vote = nextVote();
    if (!vote || stopping_) break;
    current_leader_ = vote->id;
    setPhase(ZabPhase::kDiscovery);
    if (vote->state == ServerState::kLeading) {
      auto leader = std::make_shared<Leader>(*this, *vote);
      {
        std::lock_guard lock(term_mutex_);
        leader_ = leader;
      }
      if (!stopping_) leader->lead();
      std::lock_guard lock(term_mutex_);
      leader_.reset();
    } else {
      auto follower = std::make_shared<Follower>(*this, vote->id);
      {
        std::lock_guard lock(term_mutex_);
        follower_ = follower;
      }
      if (!stopping_) follower->follow();
      {
        std::lock_guard lock(term_mutex_);
        follower_.reset();
      }
      // The kernel drops the role (and the connections waiting on a revalidation) first; only
      // then do the unanswered revalidations end, so that no client is told "expired".
      setRole(sdk::Role::kLooking, epoch_.load());
      follower->failRevalidations();
      // ZooKeeper's observers wait a random part of observer.election.DelayMs before looking
      // again, so that a read tier does not rush the voters all at once.
      if (amObserver() && !stopping_) observerElectionDelay();
    }
    current_leader_ = -1;
    setRole(sdk::Role::kLooking, epoch_.load());
    election_->becomeLooking();
    if (!stopping_) fastForward();
  }
}

void ZabPeer::setRole(sdk::Role role, int64_t epoch) {
  const sdk::Role previous = role_.exchange(role);
  epoch_ = epoch;
  if (previous != role) kernel_->roleChanged(role, epoch);
}

// ---- the commit stream ----

void ZabPeer::deliver(sdk::TxnEntry txn, PacketBytes entry, sdk::ApplyMode mode) {
  std::lock_guard lock(deliver_mutex_);
  const sdk::Zxid zxid = txn.header.zxid;
  if (zxid <= last_delivered_) return;
  last_delivered_ = zxid;
  if (settings_.commit_log_count > 0) {
    window_.push_back({zxid, std::move(entry)});
    while (window_.size() > static_cast<size_t>(settings_.commit_log_count)) window_.pop_front();
  }
  kernel_->commit(std::move(txn), sdk::Status::ok(), mode);
}

sdk::Zxid ZabPeer::lastDelivered() const {
  std::lock_guard lock(deliver_mutex_);
  return last_delivered_;
}

bool ZabPeer::waitApplied(sdk::Zxid zxid, int64_t timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (storage_->stats().last_applied_zxid < zxid) {
    if (std::chrono::steady_clock::now() >= deadline || stopping_) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

bool ZabPeer::windowHas(sdk::Zxid zxid) const {
  std::lock_guard lock(deliver_mutex_);
  auto it = std::lower_bound(window_.begin(), window_.end(), zxid,
                             [](const CommittedTxn& txn, sdk::Zxid z) { return txn.zxid < z; });
  return it != window_.end() && it->zxid == zxid;
}

void ZabPeer::windowAfter(sdk::Zxid after, std::vector<CommittedTxn>& out) const {
  std::lock_guard lock(deliver_mutex_);
  auto it = std::upper_bound(window_.begin(), window_.end(), after,
                             [](sdk::Zxid z, const CommittedTxn& txn) { return z < txn.zxid; });
  out.insert(out.end(), it, window_.end());
}

std::optional<sdk::Zxid> ZabPeer::windowFirst() const {
  std::lock_guard lock(deliver_mutex_);
  if (window_.empty()) return std::nullopt;
  return window_.front().zxid;
}

void ZabPeer::stateReplaced(sdk::Zxid zxid) {
  {
    std::lock_guard lock(deliver_mutex_);
    last_delivered_ = zxid;
    window_.clear();
  }
  kernel_->stateReplaced();
}

// Txns logged in a term that ended before they were committed: part of our history now (the
// next leader, us or another, decides with them), so the tree must hold them too.
void ZabPeer::fastForward() {
  const sdk::Zxid from = lastDelivered();
  if (storage_->lastLoggedZxid() <= from) return;
  size_t count = 0;
  auto read = storage_->readLog(from, [&](const sdk::TxnEntry& txn) {
    auto entry = std::make_shared<const std::string>(sdk::encodeToString(txn));
    deliver(txn, std::move(entry), sdk::ApplyMode::kLive);
    ++count;
    return true;
  });
  if (!read.isOk()) {
    log_.warn("zab: cannot apply the txns logged after 0x{:x}: {}", from, read.message());
    return;
  }
  waitApplied(lastDelivered(), 60000);
  log_.info("zab: applied {} logged txns of the last term (now at 0x{:x})", count, lastDelivered());
}

// ---- sdk::Consensus ----

void ZabPeer::propose(sdk::TxnEntry txn) noexcept {
  std::shared_ptr<Leader> leader;
  {
    std::lock_guard lock(term_mutex_);
    leader = leader_;
  }
  if (leader) leader->propose(std::move(txn));
}

void ZabPeer::forward(sdk::ForwardedRequest request) noexcept {
  std::shared_ptr<Follower> follower;
  {
    std::lock_guard lock(term_mutex_);
    follower = follower_;
  }
  if (follower) follower->forward(std::move(request));
}

void ZabPeer::revalidate(sdk::SessionId id, int32_t timeout_ms, std::function<void(bool)> done) noexcept {
  std::shared_ptr<Follower> follower;
  {
    std::lock_guard lock(term_mutex_);
    follower = follower_;
  }
  if (!follower) return done(false);
  follower->revalidate(id, timeout_ms, std::move(done));
}

std::vector<sdk::EnsembleMember> ZabPeer::observerMasters(int64_t leader) {
  std::vector<sdk::EnsembleMember> out;
  const auto config = membership_->current();
  std::lock_guard lock(observer_masters_mutex_);
  const size_t count = observer_masters_.size();
  if (count == 0) return out;
  const size_t start = observer_master_cursor_.fetch_add(1) % count;
  for (size_t i = 0; i < count; ++i) {
    const int64_t sid = observer_masters_[(start + i) % count];
    if (sid == leader || sid == ensemble_.my_id) continue;
    if (const auto* member = config->member(sid)) out.push_back(*member);
  }
  return out;
}

namespace {
void randomPause(int64_t bound_ms) {
  if (bound_ms <= 0) return;
  thread_local std::mt19937_64 random(std::random_device{}());
  std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, bound_ms - 1)(random)));
}
}  // namespace

void ZabPeer::observerReconnectDelay() const { randomPause(settings_.observer_reconnect_delay_ms); }
void ZabPeer::observerElectionDelay() const { randomPause(settings_.observer_election_delay_ms); }

void ZabPeer::forEachObserverHandler(const std::function<void(LearnerHandler&)>& visit) const {
  std::shared_ptr<Leader> leader;
  std::shared_ptr<Follower> follower;
  {
    std::lock_guard lock(term_mutex_);
    leader = leader_;
    follower = follower_;
  }
  auto observers_only = [&](LearnerHandler& handler) {
    if (handler.isObserver()) visit(handler);
  };
  if (leader) leader->forEachHandler(observers_only);
  if (follower) {
    if (auto master = follower->observerMaster()) master->forEachHandler(observers_only);
  }
}

std::vector<ZabPeer::ObserverInfo> ZabPeer::observers() const {
  std::vector<ObserverInfo> out;
  forEachObserverHandler([&](LearnerHandler& handler) {
    out.push_back({handler.address(), handler.sid(), handler.connectedAtMs(), handler.packetsReceived(),
                   handler.packetsSent(), handler.requests(), handler.lastZxid(), handler.broadcasting()});
  });
  return out;
}

void ZabPeer::resetObserverStats() {
  forEachObserverHandler([](LearnerHandler& handler) { handler.resetStats(); });
}

int64_t ZabPeer::learnerMasterId() const {
  std::lock_guard lock(term_mutex_);
  return follower_ ? follower_->masterId() : -1;
}

bool ZabPeer::leading() const {
  std::lock_guard lock(term_mutex_);
  return leader_ != nullptr && role_.load() == sdk::Role::kLeader;
}

std::string ZabPeer::peerState() const {
  static constexpr const char* kPhases[] = {"election", "discovery", "synchronization", "broadcast"};
  static constexpr const char* kSyncModes[] = {"none", "diff", "snap", "trunc"};
  std::string state;
  switch (role_.load()) {
    case sdk::Role::kLeader: state = "leading"; break;
    case sdk::Role::kFollower: state = "following"; break;
    case sdk::Role::kObserver: state = "observing"; break;
    default: state = "looking"; break;
  }
  const ZabPhase phase = phase_.load();
  if (phase != ZabPhase::kElection) state += fmt::format(" - {}", kPhases[static_cast<int>(phase)]);
  const SyncMode sync = sync_mode_.load();
  if (sync != SyncMode::kNone) state += fmt::format(" - {}", kSyncModes[static_cast<int>(sync)]);
  return state;
}

sdk::ConsensusReport ZabPeer::report() const noexcept {
  sdk::ConsensusReport report;
  try {
    report.peer_state = peerState();
    const auto config = membership_->current();
    const auto* me = config->member(ensemble_.my_id);
    report.conf_text = fmt::format(
        "initLimit={}\nsyncLimit={}\nelectionAlg=3\nelectionPort={}\nquorumPort={}\npeerType={}\nmembership: \n{}",
        settings_.init_limit, settings_.sync_limit, me ? me->election_port : 0, me ? me->quorum_port : 0,
        amObserver() ? 1 : 0, config->toString());
    std::lock_guard lock(term_mutex_);
    if (leader_ && role_.load() == sdk::Role::kLeader) {
      report.leader_id = ensemble_.my_id;
      report.fields = leader_->reportFields();
      report.stats_lines = leader_->proposalSizesLine();
    } else if (follower_) {
      // As ZooKeeper: an observer names the member it learns from (an observer master, or the
      // leader); ZooKeeper's `leader` command on an observer reports that one too.
      report.leader_id = amObserver() ? follower_->masterId() : follower_->leaderId();
    }
    report.fields.emplace_back("quorum_size", std::to_string(voterCount()));
    if (follower_ && role_.load() == sdk::Role::kObserver) {
      report.fields.emplace_back("observer_master_id", std::to_string(follower_->masterId()));
    } else if (follower_ && role_.load() == sdk::Role::kFollower && settings_.observer_master_port > 0) {
      // ZooKeeper: a follower reports the observers of its observer master (none without one).
      size_t synced = 0;
      if (auto master = follower_->observerMaster()) {
        master->forEachHandler([&](LearnerHandler& handler) { synced += handler.broadcasting(); });
      }
      report.fields.emplace_back("synced_observers", std::to_string(synced));
    }
  } catch (...) {
  }
  return report;
}

sdk::Result<std::string> ZabPeer::prepareReconfig(const sdk::ReconfigRequest& request, sdk::Zxid zxid) noexcept {
  try {
    std::shared_ptr<Leader> leader;
    {
      std::lock_guard lock(term_mutex_);
      leader = leader_;
    }
    if (!leader) return sdk::Status(sdk::Code::kConnectionLoss, "not leading");
    return leader->prepareReconfig(request, zxid);
  } catch (const std::exception& e) {
    return sdk::Status(sdk::Code::kSystemError, e.what());
  }
}

}  // namespace corral::plugins::zab

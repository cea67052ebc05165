// corral.thrift: ZooKeeper 3.8's client API as an Apache Thrift service (frontend.thrift).
//
// The same tree, sessions, watches and ACLs as the ZooKeeper port: a Thrift client sees a
// ZooKeeper client's ephemerals, fires its watches and is held to the same ACLs. Paths, ACLs,
// versions, create modes and error codes mean exactly what they mean in ZooKeeper 3.8.
//
// Transport: framed (a 4-byte big-endian length, then one message), binary or compact
// protocol as the server's thrift.protocol says, optionally TLS (thrift.secure) with the same
// certificates and x509 identities as the ZooKeeper TLS port.
//
// Sessions. A connection carries at most one session. The first call on a connection must be
// openSession: it creates a session, or re-attaches one by id and password (after a dropped
// connection, on this server or another member of the ensemble). Every call keeps the session
// alive; an idle client calls ping at least every timeoutMs / 3. A session that hears nothing
// for its timeout expires: its ephemerals go, and re-attaching it fails with SESSIONEXPIRED.
// Any other call before openSession fails with BADARGUMENTS; a call after the session ended
// (closeSession, expiry, AUTHFAILED) finds the connection closed.
//
// Order. Calls on one connection are answered in the order they were sent; a client may send
// several before reading the answers (pipelining). Writes of one session are applied in order.
//
// Watch events, and the ordering guarantee. ZooKeeper promises that a client sees a watch
// event before it sees any reply that shows the change. Here every reply (result or ZkError)
// carries `events`: the watch events the server queued for this session since the previous
// reply, oldest first, and `zxid`, the server's last zxid when it answered. A client delivers a
// reply's events before the reply itself, and the guarantee holds with no further work: an
// event is never sent after a reply that shows its change. Events that come while the client
// sends nothing wait for its next call; ping(waitMs) waits for them: it returns as soon as an
// event is queued, after waitMs, or as soon as the next call arrives on the connection, so a
// client may keep one ping outstanding and still send calls behind it (send_ping, then
// send_getData, then recv_ping, recv_getData). Events queued and not yet delivered count
// against the server's output limit (clientOutput.hardLimitBytes): a client that never calls
// loses its connection, not the server its memory.
//
// Watches are one-shot (the `watch` flag of exists, getData, getChildren), persistent or
// persistent recursive (addWatch), as in ZooKeeper; they belong to the session's connection.
// After re-attaching a session on a new connection, a client re-registers its watches with
// setWatches (the server fires at once those whose node changed after relativeZxid).
//
// Errors. A failed call raises ZkError with ZooKeeper's code (KeeperException.Code, e.g. -101
// NONODE) and the path it concerns. multi raises ZkError with the code and index of the first
// failing op and every op's result. Protocol errors (an unknown method, a malformed message)
// raise TApplicationException, or close the connection when the bytes cannot be framed.

namespace cpp corral.thrift_api
namespace py corral_thrift
namespace java org.corral.thrift

// KeeperException.Code: the value of ZkError.code.
enum ErrorCode {
  OK = 0,
  SYSTEMERROR = -1,
  RUNTIMEINCONSISTENCY = -2,
  DATAINCONSISTENCY = -3,
  CONNECTIONLOSS = -4,
  MARSHALLINGERROR = -5,
  UNIMPLEMENTED = -6,
  OPERATIONTIMEOUT = -7,
  BADARGUMENTS = -8,
  UNKNOWNSESSION = -12,
  NEWCONFIGNOQUORUM = -13,
  RECONFIGINPROGRESS = -14,
  APIERROR = -100,
  NONODE = -101,
  NOAUTH = -102,
  BADVERSION = -103,
  NOCHILDRENFOREPHEMERALS = -108,
  NODEEXISTS = -110,
  NOTEMPTY = -111,
  SESSIONEXPIRED = -112,
  INVALIDCALLBACK = -113,
  INVALIDACL = -114,
  AUTHFAILED = -115,
  SESSIONMOVED = -118,
  NOTREADONLY = -119,
  EPHEMERALONLOCALSESSION = -120,
  NOWATCHER = -121,
  REQUESTTIMEOUT = -122,
  RECONFIGDISABLED = -123,
  SESSIONCLOSEDREQUIRESASLAUTH = -124,
  QUOTAEXCEEDED = -125,
  THROTTLEDOP = -127,
}

// CreateMode, with ZooKeeper's numbers.
enum CreateMode {
  PERSISTENT = 0,
  EPHEMERAL = 1,
  PERSISTENT_SEQUENTIAL = 2,
  EPHEMERAL_SEQUENTIAL = 3,
  CONTAINER = 4,
  PERSISTENT_WITH_TTL = 5,
  PERSISTENT_SEQUENTIAL_WITH_TTL = 6,
}

// Watcher.Event.EventType.
enum EventType {
  NONE = -1,
  NODE_CREATED = 1,
  NODE_DELETED = 2,
  NODE_DATA_CHANGED = 3,
  NODE_CHILDREN_CHANGED = 4,
  DATA_WATCH_REMOVED = 5,
  CHILD_WATCH_REMOVED = 6,
  PERSISTENT_WATCH_REMOVED = 7,
}

// Watcher.Event.KeeperState (events on a live session are SYNC_CONNECTED).
enum KeeperState {
  DISCONNECTED = 0,
  SYNC_CONNECTED = 3,
  AUTH_FAILED = 4,
  CONNECTED_READ_ONLY = 5,
  SASL_AUTHENTICATED = 6,
  EXPIRED = -112,
  CLOSED = 7,
}

// AddWatchMode.
enum AddWatchMode {
  PERSISTENT = 0,
  PERSISTENT_RECURSIVE = 1,
}

// Watcher.WatcherType, for removeWatches.
enum WatcherType {
  CHILDREN = 1,
  DATA = 2,
  ANY = 3,
}

// ZooDefs.Perms bits, for ACL.perms.
const i32 PERM_READ = 1
const i32 PERM_WRITE = 2
const i32 PERM_CREATE = 4
const i32 PERM_DELETE = 8
const i32 PERM_ADMIN = 16
const i32 PERM_ALL = 31

// Version -1 matches any version (delete, setData, setACL, check).
const i32 ANY_VERSION = -1

// org.apache.zookeeper.data.Stat.
struct Stat {
  1: i64 czxid,
  2: i64 mzxid,
  3: i64 ctime,           // ms since the epoch
  4: i64 mtime,
  5: i32 version,
  6: i32 cversion,
  7: i32 aversion,
  8: i64 ephemeralOwner,  // the owning session, 0 if not ephemeral
  9: i32 dataLength,
  10: i32 numChildren,
  11: i64 pzxid,
}

struct Id {
  1: string scheme,  // world, auth, digest, ip, x509, ...
  2: string id,
}

struct ACL {
  1: i32 perms,      // PERM_* bits
  2: Id id,
}

struct WatchEvent {
  1: EventType type,
  2: KeeperState state,
  3: string path,    // as the client named it (chroot is a client-side matter)
}

struct ClientInfo {  // whoAmI
  1: string authScheme,
  2: string user,
}

// ---- sessions

struct OpenSessionRequest {
  1: i32 timeoutMs,           // negotiated into [minSessionTimeout, maxSessionTimeout]
  2: i64 sessionId = 0,       // 0: a new session; else re-attach this one
  3: binary password,         // the password openSession returned (re-attach only)
  4: i64 lastZxidSeen = 0,    // the largest zxid this client has seen; a server behind it refuses
  5: bool readOnly = false,   // accept a read-only server (readonlymode.enabled)
}

struct SessionInfo {
  1: i64 zxid,
  2: list<WatchEvent> events,
  3: i64 sessionId,
  4: binary password,
  5: i32 timeoutMs,           // the negotiated timeout
  6: bool readOnly,           // the server is read-only
}

// ---- results: each starts with the server's zxid and the events to deliver first

struct PingResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
}

struct CreateResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
  3: string path,             // the created path (with its sequence number, if sequential)
  4: Stat stat,
}

struct DeleteResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
}

struct ExistsResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
  3: optional Stat stat,      // unset: no such node (not an error for exists)
}

struct GetDataResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
  3: optional binary data,    // unset: the node was created with null data
  4: Stat stat,
}

struct SetDataResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
  3: Stat stat,
}

struct GetChildrenResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
  3: list<string> children,   // names, not paths; in no particular order
  4: Stat stat,
}

struct GetAclResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
  3: list<ACL> acl,
  4: Stat stat,
}

struct SetAclResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
  3: Stat stat,
}

struct SyncResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
  3: string path,
}

struct GetEphemeralsResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
  3: list<string> paths,
}

struct CountResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
  3: i32 count,
}

struct WhoAmIResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
  3: list<ClientInfo> identities,
}

// addAuth, addWatch, removeWatches, setWatches, closeSession.
struct DoneResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
}

// ---- multi (atomic writes) and multiRead

struct CreateOp {
  1: string path,
  2: optional binary data,    // unset: null data
  3: list<ACL> acl,
  4: CreateMode mode = CreateMode.PERSISTENT,
  5: i64 ttl = 0,             // ms; only for the *_WITH_TTL modes
}

struct DeleteOp {
  1: string path,
  2: i32 version = ANY_VERSION,
}

struct SetDataOp {
  1: string path,
  2: optional binary data,
  3: i32 version = ANY_VERSION,
}

struct CheckOp {
  1: string path,
  2: i32 version = ANY_VERSION,
}

union Op {
  1: CreateOp create,
  2: DeleteOp remove,
  3: SetDataOp setData,
  4: CheckOp check,
}

struct OpError {
  1: i32 code,                // the op's ErrorCode; 0 for the ops before the failing one
}

struct CreateOpResult {
  1: string path,             // the created path (with its sequence number)
  // Set for CONTAINER and TTL creates only: like ZooKeeper's multi, which answers a plain
  // create inside a multi with its path alone. MultiResult.zxid is every op's czxid/mzxid.
  2: optional Stat stat,
}

struct SetDataOpResult {
  1: Stat stat,
}

struct Empty {}

union OpResult {
  1: CreateOpResult create,
  2: Empty remove,
  3: SetDataOpResult setData,
  4: Empty check,
  5: OpError error,
}

struct MultiResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
  3: list<OpResult> results,  // one per op, in order
}

union ReadOp {
  1: string getData,          // the path
  2: string getChildren,      // the path
}

struct DataOpResult {
  1: optional binary data,
  2: Stat stat,
}

struct ChildrenOpResult {
  1: list<string> children,
}

union ReadOpResult {
  1: DataOpResult getData,
  2: ChildrenOpResult getChildren,
  3: OpError error,           // this op failed (NONODE, NOAUTH); the others still ran
}

struct MultiReadResult {
  1: i64 zxid,
  2: list<WatchEvent> events,
  3: list<ReadOpResult> results,
}

// ---- errors

exception ZkError {
  1: i32 code,                // ErrorCode
  2: string path,             // the path the call (or the failing op) named; "" for none
  3: string message,          // ZooKeeper's text for the code
  4: i64 zxid,
  5: list<WatchEvent> events, // as in a result: deliver them before raising
  6: optional i32 failedOp,          // multi: the index of the first failing op
  7: optional list<OpResult> results, // multi: every op's result
}

service Corral {
  // ---- session
  SessionInfo openSession(1: OpenSessionRequest request) throws (1: ZkError error),
  // Keeps the session alive; returns queued events at once, or waits up to waitMs (at most
  // the session timeout) for one. The next call on the connection ends the wait.
  PingResult ping(1: i32 waitMs = 0) throws (1: ZkError error),
  // Ends the session (its ephemerals go at once); the server closes the connection after.
  DoneResult closeSession() throws (1: ZkError error),
  DoneResult addAuth(1: string scheme, 2: binary auth) throws (1: ZkError error),
  WhoAmIResult whoAmI() throws (1: ZkError error),

  // ---- nodes
  // `data` left unset (None in Python, __isset.data false in C++) is null data.
  CreateResult create(1: string path, 2: binary data, 3: list<ACL> acl,
                      4: CreateMode mode = CreateMode.PERSISTENT, 5: i64 ttl = 0)
      throws (1: ZkError error),
  DeleteResult remove(1: string path, 2: i32 version = ANY_VERSION) throws (1: ZkError error),
  ExistsResult exists(1: string path, 2: bool watch = false) throws (1: ZkError error),
  GetDataResult getData(1: string path, 2: bool watch = false) throws (1: ZkError error),
  SetDataResult setData(1: string path, 2: binary data, 3: i32 version = ANY_VERSION)
      throws (1: ZkError error),
  GetChildrenResult getChildren(1: string path, 2: bool watch = false) throws (1: ZkError error),
  GetAclResult getACL(1: string path) throws (1: ZkError error),
  SetAclResult setACL(1: string path, 2: list<ACL> acl, 3: i32 version = ANY_VERSION)
      throws (1: ZkError error),
  SyncResult sync(1: string path) throws (1: ZkError error),
  GetEphemeralsResult getEphemerals(1: string prefixPath = "/") throws (1: ZkError error),
  CountResult getAllChildrenNumber(1: string path) throws (1: ZkError error),
  MultiResult multi(1: list<Op> ops) throws (1: ZkError error),
  MultiReadResult multiRead(1: list<ReadOp> ops) throws (1: ZkError error),

  // ---- watches
  DoneResult addWatch(1: string path, 2: AddWatchMode mode) throws (1: ZkError error),
  // NOWATCHER when the session has no such watch on the path.
  DoneResult removeWatches(1: string path, 2: WatcherType type = WatcherType.ANY)
      throws (1: ZkError error),
  // Re-registers watches on a re-attached session; those whose node changed after
  // relativeZxid fire at once (in the events of this reply or the next ones).
  DoneResult setWatches(1: i64 relativeZxid, 2: list<string> dataWatches,
                        3: list<string> existWatches, 4: list<string> childWatches,
                        5: list<string> persistentWatches,
                        6: list<string> persistentRecursiveWatches) throws (1: ZkError error),
}

"""Shared parts of the dynamic reconfiguration suites (test_reconfig.py,
test_reconfig_kazoo.py, and later mixed / read-tier ones): settings, the /zookeeper/config
text, raw and kazoo reconfig calls, waits on every member's view of the config, members
nobody runs, zoo.cfg and dynamic file readers, and zkCli.sh. See README.md ("Dynamic
reconfiguration").

What ZooKeeper 3.8 does, in short (observed; details in the README):
  * /zookeeper/config holds `server.N=<spec>` lines and a last line `version=<hex>` (no
    trailing newline). Its Stat: czxid 0, ctime 0, version -1, aversion -1, mzxid = the
    config version = the zxid of the reconfig txn (0x100000000 for the first leader's
    config), ACL world:anyone READ.
  * A reconfig's reply is that config (data) with the node's Stat. The order of the
    server lines is not sorted (a joiner may come first): compare them as a set.
  * With reconfigEnabled=true every member rewrites its zoo.cfg at start (server lines
    moved to `zoo.cfg.dynamic.<hex version>`, `dynamicConfigFile=` added, the original
    kept as `zoo.cfg.bak`), and writes a new dynamic file on each reconfig.
"""
import contextlib
import os
import re
import signal
import subprocess
import threading
import time

from kazoo.exceptions import ConnectionLoss
from kazoo.protocol.states import EventType

from harness import raw
from harness.raw import Op
from harness.util import wait_until
from harness_ensemble import HOST, parse_mntr, reserve_ports

CONFIG_NODE = "/zookeeper/config"

# kazoo's own harness uses super:test (digest below); so do we.
SUPER_USER, SUPER_PASSWORD = "super", "test"
SUPER_DIGEST = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
SUPER_AUTH = [("digest", f"{SUPER_USER}:{SUPER_PASSWORD}")]

# superDigest as a zoo.cfg key: ZooKeeper turns an unknown key K into the system property
# zookeeper.K, which is what DigestAuthenticationProvider reads (checked: super can
# reconfig). Corral reads the same key from the same file.
SUPER_DIGEST_KEY = "DigestAuthenticationProvider.superDigest"
RECONFIG_SETTINGS = {"reconfigEnabled": True, SUPER_DIGEST_KEY: SUPER_DIGEST}

FIRST_VERSION = 0x100000000

# Each reconfig test must end well within 2 minutes (ZooKeeper: at most ~12 s each); an
# ensemble start waits at most START_TIMEOUT.
TEST_TIME_LIMIT = 100.0
START_TIMEOUT = 45.0  # the config of the first leader (zxid of its NEWLEADER)

# Error codes (KeeperException.Code)
OK = 0
MARSHALLING_ERROR = -5
BAD_ARGUMENTS = -8
NEW_CONFIG_NO_QUORUM = -13
RECONFIG_IN_PROGRESS = -14
NO_AUTH = -102
BAD_VERSION = -103
RECONFIG_DISABLED = -123

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"


# ============================================================================ config text

def parse_config(data):
    """/zookeeper/config (or a reconfig reply) -> ({sid: spec}, version). `spec` is the
    text after `server.N=`; version is the int of the hex `version=` line (None if none)."""
    if isinstance(data, bytes):
        data = data.decode()
    servers, version = {}, None
    for line in data.split("\n"):
        if not line:
            continue
        key, _, value = line.partition("=")
        if key.startswith("server."):
            sid = int(key[len("server."):])
            assert sid not in servers, f"server.{sid} twice in {data!r}"
            servers[sid] = value
        elif key == "version":
            version = int(value, 16)
        else:
            raise AssertionError(f"unexpected line {line!r} in config {data!r}")
    return servers, version


def assert_config_text(data, servers, version=None):
    """`data` is exactly the server lines of `servers` ({sid: spec}, any order) then
    `version=<hex>` as the last line, no trailing newline (as ZooKeeper writes it)."""
    if isinstance(data, bytes):
        data = data.decode()
    lines = data.split("\n")
    assert lines[-1].startswith("version="), f"last line is not version=: {data!r}"
    got, got_version = parse_config(data)
    assert got == servers, f"config servers {got} != expected {servers}"
    assert len(lines) == len(servers) + 1, data
    if version is not None:
        assert got_version == version, f"version {got_version:x} != {version:x}"
    return got_version


def specs(members, client=None):
    """{sid: spec} of `members` as their zoo.cfg server lines give them (client=True: with
    `;host:clientPort`, as a joining spec)."""
    return {m.sid: m.server_line(client=client).split("=", 1)[1] for m in members}


def config_lines(servers):
    """`server.N=spec` lines (sorted by sid) of {sid: spec}."""
    return [f"server.{sid}={spec}" for sid, spec in sorted(servers.items())]


def initial_config_text(ens, version=FIRST_VERSION):
    """The exact /zookeeper/config of a fresh ensemble (members in sid order)."""
    return "\n".join(config_lines(specs(ens.initial_members())) + [f"version={version:x}"])


# ============================================================================ reading it

def read_config(client, sync=True):
    """(data, ZnodeStat) of /zookeeper/config through `client` (after a sync)."""
    if sync:
        client.sync(CONFIG_NODE)
    return client.get(CONFIG_NODE)


def config_at(ens, member, sync=True):
    """({sid: spec}, version, data, stat) of /zookeeper/config read through `member`."""
    c = ens.client(member)
    try:
        data, stat = read_config(c, sync)
    finally:
        ens.close_client(c)
    servers, version = parse_config(data)
    return servers, version, data, stat


def wait_config_everywhere(ens, servers, version=None, members=None, timeout=30.0):
    """Wait until each member (default: running ones) reads /zookeeper/config with exactly
    `servers` (and `version`); returns the version."""
    members = members or ens.running()
    last = {}

    def ok():
        for m in members:
            got, v, _, _ = config_at(ens, m)
            last[m.sid] = (got, v)
            if got != servers or (version is not None and v != version):
                return False
        return True
    wait_until(ok, timeout, interval=0.2,
               message=f"config not {servers} v{version} everywhere: {last}")
    return next(iter(last.values()))[1]


def conf_membership(member):
    """The lines after `membership:` in the member's `conf` 4lw."""
    text = member.four_letter("conf")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("membership:"):
            return [l for l in lines[i + 1:] if l]
    raise AssertionError(f"no membership: in conf of {member!r}:\n{text}")


def mntr(member):
    return parse_mntr(member.four_letter("mntr"))


# ============================================================================ reconfig calls

def super_client(ens, members=None, **kw):
    """A kazoo client authenticated as the super user."""
    return ens.client(members, auth_data=SUPER_AUTH, **kw)


class RawReply:
    def __init__(self, err, zxid, data=None, stat=None):
        self.err, self.zxid, self.data, self.stat = err, zxid, data, stat

    def __repr__(self):
        return f"RawReply(err={self.err}, zxid={self.zxid:#x}, data={self.data!r})"


def raw_reconfig(member, joining=None, leaving=None, new_members=None, from_config=-1,
                 auth=(SUPER_USER, SUPER_PASSWORD), timeout=15.0):
    """One reconfig (opcode 16) on a new raw session to `member` (null strings for None),
    authenticated as digest `auth` (None: no auth). Returns RawReply; on success `data` is
    the new config and `stat` the node's Stat, on an error the body is checked empty."""
    c = raw.RawConnection(member.port, host=member.host, timeout=timeout)
    try:
        resp = c.handshake(timeout=30000)
        assert resp.session_id, f"handshake refused by {member!r}"
        if auth:
            assert c.add_auth("digest", f"{auth[0]}:{auth[1]}".encode()) == 0
        rep = c.call(Op.RECONFIG, raw.reconfig_body(joining, leaving, new_members,
                                                     from_config))
        if rep.err:
            assert rep.body == b"", f"error reply with a body: {rep!r}"
            return RawReply(rep.err, rep.zxid)
        data, stat = rep.r.buffer(), rep.r.stat()
        assert rep.r.at_end(), rep
        return RawReply(rep.err, rep.zxid, data, stat)
    finally:
        c.end_session()


def reconfig(client, joining=None, leaving=None, new_members=None, from_config=-1,
             timeout=30.0):
    """client.reconfig with a bound: (data, stat) of the new config, or the error raised
    (kazoo's own reconfig() waits without limit for an answer)."""
    return client.reconfig_async(joining, leaving, new_members,
                                 from_config).get(timeout=timeout)


def reconfig_tolerating_loss(client, joining=None, leaving=None, new_members=None,
                             from_config=-1, timeout=30.0):
    """kazoo reconfig that may lose its connection: when the reconfig makes the member that
    the client talks to restart its server (a leader hand-off), ZooKeeper drops the
    connection and the client gets ConnectionLoss although the reconfig committed. Returns
    (data, stat) of the reply, or None after a ConnectionLoss (read the config to learn
    the outcome)."""
    try:
        return client.reconfig_async(joining, leaving, new_members,
                                     from_config).get(timeout=timeout)
    except ConnectionLoss:
        return None


# ============================================================================ members

def unused_spec(sid, role="participant", host=HOST):
    """`server.N=host:q:e:role;host:client` on reserved ports that nobody listens on (a
    connect there gets RST at once, as kazoo's TestReconfig wants)."""
    q, e, c = reserve_ports(3)
    return f"server.{sid}={host}:{q}:{e}:{role};{host}:{c}"


def spec_of(line):
    """`server.N=spec` -> (N, spec)."""
    key, spec = line.split("=", 1)
    return int(key.split(".")[-1]), spec


def wait_mode(member, modes, timeout=30.0):
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    last = [None]

    def ok():
        member.check_alive()
        last[0] = member.mode()
        return last[0] in modes
    wait_until(ok, timeout, interval=0.05,
               message=f"{member!r} mode {last[0]} not in {modes} within {timeout}s")
    return last[0]


def wait_mntr(member, key, value, timeout=30.0):
    last = [None]

    def ok():
        last[0] = mntr(member).get(key)
        return last[0] == str(value)
    wait_until(ok, timeout, interval=0.1,
               message=f"{member!r} mntr {key}={last[0]}, wanted {value}")


def wait_exit(member, timeout=30.0):
    """Wait until the member's process exits on its own; returns the exit status."""
    wait_until(lambda: member.proc.poll() is not None, timeout, interval=0.05,
               message=f"{member!r} still running after {timeout}s")
    member.wanted_running = False
    return member.proc.returncode


# ============================================================================ files

def read_kv(path):
    """key=value lines of a config file -> dict (later keys win), plus '_lines'."""
    out = {"_lines": []}
    with open(path) as f:
        for line in f.read().splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            out["_lines"].append(line)
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    return out


def dynamic_file_servers(path):
    """{sid: spec} of a zoo.cfg.dynamic.<v> file (only server.N lines expected)."""
    with open(path) as f:
        text = f.read()
    servers = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        assert line.startswith("server."), f"unexpected line {line!r} in {path}"
        sid, spec = spec_of(line)
        servers[sid] = spec
    return servers


def assert_dynamic_config(member, servers, version):
    """The member's zoo.cfg names `<zoo.cfg>.dynamic.<hex version>` (absolute path) in
    dynamicConfigFile, has no server.N line, and that file holds `servers`."""
    files = member.dynamic_config_files()
    assert version in files, (f"{member!r}: no zoo.cfg.dynamic.{version:x} in "
                              f"{sorted(hex(v) for v in files)}")
    path = files[version]
    assert os.path.basename(path) == f"zoo.cfg.dynamic.{version:x}"
    cfg = read_kv(member.config_path)
    assert cfg.get("dynamicConfigFile") == path, (member, cfg.get("dynamicConfigFile"))
    assert not [l for l in cfg["_lines"] if l.startswith("server.")], cfg["_lines"]
    assert dynamic_file_servers(path) == servers, (member, path)
    return files


# ============================================================================ watches

class ConfigWatch:
    """A data watch on /zookeeper/config through one client; records each event."""

    def __init__(self, client):
        self.client = client
        self.events = []
        self._cond = threading.Condition()

    def arm(self, sync=True):
        if sync:
            self.client.sync(CONFIG_NODE)
        return self.client.get(CONFIG_NODE, watch=self._cb)

    def _cb(self, ev):
        with self._cond:
            self.events.append((ev.type, ev.path))
            self._cond.notify_all()

    def wait(self, n=1, timeout=20.0):
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.events) >= n, timeout)
        assert ok, f"{len(self.events)} of {n} config watch events in {timeout}s"
        return list(self.events)


CHANGED = (EventType.CHANGED, CONFIG_NODE)


# ============================================================================ zkCli.sh

def zkcli(member, commands, timeout=90.0):
    """Run ZooKeeper's zkCli.sh against `member`, feeding `commands` (lines) on stdin (its
    non-interactive mode runs only one command, and reconfig needs `addauth` first in the
    same session). Returns (returncode, stdout, stderr without SLF4J noise)."""
    text = "".join(c + "\n" for c in commands) + "quit\n"
    # zkCli.sh runs java as its child: own process group, so that a timeout ends both (the
    # group of the process started here, by its id).
    p = subprocess.Popen([ZKCLI, "-server", member.hosts], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(text, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise AssertionError(f"zkCli.sh did not finish in {timeout}s:\n{out}\n{err}")
    err = "\n".join(l for l in err.splitlines() if not l.startswith("SLF4J"))
    return p.returncode, out, err


def zkcli_configs(stdout):
    """The configs zkCli printed (after `Committed new configuration:` or from `config`):
    list of ({sid: spec}, version) in order."""
    out = []
    cur = None
    for line in stdout.splitlines():
        if line.startswith("server."):
            cur = cur if cur is not None else {}
            sid, spec = spec_of(line)
            cur[sid] = spec
        elif line.startswith("version=") and cur is not None:
            out.append((cur, int(line.split("=", 1)[1], 16)))
            cur = None
    return out


def normalize_transcript(stdout, stderr, ens):
    """A zkCli transcript with ports, addresses and versions replaced by names, server lines
    of each printed config sorted, and the WATCHER noise dropped, so that two ensembles'
    transcripts compare equal."""
    names = {}
    for m in ens.members:
        for kind, port in (("client", m.port), ("quorum", m.quorum_port),
                           ("election", m.election_port)):
            names[str(port)] = f"<{kind}{m.sid}>"
    versions = {}

    def sub_ports(line):
        return re.sub(r"\b(\d{4,5})\b", lambda mo: names.get(mo.group(1), "<port>"), line)

    lines = []
    block = []
    for line in stdout.splitlines():
        if line.startswith(("WATCHER::", "WatchedEvent", "Connecting to", "Welcome",
                            "JLine")) or not line.strip():
            continue
        if line.startswith("server."):
            block.append(sub_ports(line))
            continue
        if block:
            lines.extend(sorted(block))
            block = []
        if line.startswith("version="):
            v = line.split("=", 1)[1]
            versions.setdefault(v, f"v{len(versions) + 1}")
            line = f"version=<{versions[v]}>"
        lines.append(sub_ports(line))
    lines.extend(sorted(block))
    return lines + ["--- stderr ---"] + [sub_ports(l) for l in stderr.splitlines()]


class TimeLimit(AssertionError):
    pass


@contextlib.contextmanager
def time_limit(seconds, what="test"):
    """Raise TimeLimit in the main thread (where pytest runs the test) after `seconds`, so a
    call that never gets an answer (a server that ignores a request) cannot hang the run."""
    def expired(signum, frame):
        raise TimeLimit(f"{what} still running after {seconds}s")
    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def timed(fn):
    t = time.monotonic()
    out = fn()
    return out, time.monotonic() - t

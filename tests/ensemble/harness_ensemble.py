"""Multi-member ensembles (ZAB quorum) on loopback, for ZooKeeper 3.8, Corral, or a mix.

An `Ensemble` is N `Member`s. A Member is the single-server `Server` of
tests/integration/harness/servers.py (which knows how to launch ZooKeeper and Corral), extended
with what a quorum member needs:

  * fixed ports for its whole life (client, quorum, election), so that a member restarted,
    wiped or replaced by the other implementation comes back at the same address. The ports are
    taken *below* the kernel's ephemeral range (net.ipv4.ip_local_port_range), so the outgoing
    connections of clients and peers can never sit on a stopped member's port;
  * `myid` in its dataDir and `server.N=127.0.0.1:quorum:election` lines for every member in its
    zoo.cfg (identical lines in every member's file), plus initLimit / syncLimit;
  * start without waiting for a client handshake (a member serves only once a quorum is up);
    readiness is `srvr` saying `Mode: leader|follower|observer` (`Ensemble.wait_serving`);
  * restart with the same dataDir, kill -9, SIGSTOP/SIGCONT, wipe (keep myid), and a switch of
    implementation on the same dataDir/myid/ports (`Member.impl = ...` while stopped);
  * dynamic reconfiguration: spare members that are not in the initial config
    (`Ensemble.add_spare`), and a zoo.cfg that the server rewrote itself (ZooKeeper does so at
    its first start with reconfigEnabled=true and after each reconfig, moving the server.N
    lines to `zoo.cfg.dynamic.<hex version>`) is kept as it is on a restart.

Every process is started in its own session and ended by PID (SIGTERM, SIGKILL after 10 s);
`Ensemble.cleanup()` stops the kazoo clients it made, then every member, then removes the temp
dir. Members register in harness.servers.ACTIVE_SERVERS, so the pytest report hook of the
integration suite attaches their log tails to a failing test.
"""
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
_INTEGRATION = os.path.join(os.path.dirname(_HERE), "integration")
if _INTEGRATION not in sys.path:
    sys.path.insert(0, _INTEGRATION)

from harness import raw  # noqa: E402
from harness import servers as _servers  # noqa: E402
from harness.servers import ACTIVE_SERVERS, IMPLS, STOP_TIMEOUT, Server  # noqa: E402
from harness.util import WaitTimeout, wait_until  # noqa: E402

HOST = "127.0.0.1"

STORAGES = ("memlog", "rocksdb")


def default_storage():
    """The storage plugin of a Corral member that chooses none: the suite's --storage
    (tests/integration/conftest.py sets harness.servers.DEFAULT_STORAGE from it; env
    CORRAL_TEST_STORAGE outside pytest), memlog when unset."""
    return getattr(_servers, "DEFAULT_STORAGE", None) or "memlog"


def distinct_host(sid):
    """The loopback address of member `sid` in an Ensemble(distinct_hosts=True): 127.0.0.(sid+1).
    Linux routes all of 127.0.0.0/8 to lo, so these need no setup."""
    return f"127.0.0.{sid + 1}"

# Defaults written into every member's zoo.cfg (overridable per ensemble / per member).
DEFAULT_SETTINGS = {
    "tickTime": 2000,
    "initLimit": 10,
    "syncLimit": 5,
    "4lw.commands.whitelist": "*",
    # harness.servers adds admin.enableServer=false unless the settings choose.
}

SERVING_MODES = ("leader", "follower", "observer")
NOT_SERVING = "This ZooKeeper instance is not currently serving requests"

# ----------------------------------------------------------------------------- ports

_given_ports = set()
_ports_lock = threading.Lock()


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def _bindable(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def reserve_ports(count):
    """`count` distinct free TCP ports on 127.0.0.1, never handed out before by this process.

    They are chosen below the ephemeral range (where the kernel never picks a local port for an
    outgoing connection), so a port stays free while its member is down. Another process could
    still bind one in the meantime; the member's start then fails with its log saying so."""
    lo, _ = _ephemeral_range()
    low, high = 15000, max(16000, lo - 1)
    out = []
    with _ports_lock:
        tries = 0
        while len(out) < count:
            tries += 1
            if tries > 20000:
                raise RuntimeError("no free ports found")
            p = random.randint(low, high)
            if p in _given_ports or p in out or not _bindable(p):
                continue
            out.append(p)
        _given_ports.update(out)
    return out


# ----------------------------------------------------------------------------- srvr parsing

def parse_srvr(text):
    """`srvr`/`stat` output -> dict of "Key: value" lines (keys as printed) plus "_raw"."""
    out = {"_raw": text}
    for line in text.splitlines():
        if ": " in line:
            k, v = line.split(": ", 1)
            out[k.strip()] = v.strip()
    return out


def parse_mntr(text):
    """`mntr` output -> dict key -> value (str; tab separated lines)."""
    out = {}
    for line in text.splitlines():
        if "\t" in line:
            k, v = line.split("\t", 1)
            out[k.strip()] = v.strip()
    return out


def zxid_of(srvr):
    z = parse_srvr(srvr).get("Zxid")
    return int(z, 16) if z else None


# ----------------------------------------------------------------------------- member

class Member(Server):
    """One ensemble member: a `Server` with fixed ports, myid and server.N lines."""

    def __init__(self, ensemble, sid, impl, client_port, quorum_port, election_port,
                 settings, corral_bin, base_dir, host=HOST):
        super().__init__(impl, settings, corral_bin=corral_bin,
                         name=f"{ensemble.name}.{sid}", base_dir=base_dir)
        self.ensemble = ensemble
        self.sid = sid
        # Its address for everything: server.N line, clientPortAddress (Server._config_lines
        # writes self.host), hosts, four_letter.
        self.host = host
        self.port = client_port
        self.quorum_port = quorum_port
        self.election_port = election_port
        self.role = "participant"
        # Storage plugin (`storage=` in a Corral member's zoo.cfg): the `storage` setting given
        # for this member (Ensemble settings / member_settings), else the ensemble's `storage`,
        # else default_storage(). Kept out of `settings`: a ZooKeeper member (or this member
        # switched to ZooKeeper) never gets the key. See storage_plugin().
        self.storage = self.settings.pop("storage", None)
        if self.storage is not None and self.storage not in STORAGES:
            raise ValueError(f"unknown storage {self.storage!r} for member {sid}")
        # Dynamic reconfiguration (Ensemble.add_spare): a spare is not in the initial config;
        # `peer_lines` (None: the ensemble's initial members) are the server.N lines of the
        # others written into this member's zoo.cfg, its own line is added.
        self.spare = False
        self.peer_lines = None
        self.retired = False  # removed from the ensemble for good: ensure_running skips it
        self.written_config = None  # zoo.cfg text as the harness last wrote it
        self.stopped_by_signal = False  # SIGSTOPped
        self.wanted_running = False  # started by the harness and not stopped/killed by it since
        self._log_offset = 0
        self.log_marks = {}  # sid -> size of that member's log when this member last started
        self.starts = 0

    # -------------------------------------------------------------- config
    def server_line(self, role=None, client=None):
        """`server.N=host:quorum:election:role`, plus `;host:clientPort` when `client` is true
        (default: the ensemble's `client_in_server_lines`), the form a reconfig joiner needs."""
        line = (f"server.{self.sid}={self.host}:{self.quorum_port}:{self.election_port}:"
                f"{role or self.role}")
        if client if client is not None else self.ensemble.client_in_server_lines:
            line += f";{self.host}:{self.port}"
        return line

    def server_spec(self, role=None):
        """The joining spec for a reconfig: `server.N=host:q:e:role;host:clientPort`."""
        return self.server_line(role=role, client=True)

    def config_server_lines(self):
        """The server.N lines of this member's zoo.cfg, as the harness writes it."""
        if self.peer_lines is not None:
            others = [l for l in self.peer_lines
                      if not l.split("=", 1)[0].strip() == f"server.{self.sid}"]
            return others + [self.server_line()]
        return [m.server_line() for m in self.ensemble.initial_members()]

    def _config_lines(self, keys):
        text = super()._config_lines(keys)
        if self.role == "observer":
            text += "peerType=observer\n"
        return text + "".join(l + "\n" for l in self.config_server_lines())

    def storage_plugin(self):
        """The storage plugin this member runs on ("memlog", "rocksdb"); None for a
        ZooKeeper member."""
        if self.impl != "corral":
            return None
        return self.storage or self.ensemble.storage or default_storage()

    def _command(self):
        """As Server._command, but a zoo.cfg that the server rewrote since the harness last
        wrote it (dynamic reconfiguration) is put back as the server left it. A Corral member
        gets `storage=<storage_plugin()>` (left out when it is the default memlog and nobody
        chose it); a ZooKeeper member never gets the key."""
        self.settings.pop("storage", None)
        if self.impl == "corral":
            chosen = self.storage or self.ensemble.storage
            if chosen or self.storage_plugin() != "memlog":
                self.settings["storage"] = self.storage_plugin()
        kept = self.server_written_config()
        cmd = super()._command()
        if kept is not None:
            if self.impl == "corral":
                kept += self._settings_missing_from(kept)
            else:
                kept = "".join(l for l in kept.splitlines(True)
                               if l.split("=", 1)[0].strip() != "storage")
            with open(self.config_path, "w") as f:
                f.write(kept)
        else:
            with open(self.config_path) as f:
                self.written_config = f.read()
        return cmd

    def _settings_missing_from(self, text):
        """Lines for the settings that a kept config lacks (those ZooKeeper got as -D flags:
        a kept file put before a Corral member)."""
        have = {l.split("=", 1)[0].strip() for l in text.splitlines() if "=" in l}
        extra = [f"{k}={'true' if v is True else 'false' if v is False else v}"
                 for k, v in sorted(self.settings.items())
                 if v is not None and k not in have]
        if not extra:
            return ""
        return ("" if text.endswith("\n") or not text else "\n") + "\n".join(extra) + "\n"

    def read_config(self):
        """The member's zoo.cfg as it is on disk now ("" if none)."""
        try:
            with open(self.config_path) as f:
                return f.read()
        except OSError:
            return ""

    def server_written_config(self):
        """The zoo.cfg text if the server rewrote it since the harness wrote it, else None."""
        if self.written_config is None:
            return None
        text = self.read_config()
        return text if text and text != self.written_config else None

    def dynamic_config_files(self):
        """{version (int): path} of the `zoo.cfg.dynamic.<hex>` files beside zoo.cfg."""
        out = {}
        prefix = os.path.basename(self.config_path) + ".dynamic."
        for name in os.listdir(self.dir):
            if name.startswith(prefix):
                try:
                    out[int(name[len(prefix):], 16)] = os.path.join(self.dir, name)
                except ValueError:
                    pass
        return out

    def reset_config(self, peer_lines=None):
        """Forget a config the server wrote (zoo.cfg, its .bak and dynamic files): the next
        start writes the harness's zoo.cfg again, with `peer_lines` if given (a removed
        member coming back needs a config naming the current members, as a joiner does)."""
        assert not self.alive(), f"reset_config of running {self!r}"
        prefix = os.path.basename(self.config_path)
        for name in os.listdir(self.dir):
            if name == prefix or name.startswith(prefix + "."):
                os.remove(os.path.join(self.dir, name))
        self.written_config = None
        if peer_lines is not None:
            self.peer_lines = list(peer_lines)

    def write_myid(self):
        os.makedirs(self.data_dir, exist_ok=True)
        with open(os.path.join(self.data_dir, "myid"), "w") as f:
            f.write(f"{self.sid}\n")

    # -------------------------------------------------------------- lifecycle
    def start(self, timeout=None):
        """Launch the process (no readiness wait: see wait_serving / wait_up)."""
        if self.alive():
            raise RuntimeError(f"{self!r} already running")
        if self.impl not in IMPLS:
            raise ValueError(f"unknown implementation {self.impl!r}")
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        self.proc = None
        self.stopped_by_signal = False
        self.write_myid()
        self.log_marks = {m.sid: m.log_size() for m in self.ensemble.members}
        cmd = self._command()
        with open(os.path.join(self.dir, "command.txt"), "a") as f:
            f.write(" ".join(cmd) + "\n")
        try:
            self._log_offset = os.path.getsize(self.log_path)
        except OSError:
            self._log_offset = 0
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(f"===== harness: start #{self.starts + 1} as {self.impl}"
                             f"{'' if self.impl != 'corral' else ' (' + self.storage_plugin() + ')'} "
                             f"at {time.strftime('%H:%M:%S')} =====\n".encode())
        self._log_file.flush()
        self._log_offset = self._log_file.tell()
        self.proc = subprocess.Popen(cmd, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir,
                                     start_new_session=True)
        self.starts += 1
        self.wanted_running = True
        if self not in ACTIVE_SERVERS:
            ACTIVE_SERVERS.append(self)
        return self

    def wait_ready(self, timeout=60.0):
        self.wait_serving(timeout)

    def check_alive(self):
        """Raise (with the log tail) if the member exited although nobody stopped it."""
        if self.wanted_running and self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"{self!r} exited with {self.proc.returncode}\n"
                                 + self.log_tail())

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM by PID (SIGCONT first if SIGSTOPped), SIGKILL after `timeout`."""
        self.wanted_running = False
        if self.stopped_by_signal:
            self.sigcont()
        super().stop(timeout)

    def kill9(self):
        """SIGKILL by PID (a crash)."""
        self.wanted_running = False
        self.stopped_by_signal = False
        super().kill()

    def sigstop(self):
        assert self.alive(), f"{self!r} is not running"
        self.proc.send_signal(signal.SIGSTOP)
        self.stopped_by_signal = True

    def sigcont(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
        self.stopped_by_signal = False

    def wipe(self):
        """Delete the member's data (it must be stopped); myid is kept, and so is a zoo.cfg
        the server rewrote (reset_config drops that)."""
        assert not self.alive(), f"wipe of running {self!r}"
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.write_myid()

    # -------------------------------------------------------------- state
    def four_letter(self, word, extra=b"", timeout=5.0):
        return raw.four_letter(self.port, word, extra, host=self.host, timeout=timeout)

    def srvr(self, timeout=3.0):
        """`srvr` output, or None when nothing answers (not running / not listening)."""
        if not self.alive() or self.stopped_by_signal:
            return None
        try:
            return self.four_letter("srvr", timeout=timeout)
        except OSError:
            return None

    def mode(self, timeout=3.0):
        """'leader' / 'follower' / 'observer' / 'standalone' / 'read-only' when serving, else
        None."""
        text = self.srvr(timeout)
        if not text:
            return None
        m = re.search(r"^Mode: (\S+)", text, re.M)
        return m.group(1) if m else None

    def is_up(self):
        """The process answers on its client port (serving or not)."""
        return bool(self.srvr())

    def wait_up(self, timeout=60.0):
        def up():
            self.check_alive()
            return self.is_up()
        wait_until(up, timeout, interval=0.05,
                   message=f"{self!r} did not answer srvr within {timeout}s")

    def wait_serving(self, timeout=60.0):
        def serving():
            self.check_alive()
            return self.mode() in SERVING_MODES
        wait_until(serving, timeout, interval=0.05,
                   message=f"{self!r} not serving within {timeout}s\n{self.log_tail(30)}")
        return self.mode()

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_since(self, offset):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_since_start(self):
        return self.log_since(self._log_offset)

    def sync_modes_in_log(self):
        """For a ZooKeeper member: how it synced with a leader since its last start, in order,
        read from its log (e.g. ['DIFF'], ['SNAP']; 'TRUNC'); [] for a Corral member."""
        if self.impl != "zookeeper":
            return []
        return self.learner_sync_modes()

    # How a learner logs the first packet of its sync with a leader.
    LEARNER_SYNC_LINES = {
        "zookeeper": (("Getting a diff from the leader", "DIFF"),
                      ("Getting a snapshot from leader", "SNAP"),
                      ("Truncating log to get in sync with the leader", "TRUNC")),
        # plugins/consensus_zab/follower.cc (Follower::syncWithLeader)
        "corral": (("learner: DIFF sync to", "DIFF"), ("learner: SNAP sync at", "SNAP"),
                   ("learner: TRUNC to", "TRUNC")),
    }

    def learner_sync_modes(self, since=None):
        """How this member (either implementation) synced with a leader since its last start
        (or since log offset `since`, a log_size()), in order, read from its own log: e.g.
        ['DIFF'], ['SNAP'], ['TRUNC']."""
        found = []
        text = self.log_since_start() if since is None else self.log_since(since)
        for line in text.splitlines():
            for pat, mode in self.LEARNER_SYNC_LINES[self.impl]:
                if pat in line:
                    found.append(mode)
        return found

    def sync_modes_sent_to(self, learner):
        """For a ZooKeeper leader: how it synced `learner` (a Member) since that learner's last
        start, in order ('DIFF', 'SNAP', 'TRUNC'), read from this member's log. LearnerHandler
        logs "Synchronizing with Learner sid: N" and then, on the same thread, "Sending DIFF" /
        "Sending TRUNC" / "Sending snapshot" (the last one names no sid)."""
        if self.impl != "zookeeper":
            return []
        learner_of_thread = {}
        found = []
        for line in self.log_since(learner.log_marks.get(self.sid, 0)).splitlines():
            m = re.search(r"\[(LearnerHandler-[^:\]]*:\d+)", line)
            if not m:
                continue
            thread = m.group(1)
            s = re.search(r"Synchronizing with Learner sid: (\d+)", line)
            if s:
                learner_of_thread[thread] = int(s.group(1))
                continue
            if learner_of_thread.get(thread) != learner.sid:
                continue
            for pat, mode in (("Sending DIFF", "DIFF"), ("Sending TRUNC", "TRUNC"),
                              ("Sending snapshot", "SNAP"), ("Sending SNAP", "SNAP")):
                if pat in line:
                    found.append(mode)
                    break
        return found

    @property
    def hosts(self):
        return f"{self.host}:{self.port}"

    def __repr__(self):
        state = "running" if self.alive() else "stopped"
        where = f"{self.host}:{self.port}" if self.host != HOST else str(self.port)
        spare = " spare" if self.spare else ""
        storage = f"/{self.storage_plugin()}" if self.impl == "corral" else ""
        return f"<Member sid={self.sid} {self.impl}{storage}{spare} client={where} {state}>"


# ----------------------------------------------------------------------------- ensemble

def fast_reconnect():
    """kazoo connection_retry settings: reconnect quickly (kazoo's default backs off to minutes)."""
    return dict(max_tries=-1, delay=0.05, backoff=1.5, max_delay=0.5, max_jitter=0.05)


class Ensemble:
    """N members on 127.0.0.1. `impls` is a list like ["zookeeper", "zookeeper", "corral"]:
    member i (sid i+1) runs impls[i]. `observers`: the sids that are observers
    (`:observer` in every server.N line, `peerType=observer` in their own zoo.cfg).

    `distinct_hosts=True`: member sid N lives at 127.0.0.(N+1) instead of 127.0.0.1 (its
    server.N line, clientPortAddress, `hosts`, `four_letter`); its ports stay distinct from
    every other member's. Needed for a port that ZooKeeper opens at the same number on every
    member's address, such as observerMasterPort."""

    def __init__(self, impls, settings=None, member_settings=None, corral_bin=None,
                 name="ens", keep=False, observers=(), distinct_hosts=False,
                 client_in_server_lines=False, storage=None):
        self.name = name
        # Storage plugin of the Corral members that choose none themselves (a `storage`
        # setting per member: member_settings={sid: {"storage": "rocksdb"}}); None: the
        # suite's --storage (default_storage()).
        if storage is not None and storage not in STORAGES:
            raise ValueError(f"unknown storage {storage!r}")
        self.storage = storage
        # server.N lines with `;host:clientPort` (the 3.5+ form) instead of bare ones.
        self.client_in_server_lines = client_in_server_lines
        self.member_settings = dict(member_settings or {})
        self.keep = keep
        self.distinct_hosts = distinct_hosts
        # Absolute: members run with their own dir as working directory.
        corral_bin = os.path.abspath(corral_bin) if corral_bin else None
        self.corral_bin = corral_bin
        self.dir = tempfile.mkdtemp(prefix=f"corral-ens-{name}-")
        self.settings = dict(DEFAULT_SETTINGS)
        self.settings.update(settings or {})
        self.clients = []
        self.members = []
        ports = reserve_ports(3 * len(impls))
        for i, impl in enumerate(impls):
            sid = i + 1
            s = dict(self.settings)
            s.update((member_settings or {}).get(sid, {}))
            m = Member(self, sid, impl, ports[3 * i], ports[3 * i + 1], ports[3 * i + 2], s,
                       corral_bin, self.dir,
                       host=distinct_host(sid) if distinct_hosts else HOST)
            if sid in observers:
                m.role = "observer"
            self.members.append(m)

    # -------------------------------------------------------------- access
    def __iter__(self):
        return iter(self.members)

    def __len__(self):
        return len(self.members)

    def member(self, sid):
        return self.members[sid - 1]

    def running(self):
        """Members started and not stopped/killed/SIGSTOPped by the harness (a member that
        exited on its own is included, so that waits on it fail with its log)."""
        return [m for m in self.members if m.wanted_running and not m.stopped_by_signal]

    @property
    def impls(self):
        return [m.impl for m in self.members]

    @property
    def tick_time(self):
        return int(self.settings["tickTime"])

    def hosts(self, members=None):
        """Connection string for `members` (default: all), e.g. '127.0.0.1:1,127.0.0.1:2'."""
        if members is None:
            members = self.members
        elif isinstance(members, Member):
            members = [members]
        return ",".join(m.hosts for m in members)

    # -------------------------------------------------------------- lifecycle
    def start(self, member=None, timeout=90.0, leader_sid=None, attempts=3, impl=None,
              wait=True):
        """`start(member)`: start_member(member, impl, wait, timeout).

        `start()`: start every member and wait until all serve. With `leader_sid`, that member
        is started first and must win the first election (with equal data the highest sid
        wins, so pass the highest sid); if another wins (a peer started too slowly),
        everything is stopped, wiped and started again, up to `attempts` times."""
        if member is not None:
            return self.start_member(member, impl=impl, wait=wait, timeout=timeout)
        for attempt in range(attempts):
            if leader_sid is None:
                for m in self.members:
                    m.start()
            else:
                first = self.member(leader_sid)
                first.start()
                first.wait_up(timeout)
                for m in self.members:
                    if m is not first:
                        m.start()
            self.wait_serving(timeout)
            if leader_sid is None or self.leader().sid == leader_sid:
                return self
            got = self.leader()
            print(f"[{self.name}] wanted leader sid {leader_sid}, got {got.sid}; restarting "
                  f"(attempt {attempt + 1})")
            for m in self.members:
                m.stop()
                m.wipe()
                m.reset_config()  # a fresh start: the config the harness writes, too
        raise AssertionError(f"member {leader_sid} did not become leader in {attempts} starts")

    def modes(self, members=None):
        """sid -> srvr Mode (None when not serving / not running)."""
        return {m.sid: m.mode() for m in (members or self.members)}

    def wait_serving(self, timeout=60.0, members=None):
        """Wait until every running member (or `members`) serves (srvr Mode leader/follower/
        observer) and exactly one of them is leader. Returns sid -> mode."""
        last = {}

        def ok():
            targets = members if members is not None else self.running()
            for m in targets:
                m.check_alive()
            last.clear()
            last.update(self.modes(targets))
            if not targets or any(v not in SERVING_MODES for v in last.values()):
                return False
            return list(last.values()).count("leader") == 1

        try:
            wait_until(ok, timeout, interval=0.1)
        except WaitTimeout:
            raise WaitTimeout(f"[{self.name}] not serving within {timeout}s: modes {last}\n"
                              + self.log_tails(40))
        return dict(last)

    def leader(self, timeout=60.0):
        """The member whose srvr says Mode: leader (waits until the ensemble serves)."""
        modes = self.wait_serving(timeout)
        return next(self.member(s) for s, v in modes.items() if v == "leader")

    def followers(self, timeout=60.0):
        modes = self.wait_serving(timeout)
        return [self.member(s) for s, v in sorted(modes.items()) if v == "follower"]

    def initial_members(self):
        """The members of the initial config (every member but the spares)."""
        return [m for m in self.members if not m.spare]

    def add_spare(self, impl=None, role="participant", settings=None, peer_lines=None,
                  sid=None):
        """A new member that is not in the initial config, for a reconfig that adds it: its
        own reserved ports, the next sid (or `sid`), the ensemble's settings (plus
        `settings`), and a zoo.cfg listing `peer_lines` (default: the initial members'
        server.N lines; pass the current config's lines after a reconfig) plus itself with
        `role` (ZooKeeper's documented procedure for a joiner: the last committed config plus
        the joiner). Not started: `start_member(spare)` or `spare.start()`."""
        sid = sid or max(m.sid for m in self.members) + 1
        assert all(m.sid != sid for m in self.members), f"sid {sid} exists"
        assert sid == len(self.members) + 1, "spare sids follow the members' (member(sid))"
        ports = reserve_ports(3)
        s = dict(self.settings)
        s.update(self.member_settings.get(sid, {}))
        s.update(settings or {})
        impl = impl or self.members[-1].impl
        m = Member(self, sid, impl, ports[0], ports[1], ports[2], s, self.corral_bin,
                   self.dir, host=distinct_host(sid) if self.distinct_hosts else HOST)
        m.role = role
        m.spare = True
        m.peer_lines = list(peer_lines) if peer_lines is not None else \
            [x.server_line() for x in self.initial_members()]
        self.members.append(m)
        return m

    def observers(self):
        """The members configured as observers (whatever their state)."""
        return [m for m in self.members if m.role == "observer"]

    def voters(self):
        """The members configured as participants (whatever their state)."""
        return [m for m in self.members if m.role != "observer"]

    def kill9(self, member):
        member.kill9()

    def stop(self, member):
        member.stop()

    def sigstop(self, member):
        member.sigstop()

    def sigcont(self, member):
        member.sigcont()

    def wipe(self, member):
        member.wipe()

    def start_member(self, member, impl=None, wait=True, timeout=60.0):
        """(Re)start a stopped member on its dataDir, optionally as another implementation;
        with `wait`, until it and the rest serve."""
        if impl is not None:
            assert not member.alive()
            member.impl = impl
        member.start()
        if wait:
            member.wait_serving(timeout)
            self.wait_serving(timeout)
        return member

    def restart(self, member, impl=None, wipe=False, timeout=60.0):
        member.stop()
        if wipe:
            member.wipe()
        return self.start_member(member, impl=impl, timeout=timeout)

    def ensure_running(self, timeout=90.0):
        """Restart any member that is down (after a failed test) and wait until all serve.
        Members marked `retired` and spares never started are left alone."""
        for m in self.members:
            if m.stopped_by_signal:
                m.sigcont()
            if not m.alive() and not m.retired and not (m.spare and m.starts == 0):
                m.start()
        return self.wait_serving(timeout)

    # -------------------------------------------------------------- clients
    def client(self, members=None, timeout=10.0, start=True, start_timeout=30.0, **kw):
        """A kazoo client to `members` (a Member, a list, or None for all); stopped at cleanup."""
        from kazoo.client import KazooClient
        kw.setdefault("connection_retry", fast_reconnect())
        c = KazooClient(hosts=self.hosts(members), timeout=timeout, **kw)
        self.clients.append(c)
        if start:
            c.start(timeout=start_timeout)
        return c

    def close_client(self, c):
        try:
            c.stop()
        except Exception:
            pass
        try:
            c.close()
        except Exception:
            pass
        if c in self.clients:
            self.clients.remove(c)

    def four_letter(self, member, word):
        return member.four_letter(word)

    # -------------------------------------------------------------- diagnostics / cleanup
    def log_tails(self, lines=60):
        return "\n".join(m.log_tail(lines) for m in self.members)

    def describe(self):
        return f"{self.name}: " + ", ".join(
            f"{m.sid}={m.impl}{'/' + m.storage_plugin() if m.impl == 'corral' else ''}:"
            f"{m.mode() or ('down' if not m.alive() else '-')}"
            for m in self.members)

    def storages(self):
        """sid -> storage plugin of each member ("zookeeper" for a ZooKeeper member)."""
        return {m.sid: m.storage_plugin() or m.impl for m in self.members}

    def cleanup(self):
        for c in list(self.clients):
            self.close_client(c)
        # SIGTERM to every member first (by PID), so that they shut down in parallel; then
        # Member.stop waits for each (SIGKILL after 10 s).
        for m in self.members:
            if m.alive():
                try:
                    if m.stopped_by_signal:
                        m.sigcont()
                    m.proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for m in self.members:
            try:
                m.stop()
            finally:
                if m.alive():  # SIGTERM and SIGKILL both failed to end it: report, go on
                    print(f"[{self.name}] could not stop {m!r}", file=sys.stderr)
            if m._log_file is not None:
                m._log_file.close()
                m._log_file = None
            if m in ACTIVE_SERVERS:
                ACTIVE_SERVERS.remove(m)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print(f"[{self.name}] kept {self.dir}")


# ----------------------------------------------------------------------------- data helpers

def dump_tree(client, root="/", skip=("/zookeeper",), full_stat=False):
    """{path: (data, czxid, mzxid, pzxid, version, cversion, ephemeralOwner, numChildren)} of
    the subtree at `root`, read by `client` after client.sync(root). With `full_stat`:
    {path: (data, the whole Stat (ctime, mtime, aversion, dataLength too), sorted children)}."""
    client.sync(root)
    out = {}

    def walk(path):
        if path in skip:
            return
        data, st = client.get(path)
        children = sorted(client.get_children(path))
        if full_stat:
            out[path] = (data, tuple(st), tuple(children))
        else:
            out[path] = (data, st.czxid, st.mzxid, st.pzxid, st.version, st.cversion,
                         st.ephemeralOwner, st.numChildren)
        for ch in children:
            walk(path.rstrip("/") + "/" + ch)

    walk(root)
    return out


def trees_at_all(ensemble, root="/", members=None, full_stat=False):
    """sid -> dump_tree(root) read through a client connected to that member only."""
    out = {}
    for m in (members or ensemble.running()):
        c = ensemble.client(m)
        try:
            out[m.sid] = dump_tree(c, root, full_stat=full_stat)
        finally:
            ensemble.close_client(c)
    return out


def assert_same_everywhere(ensemble, root="/", members=None, full_stat=False):
    """Every (running) member holds the same subtree at `root` (data and stat; `full_stat`:
    see dump_tree); returns it."""
    trees = trees_at_all(ensemble, root, members, full_stat)
    sids = sorted(trees)
    ref = trees[sids[0]]
    for sid in sids[1:]:
        if trees[sid] != ref:
            a, b = set(ref), set(trees[sid])
            diff = {p: (ref.get(p), trees[sid].get(p)) for p in (a | b)
                    if ref.get(p) != trees[sid].get(p)}
            shown = dict(list(sorted(diff.items()))[:10])
            raise AssertionError(
                f"member {sid} differs from member {sids[0]} under {root}: "
                f"{len(a - b)} missing, {len(b - a)} extra, {len(diff)} different; "
                f"first: {shown}")
    return ref


# ----------------------------------------------------------------------------- writers

class BackgroundWriter:
    """A thread that creates sequential znodes `<base>/w-` through one kazoo client, one at a
    time, until stopped. Each create waits at most `op_timeout` s; failures (connection loss,
    timeouts during an election) are counted and retried with a new create. `acked` holds
    (t_issue, t_ack, path) of every create the server acknowledged."""

    def __init__(self, client, base, op_timeout=5.0, pause=0.0):
        self.client = client
        self.base = base
        self.op_timeout = op_timeout
        self.pause = pause
        self.acked = []
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"writer{base}", daemon=True)
        self._lock = threading.Lock()

    def start(self):
        self.client.ensure_path(self.base)
        self._thread.start()
        return self

    def _run(self):
        i = 0
        while not self._stop.is_set():
            i += 1
            t_issue = time.monotonic()
            try:
                path = self.client.create_async(f"{self.base}/w-", str(i).encode(),
                                                sequence=True).get(timeout=self.op_timeout)
            except Exception as e:  # noqa: BLE001 - every failure is retried
                with self._lock:
                    self.errors.append((t_issue, type(e).__name__))
                self._stop.wait(0.02)
                continue
            with self._lock:
                self.acked.append((t_issue, time.monotonic(), path))
            if self.pause:
                self._stop.wait(self.pause)

    def count(self):
        with self._lock:
            return len(self.acked)

    def acked_paths(self):
        with self._lock:
            return [p for _, _, p in self.acked]

    def first_ack_issued_after(self, t):
        """(t_issue, t_ack, path) of the first acknowledged create issued after monotonic t."""
        with self._lock:
            later = [a for a in self.acked if a[0] >= t]
        return min(later, key=lambda a: a[1]) if later else None

    def wait_progress(self, n=5, timeout=60.0):
        """Wait until `n` more creates have been acknowledged."""
        target = self.count() + n
        wait_until(lambda: self.count() >= target, timeout, interval=0.05,
                   message=f"writer made no progress ({self.count()}/{target}) in {timeout}s; "
                           f"last errors {self.errors[-5:]}")

    def stop(self, timeout=30.0):
        self._stop.set()
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "writer thread did not stop"

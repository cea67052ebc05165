#!/usr/bin/python3
"""Install test of Corral's Debian packages in a Debian 12 container booted with systemd as
PID 1 (not part of CI: it builds the packages twice and boots a container; ~15 minutes).

    /usr/bin/python3 tests/packaging/install_test.py [--workdir DIR] [--keep]

1. Builds the packages (packaging/build-deb.sh, lintian clean) and rebuilds them as a higher
   version for the upgrade step (the same build tree, so only packaging work repeats).
2. debootstraps Debian 12 with systemd and the packages' runtime dependencies, boots it with
   systemd-nspawn on a private network, and drives it through nsenter (the host has no
   system bus for machinectl).
3. Installs the packages with apt and checks, each step asserted:
   corral.service started by the package (Type=notify: active means READY=1 was sent), the
   corral user and data dir, the sandbox score from systemd itself, kazoo and zkCli.sh
   (Apache ZooKeeper's CLI) against it, the AdminServer on 127.0.0.1 only, logs in the journal
   with priorities; the SDK example plugin built on the host against the extracted
   libcorral-dev package and loaded by the packaged server; two corral@ instances side by
   side (one on storage.rocksdb, one with the Thrift front end); a 2-of-3 ensemble of
   instances that is READY only once a quorum forms; the watchdog restarting a stalled server; an upgrade that keeps data and an edited conffile
   and restarts the service; remove (stopped, config and data kept); purge (config and data
   gone, the user kept).

Clients run on the host inside the container's network namespace (nsenter -n), so the host's
kazoo and zkCli.sh reach the container's loopback and nothing binds the host's ports.
A transcript of every command goes to WORKDIR/install-test.log.
"""
import argparse
import glob
import json
import os
import shlex
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness.util import wait_until  # noqa: E402
ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"
WAIT = 60.0


class Transcript:
    def __init__(self, path):
        self.file = open(path, "w")
        self.summary = []

    def write(self, text):
        self.file.write(text)
        self.file.flush()

    def step(self, text):
        line = f"== {text}"
        print(line, flush=True)
        self.write(f"\n{line}\n")

    def ok(self, text):
        self.summary.append(text)
        print(f"   ok: {text}", flush=True)
        self.write(f"   ok: {text}\n")


def run(log, argv, check=True, timeout=1800, env=None, input=None):
    log.write(f"$ {' '.join(shlex.quote(a) for a in argv)}\n")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                            input=input)
    log.write(result.stdout + result.stderr)
    if check and result.returncode != 0:
        raise AssertionError(f"{argv} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


def wait_for(predicate, what, timeout=WAIT):
    return wait_until(predicate, timeout, interval=0.2, message=f"timed out after {timeout}s waiting for {what}")


def deb_depends(debs):
    """Runtime dependencies of the built packages, other than the packages themselves."""
    names = set()
    for deb in debs:
        depends = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], capture_output=True,
                                 text=True, check=True).stdout
        for clause in depends.split(","):
            name = clause.split("|")[0].strip().split(" ")[0].split(":")[0]
            if name and not name.startswith("corral") and name != "libcorral-dev":
                names.add(name)
    return sorted(names)


def mirror():
    """The host's Debian mirror (not its security or third-party sources)."""
    paths = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")
                                               + glob.glob("/etc/apt/sources.list.d/*.sources"))
    for path in paths:
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            words = line.split()
            uris = words[1:] if words[:1] == ["URIs:"] else words[1:] if words[:1] == ["deb"] else []
            for uri in uris:
                if uri.startswith("http") and "/debian" in uri and "security" not in uri:
                    return uri
    return "http://deb.debian.org/debian"


class Container:
    def __init__(self, log, rootfs, debs_dirs):
        self.log = log
        self.rootfs = rootfs
        self.debs_dirs = debs_dirs
        self.nspawn = None
        self.init_pid = None

    def boot(self):
        binds = [f"--bind={d}:/debs/{name}" for name, d in self.debs_dirs.items()]
        console = open(os.path.join(os.path.dirname(self.rootfs), "console.log"), "w")
        self.nspawn = subprocess.Popen(
            ["systemd-nspawn", "--register=no", "--keep-unit", "--private-network",
             "--console=passive", "-D", self.rootfs, *binds, "-b"],
            stdout=console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.init_pid = wait_for(self._find_init, "the container's systemd", timeout=WAIT)
        state = wait_for(lambda: self._running_state(), "system running", timeout=120)
        self.log.write(f"container init pid {self.init_pid}, state {state}\n")

    def _find_init(self):
        if self.nspawn.poll() is not None:
            raise AssertionError("systemd-nspawn exited while booting")
        try:
            with open(f"/proc/{self.nspawn.pid}/task/{self.nspawn.pid}/children") as f:
                children = f.read().split()
        except OSError:
            return None
        for child in children:
            try:
                with open(f"/proc/{child}/comm") as f:
                    if f.read().strip() == "systemd":
                        return int(child)
            except OSError:
                pass
        return None

    def _running_state(self):
        state = self.sh("systemctl is-system-running", check=False).stdout.strip()
        return state if state in ("running", "degraded") else None

    def sh(self, command, check=True, timeout=600):
        return run(self.log, ["nsenter", "-t", str(self.init_pid), "-a", "/bin/sh", "-c", command],
                   check=check, timeout=timeout)

    def host_in_netns(self, argv, check=True, timeout=120, env=None, input=None):
        """A host program inside the container's network namespace (its 127.0.0.1)."""
        return run(self.log, ["nsenter", "-t", str(self.init_pid), "-n", *argv], check=check,
                   timeout=timeout, env=env, input=input)

    def show(self, unit, prop):
        return self.sh(f"systemctl show -p {prop} --value {unit}").stdout.strip()

    def poweroff(self):
        if self.nspawn and self.nspawn.poll() is None:
            self.nspawn.send_signal(signal.SIGTERM)  # a clean poweroff of the container
            try:
                self.nspawn.wait(120)
            except subprocess.TimeoutExpired:
                self.nspawn.kill()
                self.nspawn.wait()


KAZOO_SCRIPT = r"""
import json, sys
from kazoo.client import KazooClient
port, action, path, value = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else ""
zk = KazooClient(hosts="127.0.0.1:" + port, timeout=10)
zk.start(timeout=30)
try:
    if action == "create":
        zk.create(path, value.encode(), makepath=True)
        print(json.dumps({"ok": True}))
    elif action == "get":
        data, stat = zk.get(path)
        print(json.dumps({"data": data.decode(), "mzxid": stat.mzxid}))
    elif action == "exists":
        print(json.dumps({"exists": zk.exists(path) is not None}))
finally:
    zk.stop()
    zk.close()
"""


TOKEN_SECRET = "install-test-secret-long-enough"
TOKEN_SCRIPT = r"""
import hashlib, hmac, json, sys, time
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl
port, secret = sys.argv[1], sys.argv[2]
message = f"alice:{int(time.time()) + 300}"
token = message + ":" + hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
owner = KazooClient(hosts="127.0.0.1:" + port, timeout=10)
stranger = KazooClient(hosts="127.0.0.1:" + port, timeout=10)
owner.start(timeout=30)
stranger.start(timeout=30)
try:
    owner.add_auth("token", token)
    owner.create("/tokened", b"x", acl=[make_acl("token", "alice", all=True)])
    result = {"owner_reads": owner.get("/tokened")[0] == b"x"}
    try:
        stranger.get("/tokened")
        result["stranger_refused"] = False
    except NoAuthError:
        result["stranger_refused"] = True
    print(json.dumps(result))
finally:
    owner.stop()
    stranger.stop()
"""


def kazoo(box, port, action, path, value=None):
    argv = ["/usr/bin/python3", "-c", KAZOO_SCRIPT, str(port), action, path]
    if value is not None:
        argv.append(value)
    return json.loads(box.host_in_netns(argv).stdout.strip().splitlines()[-1])


def zkcli(box, port, commands):
    env = dict(os.environ, CLIENT_JVMFLAGS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
    return box.host_in_netns([ZKCLI, "-server", f"127.0.0.1:{port}"], env=env,
                             input="\n".join(commands) + "\nquit\n").stdout


def four_letter(box, port, word):
    script = ("import socket,sys\ns=socket.create_connection(('127.0.0.1',int(sys.argv[1])),5)\n"
              "s.sendall(sys.argv[2].encode())\nout=b''\nwhile True:\n  d=s.recv(4096)\n"
              "  if not d: break\n  out+=d\nprint(out.decode())")
    return box.host_in_netns(["/usr/bin/python3", "-c", script, str(port), word]).stdout


def journal_entries(box, unit):
    """The unit's journal records that corral-server wrote (SYSLOG_IDENTIFIER corral-server)."""
    lines = box.sh(f"journalctl -u {unit} -o json --no-pager").stdout.splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    return [e for e in entries if e.get("SYSLOG_IDENTIFIER") == "corral-server"]


def instance_config(name, client_port, admin_port, extra=""):
    return (f"tickTime=2000\ndataDir=/var/lib/corral/{name}\nclientPort={client_port}\n"
            f"clientPortAddress=127.0.0.1\nadmin.enableServer=true\nadmin.serverAddress=127.0.0.1\n"
            f"admin.serverPort={admin_port}\n4lw.commands.whitelist=srvr,ruok,stat,mntr\n{extra}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default="/var/tmp/corral-install-test")
    parser.add_argument("--keep", action="store_true", help="keep the container's root folder")
    parser.add_argument("--reuse-debs", action="store_true",
                        help="install the packages a previous run built in WORKDIR (debs-1, debs-2)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("install_test: run as root (debootstrap, systemd-nspawn, nsenter)")
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    log = Transcript(os.path.join(workdir, "install-test.log"))
    started = time.monotonic()

    log.step("tools: systemd-container, debootstrap")
    run(log, ["bash", "-c", "dpkg-query -W systemd-container debootstrap >/dev/null 2>&1 || "
              "(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
              "systemd-container debootstrap)"])

    log.step("build the packages (packaging/build-deb.sh), then rebuild them as a newer version")
    first, second = os.path.join(workdir, "debs-1"), os.path.join(workdir, "debs-2")
    build_env = dict(os.environ, CORRAL_DEB_WORKDIR=os.path.join(workdir, "build"))
    if not args.reuse_debs:
        for outdir in (first, second):
            for old in glob.glob(os.path.join(outdir, "*")):
                os.remove(old)
        run(log, ["bash", os.path.join(ROOT, "packaging", "build-deb.sh"), first], env=build_env,
            timeout=3600)
    version = subprocess.run(["dpkg-deb", "-f", glob.glob(f"{first}/corral-server_*.deb")[0],
                              "Version"], capture_output=True, text=True, check=True).stdout.strip()
    if not args.reuse_debs:
        run(log, ["bash", os.path.join(ROOT, "packaging", "build-deb.sh"), second],
            env=dict(build_env, CORRAL_DEB_VERSION=f"{version}+upgradetest{int(time.time())}"),
            timeout=3600)
    upgrade_version = subprocess.run(["dpkg-deb", "-f", glob.glob(f"{second}/corral-server_*.deb")[0],
                                      "Version"], capture_output=True, text=True, check=True).stdout.strip()
    debs = sorted(glob.glob(f"{first}/*.deb"))
    # libcorral-dev is built and linted but not installed in the container: its -dev
    # dependencies are hundreds of MB, and tests/run-all.sh builds the SDK example plugin
    # against an installed SDK in every run.
    runtime_debs = [d for d in debs if "libcorral-dev" not in d and "dbgsym" not in d]
    for deb in debs:
        size = os.path.getsize(deb)
        depends = subprocess.run(["dpkg-deb", "-f", deb, "Installed-Size", "Depends"],
                                 capture_output=True, text=True).stdout.replace("\n", "; ")
        log.ok(f"built {os.path.basename(deb)}: {size // 1024} KiB, {depends}")
    with open(os.path.join(first, "lintian.txt")) as f:
        lintian = [l for l in f.read().splitlines() if l[:2] in ("E:", "W:")]
    assert not lintian, lintian
    log.ok("lintian: no errors, no warnings")

    log.step("debootstrap Debian 12 with systemd, then the packages' runtime dependencies")
    rootfs = os.path.join(workdir, "rootfs")
    run(log, ["rm", "-rf", rootfs])
    base = ["systemd", "systemd-sysv", "dbus", "ca-certificates", "procps", "man-db"]
    run(log, ["debootstrap", "--variant=minbase", f"--include={','.join(base)}", "bookworm",
              rootfs, mirror()], timeout=1800)
    # apt (not debootstrap) resolves the dependencies: some are virtual packages
    # (libspdlog1.10-fmt9). The container is not booted yet and still on the host's network.
    depends = deb_depends(runtime_debs)
    run(log, ["systemd-nspawn", "--register=no", "--keep-unit", "-q", "-D", rootfs, "sh", "-c",
              "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
              "--no-install-recommends " + " ".join(depends)], timeout=1800)
    # Booted, the container has no network: apt must not try to fetch anything then.
    with open(os.path.join(rootfs, "etc", "apt", "sources.list"), "w") as f:
        f.write("")
    log.ok(f"rootfs: Debian 12 minbase + systemd + {len(depends)} runtime dependencies")

    box = Container(log, rootfs, {"v1": first, "v2": second})
    try:
        log.step("boot the container (systemd as PID 1)")
        box.boot()
        log.ok("container booted: " + box.sh("systemctl is-system-running").stdout.strip())

        log.step("install")
        box.sh("DEBIAN_FRONTEND=noninteractive apt-get install -y /debs/v1/corral-server_*.deb "
               "/debs/v1/corral-storage-rocksdb_*.deb /debs/v1/corral-frontend-thrift_*.deb")
        assert box.show("corral", "ActiveState") == "active", box.sh("systemctl status corral", check=False).stdout
        status = box.show("corral", "StatusText")
        assert status.startswith("standalone, last zxid 0x"), status
        log.ok(f"corral.service active after install (READY=1); StatusText: {status}")
        assert box.show("corral", "UnitFileState") == "enabled"
        main_pid = box.show("corral", "MainPID")
        user = box.sh(f"ps -o user= -p {main_pid}").stdout.strip()
        assert user == "corral", user
        owner = box.sh("stat -c '%U:%G %a' /var/lib/corral").stdout.strip()
        assert owner == "corral:corral 750", owner
        log.ok(f"runs as user corral (pid {main_pid}); /var/lib/corral {owner}")
        plugins = box.sh("corral-server --list-plugins").stdout
        for name in ("storage.memlog", "storage.rocksdb", "consensus.single", "consensus.zab",
                     "frontend.jute", "frontend.thrift", "acl.digest", "acl.ip", "acl.x509",
                     "admin.http", "admin.metrics"):
            assert f"{name} " in plugins and "/usr/lib/x86_64-linux-gnu/corral/plugins/" in plugins, plugins
        log.ok("--list-plugins: 11 plugins from /usr/lib/<multiarch>/corral/plugins")
        assert box.sh("corral-server --version").stdout.startswith("corral-server ")
        box.sh("man -w corral-server corral.cfg corral-logtool corral-rocksdb")
        box.sh("test -f /usr/share/doc/corral-server/README.md.gz -o -f /usr/share/doc/corral-server/README.md")
        box.sh("test -f /usr/share/doc/corral-server/changelog.gz")
        log.ok("--version, man pages (corral-server, corral.cfg, corral-logtool, corral-rocksdb), "
               "README and changelog in /usr/share/doc")
        exposure = box.sh("systemd-analyze security corral.service | tail -1").stdout.strip()
        log.ok(f"systemd-analyze security (online, in the container): {exposure}")

        log.step("use it: kazoo, zkCli.sh, four-letter words, AdminServer")
        kazoo(box, 2181, "create", "/install-test/kazoo", "written-by-kazoo")
        out = zkcli(box, 2181, ["create /install-test/zkcli written-by-zkcli",
                                "get /install-test/kazoo", "ls /install-test"])
        assert "written-by-kazoo" in out and "[kazoo, zkcli]" in out, out
        assert kazoo(box, 2181, "get", "/install-test/zkcli")["data"] == "written-by-zkcli"
        assert "imok" in four_letter(box, 2181, "ruok")
        assert "Mode: standalone" in four_letter(box, 2181, "srvr")
        ruok = box.host_in_netns(["/usr/bin/python3", "-c",
                                  "import urllib.request;print(urllib.request.urlopen("
                                  "'http://127.0.0.1:8080/commands/ruok').read().decode())"]).stdout
        assert '"error" : null' in ruok or '"error": null' in ruok, ruok
        listening = box.sh("cat /proc/net/tcp /proc/net/tcp6").stdout
        # Only loopback listeners (state 0A): 127.0.0.1 is 0100007F in /proc/net/tcp.
        for line in listening.splitlines()[1:]:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":
                assert fields[1].startswith("0100007F:") or fields[1].startswith("00000000000000000000000001000000:"), line
        log.ok("kazoo and zkCli.sh read each other's writes; ruok/srvr; AdminServer answers; "
               "every listening socket is on 127.0.0.1")
        server_lines = journal_entries(box, "corral")
        # Native journal records (not stderr lines journald parsed), with their priorities.
        assert server_lines and all(e.get("_TRANSPORT") == "journal" for e in server_lines), server_lines[:3]
        started_lines = [e for e in server_lines if "started in" in e.get("MESSAGE", "")]
        assert started_lines and started_lines[0]["PRIORITY"] == "6", started_lines
        log.ok(f"journal: {len(server_lines)} native records from corral-server (_TRANSPORT=journal, "
               "PRIORITY per level)")

        log.step("libcorral-dev: an out-of-tree plugin built against the package, loaded by it")
        sdk_root = os.path.join(workdir, "libcorral-dev")
        plugin_build = os.path.join(workdir, "acl-token-build")
        run(log, ["rm", "-rf", sdk_root, plugin_build])
        run(log, ["dpkg-deb", "-x", glob.glob(f"{first}/libcorral-dev_*.deb")[0], sdk_root])
        run(log, ["cmake", "-S", os.path.join(ROOT, "sdk", "examples", "acl_token"), "-B", plugin_build,
                  "-G", "Ninja", f"-DCMAKE_PREFIX_PATH={sdk_root}/usr", "-DCMAKE_BUILD_TYPE=RelWithDebInfo"])
        run(log, ["cmake", "--build", plugin_build], timeout=900)
        run(log, ["ctest", "--test-dir", plugin_build, "--output-on-failure", "--no-tests=error"], timeout=300)
        plugin_dir = "/usr/local/lib/corral-plugins"
        os.makedirs(rootfs + plugin_dir, exist_ok=True)
        run(log, ["cp", os.path.join(plugin_build, "libcorral_acl_token.so"), rootfs + plugin_dir])
        box.sh("cat > /etc/corral/t.cfg <<'EOF'\n" + instance_config(
            "t", 2283, 8183, f"plugin.dir={plugin_dir}\nacl.schemes=digest,ip,token\n"
            f"token.secret={TOKEN_SECRET}\n") + "EOF")
        box.sh("systemctl start corral@t")
        assert box.show("corral@t", "ActiveState") == "active"
        outcome = json.loads(box.host_in_netns(["/usr/bin/python3", "-c", TOKEN_SCRIPT, "2283",
                                                TOKEN_SECRET]).stdout.strip().splitlines()[-1])
        assert outcome == {"owner_reads": True, "stranger_refused": True}, outcome
        box.sh("systemctl stop corral@t")
        log.ok("the SDK example acl.token, built against the extracted libcorral-dev (its "
               "conformance suite passed), loaded by the packaged server as corral@t: a token "
               "ACL admits its owner and refuses a stranger")

        log.step("two corral@ instances side by side (rocksdb storage; Thrift front end)")
        box.sh("cat > /etc/corral/a.cfg <<'EOF'\n" + instance_config("a", 2281, 8181, "storage=rocksdb\n") + "EOF")
        box.sh("cat > /etc/corral/b.cfg <<'EOF'\n" + instance_config(
            "b", 2282, 8182, "frontends=jute,thrift\nthrift.port=9191\nthrift.address=127.0.0.1\n"
            "localSessionsEnabled=false\n") + "EOF")
        box.sh("systemctl start corral@a corral@b")
        for name, port in (("a", 2281), ("b", 2282)):
            assert box.show(f"corral@{name}", "ActiveState") == "active"
            kazoo(box, port, "create", f"/instance-{name}", name)
        assert not kazoo(box, 2281, "exists", "/instance-b")["exists"]
        assert not kazoo(box, 2282, "exists", "/instance-a")["exists"]
        assert not kazoo(box, 2281, "exists", "/install-test")["exists"]
        box.sh("test -d /var/lib/corral/a/rocksdb && test -d /var/lib/corral/b/version-2")
        box.host_in_netns(["/usr/bin/python3", "-c",
                           "import socket;socket.create_connection(('127.0.0.1',9191),5).close()"])
        warnings = [e for e in journal_entries(box, "corral@b")
                    if "localSessionsEnabled" in e.get("MESSAGE", "")]
        assert warnings and warnings[0]["PRIORITY"] == "4", warnings
        log.ok("corral@b's warning (a key accepted but not implemented) is at PRIORITY 4 "
               "(journalctl -p warning shows it)")
        log.ok("corral@a (storage.rocksdb, 2281) and corral@b (jute+thrift, 2282/9191) serve "
               "separate trees next to corral.service, data in /var/lib/corral/a and /b")

        log.step("ensemble of instances: READY only once a quorum forms")
        servers = "".join(f"server.{i}=127.0.0.1:{2887 + i}:{3887 + i}\n" for i in (1, 2, 3))
        for i in (1, 2, 3):
            box.sh(f"cat > /etc/corral/e{i}.cfg <<'EOF'\n" + instance_config(
                f"e{i}", 2290 + i, 8290 + i, f"initLimit=10\nsyncLimit=5\n{servers}") + "EOF")
            box.sh(f"install -d -o corral -g corral /var/lib/corral/e{i} && echo {i} > /var/lib/corral/e{i}/myid")
        box.sh("systemctl start --no-block corral@e1")
        wait_for(lambda: box.show("corral@e1", "StatusText").startswith("looking"), "e1 looking")
        time.sleep(3)  # several election rounds alone: the unit must still be starting
        assert box.show("corral@e1", "ActiveState") == "activating", box.show("corral@e1", "ActiveState")
        log.ok("corral@e1 alone: activating, StatusText '" + box.show("corral@e1", "StatusText") + "'")
        box.sh("systemctl start --no-block corral@e2")
        wait_for(lambda: box.show("corral@e1", "ActiveState") == "active"
                 and box.show("corral@e2", "ActiveState") == "active", "e1 and e2 active")
        roles = sorted(box.show(f"corral@e{i}", "StatusText").split(",")[0] for i in (1, 2))
        assert roles == ["follower", "leader"], roles
        kazoo(box, 2291, "create", "/ensemble", "quorum")
        assert kazoo(box, 2292, "get", "/ensemble")["data"] == "quorum"
        log.ok(f"with corral@e2 both became active (READY=1): roles {roles}; a write on e1 reads on e2")
        box.sh("systemctl stop corral@e1 corral@e2")

        log.step("watchdog: a stalled server is restarted")
        box.sh("mkdir -p /etc/systemd/system/corral@a.service.d && printf '[Service]\\nWatchdogSec=3s\\n' "
               "> /etc/systemd/system/corral@a.service.d/watchdog.conf && systemctl daemon-reload "
               "&& systemctl restart corral@a")
        stalled_pid = box.show("corral@a", "MainPID")
        restarts = int(box.show("corral@a", "NRestarts"))
        box.sh(f"kill -STOP {stalled_pid}")
        wait_for(lambda: int(box.show("corral@a", "NRestarts")) > restarts
                 and box.show("corral@a", "ActiveState") == "active", "watchdog restart", timeout=60)
        assert box.show("corral@a", "MainPID") != stalled_pid
        assert kazoo(box, 2281, "get", "/instance-a")["data"] == "a"
        reason = box.sh("journalctl -u corral@a --no-pager | grep -i watchdog | tail -1", check=False).stdout.strip()
        log.ok(f"SIGSTOPped corral@a was killed by the watchdog and restarted with its data ({reason})")

        log.step("upgrade to the rebuilt packages: data and an edited conffile kept, service restarted")
        box.sh("printf '# edited by the operator\\n' >> /etc/corral/corral.cfg")
        before_pid = box.show("corral", "MainPID")
        before_instance_pid = box.show("corral@b", "MainPID")
        box.sh("DEBIAN_FRONTEND=noninteractive apt-get install -y -o Dpkg::Options::=--force-confold "
               "/debs/v2/corral-server_*.deb /debs/v2/corral-storage-rocksdb_*.deb "
               "/debs/v2/corral-frontend-thrift_*.deb")
        installed = box.sh("dpkg-query -W -f='${Version}' corral-server").stdout.strip()
        assert installed == upgrade_version, installed
        wait_for(lambda: box.show("corral", "ActiveState") == "active", "corral active after upgrade")
        assert box.show("corral", "MainPID") != before_pid
        wait_for(lambda: box.show("corral@b", "ActiveState") == "active", "corral@b active after upgrade")
        assert box.show("corral@b", "MainPID") != before_instance_pid
        assert "# edited by the operator" in box.sh("cat /etc/corral/corral.cfg").stdout
        assert kazoo(box, 2181, "get", "/install-test/kazoo")["data"] == "written-by-kazoo"
        assert kazoo(box, 2281, "get", "/instance-a")["data"] == "a"
        log.ok(f"upgraded {version} -> {installed}: restarted (pid {before_pid} -> "
               f"{box.show('corral', 'MainPID')}) and so was corral@b; znodes and the edited "
               "corral.cfg kept")

        log.step("remove: stopped (instances too), config and data kept")
        box.sh("DEBIAN_FRONTEND=noninteractive apt-get remove -y corral-server")
        for unit in ("corral", "corral@a", "corral@b"):
            assert box.show(unit, "ActiveState") in ("inactive", "failed", ""), unit
        assert box.sh("pgrep -x corral-server", check=False).returncode == 1
        box.sh("test -f /etc/corral/corral.cfg && test -d /var/lib/corral/version-2 && test -f /etc/corral/a.cfg")
        assert box.sh("dpkg-query -W -f='${db:Status-Abbrev}' corral-server").stdout.strip() == "rc"
        log.ok("apt-get remove: corral and corral@a/b stopped, no corral-server process, "
               "/etc/corral and /var/lib/corral kept (status rc)")

        log.step("purge: config and data gone, user kept")
        box.sh("DEBIAN_FRONTEND=noninteractive apt-get purge -y corral-server")
        box.sh("test ! -e /etc/corral && test ! -e /var/lib/corral")
        box.sh("getent passwd corral")
        log.ok("apt-get purge: /etc/corral and /var/lib/corral removed; user corral kept")
    finally:
        box.poweroff()
        if not args.keep:
            run(log, ["rm", "-rf", rootfs], check=False)

    log.step(f"passed in {time.monotonic() - started:.0f} s; transcript {log.file.name}")
    for line in log.summary:
        print(f" - {line}")


if __name__ == "__main__":
    main()

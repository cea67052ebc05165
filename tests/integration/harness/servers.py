"""Launching a server under test on loopback: Corral (`corral-server --config FILE`) or the
reference Apache ZooKeeper 3.8 (Debian packages, QuorumPeerMain).

Settings are given by their ZooKeeper names:
  * zoo.cfg keys: tickTime, minSessionTimeout, maxSessionTimeout, maxClientCnxns, ...
  * JVM system properties: names starting with `zookeeper.`, `jute.`, `znode.` or
    `readonlymode.` (e.g. `zookeeper.extendedTypesEnabled`, `jute.maxbuffer`,
    `znode.container.checkIntervalMs`, `zookeeper.4lw.commands.whitelist`,
    `zookeeper.DigestAuthenticationProvider.superDigest`).
For ZooKeeper the system properties are passed as -D flags and the rest goes into zoo.cfg;
for Corral every setting goes into the config file verbatim, under the same name. A setting
whose value is None is left out (the server's default applies).

Both servers serve ZooKeeper's AdminServer on 0.0.0.0:8080 by default, which parallel test
servers would fight over: unless a test sets admin.enableServer (either spelling), the
harness writes `admin.enableServer=false` into zoo.cfg, for both implementations alike.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from . import raw

IMPLS = ("corral", "zookeeper")

JVM_PROPERTY_PREFIXES = ("zookeeper.", "jute.", "znode.", "readonlymode.")

JAVA_DIR = "/usr/share/java"
ZK_CLASSPATH_JARS = ["zookeeper.jar", "slf4j-log4j12.jar", "log4j-1.2.jar"]
# serverCnxnFactory=NettyServerCnxnFactory (needed for TLS) uses Netty jars that the manifest
# of Debian's zookeeper.jar does not list.
ZK_NETTY_JARS = ["netty-codec.jar", "netty-resolver.jar", "netty-transport-native-unix-common.jar"]
# The AdminServer (Jetty) is not on the Debian classpath; added when a test enables the
# AdminServer (reference-server.md).
ZK_ADMIN_JARS = ["jetty9-server.jar", "jetty9-servlet.jar", "jetty9-http.jar", "jetty9-io.jar",
                 "jetty9-util.jar", "jetty9-security.jar", "servlet-api.jar", "jackson-core.jar",
                 "jackson-databind.jar", "jackson-annotations.jar"]

LOG4J_PROPERTIES = """\
log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.Target=System.out
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n
"""

# Every running (or recently used) server, so that a failing test can print their log tails.
ACTIVE_SERVERS = []

DEFAULT_TICK_TIME = 2000
# CORRAL_TEST_SLOWDOWN (tests/sanitize/run.sh): sanitizer builds start and stop slower.
SLOWDOWN = float(os.environ.get("CORRAL_TEST_SLOWDOWN", "1"))
# CORRAL_TEST_SANITIZER (tests/sanitize/run.sh): "address" or "thread" when CORRAL_BIN is a
# sanitizer build, which has no jemalloc and more memory per allocation (see corral_rss_allowance).
SANITIZER = os.environ.get("CORRAL_TEST_SANITIZER", "")


def corral_rss_allowance(growth):
    """How much a corral-server may grow where `growth` is the budget of a normal build: ASan
    keeps freed blocks in quarantine (run.sh caps it at 64 MiB) plus their shadow; TSan's shadow
    is several times the heap."""
    if SANITIZER == "address":
        return growth + 96 * 1024 * 1024
    if SANITIZER == "thread":
        return growth * 8
    return growth


START_TIMEOUT = 30.0 * SLOWDOWN
STOP_TIMEOUT = 10.0 * SLOWDOWN


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def tcp_accepts(host, port, timeout=2.0):
    """True if a TCP connection to host:port succeeds (it is closed again at once)."""
    if port is None:
        return False
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def _fmt(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_jvm_property(name):
    return name.startswith(JVM_PROPERTY_PREFIXES)


ADMIN_ENABLE_KEYS = ("admin.enableServer", "zookeeper.admin.enableServer")


def with_admin_default(settings):
    """`settings` plus admin.enableServer=false unless the test chose (either spelling)."""
    settings = dict(settings or {})
    if not any(k in settings for k in ADMIN_ENABLE_KEYS):
        settings["admin.enableServer"] = False
    return settings


def admin_server_enabled(settings):
    """As ZooKeeper's AdminServerFactory: on unless the property is exactly "false". The
    zoo.cfg line wins over the -D flag (QuorumPeerConfig sets the property after start)."""
    for key in ("admin.enableServer", "zookeeper.admin.enableServer"):
        if settings.get(key) is not None:
            return _fmt(settings[key]) != "false"
    return True


# The storage plugin a Corral server runs on when a test does not choose one (conftest sets it
# from --storage); ZooKeeper ignores it.
DEFAULT_STORAGE = os.environ.get("CORRAL_TEST_STORAGE", "memlog")


class ServerStartError(RuntimeError):
    pass


class Server:
    """One server process owned by the test run."""

    def __init__(self, impl, settings=None, corral_bin=None, name="server", base_dir=None):
        if impl not in IMPLS:
            raise ValueError(f"unknown implementation {impl!r}")
        self.impl = impl
        self.corral_bin = corral_bin
        self.name = name
        self.settings = with_admin_default(settings)
        self.host = "127.0.0.1"
        self.port = None
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix=f"corral-it-{impl}-", dir=base_dir)
        self.data_dir = os.path.join(self.dir, "data")
        self.config_path = os.path.join(self.dir, "zoo.cfg")
        self.log_path = os.path.join(self.dir, "server.log")
        self._log_file = None
        # Variables added to the server's environment (LD_PRELOAD of a fault library, say).
        self.extra_env = {}

    # ------------------------------------------------------------------ properties
    @property
    def hosts(self):
        return f"{self.host}:{self.port}"

    @property
    def address(self):
        return (self.host, self.port)

    def setting(self, name, default=None):
        return self.settings.get(name, default)

    @property
    def tick_time(self):
        return int(self.settings.get("tickTime", DEFAULT_TICK_TIME))

    @property
    def min_session_timeout(self):
        return int(self.settings.get("minSessionTimeout", 2 * self.tick_time))

    @property
    def max_session_timeout(self):
        return int(self.settings.get("maxSessionTimeout", 20 * self.tick_time))

    # ------------------------------------------------------------------ lifecycle
    def _config_lines(self, keys):
        lines = [
            f"tickTime={self.tick_time}",
            f"dataDir={self.data_dir}",
            f"clientPort={self.port}",
            f"clientPortAddress={self.host}",
        ]
        for k in keys:
            if k == "tickTime" or self.settings[k] is None:
                continue
            lines.append(f"{k}={_fmt(self.settings[k])}")
        return "\n".join(lines) + "\n"

    def _command(self):
        if self.impl == "corral":
            if "storage" not in self.settings and DEFAULT_STORAGE != "memlog":
                self.settings["storage"] = DEFAULT_STORAGE
            with open(self.config_path, "w") as f:
                f.write(self._config_lines(sorted(self.settings)))
            return [self.corral_bin, "--config", self.config_path]
        admin = admin_server_enabled(self.settings)
        props = {}
        cfg_keys = []
        for k in sorted(self.settings):
            if self.settings[k] is None:
                continue
            if is_jvm_property(k):
                props[k] = _fmt(self.settings[k])
            else:
                cfg_keys.append(k)
        with open(self.config_path, "w") as f:
            f.write(self._config_lines(cfg_keys))
        with open(os.path.join(self.dir, "log4j.properties"), "w") as f:
            f.write(LOG4J_PROPERTIES)
        jars = ZK_CLASSPATH_JARS + ZK_NETTY_JARS + (ZK_ADMIN_JARS if admin else [])
        classpath = ":".join([self.dir] + [os.path.join(JAVA_DIR, j) for j in jars])
        cmd = ["java", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-XX:-UsePerfData", f"-Dzookeeper.log.dir={os.path.join(self.dir, 'logs')}"]
        cmd += [f"-D{k}={v}" for k, v in sorted(props.items())]
        cmd += ["-cp", classpath, "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                self.config_path]
        return cmd

    def start(self, timeout=START_TIMEOUT):
        assert self.proc is None, "already started"
        os.makedirs(self.data_dir, exist_ok=True)
        self.port = free_port(self.host)
        cmd = self._command()
        with open(os.path.join(self.dir, "command.txt"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        self._log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir,
                                     env=dict(os.environ, **self.extra_env) or None,
                                     start_new_session=True)
        ACTIVE_SERVERS.append(self)
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def serves_jute(self):
        """False for a Corral server whose `frontends` lack jute (no ZooKeeper port)."""
        if self.impl != "corral" or self.settings.get("frontends") is None:
            return True
        return "jute" in [f.strip() for f in str(self.settings["frontends"]).split(",")]

    def wait_ready(self, timeout=START_TIMEOUT):
        """Poll until a real handshake (ConnectRequest -> ConnectResponse) succeeds. A server
        without the jute front end (frontends=thrift) is polled until thrift.port accepts a
        TCP connection instead (the test then waits for a session through Thrift)."""
        if self.serves_jute():
            probe = lambda: raw.try_handshake(self.port, timeout=2.0)
        else:
            probe = lambda: tcp_accepts(self.settings.get("thrift.address") or self.host,
                                        self.settings.get("thrift.port"))
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            if self.proc.poll() is not None:
                raise ServerStartError(
                    f"{self.impl} server exited with {self.proc.returncode} during startup\n"
                    + self.log_tail())
            if probe():
                return
            if time.monotonic() >= deadline:
                raise ServerStartError(f"{self.impl} server not ready after {timeout}s\n"
                                       + self.log_tail())
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM by PID, then SIGKILL after `timeout`."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
            except ProcessLookupError:
                pass
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def kill(self):
        """SIGKILL by PID (crash simulation)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)

    def cleanup(self, keep=False):
        self.stop()
        if self in ACTIVE_SERVERS:
            ACTIVE_SERVERS.remove(self)
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------------ diagnostics
    def log_tail(self, lines=60):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - 256 * 1024))
                text = f.read().decode("utf-8", "replace")
        except OSError as e:
            return f"(no log: {e})"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- {self.impl} {self.name} port={self.port} dir={self.dir} (last {lines} lines) ---\n{tail}"

    def four_letter(self, word, extra=b""):
        return raw.four_letter(self.port, word, extra)

    def raw(self, timeout=10.0):
        """A raw TCP connection without handshake."""
        return raw.RawConnection(self.port, timeout=timeout)

    def session(self, timeout=30000, **kw):
        """A raw connection with an established new session."""
        return raw.connect(self.port, timeout=timeout, **kw)

    def __repr__(self):
        return f"<Server {self.impl} {self.name} {self.hosts}>"

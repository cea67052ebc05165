"""pytest wiring for the end-to-end suite.

Run against the reference:   /usr/bin/python3 -m pytest tests/integration --impl zookeeper
Run against Corral:          /usr/bin/python3 -m pytest tests/integration [--corral-bin PATH]
See README.md in this folder.
"""
import contextlib
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import raw  # noqa: E402
from harness import servers  # noqa: E402
from harness.servers import ACTIVE_SERVERS, IMPLS, Server  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


# ----------------------------------------------------------------------------- options

def pytest_addoption(parser):
    group = parser.getgroup("corral", "Corral end-to-end tests")
    group.addoption("--impl", choices=IMPLS,
                    default=os.environ.get("CORRAL_TEST_IMPL", "corral"),
                    help="server implementation under test (env CORRAL_TEST_IMPL; default corral)")
    group.addoption("--corral-bin",
                    default=os.environ.get("CORRAL_BIN",
                                           os.path.join(REPO_ROOT, "build", "bin", "corral-server")),
                    help="path to corral-server (env CORRAL_BIN; default <repo>/build/bin/corral-server)")
    group.addoption("--storage", choices=("memlog", "rocksdb"),
                    default=os.environ.get("CORRAL_TEST_STORAGE", "memlog"),
                    help="storage plugin of the Corral servers (env CORRAL_TEST_STORAGE; default memlog)")
    group.addoption("--keep-server-dirs", action="store_true",
                    default=bool(os.environ.get("CORRAL_TEST_KEEP")),
                    help="do not delete server temp dirs (config, data, log)")


def pytest_configure(config):
    config.addinivalue_line("markers", "zookeeper_only: test applies only to Apache ZooKeeper (reason in the docstring)")
    config.addinivalue_line("markers", "corral_only: test applies only to Corral")
    config.addinivalue_line("markers",
                            "memlog_files: test reads or damages the ZooKeeper-format files storage.memlog "
                            "writes; skipped with --storage rocksdb (the memlog run covers it)")
    config.addinivalue_line("markers", "rocksdb_only: test of storage.rocksdb; runs only with --storage rocksdb")
    config.addinivalue_line("markers",
                            "frontend_only: tests a front end's own rules, whatever the storage; skipped with "
                            "--storage rocksdb (the memlog run covers it)")
    config.addinivalue_line("markers",
                            "storage_independent: tests the kernel's service surface (systemd units, "
                            "sd_notify, sessions under clock steps) or a test tool, whatever the "
                            "storage; skipped with --storage rocksdb")
    servers.DEFAULT_STORAGE = config.getoption("--storage")
    config.addinivalue_line("markers",
                            "known_difference(impl, reason): expected failure on `impl` "
                            "(strict xfail: it must fail there; remove the marker once fixed)")


def pytest_sessionstart(session):
    config = session.config
    if config.getoption("--impl") == "corral" and not config.getoption("collectonly"):
        binary = config.getoption("--corral-bin")
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            pytest.exit(f"corral-server not found at {binary}; build it, pass --corral-bin, "
                        f"or run the reference with --impl zookeeper", returncode=4)


def pytest_collection_modifyitems(config, items):
    impl = config.getoption("--impl")
    storage = config.getoption("--storage")
    for item in items:
        if item.get_closest_marker("memlog_files") and impl == "corral" and storage != "memlog":
            item.add_marker(pytest.mark.skip(reason="memlog_files: covered by the memlog run"))
        if (item.get_closest_marker("frontend_only") or item.get_closest_marker("storage_independent")) \
                and impl == "corral" and storage != "memlog":
            item.add_marker(pytest.mark.skip(reason="covered by the memlog run"))
        if item.get_closest_marker("rocksdb_only") and (impl != "corral" or storage != "rocksdb"):
            item.add_marker(pytest.mark.skip(reason="rocksdb_only: runs with --impl corral --storage rocksdb"))
        if item.get_closest_marker("zookeeper_only") and impl != "zookeeper":
            item.add_marker(pytest.mark.skip(reason="zookeeper_only"))
        if item.get_closest_marker("corral_only") and impl != "corral":
            item.add_marker(pytest.mark.skip(reason="corral_only"))
        for m in item.iter_markers("known_difference"):
            target = m.args[0] if m.args else m.kwargs.get("impl")
            reason = m.kwargs.get("reason", m.args[1] if len(m.args) > 1 else "known difference")
            if target == impl:
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for srv in list(ACTIVE_SERVERS):
            rep.sections.append((f"server log {srv.name} ({srv.hosts})", srv.log_tail()))


# ----------------------------------------------------------------------------- servers

class ServerFactory:
    """Starts servers of the implementation under test; owns and stops them."""

    def __init__(self, config):
        self.impl = config.getoption("--impl")
        self.corral_bin = config.getoption("--corral-bin")
        self.keep = config.getoption("--keep-server-dirs")
        self.count = 0

    def start(self, settings=None, name=None, extra_env=None, **kw):
        merged = dict(settings or {})
        merged.update(kw)
        self.count += 1
        srv = Server(self.impl, merged, corral_bin=self.corral_bin,
                     name=name or f"server{self.count}")
        srv.extra_env = dict(extra_env or {})
        srv.start()
        return srv

    def stop(self, srv):
        srv.cleanup(keep=self.keep)

    @contextlib.contextmanager
    def running(self, settings=None, **kw):
        srv = self.start(settings, **kw)
        try:
            yield srv
        finally:
            self.stop(srv)


@pytest.fixture(scope="session")
def impl(pytestconfig):
    return pytestconfig.getoption("--impl")


@pytest.fixture(scope="session")
def storage(pytestconfig):
    """The storage under test: "zookeeper" in the reference run, else the Corral plugin."""
    if pytestconfig.getoption("--impl") == "zookeeper":
        return "zookeeper"
    return pytestconfig.getoption("--storage")


@pytest.fixture(scope="session")
def server_factory(pytestconfig):
    return ServerFactory(pytestconfig)


@pytest.fixture(scope="module")
def server(server_factory, request):
    """A default-configured server shared by the tests of one module."""
    with server_factory.running(name=f"default[{request.module.__name__}]") as srv:
        yield srv


@pytest.fixture
def start_server(server_factory):
    """start_server(settings_dict=None, **settings) -> Server; stopped after the test."""
    started = []

    def _start(settings=None, **kw):
        srv = server_factory.start(settings, **kw)
        started.append(srv)
        return srv

    yield _start
    for srv in started:
        server_factory.stop(srv)


# ----------------------------------------------------------------------------- clients

@pytest.fixture
def make_zk(server):
    """make_zk(srv=None, **KazooClient kwargs) -> started kazoo client (stopped after the test)."""
    from kazoo.client import KazooClient

    clients = []

    def _make(srv=None, start=True, **kw):
        srv = srv or server
        kw.setdefault("timeout", 10.0)
        c = KazooClient(hosts=srv.hosts, **kw)
        clients.append(c)
        if start:
            c.start(timeout=15)
        return c

    yield _make
    for c in clients:
        try:
            c.stop()
            c.close()
        except Exception:
            pass


@pytest.fixture
def zk(make_zk):
    """A kazoo client connected to the module's default server."""
    return make_zk()


@pytest.fixture
def make_raw(server):
    """make_raw(srv=None, handshake=True, **handshake kwargs) -> raw.RawConnection."""
    conns = []

    def _make(srv=None, handshake=True, **kw):
        srv = srv or server
        if handshake:
            c = raw.connect(srv.port, **kw)
        else:
            c = raw.RawConnection(srv.port)
        conns.append(c)
        return c

    yield _make
    for c in conns:
        c.end_session()


@pytest.fixture
def rc(make_raw):
    """A raw connection with an established session on the default server."""
    return make_raw()


_counter = [0]


@pytest.fixture
def node(request):
    """A unique absolute path for this test (not created)."""
    _counter[0] += 1
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:60]
    return f"/{name}-{_counter[0]}"


@pytest.fixture
def base(node, make_raw):
    """A unique persistent node for this test, created empty (OPEN_ACL_UNSAFE)."""
    c = make_raw()
    err, _ = c.create(node, b"")
    assert err == 0, err
    c.end_session()
    return node

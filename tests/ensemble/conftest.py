"""pytest wiring for the ensemble (ZAB quorum) suite.

Reference run:   /usr/bin/python3 -m pytest tests/ensemble -q --impl zookeeper
Corral:          CORRAL_BIN=build/bin/corral-server /usr/bin/python3 -m pytest tests/ensemble -q --impl corral
See README.md in this folder.

The options (--impl, --corral-bin, --storage, --keep-server-dirs), the markers (corral_only,
zookeeper_only, known_difference, memlog_files, rocksdb_only) and the hook that attaches server
log tails to a failing test are those of tests/integration/conftest.py, loaded from there.
`--storage memlog|rocksdb` (env CORRAL_TEST_STORAGE, default memlog) is the storage plugin of
every Corral member that chooses none (harness_ensemble.default_storage(); a member chooses
with a `storage` setting, e.g. member_settings={3: {"storage": "rocksdb"}}). Added here: the
`mixed` and `rolling` markers and the ensemble fixtures.
"""
import importlib.util
import os
import sys

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
_INTEGRATION = os.path.join(os.path.dirname(_HERE), "integration")
sys.path.insert(0, _HERE)

_spec = importlib.util.spec_from_file_location("corral_integration_conftest",
                                               os.path.join(_INTEGRATION, "conftest.py"))
_it = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_it)

from harness_ensemble import Ensemble, default_storage, reserve_ports  # noqa: E402
from observer_support import OBSERVERS, with_admin  # noqa: E402

# Timings recorded by tests (printed in the terminal summary).
TIMINGS = []


# ----------------------------------------------------------------------------- options, markers

def pytest_addoption(parser):
    try:
        _it.pytest_addoption(parser)
    except ValueError:
        # Same options already registered (tests/integration collected in the same run).
        pass


def pytest_configure(config):
    _it.pytest_configure(config)
    config.addinivalue_line(
        "markers", "mixed: a mixed Corral+ZooKeeper ensemble with --impl corral; with "
                   "--impl zookeeper the same shape, all members ZooKeeper")
    config.addinivalue_line(
        "markers", "rolling: rolling replacement of ZooKeeper members (by the impl under test)")


def pytest_report_header(config):
    if config.getoption("--impl") == "corral":
        return f"corral members' default storage: {default_storage()} (--storage)"
    return None


pytest_sessionstart = _it.pytest_sessionstart
pytest_collection_modifyitems = _it.pytest_collection_modifyitems
pytest_runtest_makereport = _it.pytest_runtest_makereport


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_sep("-", "ensemble timings")
        for line in TIMINGS:
            terminalreporter.write_line(line)


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def impl(pytestconfig):
    return pytestconfig.getoption("--impl")


@pytest.fixture(scope="session")
def storage(pytestconfig):
    """The default storage of the Corral members (--storage); "zookeeper" in the reference
    run."""
    if pytestconfig.getoption("--impl") == "zookeeper":
        return "zookeeper"
    return default_storage()


class EnsembleFactory:
    """Builds ensembles; `cleanup()` ends every member process (by PID) and client."""

    def __init__(self, config, scope_name):
        self.impl = config.getoption("--impl")
        self.corral_bin = config.getoption("--corral-bin")
        self.keep = config.getoption("--keep-server-dirs")
        self.scope_name = scope_name
        self.made = []

    def impls_for(self, shape):
        """A mixed shape as run now: itself with --impl corral, all ZooKeeper otherwise."""
        return list(shape) if self.impl == "corral" else ["zookeeper"] * len(shape)

    def __call__(self, size_or_impls=3, settings=None, start=True, leader_sid=None,
                 name=None, **kw):
        """size (int: that many members of the impl under test) or a list of impls
        (used as given). Returns the started Ensemble (all members serving)."""
        if isinstance(size_or_impls, int):
            impls = [self.impl] * size_or_impls
        else:
            impls = list(size_or_impls)
        name = name or f"{self.scope_name}{len(self.made) + 1}"
        ens = Ensemble(impls, settings=settings, corral_bin=self.corral_bin, name=name,
                       keep=self.keep, **kw)
        self.made.append(ens)
        if start:
            ens.start(leader_sid=leader_sid)
        return ens

    def cleanup(self):
        for ens in self.made:
            ens.cleanup()
        self.made.clear()


def _short(name):
    return "".join(ch for ch in name if ch.isalnum())[-24:]


@pytest.fixture
def make_ensemble(pytestconfig, request):
    """make_ensemble(size_or_impls=3, settings=None, start=True, leader_sid=None) -> Ensemble,
    ended after the test (even when it fails)."""
    factory = EnsembleFactory(pytestconfig, _short(request.node.name))
    try:
        yield factory
    finally:
        factory.cleanup()


@pytest.fixture(scope="module")
def module_ensemble_factory(pytestconfig, request):
    factory = EnsembleFactory(pytestconfig, _short(request.module.__name__))
    try:
        yield factory
    finally:
        factory.cleanup()


@pytest.fixture(scope="module")
def shared_ensemble(module_ensemble_factory):
    """A 3-member ensemble of the impl under test, shared by a module's non-destructive tests.
    A test that stops a member must start it again; `ensemble3` checks this."""
    return module_ensemble_factory(3)


@pytest.fixture
def ensemble3(shared_ensemble):
    """The module's shared 3-member ensemble, every member running and serving."""
    shared_ensemble.ensure_running()
    yield shared_ensemble
    for c in list(shared_ensemble.clients):
        shared_ensemble.close_client(c)


@pytest.fixture
def mixed(make_ensemble):
    """mixed(shape, leader_sid=None, **kw) -> started Ensemble. `shape` lists each member's
    impl, e.g. ["zookeeper", "zookeeper", "corral"]; with --impl zookeeper every member is
    ZooKeeper (same size, same steering), which checks the test itself."""
    def _make(shape, leader_sid=None, **kw):
        return make_ensemble(make_ensemble.impls_for(shape), leader_sid=leader_sid, **kw)
    _make.impls_for = make_ensemble.impls_for
    return _make


@pytest.fixture
def record_timing(request):
    """record_timing(label, seconds): printed now and in the terminal summary."""
    def _rec(label, seconds):
        line = f"{request.node.nodeid}: {label}: {seconds:.2f}s"
        print(line)
        TIMINGS.append(line)
        request.node.user_properties.append((label, round(seconds, 3)))
    return _rec


# ----------------------------------------------------------------------------- fault runs

@pytest.fixture
def fault_seed():
    """CORRAL_FAULT_SEED, else nemesis.DEFAULT_SEED."""
    from nemesis import seed_from_env
    return seed_from_env()


@pytest.fixture
def proxied(pytestconfig, request):
    """proxied(impls, seed, **Ensemble kwargs) -> a ProxiedEnsemble with nemesis's
    FAULT_SETTINGS (not started), ended after the test."""
    from nemesis import make_ensemble
    made = []
    name = "".join(ch for ch in request.node.name if ch.isalnum())[-20:]

    def _make(impls, seed, **kw):
        ens = make_ensemble(impls, seed, corral_bin=pytestconfig.getoption("--corral-bin"),
                            name=name, keep=pytestconfig.getoption("--keep-server-dirs"), **kw)
        made.append(ens)
        return ens
    try:
        yield _make
    finally:
        for ens in made:
            ens.cleanup()


# ----------------------------------------------------------------------------- observer ensembles

@pytest.fixture(scope="module")
def observed_shared(module_ensemble_factory):
    """3 voters + 2 observers of the impl under test, sid 3 leading, an AdminServer on every
    member; shared by the module's tests that leave every member running."""
    return module_ensemble_factory(5, observers=OBSERVERS, leader_sid=3,
                                   member_settings=with_admin(range(1, 6)))


@pytest.fixture
def observed(observed_shared):
    observed_shared.ensure_running()
    yield observed_shared
    for c in list(observed_shared.clients):
        observed_shared.close_client(c)


@pytest.fixture(scope="module")
def om_shared(module_ensemble_factory):
    """3 voters + 2 observers on distinct loopback addresses (sid N at 127.0.0.(N+1)) with
    observerMasterPort set on every member (one port number, each member's own address), an
    AdminServer on every member."""
    port = reserve_ports(1)[0]
    hosts = {sid: f"127.0.0.{sid + 1}" for sid in range(1, 6)}
    ens = module_ensemble_factory(5, observers=OBSERVERS, leader_sid=3, distinct_hosts=True,
                                  settings={"observerMasterPort": port},
                                  member_settings=with_admin(range(1, 6), hosts))
    ens.observer_master_port = port
    return ens


@pytest.fixture
def om(om_shared):
    om_shared.ensure_running()
    yield om_shared
    for c in list(om_shared.clients):
        om_shared.close_client(c)

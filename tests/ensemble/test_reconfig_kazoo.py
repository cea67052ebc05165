"""kazoo's own TestReconfig (kazoo/tests/test_client.py, shipped by Debian's python3-kazoo)
run in-process against a 3-member ensemble started by our harness: reconfigEnabled=true and
the super user's digest (super:test, the one kazoo's harness uses) as a zoo.cfg key,
`DigestAuthenticationProvider.superDigest`. Each of its methods is a pytest test:

  * test_no_super_auth: an unauthenticated reconfig gets NoAuthError;
  * test_add_remove_observer: `server.100=0.0.0.0:p1:p2:observer;0.0.0.0:p3` (ports that kazoo
    binds without listening, so connects get RST) joins, the reply contains that line
    verbatim; it leaves, the reply no longer does; a reconfig from a future version gets
    BadVersionError;
  * test_bad_input: joining 'some thing' gets BadArgumentsError.

kazoo's harness normally starts Java itself (KazooTestHarness.cluster is a global
ZookeeperCluster built from ZOOKEEPER_* environment variables). Here the subclass replaces
`cluster` with the harness's members, already running, so that `setup_zookeeper` starts
nothing and its chrooted client connects to our ensemble. kazoo's test module imports `mock`
(the old backport), which Debian's python3 lacks: unittest.mock stands in for it.
"""
import sys
import unittest.mock

import pytest

sys.modules.setdefault("mock", unittest.mock)
from kazoo.tests import test_client as kazoo_client_tests  # noqa: E402

from reconfig_support import (RECONFIG_SETTINGS, START_TIMEOUT, TEST_TIME_LIMIT,  # noqa: E402
                              config_at, specs, time_limit)


class _ExternalServer:
    """What KazooTestHarness reads of a cluster member: `address` and `running`."""

    def __init__(self, member):
        self.member = member
        self.address = member.hosts

    @property
    def running(self):
        return self.member.alive()


class _ExternalCluster(list):
    """Stands for kazoo's ZookeeperCluster. kazoo starts it only when a member is not
    running; ours are started (and ended) by the harness, so that would be a bug here."""

    def start(self):
        raise AssertionError("kazoo tried to start the cluster: a member is down: "
                             + ", ".join(repr(s.member) for s in self))

    def stop(self):
        pass

    def terminate(self):
        pass


@pytest.fixture(scope="module")
def kazoo_ensemble(module_ensemble_factory):
    ens = module_ensemble_factory(3, settings=dict(RECONFIG_SETTINGS), start=False)
    ens.start(timeout=START_TIMEOUT)
    return ens


class TestKazooReconfig(kazoo_client_tests.TestReconfig):
    """kazoo's TestReconfig with our ensemble as its cluster."""

    ensemble = None
    # kazoo's own client timeout (15 s) is kept; its clients are stopped in tearDown.

    @pytest.fixture(autouse=True)
    def _point_kazoo_at_ensemble(self, kazoo_ensemble):
        """Before each kazoo method: every member serves and the class sees the ensemble.
        After: the membership is the initial one again (each method leaves it so)."""
        kazoo_ensemble.ensure_running(START_TIMEOUT)
        type(self).ensemble = kazoo_ensemble
        # kazoo's reconfig() waits for its answer without limit.
        with time_limit(TEST_TIME_LIMIT, "kazoo test method"):
            yield
        servers = config_at(kazoo_ensemble, kazoo_ensemble.leader())[0]
        for c in list(kazoo_ensemble.clients):
            kazoo_ensemble.close_client(c)
        assert servers == specs(kazoo_ensemble.members), f"membership left changed: {servers}"

    @property
    def cluster(self):
        assert self.ensemble is not None, "the _point_kazoo_at_ensemble fixture did not run"
        return _ExternalCluster(_ExternalServer(m) for m in self.ensemble.members)


def test_kazoo_reconfig_methods_are_all_collected():
    """Guards the in-process run: kazoo's TestReconfig still has the three methods this
    file expects (a newer kazoo may add some, which then run too)."""
    names = {n for n in dir(kazoo_client_tests.TestReconfig) if n.startswith("test_")}
    assert {"test_no_super_auth", "test_add_remove_observer", "test_bad_input"} <= names

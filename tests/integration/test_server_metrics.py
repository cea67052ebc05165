"""ZooKeeper 3.8's ServerMetrics in mntr and the AdminServer's monitor command (issue #6).

data/mntr-keys-3.8.0.txt is the key set (without `zk_`) a 3.8.0 standalone server printed
for `mntr`, read off the Debian build; the reference run checks it again. The per-namespace
summaries (<ns>_read_per_namespace, <ns>_write_per_namespace) depend on the workload and are
checked separately, with ZooKeeper's byte arithmetic (DataTree.updateReadStat/WriteStat:
path + data [+ 68 stat bytes for reads])."""
import json
import os
import urllib.request

import pytest

from harness import raw
from harness.servers import Server, free_port
from harness.util import wait_until

WHITELIST = "4lw.commands.whitelist"
HERE = os.path.dirname(os.path.abspath(__file__))
STAT_BYTES = 68
SUMMARY_FIELDS = ("avg", "min", "max", "cnt", "sum")
PERCENTILES = ("p50", "p95", "p99", "p999")


def reference_keys():
    with open(os.path.join(HERE, "data", "mntr-keys-3.8.0.txt")) as f:
        return {line.strip() for line in f if line.strip()}


def mntr(srv):
    text = srv.four_letter("mntr")
    assert text.endswith("\n")
    pairs = [line.split("\t") for line in text[:-1].split("\n")]
    assert all(len(p) == 2 and p[0].startswith("zk_") for p in pairs), pairs[:3]
    return {k[3:]: v for k, v in pairs}


def num(values, key):
    return float(values[key])


def summary_keys(name, percentiles=False):
    fields = SUMMARY_FIELDS + (PERCENTILES if percentiles else ())
    return {f"{field}_{name}" for field in fields}


@pytest.fixture(scope="module")
def metrics_server(server_factory):
    admin_port = free_port()
    settings = {WHITELIST: "*", "admin.enableServer": "true", "admin.serverPort": admin_port}
    with server_factory.running(settings, name="server-metrics") as srv:
        srv.admin_port = admin_port
        yield srv


def test_mntr_key_set_equals_zookeepers(metrics_server, storage):
    c = metrics_server.session()
    try:
        assert c.create("/smk", b"0123456789")[0] == 0
        assert c.get_data("/smk")[0] == 0
        assert c.set_data("/smk", b"x")[0] == 0
        keys = set(mntr(metrics_server))
    finally:
        c.close()
    namespace = summary_keys("smk_read_per_namespace") | summary_keys("smk_write_per_namespace")
    assert namespace <= keys
    others = {k for k in keys - namespace if not k.endswith("_per_namespace")}
    if storage == "rocksdb":
        # storage.rocksdb's own figures follow ZooKeeper's (test_rocksdb_storage.py checks them).
        assert any(k.startswith("rocksdb_") for k in others)
        others = {k for k in others if not k.startswith("rocksdb_")}
    expected = reference_keys()
    assert others == expected, {"missing": sorted(expected - others), "extra": sorted(others - expected)}


def test_http_monitor_has_the_same_keys_and_types(metrics_server):
    text_keys = set(mntr(metrics_server))
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_server.admin_port}/commands/monitor",
                                timeout=10) as reply:
        data = json.load(reply)
    assert data["command"] == "monitor" and data["error"] is None
    json_keys = set(data) - {"command", "error"}
    # The two views are read a moment apart: only keys created in between may differ.
    assert {k for k in text_keys ^ json_keys if not k.endswith("_per_namespace")} == set()
    assert isinstance(data["avg_readlatency"], float)
    for key in ("cnt_readlatency", "p99_readlatency", "sum_fsynctime", "commit_count", "response_bytes"):
        assert isinstance(data[key], int) and not isinstance(data[key], bool), (key, data[key])


def test_read_and_write_summaries_move_with_requests(metrics_server):
    c = metrics_server.session()
    try:
        before = mntr(metrics_server)
        path, data = "/smr", b"v" * 40
        assert c.create(path, data)[0] == 0
        for _ in range(7):
            assert c.get_data(path)[0] == 0
        assert c.exists(path)[0] == 0
        assert c.set_data(path, b"w" * 5)[0] == 0
        assert c.exists("/smr-missing")[0] == raw.Err.NONODE  # a failed read counts no bytes
        after = mntr(metrics_server)
    finally:
        c.close()
    # Every request gets a latency sample: 9 reads (7 gets + 2 exists), 2 writes at least.
    assert num(after, "cnt_readlatency") >= num(before, "cnt_readlatency") + 9
    assert num(after, "cnt_updatelatency") >= num(before, "cnt_updatelatency") + 2
    assert num(after, "prep_processor_request_queued") >= num(before, "prep_processor_request_queued") + 11
    assert num(after, "p50_readlatency") <= num(after, "max_readlatency")
    # ZooKeeper's per-namespace arithmetic, exactly.
    reads = 7 * (len(path) + len(data) + STAT_BYTES) + (len(path) + STAT_BYTES)
    assert num(after, "cnt_smr_read_per_namespace") == 8
    assert num(after, "sum_smr_read_per_namespace") == reads
    assert num(after, "cnt_smr_write_per_namespace") == 2
    assert num(after, "sum_smr_write_per_namespace") == (len(path) + 40) + (len(path) + 5)
    assert num(after, "max_smr_write_per_namespace") == len(path) + 40
    assert num(after, "min_smr_write_per_namespace") == len(path) + 5
    # forceSync is on by default: every write was fsynced and timed.
    assert num(after, "cnt_fsynctime") > num(before, "cnt_fsynctime")
    assert num(after, "sync_processor_request_queued") >= num(before, "sync_processor_request_queued") + 2
    assert num(after, "bytes_received_count") > num(before, "bytes_received_count")
    # A getData reply of 40 bytes: ReplyHeader 16 + buffer 4 + 40 + Stat 68.
    assert num(after, "max_client_response_size") >= 16 + 4 + 40 + STAT_BYTES
    assert num(after, "response_bytes") >= num(before, "response_bytes") + 7 * (16 + 4 + 40 + STAT_BYTES)


def test_watch_metrics_count_fired_watchers_and_event_bytes(metrics_server):
    watcher = metrics_server.session()
    writer = metrics_server.session()
    try:
        assert writer.create("/smw", b"a")[0] == 0
        assert watcher.get_data("/smw", watch=True)[0] == 0
        assert watcher.get_children("/smw", watch=True)[0] == 0
        before = mntr(metrics_server)
        assert writer.set_data("/smw", b"b")[0] == 0
        assert watcher.next_event().type == raw.EventType.NODE_DATA_CHANGED
        assert writer.create("/smw/c")[0] == 0
        assert watcher.next_event().type == raw.EventType.NODE_CHILDREN_CHANGED
        after = mntr(metrics_server)
    finally:
        watcher.close()
        writer.close()
    assert num(after, "cnt_node_changed_watch_count") == num(before, "cnt_node_changed_watch_count") + 1
    assert num(after, "cnt_node_children_watch_count") == num(before, "cnt_node_children_watch_count") + 1
    # Each event: ReplyHeader 16 + type 4 + state 4 + path (4 + len).
    event_bytes = (16 + 12 + len("/smw")) * 2
    assert num(after, "watch_bytes") == num(before, "watch_bytes") + event_bytes


def closed_by_server(connection):
    try:
        return connection.sock.recv(16) == b""
    except ConnectionResetError:
        return True


def session_when_allowed(srv):
    made = []

    def attempt():
        try:
            made.append(srv.session())
            return True
        except OSError:
            return False
    wait_until(attempt)
    return made[0]


def mntr_when_served(srv):
    """mntr once the server accepts another connection from this address again."""
    result = {}

    def attempt():
        try:
            result.update(mntr(srv))
            return True
        except (AssertionError, OSError):
            return False
    wait_until(attempt)
    return result


def test_rejected_connections_and_connect_requests_are_counted(server_factory):
    with server_factory.running({WHITELIST: "*", "maxClientCnxns": 2}, name="server-metrics-limits") as srv:
        before = mntr(srv)
        # The mntr connection may still count against the limit for a moment.
        first, second = session_when_allowed(srv), session_when_allowed(srv)
        try:
            # Over the per-address limit: closed at once (FIN or RST), without a reply. The
            # RST can arrive while connect() is still returning, which Linux reports as
            # ECONNRESET or, seen once against ZooKeeper, EPIPE.
            try:
                third = srv.raw()
            except (ConnectionResetError, BrokenPipeError):
                third = None
            if third is not None:
                try:
                    assert closed_by_server(third)
                finally:
                    third.close()
        finally:
            first.close()
            second.close()
        after = mntr_when_served(srv)
        assert num(after, "connection_rejected") >= num(before, "connection_rejected") + 1
        # ConnectRequests, not sockets: the two sessions (mntr and the refused socket sent none).
        assert num(after, "connection_request_count") == num(before, "connection_request_count") + 2
        assert num(after, "cnt_connection_token_deficit") == num(before, "cnt_connection_token_deficit") + 2


def test_sessionless_connections_expire_and_are_counted(server_factory):
    settings = {WHITELIST: "*", "zookeeper.nio.sessionlessCnxnTimeout": 1000}
    with server_factory.running(settings, name="server-metrics-sessionless") as srv:
        before = mntr(srv)
        idle = srv.raw(timeout=15.0)
        try:
            assert closed_by_server(idle)  # no ConnectRequest sent
        finally:
            idle.close()
        wait_until(lambda: num(mntr(srv), "sessionless_connections_expired")
                   >= num(before, "sessionless_connections_expired") + 1)


def test_startup_metrics_after_a_restart(start_server, storage):
    srv = start_server({WHITELIST: "*"})
    c = srv.session()
    try:
        for i in range(25):
            assert c.create(f"/sms{i}", b"x")[0] == 0
    finally:
        c.close()
    fresh = mntr(srv)
    assert num(fresh, "cnt_startup_snap_load_time") == 1
    srv.stop()
    # A second server process on the same data dir.
    again = Server(srv.impl, srv.settings, corral_bin=srv.corral_bin, name="restarted")
    again.data_dir = srv.data_dir
    try:
        again.start()
        restarted = mntr(again)
    finally:
        again.stop()
        again.cleanup()
    assert num(restarted, "cnt_startup_snap_load_time") == 1
    assert num(restarted, "cnt_startup_txns_loaded") == 1
    if storage == "rocksdb":
        # Opened, not replayed: after a clean stop every logged txn was already applied.
        assert num(restarted, "sum_startup_txns_loaded") == 0
    else:
        # One load at start; the 25 creates (and the session's create/close) replayed from the log.
        assert num(restarted, "sum_startup_txns_loaded") >= 25
    assert num(restarted, "cnt_startup_txns_load_time") == 1
    assert num(restarted, "cnt_dbinittime") == 1

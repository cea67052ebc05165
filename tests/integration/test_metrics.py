"""Prometheus /metrics (Corral's admin.metrics plugin).

Corral only: Debian's ZooKeeper 3.8 has no Prometheus provider jar (reference-server.md), so
the names are checked against what ZooKeeper's PrometheusMetricsProvider exports: the mntr
keys without `zk_` (admin-and-ops.md §2), with ServerMetrics summaries as Prometheus summaries.
The text is parsed by a strict 0.0.4 parser below (and by prometheus_client's parser too when
python3-prometheus-client happens to be installed)."""
import json
import math
import os
import re
import urllib.error
import urllib.request

import pytest

from harness.servers import free_port
from harness.util import wait_until

pytestmark = pytest.mark.corral_only

PROMETHEUS = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
HTTP_TIMEOUT = 10.0

# mntr gauges that ZooKeeper's Prometheus provider exports under the same name.
ZK_GAUGES = {
    "avg_latency", "max_latency", "min_latency", "packets_received", "packets_sent",
    "num_alive_connections", "outstanding_requests", "uptime", "znode_count", "watch_count",
    "ephemerals_count", "approximate_data_size", "global_sessions", "local_sessions",
    "open_file_descriptor_count", "max_file_descriptor_count", "connection_drop_probability",
    "last_client_response_size", "max_client_response_size", "min_client_response_size",
    "outstanding_tls_handshake", "auth_failed_count", "non_mtls_remote_conn_count",
    "non_mtls_local_conn_count"}
PROCESS = {"process_cpu_seconds_total", "process_start_time_seconds", "process_open_fds",
           "process_max_fds", "process_virtual_memory_bytes", "process_resident_memory_bytes"}


# --------------------------------------------------------------------------- strict parser
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE_RE = re.compile(rf"({NAME})(?:\{{({LABEL}(?:,{LABEL})*)?\}})? (\S+)(?: -?\d+)?")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
TYPES = {"counter", "gauge", "summary", "histogram", "untyped"}


class Family:
    def __init__(self, name):
        self.name, self.type, self.help, self.samples = name, None, None, {}


def parse_exposition(text):
    """Families by name; fails on anything the 0.0.4 text format does not allow."""
    assert text.endswith("\n"), "exposition must end with a newline"
    families, current, closed = {}, None, set()

    def family(name):
        nonlocal current
        if current is None or current.name != name:
            assert name not in closed, f"family {name} is not contiguous"
            if current is not None:
                closed.add(current.name)
            current = families.setdefault(name, Family(name))
        return current

    for number, line in enumerate(text[:-1].split("\n"), 1):
        where = f"line {number}: {line!r}"
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                assert re.fullmatch(NAME, parts[2]), where
                fam = family(parts[2])
                if parts[1] == "HELP":
                    assert fam.help is None, f"second HELP, {where}"
                    fam.help = parts[3] if len(parts) > 3 else ""
                else:
                    assert fam.type is None and not fam.samples, f"late or second TYPE, {where}"
                    assert len(parts) == 4 and parts[3] in TYPES, where
                    fam.type = parts[3]
            continue
        assert line.strip(), f"empty line, {where}"
        match = SAMPLE_RE.fullmatch(line)
        assert match, f"bad sample, {where}"
        name, labels, value = match.group(1), match.group(2) or "", match.group(3)
        base = name
        if current is not None and current.type == "summary" and name in (
                current.name + "_count", current.name + "_sum"):
            base = current.name
        fam = family(base)
        parsed = tuple(LABEL_RE.findall(labels))
        assert len({k for k, _ in parsed}) == len(parsed), f"repeated label, {where}"
        if fam.type == "summary" and name == base:
            assert "quantile" in dict(parsed), f"summary sample without quantile, {where}"
        value = float(value) if value not in ("NaN", "+Inf", "-Inf") else {
            "NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}[value]
        key = (name, parsed)
        assert key not in fam.samples, f"duplicate sample, {where}"
        fam.samples[key] = value
    return families


def value(families, name, **labels):
    base = re.sub(r"_(count|sum)$", "", name) if name not in families else name
    return families[base].samples[(name, tuple(sorted(labels.items())))]


def cross_check(text):
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        return
    names = {f.name for f in text_string_to_metric_families(text)}
    assert "znode_count" in names


# --------------------------------------------------------------------------- helpers
def metrics_settings(port, **extra):
    settings = {"metricsProvider.className": PROMETHEUS,
                "metricsProvider.httpHost": "127.0.0.1", "metricsProvider.httpPort": port,
                "zookeeper.4lw.commands.whitelist": "*"}
    settings.update(extra)
    return settings


def http_get(port, path, method="GET"):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def scrape(port):
    status, headers, body = http_get(port, "/metrics")
    assert status == 200, body[:300]
    assert headers.get("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    text = body.decode("utf-8")
    families = parse_exposition(text)
    cross_check(text)
    return families


def mntr(srv):
    out = srv.four_letter("mntr")
    result = {}
    for line in out.splitlines():
        key, _, val = line.partition("\t")
        result[key[3:]] = val
    return result


def client(srv):
    from kazoo.client import KazooClient

    zk = KazooClient(hosts=srv.hosts, timeout=10.0)
    zk.start(timeout=15)
    return zk


@pytest.fixture(scope="module")
def metrics_server(server_factory):
    port = free_port()
    with server_factory.running(metrics_settings(port), name="metrics") as srv:
        srv.metrics_port = port
        wait_until(lambda: _answers(port), timeout=30)
        yield srv


def _answers(port):
    try:
        return http_get(port, "/metrics")[0] == 200
    except OSError:
        return False


def _admin_answers(port):
    try:
        return http_get(port, "/commands/ruok")[0] == 200
    except OSError:
        return False


# --------------------------------------------------------------------------- tests
def test_exposition_is_valid_and_names_are_zookeepers(metrics_server):
    families = scrape(metrics_server.metrics_port)
    assert ZK_GAUGES <= set(families), sorted(ZK_GAUGES - set(families))
    for name in ZK_GAUGES:
        assert families[name].type == "gauge", name
        assert families[name].help == name  # ZooKeeper's provider uses the name as help
        assert list(families[name].samples) == [(name, ())]
    assert not [n for n in families if n.startswith("zk_")]
    assert "version" not in families and "server_state" not in families
    for fam in families.values():
        assert fam.type in ("gauge", "counter", "summary"), fam.name
        assert fam.help is not None and fam.samples, fam.name


def test_process_metrics(metrics_server):
    families = scrape(metrics_server.metrics_port)
    assert PROCESS <= set(families), sorted(PROCESS - set(families))
    assert families["process_cpu_seconds_total"].type == "counter"
    assert value(families, "process_resident_memory_bytes") > 1_000_000
    assert value(families, "process_open_fds") >= 3
    assert value(families, "process_max_fds") >= value(families, "process_open_fds")
    start = value(families, "process_start_time_seconds")
    assert abs(start - os.stat(f"/proc/{metrics_server.proc.pid}").st_mtime) < 3600


def test_jemalloc_stats_when_the_server_runs_on_jemalloc(metrics_server):
    with open(f"/proc/{metrics_server.proc.pid}/maps") as f:
        on_jemalloc = "libjemalloc" in f.read()
    families = scrape(metrics_server.metrics_port)
    jemalloc = {n for n in families if n.startswith("jemalloc_")}
    if not on_jemalloc:
        assert not jemalloc
        return
    assert {"jemalloc_allocated_bytes", "jemalloc_active_bytes", "jemalloc_resident_bytes",
            "jemalloc_mapped_bytes", "jemalloc_metadata_bytes"} <= jemalloc
    allocated = value(families, "jemalloc_allocated_bytes")
    assert 0 < allocated <= value(families, "jemalloc_active_bytes")


def test_metrics_move_with_load_and_match_mntr(metrics_server):
    port = metrics_server.metrics_port
    before = scrape(port)
    zk = client(metrics_server)
    try:
        zk.create("/m", b"payload")
        for i in range(5):
            zk.create(f"/m/e{i}", b"", ephemeral=True)
        zk.get("/m", watch=lambda event: None)
        zk.get_children("/m", watch=lambda event: None)
        zk.exists("/m-missing", watch=lambda event: None)
        for _ in range(20):
            zk.get("/m")
        during = scrape(port)
        assert value(during, "znode_count") == value(before, "znode_count") + 6
        assert value(during, "ephemerals_count") == value(before, "ephemerals_count") + 5
        assert value(during, "watch_count") == value(before, "watch_count") + 3
        assert value(during, "num_alive_connections") == value(before, "num_alive_connections") + 1
        assert value(during, "global_sessions") == value(before, "global_sessions") + 1
        assert value(during, "packets_received") >= value(before, "packets_received") + 28
        assert value(during, "approximate_data_size") > value(before, "approximate_data_size")
        # The same kernel view as the four-letter word.
        four = mntr(metrics_server)
        for name in ("znode_count", "ephemerals_count", "watch_count", "approximate_data_size",
                     "global_sessions"):
            assert float(four[name]) == value(during, name), name
    finally:
        zk.stop()
        zk.close()
    wait_until(lambda: value(scrape(port), "num_alive_connections")
               == value(before, "num_alive_connections"))
    after = scrape(port)
    assert value(after, "ephemerals_count") == value(before, "ephemerals_count")
    assert value(after, "znode_count") == value(before, "znode_count") + 1


def test_server_metrics_are_summaries_and_counters(metrics_server):
    """ZooKeeper's ServerMetrics as its Prometheus provider exports them: summaries with
    quantiles (ADVANCED) or count/sum only (BASIC), per-namespace sets with a key label."""
    port = metrics_server.metrics_port
    zk = client(metrics_server)
    try:
        before = scrape(port)
        zk.create("/ps", b"x" * 10)
        for _ in range(4):
            zk.get("/ps")
        after = scrape(port)
    finally:
        zk.stop()
        zk.close()
    assert after["readlatency"].type == "summary"
    for quantile in ("0.5", "0.95", "0.99", "0.999"):
        assert value(after, "readlatency", quantile=quantile) >= 0
    assert value(after, "readlatency_count") >= value(before, "readlatency_count") + 4
    assert after["fsynctime"].type == "summary"
    assert not [k for k in after["fsynctime"].samples if dict(k[1]).get("quantile")]
    assert value(after, "fsynctime_count") > value(before, "fsynctime_count")
    assert after["read_per_namespace"].type == "summary"
    assert value(after, "read_per_namespace_count", key="ps") == 4
    assert value(after, "read_per_namespace_sum", key="ps") == 4 * (len("/ps") + 10 + 68)
    assert value(after, "write_per_namespace_sum", key="ps") == len("/ps") + 10
    for counter in ("bytes_received_count", "response_bytes", "prep_processor_request_queued", "commit_count"):
        assert after[counter].type == "counter", counter
    assert value(after, "bytes_received_count") > value(before, "bytes_received_count")


def test_other_paths_and_methods(metrics_server):
    port = metrics_server.metrics_port
    assert http_get(port, "/")[0] == 404
    assert http_get(port, "/metrics/x")[0] == 404
    assert http_get(port, "/metrics", method="POST")[0] == 405
    status, _, body = http_get(port, "/metrics", method="HEAD")
    assert status == 200 and body == b""
    assert http_get(port, "/metrics?name[]=znode_count")[0] == 200


def test_export_jvm_info_false_drops_process_metrics(start_server):
    port = free_port()
    start_server(metrics_settings(port, **{"metricsProvider.exportJvmInfo": False}))
    # Corral's admin plugins start after the client port answers.
    wait_until(lambda: _answers(port), timeout=30)
    families = scrape(port)
    assert "znode_count" in families
    assert not [n for n in families if n.startswith(("process_", "jemalloc_"))]


def test_http_and_metrics_together(start_server):
    metrics_port, admin_port = free_port(), free_port()
    srv = start_server(metrics_settings(metrics_port, **{
        "admin.enableServer": True, "admin.serverAddress": "127.0.0.1", "admin.serverPort": admin_port}))
    # Corral's admin plugins start after the client port answers (metrics first, then http).
    wait_until(lambda: _answers(metrics_port), timeout=30)
    wait_until(lambda: _admin_answers(admin_port), timeout=30)
    families = scrape(metrics_port)
    _, _, body = http_get(admin_port, "/commands/mntr")
    data = json.loads(body)
    assert data["command"] == "monitor"
    assert data["znode_count"] == value(families, "znode_count")
    assert srv.alive()


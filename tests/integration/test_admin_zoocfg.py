"""ZooKeeper's own keys switch the AdminServer and the Prometheus endpoint on and off in an
unchanged zoo.cfg: `admin.enableServer` (default true; `zookeeper.admin.enableServer` too)
and `metricsProvider.className`. Both servers get the same zoo.cfg (Corral: kernel/server/
admin_plugins.h), and a port that is taken ends both the same way. What 3.8.0 does,
standalone (also in plugins/admin_http/README.md and plugins/admin_metrics/README.md):

* AdminServer port taken: exit 4 (ERROR_STARTING_ADMIN_SERVER), "Unable to start
  AdminServer, exiting abnormally" with "Problem starting AdminServer on address A, port P
  and command URL /commands"; the client port never opens.
* Metrics port taken: exit 1 (UNEXPECTED_ERROR), "Cannot boot MetricsProvider <class>",
  then "Unexpected exception, exiting abnormally".
* A provider class that does not load: exit 2, "Invalid config, exiting abnormally".

Debian ships neither ZooKeeper's PrometheusMetricsProvider nor the Prometheus Java client,
so the reference cannot serve /metrics here (it refuses the class name with exit 2); the
metrics bind failure is compared through java/BindingMetricsProvider.java, a stand-in that
fails in start() as PrometheusMetricsProvider does.
"""
import json
import os
import shutil
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from harness.servers import JAVA_DIR, Server, ServerStartError, free_port
from harness.util import wait_until

PROMETHEUS = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
DEFAULT_PROVIDER = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider"
NULL_PROVIDER = "org.apache.zookeeper.metrics.impl.NullMetricsProvider"
STAND_IN_PROVIDER = "corral.test.BindingMetricsProvider"
STAND_IN_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "java",
                               "BindingMetricsProvider.java")
HTTP_TIMEOUT = 5.0
START_TIMEOUT = 30.0


# --------------------------------------------------------------------------- helpers
def http_get(port, path):
    """(status, body) of one GET on 127.0.0.1:port; raises OSError when nothing listens."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def answers(port, path):
    try:
        return http_get(port, path)[0] == 200
    except OSError:
        return False


def refuses(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def fully_started(srv):
    """Waits until every part of the server has started. ZooKeeper starts the metrics
    provider and the AdminServer before it opens the client port, so its readiness (the
    harness's handshake) is enough; Corral starts its admin plugins after the front end and
    logs "started in" once all are up."""
    if srv.impl == "corral":
        wait_until(lambda: "started in" in log_text(srv), timeout=START_TIMEOUT)
    return srv


def log_text(srv):
    with open(srv.log_path, encoding="utf-8", errors="replace") as f:
        return f.read()


def admin_settings(port, **extra):
    settings = {"admin.enableServer": True, "admin.serverAddress": "127.0.0.1",
                "admin.serverPort": port}
    settings.update(extra)
    return settings


def metrics_settings(port, class_name=PROMETHEUS, **extra):
    settings = {"metricsProvider.className": class_name, "metricsProvider.httpHost": "127.0.0.1",
                "metricsProvider.httpPort": port}
    settings.update(extra)
    return settings


def listening_socket():
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder


@pytest.fixture
def held_port():
    """A port on 127.0.0.1 that another socket is listening on, for the test's length."""
    with listening_socket() as holder:
        yield holder.getsockname()[1]


@pytest.fixture
def other_held_port():
    with listening_socket() as holder:
        yield holder.getsockname()[1]


@pytest.fixture
def failing_start(server_factory):
    """failing_start(settings, prepare=None) -> Server that exited during start-up.
    `prepare(srv)` runs before the start (e.g. to put classes on ZooKeeper's classpath)."""
    servers = []

    def start(settings, prepare=None):
        srv = Server(server_factory.impl, settings, corral_bin=server_factory.corral_bin,
                     name=f"failing{len(servers)}")
        servers.append(srv)
        if prepare is not None:
            prepare(srv)
        try:
            srv.start(timeout=START_TIMEOUT)
        except ServerStartError:
            pass  # exited before it answered a handshake
        # Corral opens the client port before its admin plugins start, so a handshake may
        # slip in before the exit; either way the process must end by itself.
        srv.proc.wait(START_TIMEOUT)
        return srv

    yield start
    for srv in servers:
        srv.cleanup(keep=server_factory.keep)


def compile_stand_in_provider(srv):
    """Compiles the stand-in provider into the server's dir, which heads ZooKeeper's
    classpath (harness/servers.py)."""
    javac = shutil.which("javac")
    assert javac, "javac not found (packaging/install-deps.sh installs openjdk-17-jdk-headless)"
    subprocess.run([javac, "-d", srv.dir, "-cp", os.path.join(JAVA_DIR, "zookeeper.jar"),
                    STAND_IN_SOURCE], check=True, capture_output=True, timeout=120)


# --------------------------------------------------------------------------- AdminServer
def test_admin_server_is_on_by_default(start_server):
    """No admin.enableServer line at all: ZooKeeper's default (true) serves the commands."""
    port = free_port()
    start_server(admin_settings(port, **{"admin.enableServer": None}))
    wait_until(lambda: answers(port, "/commands/ruok"), timeout=START_TIMEOUT)
    status, body = http_get(port, "/commands/ruok")
    assert status == 200
    assert json.loads(body) == {"command": "ruok", "error": None}


@pytest.mark.parametrize("key", ["admin.enableServer", "zookeeper.admin.enableServer"])
def test_enable_server_true_serves_commands(start_server, key):
    port = free_port()
    start_server(admin_settings(port, **{key: True}))
    wait_until(lambda: answers(port, "/commands/ruok"), timeout=START_TIMEOUT)
    status, body = http_get(port, "/commands/srvr")
    assert status == 200
    assert json.loads(body)["command"] == "server_stats"


@pytest.mark.parametrize("key", ["admin.enableServer", "zookeeper.admin.enableServer"])
def test_enable_server_false_serves_nothing(start_server, key):
    port = free_port()
    settings = admin_settings(port)
    del settings["admin.enableServer"]
    settings[key] = False
    srv = fully_started(start_server(settings))
    assert refuses(port)
    assert srv.alive()


def test_admin_port_taken_exits_as_zookeeper(failing_start, held_port):
    srv = failing_start(admin_settings(held_port))
    assert srv.proc.returncode == 4  # ZooKeeper's ERROR_STARTING_ADMIN_SERVER
    log = log_text(srv)
    assert "Unable to start AdminServer, exiting abnormally" in log
    assert (f"Problem starting AdminServer on address 127.0.0.1, port {held_port} and command "
            f"URL /commands") in log


# --------------------------------------------------------------------------- metrics provider
@pytest.mark.corral_only
def test_prometheus_provider_serves_metrics(start_server):
    """Corral only: Debian's ZooKeeper has no PrometheusMetricsProvider (module docstring).
    The className line alone, without Corral's admin= key, brings the endpoint."""
    port = free_port()
    srv = start_server(metrics_settings(port))
    wait_until(lambda: answers(port, "/metrics"), timeout=START_TIMEOUT)
    status, body = http_get(port, "/metrics")
    assert status == 200
    assert "\nznode_count " in "\n" + body.decode()
    assert srv.alive()


@pytest.mark.parametrize("class_name", [DEFAULT_PROVIDER, NULL_PROVIDER])
def test_portless_providers_serve_nothing(start_server, class_name):
    port = free_port()
    srv = fully_started(start_server(metrics_settings(port, class_name)))
    assert refuses(port)
    assert srv.alive()


def test_metrics_port_taken_exits_as_zookeeper(failing_start, held_port, impl):
    if impl == "corral":
        srv = failing_start(metrics_settings(held_port))
    else:
        srv = failing_start(metrics_settings(held_port, STAND_IN_PROVIDER),
                            prepare=compile_stand_in_provider)
    assert srv.proc.returncode == 1  # ZooKeeper's UNEXPECTED_ERROR
    log = log_text(srv)
    class_name = PROMETHEUS if impl == "corral" else STAND_IN_PROVIDER
    assert f"Cannot boot MetricsProvider {class_name}" in log
    if impl == "corral":
        assert f"Cannot start /metrics server: admin.metrics: cannot listen on 127.0.0.1:{held_port}" in log
    else:
        assert "Unexpected exception, exiting abnormally" in log


def test_metrics_provider_fails_before_the_admin_server(failing_start, held_port, other_held_port,
                                                       impl):
    """Both ports taken: ZooKeeper starts the metrics provider first, so it exits with 1."""
    settings = admin_settings(other_held_port)
    if impl == "corral":
        srv = failing_start(dict(settings, **metrics_settings(held_port)))
    else:
        srv = failing_start(dict(settings, **metrics_settings(held_port, STAND_IN_PROVIDER)),
                            prepare=compile_stand_in_provider)
    assert srv.proc.returncode == 1
    assert "Cannot boot MetricsProvider" in log_text(srv)
    assert "Unable to start AdminServer" not in log_text(srv)


def test_unknown_provider_class_is_a_config_error(failing_start, impl):
    srv = failing_start(metrics_settings(free_port(), "com.example.NoSuchProvider"))
    assert srv.proc.returncode == 2
    log = log_text(srv)
    if impl == "corral":
        # The file and line, the key and the value.
        lines = open(srv.config_path).read().splitlines()
        line = lines.index("metricsProvider.className=com.example.NoSuchProvider") + 1
        assert (f"{srv.config_path}:{line}: metricsProvider.className=com.example.NoSuchProvider: "
                f"Corral cannot load Java classes") in log
    else:
        assert "Invalid config, exiting abnormally" in log
        assert "metrics provider class was not found" in log


# --------------------------------------------------------------------------- Corral's admin=
@pytest.mark.corral_only
def test_admin_list_merges_with_the_implied_plugins(start_server):
    """Corral only (admin= is Corral's key): plugins named by ZooKeeper's keys and by admin=
    load once (the loader would stop with exit 16 on a double load)."""
    admin_port, metrics_port = free_port(), free_port()
    srv = start_server(admin_settings(admin_port, admin="4lw,http,metrics",
                                      **metrics_settings(metrics_port)))
    wait_until(lambda: answers(admin_port, "/commands/ruok") and answers(metrics_port, "/metrics"),
               timeout=START_TIMEOUT)
    log = log_text(srv)
    assert log.count("loaded plugin admin.http ") == 1, log
    assert log.count("loaded plugin admin.metrics ") == 1, log


@pytest.mark.corral_only
def test_admin_list_adds_plugins(start_server):
    """Corral only: admin=metrics without a className line serves /metrics (Corral's own way
    to ask for it); admin.enableServer=false (the harness's) still keeps the AdminServer off."""
    metrics_port = free_port()
    srv = fully_started(start_server({"admin": "metrics", "metricsProvider.httpHost": "127.0.0.1",
                                      "metricsProvider.httpPort": metrics_port}))
    assert answers(metrics_port, "/metrics")
    assert "loaded plugin admin.http " not in log_text(srv)


@pytest.mark.corral_only
@pytest.mark.parametrize("settings, text", [
    ({"admin": "http", "admin.enableServer": False},
     "admin=http asks for the AdminServer, but {cfg}:{b}: admin.enableServer=false turns it off"),
    ({"admin": "metrics", "metricsProvider.className": DEFAULT_PROVIDER},
     "admin=metrics asks for the Prometheus endpoint, but {cfg}:{b}: metricsProvider.className="
     + DEFAULT_PROVIDER + " serves none"),
], ids=["http-disabled", "metrics-default-provider"])
def test_admin_list_contradicting_a_zookeeper_key_is_a_config_error(failing_start, settings, text):
    """Corral only: either reading would silently ignore one of the two lines."""
    srv = failing_start(settings)
    assert srv.proc.returncode == 2
    lines = open(srv.config_path).read().splitlines()
    admin_line = lines.index(f"admin={settings['admin']}") + 1
    other = next(k for k in settings if k != "admin")
    other_line = next(i for i, l in enumerate(lines, 1) if l.startswith(other + "="))
    expected = f"{srv.config_path}:{admin_line}: " + text.format(cfg=srv.config_path, b=other_line)
    assert expected in log_text(srv)

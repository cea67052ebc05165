"""corral-server start-up, plugin loading and shut-down (issue: kernel and plugin SDK).

These exercise Corral's own assembly (plugins chosen by config, each load failure with its
own message and exit code, before any port opens), so they run only against Corral.
"""
import os
import re
import signal
import socket
import subprocess

import pytest

from harness.process import ServerProcess, port_open
from harness.servers import SANITIZER

pytestmark = pytest.mark.corral_only

START_TIMEOUT = 20


@pytest.fixture
def corral_bin(request):
    return request.config.getoption("--corral-bin")


@pytest.fixture
def fixture_dir(corral_bin):
    default = os.path.join(os.path.dirname(os.path.dirname(corral_bin)), "tests", "fixtures", "plugins")
    path = os.environ.get("CORRAL_FIXTURE_PLUGIN_DIR", default)
    if not os.path.isdir(path):
        pytest.skip(f"fixture plugins not built at {path}")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(tmp_path, lines, port=None):
    port = port or free_port()
    # The AdminServer is on by default (as in ZooKeeper) on 8080; these servers do not need
    # it. Last, so that the tests' own lines keep their numbers (5, 6, ...).
    text = "\n".join([f"dataDir={tmp_path / 'data'}", f"clientPort={port}",
                      "clientPortAddress=127.0.0.1", "tickTime=2000"] + lines
                     + ["admin.enableServer=false"]) + "\n"
    path = tmp_path / "corral.cfg"
    path.write_text(text)
    return path, port


def run_to_exit(corral_bin, config, timeout=START_TIMEOUT):
    """Runs a server that is expected to stop by itself; returns (exit code, stderr)."""
    proc = subprocess.run([corral_bin, "--config", str(config)], capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stderr


@pytest.fixture
def running(corral_bin):
    started = []

    def start(config, port):
        server = ServerProcess(corral_bin, config, config.parent / "server.log", port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


def test_standalone_starts_logs_plugins_and_stops_on_sigterm(tmp_path, running):
    config, port = write_config(tmp_path, [])
    server = running(config, port)
    server.wait_listening()
    server.wait_log("started in")
    out = server.output()
    for name in ("storage.memlog", "consensus.single", "frontend.jute"):
        line = next((l for l in out.splitlines() if f"loaded plugin {name} " in l), None)
        assert line is not None, out
        # name, version and the file it came from
        assert f"libcorral_{name.replace('.', '_')}.so" in line, line
    assert server.stop(signal.SIGTERM) == 0
    assert "stopped cleanly" in server.output()
    assert not port_open(port)


def test_sigint_stops_cleanly_too(tmp_path, running):
    config, port = write_config(tmp_path, [])
    server = running(config, port)
    server.wait_listening()
    assert server.stop(signal.SIGINT) == 0


def test_shipped_standalone_config_is_valid(corral_bin):
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.run([corral_bin, "--config", os.path.join(repo, "etc", "corral", "standalone.cfg"),
                           "--check"], capture_output=True, text=True, timeout=START_TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert "config and plugin settings are valid" in proc.stderr


@pytest.mark.skipif(SANITIZER != "", reason="sanitizer builds have no jemalloc (their own allocator)")
def test_plugins_allocate_through_jemalloc(tmp_path, running, fixture_dir):
    config, port = write_config(tmp_path, [f"plugin.dir={fixture_dir}", "admin=fixture_ok"])
    server = running(config, port)
    server.wait_log("started in")
    assert "fixture: plugin allocations come from jemalloc" in server.output()
    assert server.stop() == 0


# One broken plugin per load failure: (admin plugin name, exit code, text in the message).
LOAD_FAILURES = [
    ("nosuch", 10, "plugin 'admin.nosuch' not found: no libcorral_admin_nosuch.so in "),
    ("fixture_garbage", 11, "cannot load plugin file "),
    ("fixture_unresolved", 11, "undefined symbol: corral_fixture_function_nobody_defines"),
    ("fixture_no_descriptor", 12, "is not a Corral plugin: it exports no 'corral_plugin' descriptor"),
    # The fixture declares the server's ABI + 998 (see tests/fixtures/plugins).
    ("fixture_abi_mismatch", 13, "was built against Corral SDK ABI {mismatch}, but this corral-server has ABI {abi}"),
    ("fixture_bad_descriptor", 14, "has a malformed descriptor: it needs a name, validate() and create()"),
    ("fixture_wrong_kind", 15, "is a storage plugin, not a admin plugin"),
    ("fixture_misnamed", 15, "declares the name 'admin.somebody_else'"),
    ("fixture_ok,fixture_ok", 16, "plugin 'admin.fixture_ok' is listed more than once"),
    ("fixture_factory_fails", 18, "plugin 'admin.fixture_factory_fails' ("),
    ("fixture_start_fails", 19, "admin.fixture_start_fails failed to start: IoError: fixture cannot start"),
]


@pytest.mark.parametrize("plugin,code,text", LOAD_FAILURES, ids=[f[0] for f in LOAD_FAILURES])
def test_each_load_failure_has_its_own_message_and_exit_code(tmp_path, corral_bin, fixture_dir, plugin, code, text):
    config, port = write_config(tmp_path, [f"plugin.dir={fixture_dir}", f"admin={plugin}"])
    exit_code, stderr = run_to_exit(corral_bin, config)
    assert exit_code == code, stderr
    if "{abi}" in text:
        version = subprocess.run([corral_bin, "--version"], capture_output=True, text=True, check=True).stdout
        abi = int(re.search(r"SDK ABI (\d+)", version).group(1))
        text = text.format(abi=abi, mismatch=abi + 998)
    assert text in stderr, stderr
    # Every failure names the config line that asked for the plugin, except start failures.
    if code < 17:
        assert f"{config}:6" in stderr, stderr
    assert not port_open(port)


def test_factory_failure_carries_the_plugin_reason(tmp_path, corral_bin, fixture_dir):
    config, _ = write_config(tmp_path, [f"plugin.dir={fixture_dir}", "admin=fixture_factory_fails"])
    exit_code, stderr = run_to_exit(corral_bin, config)
    assert exit_code == 18
    assert "could not be created: IoError: fixture refuses to be created" in stderr


def test_start_failure_stops_what_already_started(tmp_path, corral_bin, fixture_dir):
    config, port = write_config(tmp_path, [f"plugin.dir={fixture_dir}", "admin=fixture_start_fails"])
    exit_code, stderr = run_to_exit(corral_bin, config)
    assert exit_code == 19
    # the front end had opened its port (admin starts last) and must have closed it again
    assert not port_open(port)


def test_plugin_rejects_its_settings(tmp_path, corral_bin, fixture_dir):
    config, _ = write_config(tmp_path, [f"plugin.dir={fixture_dir}", "admin=fixture_invalid_config",
                                        "fixture.answer=41"])
    exit_code, stderr = run_to_exit(corral_bin, config)
    assert exit_code == 17, stderr
    assert (f"plugin 'admin.fixture_invalid_config' rejected its settings: {config}:7: "
            "fixture.answer=41 must be 42") in stderr


def test_plugin_owned_key_is_accepted_once_its_plugin_is_loaded(tmp_path, corral_bin, fixture_dir):
    config, _ = write_config(tmp_path, [f"plugin.dir={fixture_dir}", "admin=fixture_invalid_config",
                                        "fixture.answer=42"])
    proc = subprocess.run([corral_bin, "--config", str(config), "--check"], capture_output=True,
                          text=True, timeout=START_TIMEOUT)
    assert proc.returncode == 0, proc.stderr


def test_plugin_key_without_its_plugin_is_unknown(tmp_path, corral_bin):
    config, _ = write_config(tmp_path, ["fixture.answer=42"])
    exit_code, stderr = run_to_exit(corral_bin, config)
    assert exit_code == 2
    assert f"{config}:5: unknown key 'fixture.answer'" in stderr


# (lines after the 4 standard ones, the line the error names, text in the message)
BAD_CONFIGS = [
    (["clientPortt=2181"], 5, "unknown key 'clientPortt'"),
    (["tickTime=abc"], 5, "tickTime"),
    (["maxClientCnxns=-5"], 5, "maxClientCnxns"),
    (["minSessionTimeout=9000", "maxSessionTimeout=4000"], 6,
     "minSessionTimeout (9000) must not be larger than maxSessionTimeout (4000)"),
    (["storage=mem-log"], 5, "storage"),
]


@pytest.mark.parametrize("lines,line,text", BAD_CONFIGS, ids=[b[0][0] for b in BAD_CONFIGS])
def test_bad_config_line_stops_the_start_with_file_and_line(tmp_path, corral_bin, lines, line, text):
    config, port = write_config(tmp_path, lines)
    exit_code, stderr = run_to_exit(corral_bin, config)
    assert exit_code == 2, stderr
    assert f"{config}:{line}: " in stderr, stderr
    assert text in stderr, stderr
    assert not port_open(port)


def test_missing_config_file(tmp_path, corral_bin):
    exit_code, stderr = run_to_exit(corral_bin, tmp_path / "nope.cfg")
    assert exit_code == 2
    assert "nope.cfg" in stderr


def test_missing_data_dir(tmp_path, corral_bin):
    path = tmp_path / "c.cfg"
    path.write_text(f"clientPort={free_port()}\n")
    exit_code, stderr = run_to_exit(corral_bin, path)
    assert exit_code == 2
    assert "dataDir" in stderr


def test_unimplemented_zookeeper_key_is_reported_once(tmp_path, running):
    config, port = write_config(tmp_path, ["tcpKeepAlive=true"])
    server = running(config, port)
    server.wait_log("started in")
    out = server.output()
    assert out.count("'tcpKeepAlive' is accepted but not implemented yet") == 1, out
    assert server.stop() == 0


def test_port_in_use_fails_start_with_the_address(tmp_path, corral_bin):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        config, _ = write_config(tmp_path, [], port=port)
        exit_code, stderr = run_to_exit(corral_bin, config)
    assert exit_code == 19, stderr
    assert f"127.0.0.1:{port}" in stderr, stderr


def test_usage_errors(corral_bin):
    proc = subprocess.run([corral_bin, "--bogus"], capture_output=True, text=True, timeout=10)
    assert proc.returncode == 64
    assert "unknown argument '--bogus'" in proc.stderr
    proc = subprocess.run([corral_bin, "--version"], capture_output=True, text=True, timeout=10)
    assert proc.returncode == 0 and "corral-server" in proc.stdout


def test_list_plugins_shows_each_plugin_and_refuses_broken_ones(corral_bin, fixture_dir):
    proc = subprocess.run([corral_bin, "--list-plugins", "--plugin-dir", fixture_dir],
                          capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0
    assert "storage.memlog" in proc.stdout
    assert "admin.fixture_ok 1.0.0" in proc.stdout
    assert "libcorral_admin_fixture_abi_mismatch.so  ERROR" in proc.stdout


def test_admin_4lw_names_the_built_in_words(tmp_path, running):
    """admin=4lw (as DESIGN.md's example config writes it) loads nothing: the words are the
    kernel's commands, served on the client port."""
    config, port = write_config(tmp_path, ["admin=4lw", "4lw.commands.whitelist=ruok"])
    server = running(config, port)
    server.wait_listening()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"ruok")
        assert s.recv(16) == b"imok"
    assert server.stop() == 0

"""frontend.thrift through its generated stubs and its documented examples, on servers set to
each protocol. C++ (libthrift 0.17): the fixture client tests/fixtures/thrift_cpp_client checks
every call, the errors a client can provoke, multi, auth, watch order, re-attach and expiry,
and the SDK's worked example (sdk/thrift/examples) runs. Python: sdk/thrift/README.md's
examples run as written.

Corral only: the Thrift port has no ZooKeeper counterpart (the same scenarios through the
ZooKeeper protocol run on both servers in test_thrift_ops.py and test_thrift_sessions_watches.py).
"""
import os
import subprocess

import pytest

from harness.thrift_client import GEN_PY, needs_thrift, start_server_for, thrift_port

pytestmark = [pytest.mark.corral_only, pytest.mark.frontend_only, needs_thrift]

# TTL nodes for the crud check; tickTime 250 lets the expiry check ask for a 1000 ms session.
SETTINGS = {"zookeeper.extendedTypesEnabled": True, "tickTime": 250}


def built_binary(pytestconfig, name):
    path = os.path.join(os.path.dirname(pytestconfig.getoption("--corral-bin")), name)
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} is not built")
    return path


@pytest.fixture(scope="module", params=["binary", "compact"])
def srv(request, server_factory):
    protocol = request.param
    s = start_server_for(server_factory, SETTINGS, name=f"thrift-cpp-{protocol}",
                         thrift={"thrift.protocol": protocol})
    yield s
    server_factory.stop(s)


def run(args, timeout=60):
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout + done.stderr


def test_generated_cpp_client_end_to_end(pytestconfig, srv):
    protocol = srv.settings["thrift.protocol"]
    client = built_binary(pytestconfig, "thrift_cpp_client")
    code, out = run([client, "127.0.0.1", str(thrift_port(srv)), protocol, f"/cpp-{protocol}"])
    print(out)
    checks = [line for line in out.splitlines() if line.startswith(("ok ", "FAIL "))]
    assert [line.split()[1].rstrip(":") for line in checks] == [
        "crud", "errors", "multi", "auth", "watch_order", "reattach", "expiry"], out
    assert code == 0 and all(line.startswith("ok ") for line in checks), out


def test_readme_cpp_example_runs(pytestconfig, srv):
    protocol = srv.settings["thrift.protocol"]
    example = built_binary(pytestconfig, "corral-thrift-example")
    code, out = run([example, "127.0.0.1", str(thrift_port(srv)), protocol])
    assert code == 0, out
    # What the README says it prints: the event inside a reply, the typed error, the ephemeral
    # gone with its session.
    assert "NONODE" in out or "NoNode" in out, out
    assert "is gone" in out, out


README = os.path.join(os.path.dirname(__file__), "..", "..", "sdk", "thrift", "README.md")


def readme_python_blocks():
    with open(README) as f:
        text = f.read()
    blocks, inside, current = [], False, []
    for line in text.splitlines():
        if line.strip() == "```python":
            inside, current = True, []
        elif inside and line.strip() == "```":
            inside = False
            blocks.append("\n".join(current))
        elif inside:
            current.append(line)
    return blocks


@pytest.mark.parametrize("index", [0, 1])
def test_readme_python_examples_run(srv, index):
    """The README's Python examples, as written (port 9090 replaced by the test server's),
    under Debian's /usr/bin/python3 with python3-thrift, from the repository root."""
    if srv.settings["thrift.protocol"] != "binary":
        pytest.skip("the README's examples speak the binary protocol")
    blocks = readme_python_blocks()
    assert len(blocks) == 2, "the README has two Python examples"
    code = blocks[index].replace("9090", str(thrift_port(srv)))
    code = code.replace('"build/sdk/thrift/gen-py"', repr(GEN_PY))
    rc, out = run(["/usr/bin/python3", "-c", code])
    assert rc == 0, out

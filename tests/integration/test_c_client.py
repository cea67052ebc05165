"""Interoperability with the Apache C client (libzookeeper-mt's cli_mt in batch mode).

Each `cli_mt HOST cmd:<command>` run opens a session, runs one command and closes it.
(Its `exists`/`whoami` batch commands never exit, so they are not used.)"""
import os
import re
import subprocess

import pytest

from harness import raw

CLI_MT = "/usr/lib/zookeeper/bin/cli_mt"

pytestmark = pytest.mark.skipif(not os.access(CLI_MT, os.X_OK), reason="cli_mt not installed")


def cli(srv, command):
    p = subprocess.run([CLI_MT, srv.hosts, "cmd:" + command], capture_output=True, text=True,
                       timeout=20)
    assert p.returncode == 0, p.stderr
    assert "Got a new session id: 0x" in p.stderr, p.stderr
    return p.stderr


def test_c_client_create_get_set_delete(server, node):
    out = cli(server, f"create {node}")
    assert f"[{node}]: rc = 0" in out and f"name = {node}" in out
    out = cli(server, f"set {node} hello")
    assert f"{node}: rc = 0" in out and "version=1" in out
    out = cli(server, f"get {node}")
    assert "rc = 0" in out and "value_len = 5" in out and "\nhello\n" in out
    out = cli(server, f"ls2 {node}")
    assert f"{node}: rc = 0" in out
    out = cli(server, f"sync {node}")
    assert f"[{node}]: rc = 0" in out
    out = cli(server, f"delete {node}")
    assert f"{node}: rc = 0" in out
    out = cli(server, f"get {node}")
    assert "rc = -101" in out


def test_c_client_modes_and_errors(server, node, rc):
    assert rc.create(node)[0] == 0
    out = cli(server, f"create +s {node}/s-")
    assert re.search(rf"name = {re.escape(node)}/s-0000000000\n", out), out
    out = cli(server, f"create +e {node}/eph")
    assert f"[{node}/eph]: rc = 0" in out
    # the ephemeral went away with the cli's session
    assert rc.exists(f"{node}/eph")[0] == raw.Err.NONODE
    out = cli(server, f"create {node}/missing/child")
    assert "rc = -101" in out
    out = cli(server, f"ls {node}")
    assert f"{node}: rc = 0" in out and "\ts-0000000000\n" in out

"""Four-letter words on the client port (client-protocol.md §14, admin-and-ops.md §1-§2).

Version strings are not asserted (only their presence/shape)."""
import re

import pytest

from harness import raw
from harness.raw import AddWatchMode

WHITELIST = "zookeeper.4lw.commands.whitelist"


@pytest.fixture(scope="module")
def all_words(server_factory):
    with server_factory.running({WHITELIST: "*"}, name="4lw-all") as srv:
        yield srv


SRVR_LINES = [
    r"Zookeeper version: \S.*",
    r"Latency min/avg/max: \d+/\d+(\.\d+)?(E-?\d+)?/\d+",
    r"Received: \d+",
    r"Sent: \d+",
    r"Connections: \d+",
    r"Outstanding: \d+",
    r"Zxid: 0x[0-9a-f]+",
    r"Mode: standalone",
    r"Node count: \d+",
]


def _match_lines(lines, patterns):
    assert len(lines) == len(patterns), lines
    for line, pat in zip(lines, patterns):
        assert re.fullmatch(pat, line), (line, pat)


def test_ruok(all_words):
    assert all_words.four_letter("ruok") == "imok"


def test_ruok_trailing_bytes_ignored(all_words):
    assert all_words.four_letter("ruok", b"extra") == "imok"


@pytest.mark.parametrize("word", ["RUOK", "xxxx", "Srvr"])
def test_unknown_or_wrong_case_word_closes_silently(all_words, word):
    assert all_words.four_letter(word) == ""


def test_srvr_shape(all_words):
    out = all_words.four_letter("srvr")
    assert out.endswith("\n")
    _match_lines(out[:-1].split("\n"), SRVR_LINES)


def test_srvr_on_fresh_server_counts(start_server):
    srv = start_server()
    out = srv.four_letter("srvr")
    assert "Node count: 5\n" in out  # "/" is held twice ("" and "/") + /zookeeper/{,quota,config}
    c = raw.connect(srv.port)
    try:
        rep = c.call(raw.Op.GET_ALL_CHILDREN_NUMBER, raw.path_body("/"))
        assert rep.err == 0 and rep.r.int() == 3
        assert c.create("/one")[0] == 0
        rep = c.call(raw.Op.GET_ALL_CHILDREN_NUMBER, raw.path_body("/"))
        assert rep.r.int() == 4
    finally:
        c.close()
    assert "Node count: 6\n" in srv.four_letter("srvr")


def test_srvr_zxid_and_connections_track_state(all_words):
    c = raw.connect(all_words.port)
    try:
        rep = c.call(raw.Op.CREATE, raw.create_body("/srvr-zxid"))
        out = all_words.four_letter("srvr")
        m = re.search(r"^Zxid: 0x([0-9a-f]+)$", out, re.M)
        assert int(m.group(1), 16) == rep.zxid
        conns = int(re.search(r"^Connections: (\d+)$", out, re.M).group(1))
        assert conns >= 2  # the session above plus the 4lw connection itself
    finally:
        c.close()


def test_stat_shape(all_words):
    c = raw.connect(all_words.port)
    try:
        out = all_words.four_letter("stat")
    finally:
        c.close()
    lines = out.split("\n")
    assert re.fullmatch(SRVR_LINES[0], lines[0])
    assert lines[1] == "Clients:"
    i = 2
    clients = []
    while lines[i] != "":
        clients.append(lines[i])
        i += 1
    assert len(clients) >= 2
    for cl in clients:
        assert re.fullmatch(r" /127\.0\.0\.1:\d+\[\d+\]\(queued=\d+,recved=\d+,sent=\d+\)", cl), cl
    assert lines[-1] == ""
    _match_lines(lines[i + 1:-1], SRVR_LINES[1:])


def test_cons_counts_the_handshake_both_ways(all_words):
    c = all_words.session()
    try:
        assert c.exists("/")[0] == 0
        port = c.sock.getsockname()[1]
        line = [l for l in all_words.four_letter("cons").split("\n") if f":{port}[" in l]
        assert len(line) == 1, line
        # ConnectRequest + exists received, ConnectResponse + reply sent.
        assert "recved=2,sent=2," in line[0], line[0]
    finally:
        c.close()


def test_isro(all_words):
    assert all_words.four_letter("isro") == "rw"


def test_conf_shape(all_words):
    out = all_words.four_letter("conf")
    assert out.endswith("\n")
    conf = dict(line.split("=", 1) for line in out[:-1].split("\n"))
    for key in ("clientPort", "secureClientPort", "dataDir", "dataDirSize", "dataLogDir",
                "dataLogSize", "tickTime", "maxClientCnxns", "minSessionTimeout",
                "maxSessionTimeout", "clientPortListenBacklog", "serverId"):
        assert key in conf, key
    assert conf["clientPort"] == str(all_words.port)
    assert conf["tickTime"] == "2000"
    assert conf["minSessionTimeout"] == "4000"
    assert conf["maxSessionTimeout"] == "40000"
    assert conf["maxClientCnxns"] == "60"
    assert conf["serverId"] == "0"
    assert conf["secureClientPort"] == "-1"
    assert conf["dataDir"].endswith("/version-2")
    assert conf["dataDir"].startswith(all_words.data_dir)


def test_envi_shape(all_words):
    out = all_words.four_letter("envi")
    lines = out.split("\n")
    assert lines[0] == "Environment:"
    assert lines[-1] == ""
    env = dict(line.split("=", 1) for line in lines[1:-1])
    for key in ("zookeeper.version", "host.name", "java.version", "java.vendor", "java.home",
                "java.class.path", "java.library.path", "java.io.tmpdir", "java.compiler",
                "os.name", "os.arch", "os.version", "user.name", "user.home", "user.dir",
                "os.memory.free", "os.memory.max", "os.memory.total"):
        assert key in env, key
    for key in ("os.memory.free", "os.memory.max", "os.memory.total"):
        assert re.fullmatch(r"\d+MB", env[key]), env[key]
    assert env["os.name"] == "Linux"


GAUGES = ["avg_latency", "max_latency", "min_latency", "packets_received", "packets_sent",
          "num_alive_connections", "outstanding_requests", "uptime", "znode_count",
          "watch_count", "ephemerals_count", "approximate_data_size", "global_sessions",
          "local_sessions", "open_file_descriptor_count", "max_file_descriptor_count",
          "connection_drop_probability", "last_client_response_size",
          "max_client_response_size", "min_client_response_size"]


def test_mntr_shape(all_words):
    out = all_words.four_letter("mntr")
    assert out.endswith("\n")
    lines = out[:-1].split("\n")
    pairs = [line.split("\t") for line in lines]
    assert all(len(p) == 2 for p in pairs), [p for p in pairs if len(p) != 2][:5]
    keys = [k for k, _ in pairs]
    assert all(k.startswith("zk_") for k in keys)
    assert keys[0] == "zk_version"
    assert pairs[1] == ["zk_server_state", "standalone"]
    values = dict(pairs)
    for g in GAUGES:
        assert f"zk_{g}" in values, g
    for g in ("znode_count", "num_alive_connections", "ephemerals_count", "global_sessions",
              "packets_received"):
        assert re.fullmatch(r"-?\d+", values[f"zk_{g}"]), (g, values[f"zk_{g}"])
    assert re.fullmatch(r"\d+\.\d+(E-?\d+)?", values["zk_avg_latency"])


def test_mntr_counts_follow_state(all_words):
    c = raw.connect(all_words.port)
    try:
        before = dict(l.split("\t") for l in all_words.four_letter("mntr").strip().split("\n"))
        assert c.create("/mntr-eph", flags=raw.CreateFlags.EPHEMERAL)[0] == 0
        after = dict(l.split("\t") for l in all_words.four_letter("mntr").strip().split("\n"))
        assert int(after["zk_znode_count"]) == int(before["zk_znode_count"]) + 1
        assert int(after["zk_ephemerals_count"]) == int(before["zk_ephemerals_count"]) + 1
    finally:
        c.close()


def test_wchs_counts_only_data_watch_table(all_words):
    c = raw.connect(all_words.port)
    try:
        assert c.create("/wc")[0] == 0
        assert c.create("/wc2")[0] == 0
        assert c.get_children("/wc", watch=True)[0] == 0
        assert c.get_data("/wc2", watch=True)[0] == 0
        assert c.add_watch("/wc2", AddWatchMode.PERSISTENT) == 0
        assert c.exists("/wcnone", watch=True)[0] == raw.Err.NONODE
        out = all_words.four_letter("wchs")
        assert out == "1 connections watching 2 paths\nTotal watches:2\n"
    finally:
        c.close()


@pytest.mark.parametrize("word,expected", [
    ("crst", "Connection stats reset.\n"),
    ("srst", "Server stats reset.\n"),
])
def test_reset_words(all_words, word, expected):
    assert all_words.four_letter(word) == expected


def test_dirs_shape(all_words):
    assert re.fullmatch(r"datadir_size: \d+\nlogdir_size: \d+\n", all_words.four_letter("dirs"))


def test_gtmk_shape(all_words):
    assert re.fullmatch(r"\d+", all_words.four_letter("gtmk"))


def test_telnet_close_whitelisted_is_silent(all_words):
    assert all_words.four_letter(b"\xff\xf4\xff\xfd") == ""


# ---------------------------------------------------------------- default whitelist

@pytest.mark.parametrize("word", ["ruok", "stat", "conf", "envi", "mntr", "isro", "cons", "wchs",
                                  "dump", "dirs"])
def test_default_whitelist_refuses(server, word):
    assert server.four_letter(word) == f"{word} is not executed because it is not in the whitelist.\n"


def test_default_whitelist_allows_srvr(server):
    out = server.four_letter("srvr")
    _match_lines(out[:-1].split("\n"), SRVR_LINES)


def test_telnet_close_not_whitelisted(server):
    assert server.four_letter(b"\xff\xf4\xff\xfd") == \
        "telnet close is not executed because it is not in the whitelist.\n"


def test_explicit_whitelist(start_server):
    srv = start_server({WHITELIST: "ruok, mntr"})
    assert srv.four_letter("ruok") == "imok"
    assert srv.four_letter("mntr").startswith("zk_version\t")
    assert srv.four_letter("srvr").startswith("Zookeeper version: ")  # always enabled
    assert srv.four_letter("stat") == "stat is not executed because it is not in the whitelist.\n"

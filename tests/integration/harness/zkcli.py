"""Driving Apache ZooKeeper's Java command-line client (zkCli.sh) from tests.

Without JLine on the classpath (the Debian package has none), `zkCli.sh -server HOST` reads
commands from stdin, one a line, runs each synchronously and prints no prompt. To split the
combined output into one chunk per command, `run()` sends `printwatches` (a local command
that only prints "printwatches is on") after every command and cuts the output there.

Watch notifications are printed by the client's event thread, so they can land between any
two lines of the main thread's output. `run()` takes them out of the chunks and returns them
separately, in the order printed, as (state, type, path) tuples.

stdout and stderr share one pipe, so error messages (which the CLI prints on stderr) stay in
order with the rest.

One JVM start costs about a second: batch many commands per `run()`.
"""
import os
import re
import subprocess

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"

MARK_CMD = "printwatches"
MARK_LINE = "printwatches is on"

_EVENT_RE = re.compile(r"^WatchedEvent state:(\S+) type:(\S+) path:(.*)$")
_NOISE = ("SLF4J:",)

# JVM flags that make the short-lived client start faster.
CLIENT_JVMFLAGS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData -Xshare:auto"


def available():
    return os.access(ZKCLI, os.X_OK)


def _env():
    env = dict(os.environ)
    env["CLIENT_JVMFLAGS"] = CLIENT_JVMFLAGS
    return env


class CliResult:
    def __init__(self, commands, text, returncode):
        self.commands = list(commands)
        self.text = text
        self.returncode = returncode
        self.events = []      # (state, type, path) in printed order, incl. the connect event
        self.preamble = []    # lines before the first command
        self.chunks = []      # one list of lines per command
        self._parse()

    def _parse(self):
        lines = self.text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        kept = []
        i = 0
        while i < len(lines):
            line = lines[i]
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            # the event thread prints "\nWATCHER::" and "\n<event>" (each one println)
            if line == "" and nxt is not None and (nxt == "WATCHER::" or _EVENT_RE.match(nxt)):
                i += 1
                continue
            if line == "WATCHER::":
                i += 1
                continue
            m = _EVENT_RE.match(line)
            if m:
                self.events.append((m.group(1), m.group(2), m.group(3)))
                i += 1
                continue
            if line.startswith(_NOISE):
                i += 1
                continue
            kept.append(line)
            i += 1
        # The first MARK_LINE ends the preamble; every later one ends a command's output.
        parts = [[]]
        for line in kept:
            if line == MARK_LINE:
                parts.append([])
            else:
                parts[-1].append(line)
        self.preamble = parts[0]
        self.chunks = parts[1:1 + len(self.commands)]
        self.trailer = [ln for p in parts[1 + len(self.commands):] for ln in p]

    def __getitem__(self, i):
        """Output lines of command i."""
        return self.chunks[i]

    def out(self, i):
        """Output of command i as one string (lines joined with newlines)."""
        return "\n".join(self.chunks[i])

    def node_events(self):
        """The watch notifications other than connection-state changes: [(type, path)]."""
        return [(t, p) for (s, t, p) in self.events if t != "None"]

    def __repr__(self):
        return f"<CliResult rc={self.returncode} commands={self.commands!r}>\n{self.text}"


def run(hosts, commands, timeout=60):
    """Run `commands` (list of command lines) in one zkCli session against `hosts`."""
    script = MARK_CMD + "\n" + "".join(f"{c}\n{MARK_CMD}\n" for c in commands) + "quit\n"
    p = subprocess.run([ZKCLI, "-server", hosts], input=script, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout, env=_env(),
                       cwd="/tmp")
    res = CliResult(commands, p.stdout, p.returncode)
    if len(res.chunks) != len(commands):
        raise AssertionError(f"zkCli output has {len(res.chunks)} of {len(commands)} command "
                             f"chunks (did it die?)\n{p.stdout}")
    return res


def run_one(hosts, *args, timeout=60):
    """`zkCli.sh -server HOSTS cmd args...` (the one-command mode): (returncode, output)."""
    p = subprocess.run([ZKCLI, "-server", hosts, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout, env=_env(),
                       stdin=subprocess.DEVNULL, cwd="/tmp")
    lines = [ln for ln in p.stdout.split("\n") if not ln.startswith(_NOISE)]
    return p.returncode, "\n".join(lines)


_STAT_KEYS = ("cZxid", "ctime", "mZxid", "mtime", "pZxid", "cversion", "dataVersion",
              "aclVersion", "ephemeralOwner", "dataLength", "numChildren")


def parse_stat(lines):
    """Parse the `key = value` Stat block the CLI prints; returns (stat dict, other lines).

    zxids, ephemeralOwner are hex ints; versions, lengths and counts are ints; the times
    stay strings."""
    stat = {}
    other = []
    for line in lines:
        m = re.match(r"^(\w+) = (.*)$", line)
        if m and m.group(1) in _STAT_KEYS:
            k, v = m.group(1), m.group(2)
            if k in ("ctime", "mtime"):
                stat[k] = v
            elif v.startswith("0x"):
                stat[k] = int(v, 16)
            else:
                stat[k] = int(v)
        else:
            other.append(line)
    return stat, other


def parse_acl(lines):
    """getAcl output ("'scheme,'id" / ": perms" pairs) -> [(scheme, id, perms)]."""
    out = []
    it = iter(lines)
    for line in it:
        m = re.match(r"^'([^,]*),'(.*)$", line)
        if not m:
            continue
        perms = next(it)
        assert perms.startswith(": "), perms
        out.append((m.group(1), m.group(2), perms[2:]))
    return out

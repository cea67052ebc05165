"""A disk that loses power: corral-crashfs (tests/crashfs) mounted over a state directory.

`CrashFs.mount()` mounts the durable state; a server then runs with its data dir inside
`mountpoint`. `power_cut()` (after the server was killed) unmounts it: corral-crashfs keeps only
what was fsynced (file data) and what fsynced directories name, exactly what a restart after a
power cut finds. `mount()` again for the next round.

Needs root and /dev/fuse (`available()` says why not). The daemon is ended by PID.
"""
import json
import os
import shutil
import signal
import subprocess
import time

from harness.util import wait_until


def crashfs_binary():
    """corral-crashfs next to corral-server ($CORRAL_CRASHFS overrides)."""
    if os.environ.get("CORRAL_CRASHFS"):
        return os.environ["CORRAL_CRASHFS"]
    corral_bin = os.environ.get("CORRAL_BIN", "")
    return os.path.join(os.path.dirname(corral_bin), "corral-crashfs") if corral_bin else ""


def available():
    """None when a CrashFs can be mounted here, else the reason why not."""
    if os.geteuid() != 0:
        return "corral-crashfs mounts need root"
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse"
    if not os.access(crashfs_binary() or "/nonexistent", os.X_OK):
        return f"no corral-crashfs binary at {crashfs_binary()!r} (build tests/crashfs)"
    return None


class CrashFsError(RuntimeError):
    pass


class CrashFs:
    """One disk. `options` are corral-crashfs flags (--metadata=journal, --ignore-fsync=GLOB,
    --ignore-dir-fsync[=GLOB])."""

    def __init__(self, root, name="disk", options=()):
        self.name = name
        self.options = list(options)
        self.state = os.path.join(root, f"{name}.state")
        self.mountpoint = os.path.join(root, f"{name}.mnt")
        self.log_path = os.path.join(root, f"{name}.crashfs.log")
        os.makedirs(self.state, exist_ok=True)
        os.makedirs(self.mountpoint, exist_ok=True)
        self.proc = None
        self.power_cuts = []  # corral-crashfs's sync counts at each power cut

    def path(self, *parts):
        return os.path.join(self.mountpoint, *parts)

    def mount(self, timeout=20.0):
        assert self.proc is None, "already mounted"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [crashfs_binary(), *self.options, self.state, self.mountpoint],
                stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                start_new_session=True)
        wait_until(lambda: os.path.ismount(self.mountpoint) or self.proc.poll() is not None,
                   timeout, message=f"crashfs {self.name} not mounted within {timeout}s")
        if self.proc.poll() is not None:
            self.proc = None
            raise CrashFsError(f"corral-crashfs exited at mount; see {self.log_path}")
        return self

    def power_cut(self, timeout=60.0):
        """Unmounts (nothing may still use the mount): the state keeps only what was durable.
        Returns the daemon's sync counts."""
        assert self.proc is not None, "not mounted"
        deadline = time.monotonic() + timeout
        while True:
            done = subprocess.run(["umount", self.mountpoint], capture_output=True, text=True)
            if done.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise CrashFsError(f"cannot unmount {self.mountpoint}: {done.stderr.strip()}")
            time.sleep(0.1)  # a killed process may still be releasing its files
        out, _ = self.proc.communicate(timeout=timeout)
        code, self.proc = self.proc.returncode, None
        if code != 0:
            raise CrashFsError(f"corral-crashfs exited with {code} at the power cut; "
                               f"see {self.log_path}")
        counts = json.loads(out.decode().strip().splitlines()[-1])
        self.power_cuts.append(counts)
        return counts

    def cleanup(self):
        """Unmounts (lazily) and ends the daemon by PID, whatever state it is in."""
        if self.proc is not None:
            if os.path.ismount(self.mountpoint):
                subprocess.run(["umount", "-l", self.mountpoint], capture_output=True)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            self.proc = None

    def remove(self):
        self.cleanup()
        shutil.rmtree(self.state, ignore_errors=True)
        shutil.rmtree(self.mountpoint, ignore_errors=True)

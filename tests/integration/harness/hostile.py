"""Hostile clients for limit tests: a sender that never reads, and the server's RSS."""
import errno
import select
import threading


def rss_bytes(pid):
    """The resident set size of process `pid` (from /proc)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


class NeverReadingSender:
    """Sends `chunk` over and over on `sock` from a thread, never reading, until the server
    closes the connection (closed_by_server is set, error names the errno) or stop()."""

    def __init__(self, sock, chunk):
        self.sock = sock
        self.chunk = chunk
        self.sent = 0
        self.error = None
        self.closed_by_server = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        self.sock.setblocking(False)
        view = memoryview(self.chunk)
        offset = 0
        while not self._stop.is_set():
            try:
                n = self.sock.send(view[offset:])
            except BlockingIOError:
                select.select([], [self.sock], [], 0.05)
                continue
            except OSError as e:  # reset or broken pipe: the server closed the connection
                self.error = errno.errorcode.get(e.errno, str(e))
                self.closed_by_server.set()
                return
            self.sent += n
            offset = (offset + n) % len(self.chunk)

    def stop(self):
        self._stop.set()
        self._thread.join(10)

#!/usr/bin/python3
"""Seeds for admin_http_fuzzer: the bytes curl sends to an AdminServer. Apache ZooKeeper 3.8
(Jetty AdminServer) and corral-server (admin.http) each serve behind a recording TCP proxy;
curl runs a set of requests through it (GET, HEAD, POST with a body, chunked upload, HTTP/1.0,
several URLs on one kept-alive connection, query strings, percent-escapes, /ready, /live);
each connection's client-to-server bytes become one seed, prefixed with the fuzzer's
read-size byte (7: 128-byte reads; 0: 1-byte reads for a few).

  /usr/bin/python3 tests/fuzz/seeds/http_seeds.py OUT [--corral-bin PATH]

Seeds land in OUT/admin_http, named by content hash (the same request to both servers is
one seed)."""
import argparse
import hashlib
import os
import socket
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from harness.servers import Server, free_port  # noqa: E402


class RecordingProxy:
    """Forwards 127.0.0.1:port to 127.0.0.1:target; keeps what each client sent."""

    def __init__(self, target):
        self.target = target
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.sent = []  # one bytearray per connection
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            record = bytearray()
            with self.lock:
                self.sent.append(record)
            threading.Thread(target=self._pump, args=(client, upstream, record), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, None), daemon=True).start()

    @staticmethod
    def _pump(src, dst, record):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if record is not None:
                    record.extend(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (dst,):
                try:
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

    def close(self):
        self.listener.close()


def curl_runs(base):
    c = ["curl", "-s", "-o", "/dev/null", "--max-time", "10"]
    return [
        c + [f"{base}/commands"],
        c + [f"{base}/commands/"],
        c + [f"{base}/commands/stat"],
        c + [f"{base}/commands/srvr", f"{base}/commands/conf", f"{base}/commands/mntr"],
        c + ["-I", f"{base}/commands/ruok"],
        c + ["-X", "POST", "-d", "x=1&y=2", f"{base}/commands/stat"],
        c + ["-X", "PUT", "--data-binary", "\x01\x02body\xff", f"{base}/commands/envi"],
        c + ["-H", "Transfer-Encoding: chunked", "--data-binary", "chunked body", f"{base}/commands/dirs"],
        c + ["--http1.0", f"{base}/commands/dirs"],
        c + [f"{base}/commands/set_trace_mask?traceMask=42"],
        c + [f"{base}/commands/get_trace_mask?"],
        c + [f"{base}/commands/watches_by_path?a=%2Fx%20y&b=+plus+&c&=v&d=%zz"],
        c + [f"{base}/commands/connection_stat_reset"],
        c + [f"{base}/commands/unknown%41command"],
        c + [f"{base}/commands/purge?count=3"],
        c + [f"{base}/ready", f"{base}/live"],
        c + [f"{base}/nope/../commands/srvr"],
        c + ["-H", "X-Forwarded-For: 10.0.0.1", "-H", "Accept: application/json", "-A", "fuzz/1.0",
             "-H", "Cookie: a=b; c=d", f"{base}/commands/isro"],
        c + ["-X", "OPTIONS", f"{base}/commands/stat"],
        c + ["-X", "DELETE", f"{base}/commands/stat"],
        c + ["-H", "Expect: 100-continue", "-d", "a" * 2000, f"{base}/commands/hash"],
        c + ["--path-as-is", f"{base}/commands//stat/"],
    ]


def run(impl, corral_bin, out):
    port = free_port()
    settings = {"admin.enableServer": "true", "admin.serverPort": port, "admin.serverAddress": "127.0.0.1"}
    srv = Server(impl, settings, corral_bin=corral_bin, name=f"http-{impl}")
    proxy = None
    try:
        srv.start()
        proxy = RecordingProxy(port)
        base = f"http://127.0.0.1:{proxy.port}"
        for cmd in curl_runs(base):
            subprocess.run(cmd, check=False, timeout=30)
    finally:
        if proxy:
            proxy.close()
        srv.cleanup()
    count = 0
    with proxy.lock:
        records = [bytes(r) for r in proxy.sent if r]
    for i, record in enumerate(records):
        for prefix in ((7,) if i % 4 else (7, 0)):
            data = bytes([prefix]) + record
            name = hashlib.sha1(data).hexdigest()
            with open(os.path.join(out, "admin_http", name), "wb") as f:
                f.write(data)
            count += 1
    return count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--corral-bin", default=os.path.join(ROOT, "build", "bin", "corral-server"))
    args = parser.parse_args()
    os.makedirs(os.path.join(args.out, "admin_http"), exist_ok=True)
    for impl in ("zookeeper", "corral"):
        print(impl, run(impl, args.corral_bin, args.out))


if __name__ == "__main__":
    main()

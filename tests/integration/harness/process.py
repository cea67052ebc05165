"""A corral-server process a test starts itself (outside servers.Server, which adds its own
config lines and readiness probe): its output in a log file, stopped by PID."""
import os
import signal
import socket
import subprocess

from harness.util import wait_until

START_TIMEOUT = 20


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class ServerProcess:
    def __init__(self, corral_bin, config, log_path, port=None, env=None):
        """`env`: variables to set on top of the test's environment (None values remove one)."""
        self.port = port
        self.log = open(log_path, "w+")
        child_env = None
        if env is not None:
            child_env = dict(os.environ)
            for key, value in env.items():
                if value is None:
                    child_env.pop(key, None)
                else:
                    child_env[key] = value
        self.proc = subprocess.Popen([corral_bin, "--config", str(config)], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=child_env)

    def wait_listening(self):
        def listening():
            assert self.proc.poll() is None, f"server exited early:\n{self.output()}"
            return port_open(self.port)
        wait_until(listening, START_TIMEOUT, message=f"server did not listen on {self.port}:\n{self.output()}")

    def wait_log(self, text):
        wait_until(lambda: text in self.output(), START_TIMEOUT, message=f"{text!r} not logged:\n{self.output()}")

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=START_TIMEOUT)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

"""Start the real Procfile `web` command (gunicorn + gevent) for end-to-end tests."""

from __future__ import annotations

import http.client
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def procfile_command(process: str = "web") -> list[str]:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return shlex.split(command)
    raise AssertionError(f"no {process} process in the Procfile")


def _limit_files(count: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))


class Server:
    """The service as deployed, on a free loopback port."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        nofile: int | None = None,
        app: str = "wsgi:app",
        health: str = "/healthz",
    ) -> None:
        """`app` replaces the Procfile's `wsgi:app` (a host app embedding us, say), whose
        health check is at `health`."""
        self.port = free_port()
        self.health = health
        command = [app if part == "wsgi:app" else part for part in procfile_command()]
        self.log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)
        self._output: str | None = None
        bin_dir = str(Path(sys.executable).parent)
        full_env = {
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "PORT": str(self.port),
            **env,
        }
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=None if nofile is None else (lambda: _limit_files(nofile)),
        )
        try:
            self.wait_ready()
        except BaseException:
            # A server that never became ready is stopped and its log closed here: left
            # open, the log file was an unraisable ResourceWarning in a later test's setup
            # ("multiple unraisable exception warnings" on a busy machine).
            self.stop(signal.SIGKILL)
            raise

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited:\n{self.output()}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", self.health)
                if conn.getresponse().status == 200:
                    return
                time.sleep(0.1)
            except OSError:
                time.sleep(0.1)
            finally:
                conn.close()
        raise AssertionError(f"server not ready:\n{self.output()}")

    def output(self) -> str:
        if self._output is not None:
            return self._output
        return Path(self.log.name).read_text(errors="replace")

    def connection(self, timeout: float = 30) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise
        finally:
            # Kept in memory, not on disk: a suite starts some sixty servers.
            if self._output is None:
                self._output = self.output()
                self.log.close()
                Path(self.log.name).unlink(missing_ok=True)

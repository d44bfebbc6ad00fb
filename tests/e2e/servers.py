"""Start and stop extra `streamlit run` servers (an app, an environment, a port of their own).

The shared server of ``conftest.py`` runs the demo; the deployment tests need
other apps, other environments (a token, a history file), and servers they can
kill with SIGKILL and start again.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
APPS = Path(__file__).resolve().parent / "apps"
STARTUP_TIMEOUT_S = 60.0


class ServerFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    url = f"http://127.0.0.1:{port}/_stcore/health"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerFailed(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    proc.kill()
    raise ServerFailed(f"streamlit not healthy after {STARTUP_TIMEOUT_S:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


@dataclass
class Server:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill_hard(self) -> None:
        """SIGKILL, as the out-of-memory killer does: no cleanup of any kind runs."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start(script: Path, log: Path, env: Mapping[str, str] | None = None, port: int | None = None) -> Server:
    port = port or free_port()
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), full_env.get("PYTHONPATH", "")) if p)
    full_env.pop("ST_MEMWATCH_LIMIT", None)
    full_env.pop("ST_MEMWATCH_TOKEN", None)
    full_env.update(env or {})
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    _wait_healthy(proc, port, log)
    return Server(f"http://127.0.0.1:{port}/", port, proc, log)


@contextmanager
def serving(script: Path, log: Path, env: Mapping[str, str] | None = None) -> Iterator[Server]:
    server = start(script, log, env)
    try:
        yield server
    finally:
        server.stop()

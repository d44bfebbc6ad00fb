"""Extra `streamlit run` servers (an app, an environment, a port of their own) and browser visits to them.

The shared server of ``conftest.py`` runs the demo; the deployment tests need
other apps, other environments (a token, a history file), and servers they can
kill with SIGKILL and start again. The proxy tests put Debian's nginx in front
(``proxying``), and reach it under a host name that is not loopback, as a
visitor's browser would (``chromium`` with a host-resolver rule).
"""

from __future__ import annotations

import os
import re
import shutil
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
from typing import Any

IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SIDEBAR = '[data-testid="stSidebar"]'
REPO_ROOT = Path(__file__).resolve().parents[2]
APPS = Path(__file__).resolve().parent / "apps"
STARTUP_TIMEOUT_S = 60.0
NGINX_ENV = "ST_MEMWATCH_NGINX"
CHROMIUM_ENV = "ST_MEMWATCH_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROXY_PARAMS = Path("/etc/nginx/proxy_params")  # Debian's: Host, X-Real-IP, X-Forwarded-For, X-Forwarded-Proto


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


def start(script: Path, log: Path, env: Mapping[str, str] | None = None, append: bool = False) -> Server:
    """A server on a free port of 127.0.0.1; its output goes to ``log`` (after what is there, with ``append``)."""
    port = free_port()
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), full_env.get("PYTHONPATH", "")) if p)
    full_env.pop("ST_MEMWATCH_LIMIT", None)
    full_env.pop("ST_MEMWATCH_TOKEN", None)
    full_env["ST_MEMWATCH_HISTORY"] = "off"  # unless a test gives a file: nothing in the user's cache dir
    full_env.update(env or {})
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with open(log, "ab" if append else "wb") as out:
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


class Visit:
    """One browser session: its page and every websocket frame it received."""

    def __init__(self, browser: Any, url: str, headers: dict[str, str] | None = None) -> None:
        self.context = browser.new_context(accept_downloads=True, extra_http_headers=headers or {})
        self.context.set_default_timeout(30_000)
        self.page = self.context.new_page()
        self.frames: list[bytes] = []
        self.page.on("websocket", self._watch)
        self.page.goto(url)
        self.idle()

    def _watch(self, ws: Any) -> None:
        ws.on("framereceived", lambda payload: self.frames.append(payload if isinstance(payload, bytes) else payload.encode()))

    def idle(self) -> None:
        self.page.get_by_text(re.compile(r"run \d+ of this session")).wait_for()
        self.page.locator(IDLE_APP).wait_for()

    def rerun(self) -> None:
        before = self.page.get_by_text(re.compile(r"run \d+ of this session")).inner_text()
        self.page.get_by_role("button", name="Rerun").click()
        self.page.wait_for_function(
            "(before) => { const t = document.body.innerText.match(/run \\d+ of this session/); return t && t[0] !== before; }",
            arg=before,
        )
        self.idle()

    def panel_shown(self) -> bool:
        return self.page.get_by_text("Memory details", exact=True).count() > 0

    def session_id(self) -> str:
        """The id Streamlit's NewSession message gave this browser (how a client learns its own)."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        for frame in self.frames:
            try:
                msg = ForwardMsg.FromString(frame)
            except Exception:
                continue
            if msg.WhichOneof("type") == "new_session" and msg.new_session.initialize.session_id:
                return msg.new_session.initialize.session_id
        raise AssertionError(f"no NewSession message among {len(self.frames)} frames")

    def frames_without_own_id_announcement(self) -> list[bytes]:
        """Every frame, with the one field where Streamlit tells the browser its own id blanked."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        out = []
        for frame in self.frames:
            try:
                msg = ForwardMsg.FromString(frame)
            except Exception:
                out.append(frame)
                continue
            if msg.WhichOneof("type") == "new_session":
                msg.new_session.initialize.session_id = ""
                frame = msg.SerializeToString()
            out.append(frame)
        return out

    def details_on(self) -> None:
        self.page.locator(SIDEBAR).get_by_text("Memory details", exact=True).click()
        self.page.locator(SIDEBAR).get_by_test_id("stDownloadButton").or_(
            self.page.locator(SIDEBAR).get_by_role("button", name="Prepare export")
        ).first.wait_for()
        self.page.locator(IDLE_APP).wait_for()

    def download(self, label: str) -> str:
        bar = self.page.locator(SIDEBAR)
        prepare = bar.get_by_role("button", name="Prepare export")
        if prepare.count():
            prepare.click()
            bar.get_by_text("export as of ", exact=False).wait_for()
            self.page.locator(IDLE_APP).wait_for()
        button = bar.get_by_test_id("stDownloadButton").filter(has_text=label).get_by_role("button")
        with self.page.expect_download() as info:
            button.click()
        return Path(info.value.path()).read_text()

    def close(self) -> None:
        self.context.close()


def nginx_binary() -> str:
    """Debian's nginx (``ST_MEMWATCH_NGINX`` overrides); its absence fails the test, never skips it."""
    import pytest

    found = os.environ.get(NGINX_ENV) or shutil.which("nginx") or "/usr/sbin/nginx"
    if not (os.path.isfile(found) and os.access(found, os.X_OK)):
        pytest.fail(f"nginx not found at {found!r}: install Debian's 'nginx' package (make test does) or set {NGINX_ENV}")
    return found


@dataclass
class Proxy:
    port: int
    access_log: Path
    error_log: Path

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/"

    def access_lines(self) -> list[str]:
        return self.access_log.read_text(errors="replace").splitlines() if self.access_log.exists() else []


def nginx_config(upstream_port: int, port: int, workdir: Path, proxy_params: bool, pass_host: bool = True) -> str:
    """The smallest websocket reverse proxy that works; Debian's ``proxy_params`` on request.

    Streamlit refuses a websocket whose ``Origin`` is not its ``Host``, so even the
    smallest working proxy passes the browser's ``Host`` on; without
    ``proxy_params`` nothing else says a proxy is there: the upstream sees a
    loopback peer and the browser's own ``Host`` and ``Origin``. The access log is
    nginx's default ("combined": request line and Referer). ``pass_host=False``
    is the nginx docs' literal minimal websocket proxy: the upstream then sees
    ``Host: 127.0.0.1:<port>`` too, and only the browser's ``Origin`` tells (the
    app must accept cross-origin websockets for it to work at all).
    """
    temp = "\n".join(f"    {kind}_temp_path {workdir / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    if proxy_params:
        include = f"            include {PROXY_PARAMS};\n"
    else:
        include = "            proxy_set_header Host $host;\n" if pass_host else ""
    user = "user root;\n" if hasattr(os, "geteuid") and os.geteuid() == 0 else ""  # workers may read the temp dirs
    return (
        f"{user}worker_processes 1;\npid {workdir / 'nginx.pid'};\nerror_log {workdir / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    access_log {workdir / 'access.log'};\n{temp}\n"
        "    map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n"
        "    server {\n"
        f"        listen 127.0.0.1:{port};\n"
        "        location / {\n"
        f"            proxy_pass http://127.0.0.1:{upstream_port};\n"
        "            proxy_http_version 1.1;\n"
        "            proxy_set_header Upgrade $http_upgrade;\n"
        "            proxy_set_header Connection $connection_upgrade;\n"
        f"{include}"
        "            proxy_read_timeout 600s;\n"
        "        }\n"
        "    }\n"
        "}\n"
    )


@contextmanager
def proxying(upstream_port: int, workdir: Path, proxy_params: bool = False, pass_host: bool = True) -> Iterator[Proxy]:
    """A real nginx on a free port of 127.0.0.1 in front of ``upstream_port``; stopped afterwards."""
    import pytest

    binary = nginx_binary()
    if proxy_params and not PROXY_PARAMS.is_file():
        pytest.fail(f"{PROXY_PARAMS} not found: Debian's 'nginx' package ships it")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(nginx_config(upstream_port, port, workdir, proxy_params, pass_host))
    proxy = Proxy(port, workdir / "access.log", workdir / "error.log")
    cmd = [binary, "-p", str(workdir), "-c", str(conf), "-e", str(proxy.error_log), "-g", "daemon off;"]
    with open(workdir / "nginx.out", "wb") as out:
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                text = (workdir / "nginx.out").read_text(errors="replace") + proxy.error_log.read_text(errors="replace")
                pytest.fail(f"nginx exited with {proc.returncode}:\n{text[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"nginx did not answer within {STARTUP_TIMEOUT_S:.0f} s:\n{proxy.error_log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield proxy
    finally:
        proc.terminate()  # SIGTERM: nginx's fast shutdown
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def chromium(shared: Any, extra_args: list[str]) -> Iterator[Any]:
    """A Chromium of its own, for flags the shared one lacks (``--host-resolver-rules``), on the same Playwright."""
    executable = os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM
    browser = shared.browser_type.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS + extra_args)
    try:
        yield browser
    finally:
        browser.close()


def diagnosis_box(page: Any, has_text: str | None = None) -> Any:
    """The panel's diagnosis box as a person sees it: the gauge's (it carries the box), else the native alert.

    The gauge renders in the page (components v2) or in an iframe (v1, Streamlit 1.40).
    """
    sidebar = page.locator('[data-testid="stSidebar"]')
    found = sidebar.locator(".smw .smw-box")
    if not found.count() and sidebar.locator("iframe").count():
        framed = sidebar.frame_locator("iframe").locator(".smw .smw-box")
        if framed.count():
            found = framed
    if not found.count():
        found = sidebar.get_by_test_id("stAlert")
    return found.filter(has_text=has_text) if has_text else found

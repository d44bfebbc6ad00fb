"""A real `streamlit run demo_app.py` server and a real headless Chromium, shared by the e2e tests.

The server runs from the repository checkout (PYTHONPATH = repo root), on 127.0.0.1
at a free port, and is killed when the session ends. Its output goes to
``artifacts/server.log``, which a failing test quotes. Chromium is Debian's build:
``ST_MEMWATCH_CHROMIUM`` names it (default /usr/bin/chromium). A missing browser or
Playwright is a failure, never a skip: CI installs both, and a silently skipped
browser suite would hide a broken panel.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import CHROMIUM_ARGS, CHROMIUM_ENV, DEFAULT_CHROMIUM

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DEMO = REPO_ROOT / "demo_app.py"
VIEWPORT = {"width": 1280, "height": 900}
STARTUP_TIMEOUT_S = 45.0
# Streamlit marks its root with the script's state ("initial", "running", "notRunning", ...).
IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SIDEBAR = '[data-testid="stSidebar"]'
# Toasts vanish after a few seconds: the page keeps every toast's text from its first frame on.
TOAST_WATCH = """
window.__stMemwatchToasts = [];
new MutationObserver(() => {
    for (const t of document.querySelectorAll('[data-testid="stToast"]')) {
        if (!t.dataset.stMemwatchSeen) {
            t.dataset.stMemwatchSeen = "1";
            window.__stMemwatchToasts.push(t.innerText);
        }
    }
}).observe(document, {childList: true, subtree: true});
"""


_started_logs: list[Path] = []  # the log of the server this session started, if any


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with code {proc.returncode} before becoming healthy:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200 and resp.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    pytest.fail(f"streamlit not healthy at {url} after {STARTUP_TIMEOUT_S:.0f} s ({last}):\n{_log_tail(log)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Remember each phase's outcome (for the failure screenshot) and quote the server's log on failure."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"_e2e_{report.when}", report)
    if report.failed and _started_logs and "app_url" in getattr(item, "fixturenames", ()):
        report.sections.append(("streamlit server log (tail)", _log_tail(_started_logs[-1])))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def shot(artifacts: Path) -> Callable[[str], str]:
    """Screenshot paths named after the Streamlit under test, so runs on two versions sit side by side."""
    from importlib.metadata import version

    prefix = f"st{version('streamlit')}_"
    return lambda name: str(artifacts / f"{prefix}{name}.png")


@pytest.fixture(scope="session")
def server_log(artifacts: Path) -> Path:
    """One log per Streamlit version: the suites of two versions may run at the same time."""
    from importlib.metadata import version

    return artifacts / f"server-streamlit-{version('streamlit')}.log"


@pytest.fixture(scope="session")
def app_url(server_log: Path) -> Iterator[str]:
    """Start the demo app with the current interpreter; yield its base URL; kill it."""
    port = _free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("ST_MEMWATCH_LIMIT", None)  # the demo shows whatever limit the machine has
    env["ST_MEMWATCH_HISTORY"] = "off"  # no file in the user's cache dir, no "previous process" from another run
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(DEMO),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # No --server.address, as `make demo` and a plain `streamlit run` start it: the server
        # listens on every interface (dual-stack on newer Streamlit), so a browser at 127.0.0.1
        # arrives as the IPv4-mapped peer ::ffff:127.0.0.1, which the gate must count as local.
        "--server.port",
        str(port),
        # Other work on the checkout must not restart the script under the tests.
        "--server.fileWatcherType",
        "none",
    ]
    with open(server_log, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    _started_logs.append(server_log)
    try:
        _wait_healthy(proc, f"http://127.0.0.1:{port}/_stcore/health", server_log)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"the e2e tests need the 'playwright' Python package (pip install playwright): {exc}")
    executable = os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {executable!r}: install Debian's 'chromium' package "
            f"or point {CHROMIUM_ENV} at a Chromium binary"
        )
    with sync_playwright() as pw:
        try:
            b = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        except Exception as exc:
            pytest.fail(f"could not launch Chromium at {executable!r}: {exc}")
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Any, app_url: str, shot: Callable[[str], str]) -> Iterator[Any]:
    """A fresh browser session on the demo, loaded and idle; JS errors are collected on ``page.js_errors``.

    Toast texts are collected in ``window.__stMemwatchToasts`` from the first frame on.

    A failing test leaves a screenshot named ``FAILED_<test>`` next to the others.
    """
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.add_init_script(TOAST_WATCH)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    try:
        pg.goto(app_url)
        # The first script run is over once the app says so and the panel is in the sidebar.
        pg.locator(IDLE_APP).wait_for(timeout=30_000)
        pg.locator(SIDEBAR).get_by_text("Memory details").wait_for(timeout=30_000)
        yield pg
        call = getattr(request.node, "_e2e_call", None)
        if call is not None and call.failed:
            pg.screenshot(path=shot(f"FAILED_{request.node.name}"))
    finally:
        context.close()

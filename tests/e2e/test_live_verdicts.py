"""The live verdict in a real browser, at a person's pace, with two tabs on one server.

Two tabs click in turn, about one click a second. While both are quiet, neither shows
a box or a toast. Then one tab keeps 2 MB per click in ``st.session_state``: its panel
warns and names that key, in that session, within eight of its clicks, and the quiet
tab's panel says the same thing (the verdict is the process's), while its own
session_state stays its own size.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import servers

pytestmark = pytest.mark.e2e
APP = Path(__file__).resolve().parent / "apps" / "two_tabs_app.py"


class Tab:
    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context()
        self.context.set_default_timeout(30_000)
        self.page = self.context.new_page()
        self.page.add_init_script(
            """(() => { window.__toasts = [];
            new MutationObserver(() => document.querySelectorAll('[data-testid="stToast"]').forEach(t => {
              if (!t.dataset.seen) { t.dataset.seen = 1; window.__toasts.push(t.innerText); } }))
              .observe(document, {subtree: true, childList: true}); })()"""
        )
        self.page.goto(url)
        self.clicks = 0
        self.wait_for(0)

    def wait_for(self, n: int) -> None:
        self.page.get_by_text(f"click {n} in this tab", exact=True).wait_for()
        self.page.locator(servers.IDLE_APP).wait_for()

    def click(self) -> None:
        self.page.get_by_role("button", name="Ask").click()
        self.clicks += 1
        self.wait_for(self.clicks)

    def box(self) -> str:
        boxes = servers.diagnosis_box(self.page)
        return boxes.first.inner_text() if boxes.count() else ""

    def toasts(self) -> list[str]:
        return list(self.page.evaluate("() => window.__toasts"))

    def close(self) -> None:
        self.context.close()


def test_two_tabs_quiet_then_one_leaks_into_session_state(browser: Any, artifacts: Path) -> None:
    log = artifacts / "two_tabs_server.log"
    with servers.serving(APP, log) as server:
        quiet = Tab(browser, server.url)
        leaky = Tab(browser, server.url + "?leak=1")
        try:
            # The quiet phase: the quiet tab clicks alone, the leaky tab has only loaded.
            for _ in range(10):
                quiet.click()
                time.sleep(1.0)
                assert quiet.box() == "", f"a box on a quiet app after {quiet.clicks} clicks: {quiet.box()!r}"
            assert quiet.toasts() == [] and leaky.toasts() == []
            named_at = None
            for k in range(1, 11):
                leaky.click()
                time.sleep(0.5)
                quiet.click()
                time.sleep(0.5)
                box = leaky.box()
                if named_at is None and "st.session_state['messages'] in session" in box:
                    named_at = k
                if named_at is not None and k >= named_at + 1:
                    break
            assert named_at is not None and named_at <= 8, f"holder not named after {leaky.clicks} clicks: {leaky.box()!r}"
            box = leaky.box()
            assert re.search(r"grows steadily: \+\d", box), box
            session = re.search(r"in session (s\d+)", box)
            assert session, box
            # The quiet tab sees the same diagnosis: the figures are the process's.
            quiet.click()
            assert f"st.session_state['messages'] in session {session.group(1)}" in quiet.box(), quiet.box()
            assert len([t for t in leaky.toasts() if "grows steadily" in t]) == 1, leaky.toasts()
            # Each tab's own session_state is its own: the quiet one holds a few bytes.
            quiet.page.locator(servers.SIDEBAR).get_by_text("Memory details", exact=True).click()
            quiet.page.locator(servers.SIDEBAR).get_by_text("(this session)", exact=False).first.wait_for()
            quiet.page.locator(servers.IDLE_APP).wait_for()
            details = quiet.page.locator(servers.SIDEBAR).inner_text()
            own = re.search(r"session_state \(this session\): (\d+) keys, ([\d.]+) (B|KiB)", details)
            assert own, details[-1500:]
            assert "active sessions: 2" in details, details[-1500:]
            assert re.search(r"all sessions measured \(2\): [\d.]+ MiB", details), details[-1500:]
        finally:
            quiet.close()
            leaky.close()
    assert "Traceback" not in log.read_text(errors="replace")

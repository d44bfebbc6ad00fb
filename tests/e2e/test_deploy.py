"""A deployed app as visitors and its author meet it: a real server, real Chromium sessions.

- No session id, in full or in part, reaches a page's HTML, its websocket frames
  (Streamlit's own NewSession message, which tells a browser its own id, aside),
  the exports, or the server log.
- The gate: a direct loopback browser sees the panel; one behind a proxy does not
  (the server log says once how to open it) and its runs are still recorded; with
  a token set, no token and a wrong one see nothing, the right one opens the
  panel for that session and is remembered after it leaves the URL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import APPS, Server, serving

from st_memwatch.ui.gate import HOW_TO_OPEN

pytestmark = pytest.mark.e2e

IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SIDEBAR = '[data-testid="stSidebar"]'
APP = APPS / "private_app.py"
TOKEN = "t0ken-for-the-tests"


@pytest.fixture(scope="module")
def open_server(artifacts: Path) -> Iterator[Server]:
    from importlib.metadata import version

    with serving(APP, artifacts / f"server-deploy-open-{version('streamlit')}.log") as server:
        yield server


@pytest.fixture(scope="module")
def token_server(artifacts: Path) -> Iterator[Server]:
    from importlib.metadata import version

    log = artifacts / f"server-deploy-token-{version('streamlit')}.log"
    with serving(APP, log, {"ST_MEMWATCH_TOKEN": TOKEN}) as server:
        yield server


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


def fragments(session_id: str) -> list[str]:
    """The id and the parts of it a renderer might have cut (8-character prefix, last group, no dashes)."""
    parts = [session_id, session_id.replace("-", ""), session_id[:8], session_id.split("-")[-1]]
    return [p for p in dict.fromkeys(parts) if len(p) >= 8]


def assert_absent(ids: list[str], where: str, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    for sid in ids:
        for part in fragments(sid):
            assert part.encode() not in data, f"{where} holds {part!r}, part of session id {sid}"


def test_no_session_id_in_pages_frames_exports_or_logs(browser: Any, open_server: Server) -> None:
    visits = [Visit(browser, open_server.url) for _ in range(3)]
    try:
        for visit in visits:
            visit.rerun()
            visit.rerun()
        ids = [v.session_id() for v in visits]
        assert len(set(ids)) == 3, ids
        author = visits[0]
        assert author.panel_shown(), "a loopback browser sees the panel by default"
        author.details_on()
        author.rerun()
        record = author.download("Record (JSON)")
        runs_csv = author.download("Runs (CSV)")
        data = json.loads(record)
        sessions = {r["session"] for r in data["runs"]}
        assert len(sessions) == 3 and all(re.fullmatch(r"s\d+", s) for s in sessions), sessions
        assert len(data["runs"]) >= 10, len(data["runs"])
        for visit in visits:
            assert_absent(ids, "the page HTML", visit.page.content())
            assert_absent(ids, "the sidebar text", visit.page.locator("body").inner_text())
            for frame in visit.frames_without_own_id_announcement():
                assert_absent(ids, "a websocket frame", frame)
        assert_absent(ids, "the JSON export", record)
        assert_absent(ids, "the CSV export", runs_csv)
        assert "session_state" in record or data["session"] is not None
        assert_absent(ids, "the server log", open_server.log_text())
    finally:
        for visit in visits:
            visit.close()


def test_a_visitor_behind_a_proxy_sees_nothing_and_is_still_recorded(browser: Any, open_server: Server) -> None:
    visitor = Visit(browser, open_server.url, headers={"X-Forwarded-For": "198.51.100.23"})
    author = Visit(browser, open_server.url)
    try:
        visitor.rerun()
        visitor.rerun()
        body = visitor.page.locator("body").inner_text()
        assert not visitor.panel_shown() and "Memory" not in body and "limit:" not in body, body
        assert visitor.page.locator(SIDEBAR).count() == 0, "the hidden panel still drew a sidebar"
        assert HOW_TO_OPEN in open_server.log_text()
        assert open_server.log_text().count(HOW_TO_OPEN) == 1, "the hint is logged once per process"
        visitor.rerun()
        assert open_server.log_text().count(HOW_TO_OPEN) == 1
        assert author.panel_shown()
        author.details_on()
        data = json.loads(author.download("Record (JSON)"))
        per_session: dict[str, int] = {}
        for r in data["runs"]:
            per_session[r["session"]] = per_session.get(r["session"], 0) + 1
        assert any(n >= 4 for n in per_session.values()), f"the hidden visitor's 4 runs are not recorded: {per_session}"
    finally:
        visitor.close()
        author.close()


def test_with_a_token_only_the_right_one_opens_the_panel(browser: Any, token_server: Server) -> None:
    plain = Visit(browser, token_server.url)
    wrong = Visit(browser, token_server.url + "?memwatch=t0ken-for-the-test")
    right = Visit(browser, token_server.url + f"?memwatch={TOKEN}")
    try:
        assert not plain.panel_shown(), "with a token set, even a loopback browser needs it"
        assert not wrong.panel_shown()
        wrong.rerun()
        assert not wrong.panel_shown()
        assert right.panel_shown()
        # The token leaves the address bar; the session keeps the panel.
        right.page.evaluate("() => history.replaceState(null, '', location.pathname)")
        right.rerun()
        assert "memwatch" not in right.page.url
        assert right.panel_shown(), "a token given once is remembered for the session"
        assert TOKEN not in token_server.log_text(), "the token was written to the log"
        assert TOKEN not in right.page.locator("body").inner_text()
    finally:
        for v in (plain, wrong, right):
            v.close()

"""A deployed app as visitors and its author meet it: a real server, real Chromium sessions.

- No session id, in full or in part, reaches a page's HTML, its websocket frames
  (Streamlit's own NewSession message, which tells a browser its own id, aside),
  the exports, or the server log.
- The gate: a direct loopback browser sees the panel; one behind a proxy does not
  (the server log says once how to open it) and its runs are still recorded; with
  a token set, no token and a wrong one see nothing (the log hint asks for the
  token, not for a local browser), the right one opens the panel for that
  session, leaves the address by itself and is remembered after that.
  (``test_proxy.py`` does the same through a real nginx.)
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import APPS, Server, Visit, serving

from st_memwatch.core.gate import HOW_TO_OPEN, HOW_TO_OPEN_WITH_TOKEN

pytestmark = pytest.mark.e2e

SIDEBAR = '[data-testid="stSidebar"]'
APP = APPS / "private_app.py"
TOKEN = "t0ken-for-the-tests"


@pytest.fixture(scope="module")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("history") / "private_app.sqlite3"


@pytest.fixture(scope="module")
def open_server(artifacts: Path, history_file: Path) -> Iterator[Server]:
    from importlib.metadata import version

    log = artifacts / f"server-deploy-open-{version('streamlit')}.log"
    with serving(APP, log, {"ST_MEMWATCH_HISTORY": str(history_file)}) as server:
        yield server


@pytest.fixture(scope="module")
def token_server(artifacts: Path) -> Iterator[Server]:
    from importlib.metadata import version

    log = artifacts / f"server-deploy-token-{version('streamlit')}.log"
    with serving(APP, log, {"ST_MEMWATCH_TOKEN": TOKEN}) as server:
        yield server


def fragments(session_id: str) -> list[str]:
    """The id and the parts of it a renderer might have cut (8-character prefix, last group, no dashes)."""
    parts = [session_id, session_id.replace("-", ""), session_id[:8], session_id.split("-")[-1]]
    return [p for p in dict.fromkeys(parts) if len(p) >= 8]


def assert_absent(ids: list[str], where: str, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    for sid in ids:
        for part in fragments(sid):
            assert part.encode() not in data, f"{where} holds {part!r}, part of session id {sid}"


def test_no_session_id_in_pages_frames_exports_logs_or_history(browser: Any, open_server: Server, history_file: Path) -> None:
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
        time.sleep(2.5)  # the history is written about once a second
        stored = b"".join(p.read_bytes() for p in history_file.parent.glob(history_file.name + "*"))
        assert b"s1" in stored or b"s2" in stored, "the history file holds no runs to check"
        assert_absent(ids, "the history file", stored)
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
        right.page.get_by_text("Memory details", exact=True).wait_for()
        # The token leaves the address bar by itself; the session keeps the panel.
        right.page.wait_for_function("() => !location.search.includes('memwatch')")
        right.rerun()
        assert right.panel_shown(), "a token given once is remembered for the session"
        assert TOKEN not in token_server.log_text(), "the token was written to the log"
        assert TOKEN not in right.page.locator("body").inner_text()
        assert HOW_TO_OPEN_WITH_TOKEN in token_server.log_text() and HOW_TO_OPEN not in token_server.log_text()
    finally:
        for v in (plain, wrong, right):
            v.close()

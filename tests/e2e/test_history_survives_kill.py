"""The history outlives `kill -9`: clicks in Chromium, SIGKILL of the server, a restart.

All runs but those of the last ~2 s before the kill are found in
``snapshot()["previous"]`` (read here from the restarted app's JSON export), the
previous process is said to have ended abruptly, and the panel says so in one line.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from servers import APPS, Visit, start

pytestmark = pytest.mark.e2e

APP = APPS / "private_app.py"


def test_runs_survive_kill_9_and_the_restart_says_how_the_process_ended(browser: Any, artifacts: Path, tmp_path: Path) -> None:
    from importlib.metadata import version

    db = tmp_path / "history.sqlite3"
    log = artifacts / f"server-history-{version('streamlit')}.log"
    env = {"ST_MEMWATCH_HISTORY": str(db)}
    server = start(APP, log, env)
    try:
        visit = Visit(browser, server.url)
        for _ in range(10):
            visit.rerun()
        settled = 11  # the first run and ten reruns, all over by now
        time.sleep(2.5)  # the follower writes at least every second: these are on disk now
        for _ in range(4):
            visit.rerun()
        visit.close()
        server.kill_hard()
    finally:
        server.stop()
    assert db.exists()

    server = start(APP, log, env, append=True)
    try:
        visit = Visit(browser, server.url)
        bar = visit.page.locator('[data-testid="stSidebar"]')
        line = bar.get_by_text("The previous process ended abruptly", exact=False)
        line.wait_for()
        text = line.inner_text()
        assert " at " in text and " of " in text and ("after" in text), text
        visit.details_on()
        data = json.loads(visit.download("Record (JSON)"))
        prev = data["previous"]
        assert prev is not None and prev["ended"] == "abruptly", prev and {k: prev[k] for k in ("ended", "runs_total")}
        runs = prev["runs"]
        run_ids = [r["run_id"] for r in runs]
        assert run_ids == list(range(1, len(runs) + 1)), f"runs lost or doubled: {run_ids}"
        assert settled <= len(runs) <= settled + 4, f"{len(runs)} runs found; {settled} were on disk before the kill"
        assert prev["samples"], "no samples survived"
        assert all(r["session"].startswith("s") for r in runs)
        # This process's own runs are its own: the restart began a new record.
        assert all(r["run_id"] <= 3 for r in data["runs"]), [r["run_id"] for r in data["runs"]]
        visit.close()
    finally:
        server.stop()
    # A clean stop writes the end mark: the next start reads "cleanly".
    server = start(APP, log, env, append=True)
    try:
        visit = Visit(browser, server.url)
        visit.page.get_by_text("The previous process ended cleanly", exact=False).wait_for()
        visit.close()
    finally:
        server.stop()

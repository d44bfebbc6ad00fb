"""12 sessions x 25 reruns at once on one real server, through Streamlit's own websocket protocol.

Every run is recorded exactly once, under its own session's alias (the app prints
the alias it was given, the client checks it on each of its runs, the history
file is counted per alias), the server logs no error, and the process has one
sampler thread throughout.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from servers import APPS, serving
from wsclient import Client

pytestmark = pytest.mark.e2e

SESSIONS = 12
RUNS = 25
LINE = re.compile(rb"alias (s\d+) run (\d+) samplers (\d+)")


async def drive(url: str) -> list[dict[str, Any]]:
    async def one() -> dict[str, Any]:
        client = Client(url)
        await client.open()
        seen: list[tuple[str, int, int]] = []
        latencies = []
        try:
            for _ in range(RUNS):
                dt, frames = await client.rerun()
                latencies.append(dt)
                match = LINE.search(b"".join(frames))
                assert match, "a run's output did not reach its client"
                seen.append((match.group(1).decode(), int(match.group(2)), int(match.group(3))))
        finally:
            await client.close()
        return {"seen": seen, "latencies": latencies, "session_id": client.session_id}

    return list(await asyncio.gather(*(one() for _ in range(SESSIONS))))


def drive_in_a_thread(url: str) -> list[dict[str, Any]]:
    """Its own thread and event loop: Playwright's sync API keeps a loop running in this one."""
    out: list[Any] = []

    def target() -> None:
        try:
            out.append(asyncio.run(drive(url)))
        except BaseException as exc:  # handed to the test's thread
            out.append(exc)

    worker = threading.Thread(target=target, name="load-clients")
    worker.start()
    worker.join(1800)
    assert out, "the load clients did not finish in 30 min"
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


def test_12_sessions_x_25_reruns_each_run_recorded_once_under_its_session(artifacts: Path, tmp_path: Path) -> None:
    from importlib.metadata import version

    db = tmp_path / "load.sqlite3"
    log = artifacts / f"server-load-{version('streamlit')}.log"
    with serving(APPS / "load_app.py", log, {"ST_MEMWATCH_HISTORY": str(db)}) as server:
        t0 = time.perf_counter()
        results = drive_in_a_thread(server.url)
        wall = time.perf_counter() - t0
        deadline = time.monotonic() + 30
        while True:  # the history is written about once a second: wait for the last batch
            with sqlite3.connect(db) as conn:
                process = conn.execute("SELECT MAX(id) FROM processes").fetchone()[0]
                rows = conn.execute("SELECT session, run_id, outcome FROM runs WHERE process = ?", (process,)).fetchall()
            if len(rows) >= SESSIONS * RUNS or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        server_log = server.log_text()

    aliases = []
    for r in results:
        names = {alias for alias, _, _ in r["seen"]}
        assert len(names) == 1, f"one client saw several aliases: {names}"
        assert [n for _, n, _ in r["seen"]] == list(range(1, RUNS + 1)), "runs of a session lost or repeated"
        assert {s for _, _, s in r["seen"]} == {1}, "more than one sampler thread"
        aliases.append(names.pop())
    assert len(set(aliases)) == SESSIONS, aliases

    per_session: dict[str, int] = {}
    for session, _run_id, outcome in rows:
        per_session[session] = per_session.get(session, 0) + 1
        assert outcome == "success", (session, outcome)
    assert len({run_id for _, run_id, _ in rows}) == len(rows), "a run was recorded twice"
    assert per_session == dict.fromkeys(aliases, RUNS), per_session
    assert "Traceback" not in server_log and "Error" not in server_log, server_log[-3000:]
    for r in results:
        assert r["session_id"] and r["session_id"] not in server_log

    latencies = sorted(x for r in results for x in r["latencies"][1:])
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"\n{SESSIONS} sessions x {RUNS} reruns: {len(rows)} runs recorded in {wall:.1f} s; p95 rerun {p95 * 1000:.0f} ms")

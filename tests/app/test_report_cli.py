"""`st-memwatch report FILE` after the app is gone: a JSON export downloaded from the panel, or the app's history file.

Both records are made for real: the export is what the panel's download button serves
after AppTest runs of a leaking app, and the history file is written by two processes
of such an app, the first stopped cleanly and the second killed with SIGKILL (as the
out-of-memory killer does). The installed command reads them in a subprocess.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from st_memwatch.core.limits import format_bytes
from st_memwatch.ui import panel

CLI = Path(sys.executable).with_name("st-memwatch")
MEDIA_STASH = """
import sys, types
from streamlit.runtime import Runtime
sys.modules.setdefault("_st_memwatch_test_media", types.ModuleType("_st_memwatch_test_media")).mgr = Runtime.instance().media_file_mgr
"""
# 40 MB kept per run in session_state: over glibc's largest mmap threshold, so each run's
# array lands in fresh pages and RSS shows every step.
LEAKY = """
import numpy as np
import streamlit as st
import st_memwatch

st_memwatch.panel({args})
st.session_state.setdefault("blobs", []).append(np.ones(5_000_000))
st.write(len(st.session_state["blobs"]))
"""
RUNS = 8


def report(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), "report", str(path), *args], capture_output=True, text=True, timeout=300)


def run_rows(text: str) -> list[list[str]]:
    """The rows of the "Last runs" table, split into cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Last runs (")) + 2
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def downloaded_record(at: AppTest) -> str:
    """What the browser gets from "Record (JSON)": deferred data is built on the click, eager data was stored."""
    if not panel.deferred_downloads():
        next(b for b in at.sidebar.button if b.label == "Prepare export").click().run(timeout=60)
    proto: Any = next(b.proto for b in at.sidebar.get("download_button") if b.proto.label == "Record (JSON)")
    mgr = sys.modules["_st_memwatch_test_media"].mgr
    deferred = getattr(proto, "deferred_file_id", "")
    url = mgr.execute_deferred(deferred) if deferred else proto.url
    return bytes(mgr._storage.get_file(url.rsplit("/", 1)[-1]).content).decode()


def test_an_export_from_the_panel_reads_as_the_panel_judged(monitor, tmp_path):
    at = AppTest.from_string(LEAKY.format(args='limit="8GB"') + MEDIA_STASH)
    for _ in range(RUNS):
        at.run(timeout=60)
        assert not at.exception, [e.value for e in at.exception]
    at.sidebar.toggle[0].set_value(True).run(timeout=60)
    monitor.flush()  # the sampler's owed analysis, so the record holds this run's verdict
    path = tmp_path / "st_memwatch.json"
    path.write_text(downloaded_record(at))
    record = json.loads(path.read_text())
    verdict = record["verdict"]
    assert verdict["leak"], verdict["reason"]

    done = report(path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith("st_memwatch report: st_memwatch.json - snapshot taken ")
    assert f"Verdict: LEAK, +{format_bytes(verdict['bytes_per_run'])}/run since run {verdict['since_run']}" in text, text
    assert f"Memory: RSS {format_bytes(record['rss'])} of {format_bytes(record['limit']['bytes'])}" in text, text
    held = text.split("Held by:\n", 1)[1]
    assert held.startswith("  1. st.session_state['blobs'] in session "), held
    assert "Fix: st.session_state['blobs'] grows on every run" in text and "deque(maxlen=N)" in text
    listed = min(10, len(record["runs"]))
    assert f"Last runs ({listed} of {len(record['runs'])}):" in text
    rows = run_rows(text)
    assert [int(r[0]) for r in rows] == [r["run_id"] for r in record["runs"][-listed:]] and len(rows) >= RUNS
    assert rows[-1][-2:] == format_bytes(record["runs"][-1]["peak"]).split(), rows[-1]

    three = report(path, "--runs", "3")
    assert three.returncode == 0 and len(run_rows(three.stdout)) == 3


CHILD = """
import os, signal, sqlite3, sys, time
from streamlit.testing.v1 import AppTest
import st_memwatch

path, runs, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
print(os.getpid(), flush=True)
at = AppTest.from_string(APP.replace("{args}", f"history={path!r}"))
for _ in range(runs):
    at.run(timeout=60)
    assert not at.exception, [e.value for e in at.exception]
if mode == "stop":
    st_memwatch.stop()  # a clean stop writes the end mark
    sys.exit(0)


def written():
    query = "SELECT COUNT(*) FROM {} t JOIN processes p ON t.process = p.id WHERE p.pid = ?"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        n_runs = conn.execute(query.format("runs"), (os.getpid(),)).fetchone()[0]
        n_warnings = conn.execute(query.format("episodes") + " AND code = 'steady-growth'", (os.getpid(),)).fetchone()[0]
    return n_runs >= runs and n_warnings >= 1


# The follower thread writes about once a second: wait for this process's rows, then die unannounced.
deadline = time.monotonic() + 120
while not written():
    if time.monotonic() > deadline:
        sys.exit("the history never got this process's runs and warning")
    time.sleep(0.2)
os.kill(os.getpid(), signal.SIGKILL)
"""


def app_process(path: Path, runs: int, mode: str) -> int:
    env = {**os.environ, "ST_MEMWATCH_LIMIT": "400MB"}
    code = f"APP = {LEAKY!r}\n" + CHILD
    done = subprocess.run([sys.executable, "-c", code, str(path), str(runs), mode], capture_output=True, text=True,
                          timeout=300, env=env)  # fmt: skip
    expected = 0 if mode == "stop" else -9
    assert done.returncode == expected, done.stderr[-3000:]
    return int(done.stdout.split()[0])


def digest(path: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (path, Path(f"{path}-wal")) if p.exists()}


def test_a_history_file_tells_how_the_last_process_ended_and_why(tmp_path):
    path = tmp_path / "app.sqlite3"
    stopped = app_process(path, 3, "stop")
    killed = app_process(path, RUNS, "kill")
    before = digest(path)

    done = report(path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith("st_memwatch report: app.sqlite3 - history of 2 process(es)"), text
    summary = " ".join(text.split("\n\n")[1].split())  # the panel's sentence about the previous process
    assert summary.startswith("The previous process ended abruptly at ") and "after a steady climb of +" in summary, summary
    assert summary.endswith("(cause: st.session_state['blobs'] in session s1)."), summary
    assert f"Last process: pid {killed}, started " in text and f", {RUNS} runs\n" in text
    ended = re.search(r"Ended: (.*?)\n(?=\S)", text, re.S)
    assert ended and ended.group(1).startswith("abruptly, after its last write at "), text
    assert "most likely the out-of-memory killer" in " ".join(ended.group(1).split()), ended.group(1)
    assert "of 381.5 MiB" in text, "the limit the process ran under (400 MB)"
    warnings = text.split("Warnings (oldest first):\n", 1)[1]
    assert "cause: st.session_state['blobs'] in session " in warnings and "deque(maxlen=N)" in warnings
    assert "still on at the end" in warnings
    assert [int(r[0]) for r in run_rows(text)] == list(range(1, RUNS + 1))
    earlier = text.split("Earlier processes (newest first):\n", 1)[1]
    assert earlier.startswith(f"  pid {stopped}, started ") and ": cleanly at " in earlier, earlier

    # Read-only: the report adds no process of its own and leaves the file as the app left it.
    assert digest(path) == before
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT COUNT(*) FROM processes").fetchone()[0] == 2


def test_a_file_that_is_no_record_is_refused_in_one_line(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not json")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"runs": []}))
    for path, message in (
        (notes, "notes.txt is neither a JSON export nor a history file"),
        (other, "other.json is not an st_memwatch export: snapshot: missing 'taken_at'"),
        (tmp_path / "gone.json", "cannot read "),
    ):
        done = report(path)
        assert done.returncode == 2 and done.stdout == "", (done.stdout, done.stderr)
        assert done.stderr.startswith(f"st-memwatch report: {message}") and done.stderr.count("\n") == 1, done.stderr


def test_a_record_without_a_verdict_or_wall_clock_still_reads():
    from builders import run_record, snapshot

    from st_memwatch.report import render_snapshot

    text = render_snapshot(snapshot(taken_at=12.5, runs=(run_record(1, started_at=2.0, rss_after=101 << 20),)), "x.json")
    assert text.splitlines()[0] == "st_memwatch report: x.json - snapshot taken t=12.5 s"
    assert "Verdict: none yet (no run was judged)" in text and "Held by:" not in text and "Fix:" not in text
    assert run_rows(text) == [["1", "s1", "t=2.0", "s", "100", "ms", "full", "success", "101.0", "MiB", "+1.0", "MiB", "101.0", "MiB"]]

"""The history file: a real SQLite file per test, a real Monitor with scripted RSS."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from st_memwatch.core import history
from st_memwatch.core.history import Follower, HistoryStore, previous_line, resolve_path
from st_memwatch.core.models import Finding, Limit, Snapshot
from st_memwatch.core.monitor import Monitor, Settings
from st_memwatch.core.sampler import SampleHistory

MiB = 1 << 20


def monitor_with_runs(n: int, rss_step: int = MiB) -> Monitor:
    level = [200 * MiB]
    mon = Monitor(Settings(), rss=lambda: level[0], start_sampler=False)
    mon.limit = Limit(1 << 32, "argument")
    for i in range(n):
        mon.run_started(("k", i), f"s{i % 3 + 1}", "full")
        level[0] += rss_step
        mon.run_finished(("k", i), "success")
    return mon


def test_runs_and_samples_survive_and_a_clean_end_says_so(tmp_path: Path):
    path = tmp_path / "app.sqlite3"
    mon = monitor_with_runs(30)
    store = HistoryStore(path, 1 << 32)
    assert store.on and store.previous is None
    follower = Follower(mon, store)
    follower.step()
    for i in range(30, 45):  # more runs, a second batch
        mon.run_started(("k", i), "s1", "full")
        mon.run_finished(("k", i), "success")
    follower.close(cleanly=True)
    again = HistoryStore(path)
    prev = again.previous
    assert prev is not None and prev["ended"] == "cleanly"
    assert [r["run_id"] for r in prev["runs"]] == list(range(1, 46))
    assert {r["session"] for r in prev["runs"]} == {"s1", "s2", "s3"}
    assert prev["samples"] and prev["runs_total"] == 45
    assert prev["rss"] > 200 * MiB
    again.close()


def test_without_the_end_mark_the_previous_process_ended_abruptly(tmp_path: Path):
    path = tmp_path / "app.sqlite3"
    store = HistoryStore(path, 1 << 32)
    Follower(monitor_with_runs(5), store).step()
    store.close(cleanly=False)  # what kill -9 leaves: rows, no end mark
    prev = HistoryStore(path).previous
    assert prev is not None and prev["ended"] == "abruptly" and len(prev["runs"]) == 5


def test_a_live_other_worker_is_not_the_previous_process(tmp_path: Path):
    path = tmp_path / "app.sqlite3"
    first = HistoryStore(path)
    first.close(cleanly=True)
    with sqlite3.connect(path) as conn:  # a worker that is running now (this test's parent pid is alive)
        conn.execute("INSERT INTO processes(pid, started, beat, rss, limit_bytes) VALUES (?, ?, ?, 0, 0)",
                     (os.getppid(), 1.0, history.time.time()))  # fmt: skip
    prev = HistoryStore(path).previous
    assert prev is not None and prev["ended"] == "cleanly", prev


def test_a_corrupt_file_is_moved_aside_and_a_new_one_started(tmp_path: Path):
    path = tmp_path / "app.sqlite3"
    path.write_bytes(b"this is not a database, it is a test " * 200)
    store = HistoryStore(path)
    assert store.on, store.problem
    assert any("moved aside" in n for n in store.notes), store.notes
    assert list(tmp_path.glob("app.sqlite3.corrupt-*"))
    Follower(monitor_with_runs(3), store).step()
    store.close()
    assert len(HistoryStore(path).previous["runs"]) == 3


def test_a_file_that_cannot_be_opened_turns_persistence_off_with_a_note(tmp_path: Path):
    where = tmp_path / "app.sqlite3"
    where.mkdir()  # a directory where the file should be: SQLite cannot open it (root or not)
    store = HistoryStore(where)
    assert not store.on and store.problem.startswith("history off (OperationalError"), store.problem
    assert not list(tmp_path.glob("*.corrupt-*")), "an unopenable file is not corrupt: nothing is moved"


def test_a_write_that_fails_turns_persistence_off_and_the_app_goes_on(tmp_path: Path, caplog):
    path = tmp_path / "app.sqlite3"
    store = HistoryStore(path)
    assert store.on
    conn = store._conn
    assert conn is not None
    conn.execute("PRAGMA query_only=ON")  # every write now fails, as on a read-only remount
    with caplog.at_level(logging.WARNING, logger="st_memwatch"):
        Follower(monitor_with_runs(3), store).step()
    assert not store.on and "failed write" in store.problem
    assert any("history off" in r.getMessage() for r in caplog.records)


def test_a_disk_that_fills_while_running_is_a_panel_note_and_the_next_start_says_the_end_is_unknown(tmp_path: Path):
    """SQLite's own "database or disk is full" (a page budget, as a full disk gives), then a clean stop."""
    path = tmp_path / "app.sqlite3"
    mon = monitor_with_runs(5)
    store = HistoryStore(path)
    follower = Follower(mon, store)
    follower.step()
    assert store.on and not store.problem
    conn = store._conn
    assert conn is not None
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages + 2}")  # the disk has room for two more pages
    store.write([(1_700_000_000.0 + i, i) for i in range(20_000)], [], 0.0)
    assert not store.on and "disk is full" in store.problem, store.problem
    follower.step()  # the follower's next pull tells the panel
    assert any("history off after a failed write" in n and "disk is full" in n for n in mon.notes), list(mon.notes)
    follower.close(cleanly=True)  # a clean stop, after the history went off
    prev = HistoryStore(path).previous
    assert prev is not None and prev["ended"] == "unknown", prev
    line = previous_line(prev)
    assert "abruptly" not in line and "cleanly" not in line and "unknown" in line, line


def test_after_a_failed_write_even_a_stop_whose_mark_needs_a_new_connection_is_unknown(tmp_path: Path):
    path = tmp_path / "app.sqlite3"
    store = HistoryStore(path)
    conn = store._conn
    assert conn is not None
    conn.execute("PRAGMA query_only=ON")  # this connection can write nothing, not even the mark
    Follower(monitor_with_runs(3), store).step()
    assert not store.on
    store.close(cleanly=True)
    prev = HistoryStore(path).previous
    assert prev is not None and prev["ended"] == "unknown", prev


def test_the_history_is_readable_by_its_owner_only(tmp_path: Path):
    path = tmp_path / "cache" / "st_memwatch" / "app.sqlite3"
    store = HistoryStore(path)
    Follower(monitor_with_runs(3), store).step()
    assert store.on
    for d in (path.parent, path.parent.parent):
        assert d.stat().st_mode & 0o777 == 0o700, (d, oct(d.stat().st_mode))
    files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    assert {p.name for p in files} >= {path.name, path.name + "-wal", path.name + "-shm"}
    for f in files:
        assert f.stat().st_mode & 0o777 == 0o600, (f, oct(f.stat().st_mode))
    store.close()
    old = tmp_path / "old.sqlite3"  # a file an older version left world-readable
    sqlite3.connect(old).close()
    old.chmod(0o644)
    HistoryStore(old).close()
    assert old.stat().st_mode & 0o777 == 0o600


def test_a_missing_parent_that_cannot_be_made_is_a_note_not_an_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = HistoryStore(blocker / "sub" / "app.sqlite3")
    assert not store.on and "history off" in store.problem


def _writer(path: str, proc: int, batches: int) -> None:
    mon = monitor_with_runs(0)
    store = HistoryStore(Path(path))
    follower = Follower(mon, store)
    for b in range(batches):
        for i in range(5):
            key = (proc, b, i)
            mon.run_started(key, f"s{proc}", "full")
            mon.run_finished(key, "success")
        follower.step()
    follower.close()


def test_two_processes_of_one_app_write_one_file_without_corrupting_it(tmp_path: Path):
    path = tmp_path / "app.sqlite3"
    HistoryStore(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), p, 40)) for p in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        per_process = dict(conn.execute("SELECT process, COUNT(*) FROM runs GROUP BY process").fetchall())
    assert sorted(per_process.values()) == [200, 200], per_process


def test_rows_are_pruned_past_their_bounds(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(history, "MAX_RUNS", 50)
    monkeypatch.setattr(history, "PRUNE_EVERY_S", 0.0)
    path = tmp_path / "app.sqlite3"
    store = HistoryStore(path)
    mon = monitor_with_runs(0)
    follower = Follower(mon, store)
    for i in range(120):
        mon.run_started(i, "s1", "full")
        mon.run_finished(i, "success")
        if i % 10 == 9:
            follower.step()
    follower.step()
    with sqlite3.connect(path) as conn:
        count, newest = conn.execute("SELECT COUNT(*), MAX(run_id) FROM runs").fetchone()
    assert count <= 50 + 10 and newest == 120


class FakeMonitor:
    """Only what the follower reads: scripted warnings and trend (pure episode logic)."""

    def __init__(self) -> None:
        self.runs_total = 0
        self.history = SampleHistory()
        self.warnings: tuple[Finding, ...] = ()
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        self.notes.append(text)

    def ledger_series(self) -> dict[str, list[tuple[float, int]]]:
        return {}

    def snapshot(self, *args, **kwargs) -> Snapshot:
        trend = SimpleNamespace(bytes_per_run=12 * MiB)
        return Snapshot(0.0, 2 * 1024 * MiB, Limit(3 * 1024 * MiB, "argument"), None, "hooks", "hwm", (), (), (),
                        None, (), trend, self.warnings, unix_offset_s=1_700_000_000.0)  # type: ignore[arg-type]  # fmt: skip


def test_each_warning_episode_is_logged_once_at_its_start_and_once_at_its_end(caplog):
    mon = FakeMonitor()
    follower = Follower(mon, None)  # type: ignore[arg-type]
    w = Finding("warning", "steady-growth", "Memory grows steadily: +12.0 MiB per run.", cause="cache load_frame",
                fix="Bound it with max_entries.", action="Bound it with max_entries")  # fmt: skip
    with caplog.at_level(logging.INFO, logger="st_memwatch"):
        mon.warnings = (w,)
        for t in range(5):
            follower.step(now=100.0 + t)
        mon.warnings = ()
        follower.step(now=106.0)  # a flicker: not the end yet
        mon.warnings = (w,)
        follower.step(now=107.0)
        mon.warnings = ()
        for t in range(8, 25):
            follower.step(now=100.0 + t)
    lines = [r.getMessage() for r in caplog.records if r.name == "st_memwatch"]
    starts = [x for x in lines if "memory warning started" in x]
    ends = [x for x in lines if "memory warning ended" in x]
    assert len(starts) == 1 and len(ends) == 1, lines
    assert "rate +12.0 MiB/run" in starts[0] and "cause: cache load_frame" in starts[0]
    assert "fix: Bound it with max_entries" in starts[0] and "2.0 GiB of 3.0 GiB" in starts[0]
    assert "ended after 7 s" in ends[0]


def test_the_previous_process_in_one_line():
    prev = {
        "ended": "abruptly", "rss": int(2.61 * 1024**3), "limit": int(2.7 * 1024**3), "ended_unix": 1000.0, "runs_total": 80,
        "episodes": [{"bytes_per_run": 12 * MiB, "started_unix": 820.0, "cause": "cache load_frame", "message": "m"}],
    }  # fmt: skip
    assert previous_line(prev) == (
        "The previous process ended abruptly at 2.6 GiB of 2.7 GiB, 3 min after a steady climb of +12.0 MiB/run"
        " (cause: cache load_frame)."
    )
    quiet = {"ended": "cleanly", "rss": 100 * MiB, "limit": 0, "ended_unix": 5.0, "runs_total": 12, "episodes": []}
    assert previous_line(quiet) == "The previous process ended cleanly at 100.0 MiB, after 12 runs."
    cut_short = quiet | {"ended": "unknown", "limit": 1024 * MiB, "runs_total": 5}
    assert previous_line(cut_short) == (
        "How the previous process ended is unknown: its history turned off while it ran "
        "(last recorded at 100.0 MiB of 1.0 GiB, after 5 runs)."
    )


def test_where_the_history_goes(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(history.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    a = resolve_path(None, "/srv/app/streamlit_app.py")
    b = resolve_path(None, "/srv/other/streamlit_app.py")
    assert a is not None and b is not None and a != b
    assert a.parent == tmp_path / "st_memwatch" and a.name.startswith("streamlit_app-")
    assert resolve_path(None, "/srv/app/streamlit_app.py", default_on=False) is None
    assert resolve_path("off", "/srv/app/x.py") is None and resolve_path("OFF", None) is None
    assert resolve_path(tmp_path / "h.db", None) == tmp_path / "h.db"
    monkeypatch.setenv(history.ENV_VAR, "off")
    assert resolve_path(None, "/srv/app/x.py") is None
    monkeypatch.setenv(history.ENV_VAR, str(tmp_path / "env.db"))
    assert resolve_path(None, "/srv/app/x.py") == tmp_path / "env.db"
    for bad in (3, "", ["x"]):
        with pytest.raises(ValueError, match="invalid history"):
            resolve_path(bad, None)


def test_runs_that_end_out_of_order_are_written_once_each(tmp_path: Path):
    """Sessions overlap: run 2 can end before run 1. Every record once, none lost."""
    path = tmp_path / "app.sqlite3"
    store = HistoryStore(path)
    mon = monitor_with_runs(0)
    follower = Follower(mon, store)
    mon.run_started("a", "s1", "full")  # run 1
    mon.run_started("b", "s2", "full")  # run 2
    mon.run_finished("b", "success")
    follower.step()
    mon.run_started("c", "s2", "full")  # run 3
    mon.run_finished("c", "success")
    mon.run_finished("a", "success")  # run 1 ends last
    follower.step()
    follower.step()
    follower.close()
    with sqlite3.connect(path) as conn:
        ids = sorted(r[0] for r in conn.execute("SELECT run_id FROM runs"))
    assert ids == [1, 2, 3], ids


def test_where_the_memory_was_survives_with_the_runs(tmp_path: Path):
    """The ledger's readings, an owner per row, come back as the previous process's ``ledger``."""
    from st_memwatch.core.ledger import OWNERS

    path = tmp_path / "app.sqlite3"
    mon = monitor_with_runs(0)
    store = HistoryStore(path, 1 << 32)
    follower = Follower(mon, store)
    for i in range(12):
        mon.run_started(("k", i), "s1", "full")
        mon.run_finished(("k", i), "success")
        if i in (5, 11):
            follower.step()  # two batches: nothing written twice
    series = mon.ledger_series()
    assert series and set(series) <= set(OWNERS)
    follower.close(cleanly=True)
    prev = HistoryStore(path).previous
    assert prev is not None and set(prev["ledger"]) == set(series)
    for owner, pairs in series.items():
        assert prev["ledger"][owner] == [[x, b] for x, b in pairs], owner
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT COUNT(*), COUNT(DISTINCT run || owner) FROM ledger").fetchone()
    assert rows[0] == rows[1]  # one row per owner and run

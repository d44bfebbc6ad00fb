"""History that outlives the process: an embedded SQLite file, and warning episodes in the log.

Why: an app killed for running out of memory takes its in-memory record with it,
at exactly the moment that record exists to explain. So a follower thread pulls
from the monitor about once a second (new samples as per-second maxima, new run
records, the start and end of warning episodes) and writes them in one
transaction: ``kill -9`` loses at most the last batch. On the next start the
previous process's runs, samples, episodes and how it ended are read back into
``Monitor.previous``: "cleanly" when it wrote its end mark, "unknown" when its
history had turned itself off before the end (a full disk: it went on running
unrecorded, so its last rows say nothing about its end), else "abruptly".

The file: WAL journal (readers never block the writer; two processes of one app,
several workers or a restart overlap, each write their own rows under SQLite's
own locking), rows pruned past fixed bounds, one file per app in the user's
cache directory, named after the script's path; only its owner can read it (the
file and its journal 0600, a directory it creates 0700), since it holds cache
names and the app's activity. A file SQLite cannot read is moved aside and a new
one started; a read-only or full disk turns persistence off with a note in the
panel and a line in the log, and the app carries on.

The same follower writes each warning episode's start and end once to the
``st_memwatch`` logger, whether the file is on or not: hosting platforms keep a
process's log after it is gone. No session ids exist here (the bridge hands the
core aliases), and nothing user-written but cache/key names in causes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from st_memwatch.core.limits import format_bytes
from st_memwatch.core.models import Finding, RunRecord, Sample, Snapshot

if TYPE_CHECKING:
    from st_memwatch.core.monitor import Monitor

ENV_VAR = "ST_MEMWATCH_HISTORY"
OFF = "off"
FLUSH_EVERY_S = 1.0
MAX_SAMPLES = 200_000  # per-second maxima: a bit over two days
MAX_RUNS = 50_000
MAX_EPISODES = 5_000
MAX_LEDGER = 300_000  # a row per owner per run: about 50,000 runs of six owners
MAX_PROCESSES = 100
PRUNE_EVERY_S = 60.0
PREVIOUS_RUNS = 1_000
PREVIOUS_SAMPLES = 3_600
PREVIOUS_LEDGER_RUNS = 1_000  # the previous process's last readings of each owner
STALE_S = 15.0  # a process whose heartbeat is older than this is no longer writing
EPISODE_END_AFTER_S = 10.0  # a warning absent this long has ended (not a flicker)
_RUN_SLACK = 256
_WRITTEN_MEMORY = 8192
log = logging.getLogger("st_memwatch")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS processes(
    id INTEGER PRIMARY KEY AUTOINCREMENT, pid INTEGER, started REAL, beat REAL,
    ended REAL, end_kind TEXT, rss INTEGER, limit_bytes INTEGER, runs INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS samples(process INTEGER, t REAL, rss INTEGER);
CREATE INDEX IF NOT EXISTS samples_by_process ON samples(process, t);
CREATE TABLE IF NOT EXISTS runs(
    process INTEGER, run_id INTEGER, session TEXT, kind TEXT, outcome TEXT, started REAL,
    duration_s REAL, rss_before INTEGER, rss_after INTEGER, peak INTEGER, peak_source TEXT,
    overlapped INTEGER, measured_by TEXT);
CREATE INDEX IF NOT EXISTS runs_by_process ON runs(process, run_id);
CREATE TABLE IF NOT EXISTS ledger(process INTEGER, run REAL, owner TEXT, bytes INTEGER);
CREATE INDEX IF NOT EXISTS ledger_by_process ON ledger(process, run);
CREATE TABLE IF NOT EXISTS episodes(
    id INTEGER PRIMARY KEY AUTOINCREMENT, process INTEGER, code TEXT, level TEXT, started REAL,
    ended REAL, message TEXT, cause TEXT, fix TEXT, bytes_per_run REAL, rss INTEGER);
"""
_RUN_FIELDS = (
    "run_id", "session", "kind", "outcome", "started", "duration_s", "rss_before", "rss_after",
    "peak", "peak_source", "overlapped", "measured_by",
)  # fmt: skip


def cache_root() -> Path:
    """The user's cache directory (XDG on Linux, Library/Caches on macOS, LOCALAPPDATA on Windows)."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def default_path(script: str, root: Path | None = None) -> Path:
    """One file per app: the script's name plus a hash of its absolute path."""
    absolute = os.path.abspath(script)
    digest = hashlib.sha256(absolute.encode()).hexdigest()[:12]
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(absolute).stem)[:40] or "app"
    return (root or cache_root()) / "st_memwatch" / f"{stem}-{digest}.sqlite3"


def check_setting(value: object) -> None:
    """``panel(history=...)``: None, "off", or a path (str / os.PathLike)."""
    if value is None or isinstance(value, (str, os.PathLike)):
        if isinstance(value, str) and not value.strip():
            raise ValueError("invalid history '': expected a file path, 'off', or None")
        return
    raise ValueError(f"invalid history {value!r}: expected a file path, 'off', or None")


def resolve_path(setting: object, script: str | None, default_on: bool = True) -> Path | None:
    """Where to keep the history: the argument, else ``ST_MEMWATCH_HISTORY``, else the default; None = off."""
    check_setting(setting)
    chosen: Any = setting if setting is not None else os.environ.get(ENV_VAR) or None
    if chosen is not None:
        text = os.fspath(chosen)
        return None if text.strip().lower() == OFF else Path(text).expanduser()
    if not default_on or not script:
        return None
    return default_path(script)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # the same pid in a new process (pid 1 in a restarted container)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and any missing parent 0700; directories that exist are left as they are."""
    missing = []
    for d in (directory, *directory.parents):
        if d.exists():
            break
        missing.append(d)
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:  # another worker of the app made it meanwhile
            pass


def _make_private_file(path: Path) -> None:
    """Create the file 0600 before SQLite does (its journal and WAL copy the mode); tighten ours if wider."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return  # SQLite's own open says what is wrong (read-only, no space, a directory)
    try:
        info = os.fstat(fd)
        if hasattr(os, "getuid") and info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.fchmod(fd, 0o600)
    except OSError:
        pass
    finally:
        os.close(fd)


class HistoryStore:
    """The SQLite file of one app; ``problem`` says why persistence is off ("" while on)."""

    def __init__(self, path: Path, limit_bytes: int = 0, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.problem = ""
        self.notes: list[str] = []
        self.previous: dict[str, Any] | None = None
        self._clock = clock
        self._conn: sqlite3.Connection | None = None
        self._process = 0
        self._last_prune = clock()
        self._lock = threading.Lock()
        self._failed_midway = False  # on at start, then off after a failed write: the end is unknown
        self._marked_unknown = False
        try:
            self._open(limit_bytes)
        except (OSError, sqlite3.Error) as exc:
            self._off(f"history off ({_short(exc)}): {path}")

    @property
    def on(self) -> bool:
        return self._conn is not None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=5000")
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()
        if not mode or str(mode[0]).lower() != "wal":
            conn.close()
            raise sqlite3.OperationalError(f"could not switch to WAL (journal_mode={mode and mode[0]})")
        conn.execute("PRAGMA synchronous=NORMAL")
        ok = conn.execute("PRAGMA quick_check").fetchone()
        if not ok or ok[0] != "ok":
            conn.close()
            raise sqlite3.DatabaseError(f"quick_check: {ok and ok[0]}")
        conn.executescript(_SCHEMA)
        return conn

    def _open(self, limit_bytes: int) -> None:
        _make_private_dirs(self.path.parent)
        _make_private_file(self.path)
        try:
            conn = self._connect()
        except sqlite3.OperationalError:
            raise  # read-only, no space, locked, cannot open: not corruption, persistence goes off
        except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed", a failed quick_check
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(self._clock())}")
            for suffix in ("", "-wal", "-shm"):
                source = Path(str(self.path) + suffix)
                if source.exists():
                    source.rename(Path(str(aside) + suffix))
            self.notes.append(f"history file unreadable ({_short(exc)}); moved aside to {aside.name}, started anew")
            _make_private_file(self.path)
            conn = self._connect()
        self._conn = conn
        self.previous = self._read_previous(conn)
        now = self._clock()
        cur = conn.execute(
            "INSERT INTO processes(pid, started, beat, rss, limit_bytes) VALUES (?, ?, ?, 0, ?)",
            (os.getpid(), now, now, limit_bytes),
        )
        self._process = int(cur.lastrowid or 0)

    def _read_previous(self, conn: sqlite3.Connection) -> dict[str, Any] | None:
        rows = conn.execute(
            "SELECT id, pid, started, beat, ended, end_kind, rss, limit_bytes, runs FROM processes ORDER BY id DESC LIMIT 20"
        ).fetchall()
        now = self._clock()
        for pid_row in rows:
            pid_id, pid, started, beat, ended, end_kind, rss, limit_bytes, runs_total = pid_row
            if end_kind is None and now - (beat or 0) < STALE_S and _alive(int(pid)):
                continue  # another live worker of this app, not a previous process
            runs = conn.execute(
                f"SELECT {', '.join(_RUN_FIELDS)} FROM runs WHERE process = ? ORDER BY run_id DESC LIMIT ?",
                (pid_id, PREVIOUS_RUNS),
            ).fetchall()
            samples = conn.execute(
                "SELECT t, rss FROM samples WHERE process = ? ORDER BY t DESC LIMIT ?", (pid_id, PREVIOUS_SAMPLES)
            ).fetchall()
            episodes = conn.execute(
                "SELECT code, level, started, ended, message, cause, fix, bytes_per_run, rss FROM episodes "
                "WHERE process = ? ORDER BY id",
                (pid_id,),
            ).fetchall()
            ledger: dict[str, list[list[float]]] = {}
            for run, owner, size in reversed(
                conn.execute(
                    "SELECT run, owner, bytes FROM ledger WHERE process = ? ORDER BY run DESC LIMIT ?",
                    (pid_id, PREVIOUS_LEDGER_RUNS * 8),
                ).fetchall()
            ):
                ledger.setdefault(str(owner), []).append([run, size])
            return {
                "pid": pid,
                "started_unix": started,
                "ended_unix": ended if ended is not None else beat,
                "ended": end_kind if end_kind in ("cleanly", "unknown") else "abruptly",
                "rss": rss,
                "limit": limit_bytes,
                "runs_total": runs_total,
                "runs": [dict(zip(_RUN_FIELDS, r, strict=True)) | {"overlapped": bool(r[10])} for r in reversed(runs)],
                "samples": [[t, v] for t, v in reversed(samples)],
                "ledger": ledger,  # where its memory was: bytes by owner, by run (core.ledger.OWNERS)
                "episodes": [
                    dict(zip(("code", "level", "started_unix", "ended_unix", "message", "cause", "fix", "bytes_per_run", "rss"), e, strict=True))
                    for e in episodes
                ],
            }
        return None

    def _off(self, reason: str) -> None:
        self.problem = reason
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
        self._conn = None
        log.warning("st_memwatch: %s", reason)

    def write(
        self,
        samples: Iterable[tuple[float, int]],
        runs: Iterable[RunRecord],
        unix_offset_s: float,
        started: Iterable[tuple[Finding, float, float, int]] = (),
        ended: Iterable[tuple[str, float]] = (),
        rss: int = 0,
        runs_total: int = 0,
        ledger: Iterable[tuple[float, str, int]] = (),
    ) -> None:
        """One batch in one transaction. Times in, as unix seconds for samples/episodes, monotonic for runs."""
        with self._lock:
            conn = self._conn
            if conn is None:
                return
            now = self._clock()
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "INSERT INTO samples(process, t, rss) VALUES (?, ?, ?)", ((self._process, t, v) for t, v in samples)
                )
                conn.executemany(
                    f"INSERT INTO runs(process, {', '.join(_RUN_FIELDS)}) VALUES ({', '.join('?' * (len(_RUN_FIELDS) + 1))})",
                    (
                        (self._process, r.run_id, r.session, r.kind, r.outcome, r.started_at + unix_offset_s,
                         r.duration_s, r.rss_before, r.rss_after, r.peak, r.peak_source, int(r.overlapped), r.measured_by)
                        for r in runs
                    ),
                )  # fmt: skip
                conn.executemany(
                    "INSERT INTO ledger(process, run, owner, bytes) VALUES (?, ?, ?, ?)",
                    ((self._process, x, owner, size) for x, owner, size in ledger),
                )
                conn.executemany(
                    "INSERT INTO episodes(process, code, level, started, message, cause, fix, bytes_per_run, rss) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    ((self._process, w.code, w.level, at, w.message, w.cause, w.fix, rate, at_rss) for w, at, rate, at_rss in started),
                )
                conn.executemany(
                    "UPDATE episodes SET ended = ? WHERE process = ? AND code = ? AND ended IS NULL",
                    ((at, self._process, code) for code, at in ended),
                )
                conn.execute(
                    "UPDATE processes SET beat = ?, rss = ?, runs = ? WHERE id = ?", (now, rss, runs_total, self._process)
                )
                conn.execute("COMMIT")
                if now - self._last_prune >= PRUNE_EVERY_S:
                    self._last_prune = now
                    self._prune(conn)
            except sqlite3.Error as exc:  # full disk, read-only remount, a removed file
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                self._failed_midway = True
                self._mark_unknown(conn)
                self._off(f"history off after a failed write ({_short(exc)}): {self.path}")

    def _prune(self, conn: sqlite3.Connection) -> None:
        """Drop the oldest rows past each bound (by rowid: oldest first)."""
        conn.execute("BEGIN IMMEDIATE")
        for table, bound in (("samples", MAX_SAMPLES), ("runs", MAX_RUNS), ("episodes", MAX_EPISODES), ("ledger", MAX_LEDGER)):
            conn.execute(f"DELETE FROM {table} WHERE rowid <= (SELECT MAX(rowid) FROM {table}) - ?", (bound,))
        conn.execute("DELETE FROM processes WHERE id <= (SELECT MAX(id) FROM processes) - ?", (MAX_PROCESSES,))
        conn.execute("COMMIT")

    def _mark_unknown(self, conn: sqlite3.Connection) -> None:
        """Tell the next start that this process's record stops before its end (one row updated in place)."""
        try:
            conn.execute("UPDATE processes SET end_kind = 'unknown' WHERE id = ?", (self._process,))
            self._marked_unknown = True
        except sqlite3.Error:
            pass  # the disk takes nothing now: close() tries again

    def close(self, cleanly: bool = True) -> None:
        """Write the end mark (what tells "cleanly" from "abruptly" next time) and close.

        After a failed write the history lacks the process's later life, so the mark
        says "unknown" whatever the stop; written on a fresh connection when the
        failing one could not take it (the disk may have room again by now).
        """
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is None:
                if self._failed_midway and not self._marked_unknown and self._process:
                    try:
                        late = sqlite3.connect(self.path, timeout=2.0, isolation_level=None)
                        try:
                            self._mark_unknown(late)
                        finally:
                            late.close()
                    except sqlite3.Error:
                        pass
                return
            try:
                if cleanly:
                    now = self._clock()
                    conn.execute("UPDATE processes SET ended = ?, end_kind = 'cleanly' WHERE id = ?", (now, self._process))
                conn.close()
            except sqlite3.Error:
                pass


class Follower:
    """Pulls from the monitor every ``interval_s`` on its own thread: history rows and episode logs.

    It reads only through ``Monitor.snapshot``, ``Monitor.ledger_series`` and
    ``SampleHistory.since``, so the monitor knows nothing of it. ``step`` does one pull (tests call it directly).
    """

    def __init__(self, monitor: Monitor, store: HistoryStore | None, interval_s: float = FLUSH_EVERY_S) -> None:
        self.monitor = monitor
        self.store = store
        self.interval_s = interval_s
        self._last_sample_t = float("-inf")
        self._written: OrderedDict[int, None] = OrderedDict()  # run ids written lately (bounded)
        self._runs_seen = 0
        self._open: dict[str, list[Any]] = {}  # code -> [warning, started (unix), last seen (monotonic)]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._step_lock = threading.Lock()
        self._told_problem = ""
        self._ledger_x = float("-inf")  # the last run whose ledger reading was written

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="st_memwatch-history", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.step()
            except Exception as exc:  # never let the thread die silently
                self.monitor.note(f"history: {type(exc).__name__}: {exc}")

    def step(self, now: float | None = None) -> None:
        with self._step_lock:
            monitor = self.monitor
            total = monitor.runs_total
            # Records are filed in the order runs end, not in run-id order (sessions overlap):
            # take a window with slack for runs filed meanwhile, and skip ids already written.
            window = total - self._runs_seen + _RUN_SLACK
            snap = monitor.snapshot(None, None, timeline_points=0, max_runs=max(1, window))
            self._runs_seen = total
            offset = snap.unix_offset_s
            runs = [r for r in snap.runs if r.run_id not in self._written]
            for r in runs:
                self._written[r.run_id] = None
            while len(self._written) > _WRITTEN_MEMORY:
                self._written.popitem(last=False)
            fresh = monitor.history.since(self._last_sample_t)
            if fresh:
                self._last_sample_t = fresh[-1].t
            started, ended = self._episodes(snap, time.monotonic() if now is None else now)
            readings = [
                (x, owner, size) for owner, pairs in monitor.ledger_series().items() for x, size in pairs if x > self._ledger_x
            ]
            if readings:
                self._ledger_x = max(x for x, _, _ in readings)
            if self.store is not None:
                self.store.write(
                    per_second_maxima(fresh, offset), runs, offset, started, ended, rss=snap.rss, runs_total=total,
                    ledger=readings,
                )
                problem = self.store.problem
                if problem and problem != self._told_problem:  # turned off while running: the panel says so
                    self._told_problem = problem
                    monitor.note(problem)

    def _episodes(self, snap: Snapshot, now: float) -> tuple[list[tuple[Finding, float, float, int]], list[tuple[str, float]]]:
        """Warnings that started, and ones absent for EPISODE_END_AFTER_S; each logged once."""
        wall = now + snap.unix_offset_s
        rate = snap.trend.bytes_per_run if snap.trend is not None else 0.0
        started = []
        for w in snap.warnings:
            entry = self._open.get(w.code)
            if entry is None:
                self._open[w.code] = [w, wall, now]
                started.append((w, wall, rate, snap.rss))
                log.warning("st_memwatch: %s", episode_started_line(w, rate, snap.rss, snap.limit.bytes))
            else:
                entry[2] = now
        ended = []
        for code, (w, began, seen) in list(self._open.items()):
            if now - seen >= EPISODE_END_AFTER_S:
                del self._open[code]
                ended.append((code, seen + snap.unix_offset_s))
                log.info("st_memwatch: %s", episode_ended_line(w, seen - (began - snap.unix_offset_s), snap.rss))
        return started, ended

    def close(self, cleanly: bool = True) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)
        try:
            self.step()  # the last batch, so a clean stop loses nothing
        except Exception:  # noqa: BLE001 - shutting down: nothing to tell anyone
            pass
        if self.store is not None:
            self.store.close(cleanly)


def per_second_maxima(samples: Iterable[Sample], unix_offset_s: float) -> list[tuple[float, int]]:
    """One (unix time, rss) per second, its highest reading: a spike survives, rows stay few."""
    out: list[tuple[float, int]] = []
    bucket = None
    for t, rss in samples:
        key = int(t)
        if key != bucket:
            out.append((t + unix_offset_s, rss))
            bucket = key
        elif rss > out[-1][1]:
            out[-1] = (t + unix_offset_s, rss)
    return out


def _rate(bytes_per_run: float) -> str:
    return ("+" if bytes_per_run >= 0 else "") + format_bytes(bytes_per_run) + "/run"


def episode_started_line(w: Finding, bytes_per_run: float, rss: int, limit: int) -> str:
    parts = [f"memory warning started: {w.message.strip().rstrip('.')}", f"memory {format_bytes(rss)} of {format_bytes(limit)}"]
    if bytes_per_run:
        parts.append(f"rate {_rate(bytes_per_run)}")
    if w.cause:
        parts.append(f"cause: {w.cause}")
    fix = (w.action or w.fix).strip().rstrip(".")
    if fix:
        parts.append(f"fix: {fix}")
    return "; ".join(parts)


def episode_ended_line(w: Finding, lasted_s: float, rss: int) -> str:
    return f"memory warning ended after {_duration(lasted_s)}: {w.message.strip().rstrip('.')} (memory now {format_bytes(rss)})"


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def previous_line(previous: dict[str, Any]) -> str:
    """One sentence about the previous process: how it ended, at what memory, after what."""
    rss, limit = previous.get("rss") or 0, previous.get("limit") or 0
    where = f"at {format_bytes(rss)} of {format_bytes(limit)}" if limit else f"at {format_bytes(rss)}"
    if previous.get("ended") == "unknown":
        runs = previous.get("runs_total") or len(previous.get("runs") or ())
        return (
            "How the previous process ended is unknown: its history turned off while it ran "
            f"(last recorded {where}, after {runs:,} runs)."
        )
    text = f"The previous process ended {previous.get('ended', 'abruptly')} {where}"
    episodes = previous.get("episodes") or []
    ended_at = previous.get("ended_unix") or 0
    growth = [e for e in episodes if (e.get("bytes_per_run") or 0) > 0]
    if growth:
        e = growth[-1]
        text += f", {_duration(ended_at - (e.get('started_unix') or ended_at))} after a steady climb of {_rate(e['bytes_per_run'])}"
        if e.get("cause"):
            text += f" (cause: {e['cause']})"
    elif episodes:
        text += f", {_duration(ended_at - (episodes[-1].get('started_unix') or ended_at))} after: {episodes[-1].get('message', '')}"
    else:
        text += f", after {previous.get('runs_total') or len(previous.get('runs') or ()):,} runs"
    return text + "."


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__

"""``st-memwatch report FILE``: a saved record, read in a terminal after the app is gone.

What a person does after the out-of-memory killer ended the app: open the JSON export
they downloaded from the panel, or the history file the app kept beside itself, and
read what the panel would have said: the verdict, memory against the limit, the last
runs, what holds the memory and the fix, and how the process before ended.

A renderer only: an export is read back into a ``Snapshot`` (``core.snapshot_io``) and
rendered from it, as every other surface renders a Snapshot; a history file is opened
read-only (SQLite's ``mode=ro``: the report never writes to an app's file, even one a
live process is still writing to). No Streamlit import here, so the command starts fast
on a machine where the app is not installed.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from st_memwatch.core.history import previous_line
from st_memwatch.core.judgement import holder_label
from st_memwatch.core.limits import format_bytes
from st_memwatch.core.models import RunRecord, Snapshot
from st_memwatch.core.snapshot_io import SnapshotFormatError, snapshot_from_dict

WIDTH = 100
DEFAULT_RUNS = 10
NEAR_LIMIT = 0.9  # an abrupt end at this share of the limit reads as the out-of-memory killer
SQLITE_MAGIC = b"SQLite format 3\x00"
EXIT_OK, EXIT_ERROR = 0, 2
RUN_HEADERS = ("run", "session", "started", "took", "kind", "outcome", "RSS after", "delta", "peak")
_RIGHT = frozenset({0, 3, 6, 7, 8})  # numbers line up on the right


class ReportError(Exception):
    """The file cannot be reported on (says why, in one line)."""


def add_parser(sub: Any) -> None:
    """The ``report`` subcommand's arguments (``cli.build_parser`` calls this)."""
    report = sub.add_parser("report", help="render a saved JSON export or a history file in the terminal")
    report.add_argument("file", help="a JSON export from the panel, or an app's history file (.sqlite3)")
    report.add_argument("--runs", type=int, default=DEFAULT_RUNS, help=f"how many of the last runs to list (default {DEFAULT_RUNS})")


def command(args: argparse.Namespace) -> int:
    """Run ``st-memwatch report``: the report on standard output, or one line on standard error."""
    try:
        if not isinstance(args.runs, int) or args.runs < 0:
            raise ReportError(f"invalid --runs {args.runs!r}: expected a whole number >= 0")
        text = render_file(Path(args.file), runs=args.runs)
    except ReportError as exc:
        print(f"st-memwatch report: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(text)
    return EXIT_OK


def render_file(path: Path, runs: int = DEFAULT_RUNS) -> str:
    """The report on ``path``, whichever of the two kinds of record it is."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
    if head == SQLITE_MAGIC:
        return render_history(read_history(path), path.name, runs)
    return render_snapshot(read_export(path), path.name, runs)


# -- a JSON export ------------------------------------------------------------------------
def read_export(path: Path) -> Snapshot:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path.name} is neither a JSON export nor a history file ({type(exc).__name__}: {exc})") from None
    try:
        return snapshot_from_dict(data)
    except SnapshotFormatError as exc:
        raise ReportError(f"{path.name} is not an st_memwatch export: {exc}") from None


def render_snapshot(snap: Snapshot, name: str = "", runs: int = DEFAULT_RUNS) -> str:
    """The whole record as plain text: verdict, memory, holders and fix, runs, sizes, the previous process."""
    out: list[str] = []
    offset = snap.unix_offset_s
    out.append(f"st_memwatch report{': ' + name if name else ''} - snapshot taken {_when(snap.taken_at, offset)}")
    out.append("")
    out += _verdict_lines(snap)
    out.append("")
    out += _memory_lines(snap)
    if snap.verdict is not None and snap.verdict.holders:
        out.append("")
        out.append("Held by:")
        for i, h in enumerate(snap.verdict.holders, 1):
            where = f" in session {h.session}" if h.session else ""
            out.append(f"  {i}. {holder_label(h)}{where}: {_signed(h.bytes_per_run)}/run, {h.share:.0%} of the growth")
            if h.evidence:
                out += _wrapped(h.evidence, "     ")
            if h.chain:
                out += _wrapped("kept through: " + " -> ".join(h.chain), "     ")
    fix = snap.verdict.fix if snap.verdict is not None and snap.verdict.leak else ""
    if fix:
        out.append("")
        out += _wrapped("Fix: " + fix, "", "     ")
    if snap.warnings:
        out.append("")
        out.append("Warnings:")
        for w in snap.warnings:
            out += _wrapped(f"[{w.level}] {w.message}", "  ", "    ")
            if w.cause:
                out.append(f"    cause: {w.cause}")
            if w.fix and w.fix != fix:
                out += _wrapped("fix: " + w.fix, "    ", "      ")
    out.append("")
    out += _runs_lines(snap.runs, offset, runs)
    if snap.caches:
        out.append("")
        out.append("Caches:")
        for c in snap.caches:
            bound = ", ".join(
                x for x in (f"ttl={c.ttl_s:g}s" if c.ttl_s is not None else "",
                            f"max_entries={c.max_entries}" if c.max_entries is not None else "") if x
            ) or "unbounded"
            size = format_bytes(c.bytes) + ("" if c.bytes_exact else " or more")
            grows = ", growing" if c.growing else ""
            out.append(f"  cache_{c.kind} {c.function}: {c.entries} entries, {size} ({bound}{grows})")
    if snap.session is not None:
        s = snap.session
        largest = ", ".join(f"{k} {format_bytes(b)}" for k, b in s.largest_keys[:5])
        out.append("")
        out.append(f"session_state of session {s.session}: {s.keys} keys, {format_bytes(s.bytes)}"
                   + (f"; largest: {largest}" if largest else ""))
    if snap.sessions is not None:
        a = snap.sessions
        out.append(f"All {a.count} sessions' session_state: {format_bytes(a.total_bytes)}, the largest {format_bytes(a.largest_bytes)}")
    if snap.growth:
        out.append("")
        out.append("Types that grew between the last two censuses:")
        for g in snap.growth[:8]:
            out.append(f"  {g.type_name}: {g.count:,} objects ({g.count_delta:+,}), {format_bytes(g.bytes)} ({_signed(g.bytes_delta)})")
    notes = [*snap.notes, *([snap.census_note] if snap.census_note else [])]
    if notes:
        out.append("")
        for note in notes:
            out += _wrapped("note: " + note, "", "      ")
    if snap.previous:
        out.append("")
        out += _wrapped(previous_line(snap.previous), "")
    return "\n".join(out)


def _verdict_lines(snap: Snapshot) -> list[str]:
    v = snap.verdict
    if v is None:
        return ["Verdict: none yet (no run was judged)"]
    if v.leak:
        since = f" since run {v.since_run}" if v.since_run is not None else ""
        lines = [f"Verdict: LEAK, {_signed(v.bytes_per_run)}/run{since} ({v.runs_in_regime} runs)"]
    else:
        lines = ["Verdict: no leak" + (" (still warming up)" if v.warming_up else "")]
    lines += _wrapped("why: " + v.reason, "  ", "       ")
    if v.cause:
        lines.append(f"  cause: {v.cause}")
    if v.leak and snap.limit.bytes:
        if snap.rss >= snap.limit.bytes:
            lines.append("  over the limit: a container would already have ended this app")
        elif v.runs_to_limit is not None:
            eta = f"  limit in ~{v.runs_to_limit:,.0f} runs"
            if v.seconds_to_limit is not None:
                eta += f" / {_duration(v.seconds_to_limit)}"
            lines.append(eta)
    return lines


def _memory_lines(snap: Snapshot) -> list[str]:
    limit = snap.limit
    share = f" ({snap.rss / limit.bytes:.0%})" if limit.bytes else ""
    source = limit.source + (f", {limit.detail}" if limit.detail else "")
    lines = [f"Memory: RSS {format_bytes(snap.rss)} of {format_bytes(limit.bytes)}{share}; limit: {source}"]
    # As the panel: only inside a container with a memory limit; elsewhere the cgroup's figure
    # (page cache included) reads like a second, larger RSS.
    if snap.container is not None and (limit.source in ("cgroup-v1", "cgroup-v2") or snap.container.limit is not None):
        lines.append(f"  container usage (what the OOM killer counts): {format_bytes(snap.container.bytes)}")
    if snap.python_heap:
        lines.append(f"  live Python objects (last census): {format_bytes(snap.python_heap)}")
    if snap.trend is not None:
        t = snap.trend
        lines.append(f"  trend over {t.n_runs} runs: {_signed(t.bytes_per_run)}/run")
    peaks = [r.peak for r in snap.runs]
    if peaks:
        lines.append(f"  highest run peak: {format_bytes(max(peaks))}")
    return lines


def _runs_lines(records: Sequence[RunRecord], offset: float, shown: int) -> list[str]:
    if not records:
        return ["No runs recorded."]
    last = list(records)[-shown:] if shown else []
    lines = [f"Last runs ({len(last)} of {len(records):,}):"]
    rows = [
        (str(r.run_id), r.session, _when(r.started_at, offset, short=True), f"{r.duration_s * 1000:.0f} ms",
         r.kind, r.outcome, format_bytes(r.rss_after), _signed(r.delta), format_bytes(r.peak))
        for r in last
    ]  # fmt: skip
    return lines + _table(RUN_HEADERS, rows)


# -- a history file ---------------------------------------------------------------------
@dataclass
class ProcessRecord:
    """One process of the app, as its history file remembers it (times in Unix seconds)."""

    id: int
    pid: int
    started: float
    beat: float
    ended: float | None
    end_kind: str | None
    rss: int
    limit: int
    runs_total: int
    runs: list[dict[str, Any]] = field(default_factory=list)
    peak_sample: int = 0
    episodes: list[dict[str, Any]] = field(default_factory=list)


_RUN_COLUMNS = ("run_id", "session", "kind", "outcome", "started", "duration_s", "rss_before", "rss_after", "peak")
_EPISODE_COLUMNS = ("code", "level", "started", "ended", "message", "cause", "fix", "bytes_per_run", "rss")


def read_history(path: Path, runs: int = 1000) -> list[ProcessRecord]:
    """Every process in the file, oldest first, with its last ``runs`` runs and its warning episodes."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise ReportError(f"cannot open {path.name}: {exc}") from None
    try:
        rows = conn.execute(
            "SELECT id, pid, started, beat, ended, end_kind, rss, limit_bytes, runs FROM processes ORDER BY id"
        ).fetchall()
        out = []
        for pid_id, pid, started, beat, ended, end_kind, rss, limit_bytes, runs_total in rows:
            p = ProcessRecord(int(pid_id), int(pid or 0), float(started or 0), float(beat or started or 0), ended,
                              end_kind, int(rss or 0), int(limit_bytes or 0), int(runs_total or 0))  # fmt: skip
            recent = conn.execute(
                f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs WHERE process = ? ORDER BY run_id DESC LIMIT ?", (pid_id, runs)
            ).fetchall()
            p.runs = [dict(zip(_RUN_COLUMNS, r, strict=True)) for r in reversed(recent)]
            (peak,) = conn.execute("SELECT MAX(rss) FROM samples WHERE process = ?", (pid_id,)).fetchone()
            p.peak_sample = int(peak or 0)
            p.episodes = [
                dict(zip(_EPISODE_COLUMNS, e, strict=True))
                for e in conn.execute(f"SELECT {', '.join(_EPISODE_COLUMNS)} FROM episodes WHERE process = ? ORDER BY id", (pid_id,))
            ]
            out.append(p)
        return out
    except sqlite3.Error as exc:
        raise ReportError(f"{path.name} is not an st_memwatch history file ({type(exc).__name__}: {exc})") from None
    finally:
        conn.close()


def render_history(processes: Sequence[ProcessRecord], name: str = "", runs: int = DEFAULT_RUNS) -> str:
    """The newest process in full (how it ended, its warnings with cause and fix, its last runs), then the others."""
    title = f"st_memwatch report{': ' + name if name else ''} - history of {len(processes)} process(es)"
    if not processes:
        return title + "\n\nNo process has written to this history yet."
    out = [title, ""]
    *earlier, last = processes
    if not _still_running(last):  # the sentence the panel shows about the previous process, once restarted
        out += _wrapped(previous_line(_as_previous(last)), "")
        out.append("")
    out += _process_lines(last, "Last process", runs)
    if earlier:
        out.append("")
        out.append("Earlier processes (newest first):")
        for p in reversed(earlier[-20:]):
            out += _wrapped(f"pid {p.pid}, started {_unix(p.started)}: {_ending(p)}", "  ", "    ")
    return "\n".join(out)


def _process_lines(p: ProcessRecord, label: str, runs: int) -> list[str]:
    out = [f"{label}: pid {p.pid}, started {_unix(p.started)}, {p.runs_total:,} runs"]
    out += _wrapped("Ended: " + _ending(p), "", "       ")
    share = f" ({p.rss / p.limit:.0%})" if p.limit else ""
    out.append(f"Memory at the last write: RSS {format_bytes(p.rss)} of {format_bytes(p.limit) if p.limit else 'no known limit'}{share}")
    if p.peak_sample:
        out.append(f"  highest sample: {format_bytes(p.peak_sample)}")
    out.append("")
    if not p.episodes:
        out.append("Warnings: none (no warning was on while this process ran)")
    else:
        out.append("Warnings (oldest first):")
        for e in p.episodes:
            still = "still on at the end" if e["ended"] is None else f"ended {_unix(e['ended'])}"
            out += _wrapped(f"[{e['level']}] {e['message']}", "  ", "    ")
            rate = f", {_signed(e['bytes_per_run'])}/run" if e.get("bytes_per_run") else ""
            out.append(f"    from {_unix(e['started'])}, {still}; RSS then {format_bytes(e['rss'])}{rate}")
            if e.get("cause"):
                out.append(f"    cause: {e['cause']}")
            if e.get("fix"):
                out += _wrapped("fix: " + e["fix"], "    ", "      ")
    out.append("")
    shown = p.runs[-runs:] if runs else []
    if not p.runs:
        out.append("No runs recorded.")
    else:
        out.append(f"Last runs ({len(shown)} of {p.runs_total:,}):")
        rows = [
            (str(r["run_id"]), str(r["session"]), _unix(r["started"], short=True), f"{(r['duration_s'] or 0) * 1000:.0f} ms",
             str(r["kind"]), str(r["outcome"]), format_bytes(r["rss_after"]),
             _signed((r["rss_after"] or 0) - (r["rss_before"] or 0)), format_bytes(r["peak"]))
            for r in shown
        ]  # fmt: skip
        out += _table(RUN_HEADERS, rows)
    return out


def _as_previous(p: ProcessRecord) -> dict[str, Any]:
    """The process in the form ``HistoryStore.previous`` gives it (what ``previous_line`` reads)."""
    return {
        "ended": "cleanly" if p.end_kind == "cleanly" else "abruptly",
        "ended_unix": p.ended if p.ended is not None else p.beat,
        "rss": p.rss,
        "limit": p.limit,
        "runs_total": p.runs_total,
        "episodes": [e | {"started_unix": e["started"], "ended_unix": e["ended"]} for e in p.episodes],
    }


def _ending(p: ProcessRecord) -> str:
    if p.end_kind == "cleanly":
        return f"cleanly at {_unix(p.ended or p.beat)}"
    if _still_running(p):
        return f"still running (last write {_unix(p.beat)})"
    text = f"abruptly, after its last write at {_unix(p.beat)} (no end mark: killed, or crashed)"
    high = max(p.rss, p.peak_sample)
    if p.limit and high >= NEAR_LIMIT * p.limit:
        text += f"; memory had reached {format_bytes(high)} of {format_bytes(p.limit)}: most likely the out-of-memory killer"
    return text


def _still_running(p: ProcessRecord) -> bool:
    import time

    from st_memwatch.core.history import STALE_S

    if p.ended is not None or time.time() - p.beat >= STALE_S:
        return False
    try:
        os.kill(p.pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return p.pid != os.getpid()


# -- text helpers ---------------------------------------------------------------------------
def _signed(n: float | None) -> str:
    if n is None:
        return "n/a"
    return ("+" if n >= 0 else "") + format_bytes(n)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _unix(t: float | None, short: bool = False) -> str:
    if t is None:
        return "n/a"
    moment = datetime.fromtimestamp(t, tz=timezone.utc)
    return moment.strftime("%H:%M:%S" if short else "%Y-%m-%d %H:%M:%S UTC")


def _when(t: float, offset: float, short: bool = False) -> str:
    """A monotonic time as UTC when the record knows its offset, else as the seconds it is."""
    return _unix(t + offset, short) if offset else f"t={t:.1f} s"


def _wrapped(text: str, indent: str, rest: str | None = None) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent if rest is None else rest) or [indent]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  " + "  ".join(f"{{:{'>' if i in _RIGHT else '<'}{w}}}" for i, w in enumerate(widths))
    return [line.format(*headers).rstrip(), *(line.format(*r).rstrip() for r in rows)]

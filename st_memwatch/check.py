"""Headless leak check: run an app's script N times in-process and judge the growth.

Why AppTest, in-process: it runs the real script with the real ScriptRunner, so
the same run hooks, census, cache and session readers as the live panel apply,
and no browser or server is needed in CI. Throttling is switched off: every run
gets a census and a size reading, since here precision beats latency.

Why the verdict needs more than RSS: Python's allocators keep freed memory, so
RSS can climb while nothing is alive. A leak is called when a suspect (a type, a
cache, a session_state key) grows steadily after warm-up, or when RSS *and* the
census's live bytes both grow steadily.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from st_memwatch.core import analysis
from st_memwatch.core.limits import format_bytes, parse_limit
from st_memwatch.core.models import SuspectKind

DEFAULT_RUNS = 30
MIN_RUNS = 10  # three warm-up runs, then enough to tell what Streamlit keeps from its first runs from a leak
SUSPECTS_SHOWN = 8


class CheckError(Exception):
    """The app could not be checked (exit status 2)."""


class StopChecking(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a driver that has nothing left to do: the check ends after the runs made."""


@dataclass
class CheckReport:
    app: str
    runs: int
    leak: bool
    growth_bytes_per_run: float
    heap_growth_bytes_per_run: float
    peak_rss: int
    rss_first: int
    rss_last: int
    limit: dict[str, Any]
    suspects: list[dict[str, Any]]
    caches: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    errors: list[str] = field(default_factory=list)
    failed_runs: int = 0
    notes: list[str] = field(default_factory=list)
    verdict_reason: str = ""
    # Live bytes the census found at the first and last run: the Python-heap
    # figure beside RSS, so allocator retention (RSS up, these flat) shows.
    python_heap_first: int | None = None
    python_heap_last: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Recorder:
    """The per-run figures the verdict is drawn from, kept here for the whole check.

    Wraps the monitor's run end: unreachable cycles are collected first (see
    below), then, once the monitor has taken its census and read cache and
    session sizes, their figures are filed as one point per run. The monitor
    keeps its own bounded series for the live panel; the check fits its own,
    over every run it made, with warm-up and window sized to the check.

    Why collect first: objects in reference cycles (pandas frames and their
    block managers, for one) outlive their run until the collector sweeps its
    oldest generation, which in a process holding ~10^5 objects happens only
    every few dozen runs. Until then the census counts them as live, and a
    look-alike that drops a 0.5 MB frame per run looks like a leak of 0.5 MB
    per run. Nothing reachable is freed, so a true leak keeps every byte.

    Figures go into one preallocated int64 array per name: filing a run creates
    no Python objects, so the census never sees this bookkeeping grow.
    """

    def __init__(self, monitor: Any, runs: int) -> None:
        self.monitor = monitor
        self.capacity = runs
        self._rows: dict[tuple[SuspectKind, str], Any] = {}  # name -> int64 (runs, 2): count, bytes; -1 = absent
        self._heap = np.full(runs, -1.0)
        self.runs = 0
        self._census: object = None
        finished: Callable[..., Any] = monitor.run_finished

        def run_finished(*args: Any, **kwargs: Any) -> Any:
            gc.collect()
            record = finished(*args, **kwargs)
            if record is not None and self.runs < self.capacity:
                self._file(self.runs, record.session)
                self.runs += 1
            return record

        monitor.run_finished = run_finished

    def _add(self, kind: SuspectKind, name: str, i: int, count: int, size: int) -> None:
        rows = self._rows.get((kind, name))
        if rows is None:
            rows = self._rows[(kind, name)] = np.full((self.capacity, 2), -1, dtype=np.int64)
        rows[i, 0] = count
        rows[i, 1] = size

    def _file(self, i: int, session: str) -> None:
        m = self.monitor
        census = m.last_census
        if census is not None and census is not self._census:
            self._census = census
            total = 0
            for stat in census.stats:
                if stat.type_name.startswith(analysis.OWN_PREFIX):
                    continue
                total += stat.bytes
                self._add("type", stat.type_name, i, stat.count, stat.bytes)
            self._heap[i] = total
        for cache in m.caches:
            self._add("cache", cache.function, i, cache.entries, cache.bytes or 0)
        usage = m.sessions.get(session)
        if usage is not None:
            for key, size in usage.largest_keys:
                self._add("session_state", key, i, 1, size)

    @property
    def series(self) -> dict[tuple[SuspectKind, str], list[analysis.Point]]:
        """Per name, (run number, count, bytes) for the runs where it was measured."""
        out: dict[tuple[SuspectKind, str], list[analysis.Point]] = {}
        for key, rows in self._rows.items():
            seen = np.flatnonzero(rows[: self.runs, 0] >= 0)
            out[key] = [(float(i + 1), int(rows[i, 0]), int(rows[i, 1])) for i in seen]
        return out

    @property
    def heap(self) -> list[float]:
        """Live bytes the census found, per run that had a census."""
        return [float(v) for v in self._heap[: self.runs] if v >= 0]


def check_thresholds(runs: int) -> analysis.Thresholds:
    """Warm-up grows with the check: a fifth of the runs, at least two.

    A cache filling to max_entries, a window of results filling to its maxlen,
    and Streamlit 1.40 keeping the namespaces of the last few runs alive are all
    growth that stops within the first runs; the verdict looks past them, and
    the recent half of what remains must still grow.
    """
    return analysis.Thresholds(warmup=max(3, runs // 5), window=max(runs, MIN_RUNS))


# Types whose instances are measured for what they hold: classes written in Python
# (a model, a handler, a frame), told by their instance __dict__ or __slots__.
# Builtin containers name no place in the code, and leaf types (str, bytes,
# arrays) hold nothing further.
HOLDER_MIN_COUNT_PER_RUN = 0.5
HOLDER_BUDGET_S = 0.5
HOLDERS_MAX = 8


def _python_classes() -> dict[str, type]:
    from st_memwatch.core.census import type_name

    out: dict[str, type] = {}
    for obj in gc.get_objects():
        t = type(obj)
        if t.__module__ != "builtins" and (t.__dictoffset__ or "__slots__" in vars(t)):
            out.setdefault(type_name(t), t)
    return out


def measure_holders(series: dict[tuple[SuspectKind, str], list[analysis.Point]], th: analysis.Thresholds) -> dict[str, float]:
    """Bytes each instance keeps alive, for Python classes whose instances keep being added.

    The instances are split in two halves and sized with one shared walk: the
    second half's newly reached bytes, per instance, is what one more instance
    adds. Whatever the instances share (a config, a common table) was already
    counted in the first half, so it is not charged to every one of them.
    """
    from st_memwatch.core.sizing import DeepSizer

    wanted: list[tuple[float, str]] = []
    for (kind, name), pts in series.items():
        if kind != "type" or name.startswith(analysis.OWN_PREFIX):
            continue
        g = analysis.growth_after_warmup([p[0] for p in pts], [float(p[1]) for p in pts], th)
        if g is not None and g.sustained_slope >= HOLDER_MIN_COUNT_PER_RUN and g.sustained_share >= th.min_steady:
            wanted.append((g.sustained_slope, name))
    if not wanted:
        return {}
    classes = _python_classes()
    held: dict[str, float] = {}
    for _, name in sorted(wanted)[:HOLDERS_MAX]:
        cls = classes.get(name)
        if cls is None:
            continue
        instances = [o for o in gc.get_objects() if type(o) is cls]
        if len(instances) < 2:
            continue
        half = len(instances) // 2
        second = len(instances) - half
        sizer = DeepSizer()
        sizer.measure_many(instances[:half], HOLDER_BUDGET_S)
        added, complete = sizer.measure_many(instances[half:], HOLDER_BUDGET_S)
        del instances
        if complete:
            held[name] = added / second
    return held


Driver = Callable[[Any, int], "str | None"]
"""Acts on the AppTest before run ``run_index`` (0-based) and says in a few words what it did."""

SCRIPT_SUFFIXES = (".py", ".pyw")


def validate_app(app: str | os.PathLike[str]) -> Path:
    """The app's script path, or CheckError saying why it cannot be a Streamlit script."""
    path = Path(app)
    if path.is_dir():
        raise CheckError(f"{str(app)!r} is a directory: expected the path to the app's script")
    if not path.is_file():
        raise CheckError(f"app script not found: {str(app)!r}")
    if path.suffix.lower() not in SCRIPT_SUFFIXES:
        raise CheckError(
            f"{path.name!r} is not a Python script: expected the app's .py file (the one you pass to `streamlit run`)"
        )
    # AppTest reports a compile error as an empty page, not an exception: catch it here,
    # or a script that cannot even start would pass as "no leak".
    try:
        compile(path.read_bytes(), str(path), "exec")
    except SyntaxError as exc:
        raise CheckError(f"the script does not compile: SyntaxError: {exc.msg} ({path.name}, line {exc.lineno})") from None
    except (OSError, ValueError) as exc:
        raise CheckError(f"cannot read the script {str(app)!r}: {type(exc).__name__}: {exc}") from None
    return path


class _QuietLogs(logging.Filter):
    """Streamlit's log lines that say nothing to someone checking an app.

    "missing ScriptRunContext" is Streamlit noticing it runs outside a server,
    which is the point of a headless check. A script that raises on every run
    would print one traceback per run: the first of each distinct error is kept,
    the repeats are counted and summed up in one line when the check ends.
    """

    CONTEXT_WARNING = "missing ScriptRunContext"

    def __init__(self) -> None:
        super().__init__("st_memwatch.check")
        self.repeats: dict[str, int] = {}
        self._loggers: list[logging.Logger] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if self.CONTEXT_WARNING in message:
            return False
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            key = f"{type(exc).__name__}: {_first_line(str(exc))}"
            if key in self.repeats:
                self.repeats[key] += 1
                return False
            self.repeats[key] = 0
        return True

    def install(self) -> None:
        import streamlit.logger as st_logger

        registry = getattr(st_logger, "_loggers", {})
        self._loggers = [logging.getLogger("streamlit"), *registry.values()]
        for log in self._loggers:
            log.addFilter(self)

    def close(self) -> None:
        for log in self._loggers:
            log.removeFilter(self)
        self._loggers = []
        for key, count in self.repeats.items():
            if count:
                print(f"st-memwatch: the same error in {count} more run{'s' if count != 1 else ''} ({key})", file=sys.stderr)
        self.repeats.clear()


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:200] if lines else ""


def run_check(
    app: str | os.PathLike[str],
    runs: int = DEFAULT_RUNS,
    limit: object = None,
    timeout_s: float = 60.0,
    driver: Driver | None = None,
    on_run_end: Callable[[int], None] | None = None,
) -> CheckReport:
    """Run ``app`` ``runs`` times and return the report; raises CheckError if it cannot run.

    ``driver(at, i)`` is called before run ``i`` to act on the app as a visitor would
    (click, select, type); its answer says what it did. ``on_run_end(i)`` is told
    when run ``i`` has finished (the sandbox's per-run deadline listens to it).
    """
    path = validate_app(app)
    if not isinstance(runs, int) or isinstance(runs, bool) or runs < MIN_RUNS:
        raise CheckError(f"invalid --runs {runs!r}: expected a whole number >= {MIN_RUNS}")
    resolved_limit = None
    if limit is not None:
        try:
            parse_limit(limit)
        except ValueError as exc:
            raise CheckError(f"--limit: {exc}") from None
        resolved_limit = limit
    if not isinstance(timeout_s, (int, float)) or isinstance(timeout_s, bool) or not 0 < timeout_s < float("inf"):
        raise CheckError(f"invalid --timeout {timeout_s!r}: expected seconds per run, a number greater than 0")

    quiet = _QuietLogs()
    try:
        quiet.install()
    except ImportError as exc:  # pragma: no cover - streamlit is a dependency
        raise CheckError(f"streamlit is unavailable: {exc}") from None

    import st_memwatch
    from st_memwatch.streamlit_bridge import runs as run_hooks
    from st_memwatch.streamlit_bridge import wire_readers

    try:
        from streamlit.testing.v1 import AppTest
    except ImportError as exc:  # pragma: no cover - streamlit is a dependency
        raise CheckError(f"streamlit.testing is unavailable: {exc}") from None

    monitor = st_memwatch._reset_for_tests(census_every_run=True)
    recorder = _Recorder(monitor, runs)
    limit_obj = monitor.resolve_limit(resolved_limit)
    problem = run_hooks.install(monitor)
    if problem:
        quiet.close()
        raise CheckError(f"cannot observe runs on this streamlit: {problem}")
    wire_readers(monitor)

    app_dir = str(path.resolve().parent)
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    errors: list[str] = []
    failed = 0
    th = check_thresholds(runs)
    held: dict[str, float] = {}
    try:
        at = AppTest.from_file(str(path.resolve()), default_timeout=timeout_s)
        for i in range(runs):
            if driver is not None:
                try:
                    driver(at, i)
                except StopChecking:
                    break
                except Exception as exc:  # the scenario's own bug: a clear stop, not a verdict
                    raise CheckError(f"the driver raised before run {i + 1}: {type(exc).__name__}: {_first_line(str(exc))}") from None
            try:
                at.run()
            except Exception as exc:  # a timeout or a crash inside the harness
                failed += 1
                errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                continue
            finally:
                if on_run_end is not None:
                    on_run_end(i)
            if at.exception:
                failed += 1
                errors.append(_first_line(str(at.exception[0].value or "")) or "exception")
        if failed < runs:
            held = measure_holders(recorder.series, th)  # while the app's objects are still alive
    finally:
        quiet.close()
        snap = monitor.snapshot(limit=limit_obj, timeline_points=0)
        st_memwatch.stop()
    if failed == runs:
        first = errors[0] if errors else "unknown error"
        raise CheckError(f"the script raised on every run ({runs}): {first}")

    caches_now = {c.function: c for c in snap.caches}
    suspects = analysis.find_suspects(recorder.series, caches_now, th, top=SUSPECTS_SHOWN, held=held)
    rss_leak, rss_slope, rss_share = analysis.rss_grows_steadily(snap.runs, th)
    rss_rate = analysis.quoted_growth(snap.trend, rss_slope)  # the figure the warnings quote too
    heap_growth = analysis.growth_after_warmup(range(len(recorder.heap)), recorder.heap, th)
    census_ok = heap_growth is not None
    heap_slope = heap_growth.sustained_slope if heap_growth is not None else 0.0
    # Without a census, RSS alone decides: better a warning to check than a silent leak.
    heap_leak = (
        heap_growth.sustained_share >= th.min_steady and heap_slope >= th.min_suspect_bytes_per_run
        if heap_growth is not None
        else rss_leak
    )
    leaking = [s for s in suspects if analysis.is_leaking(s, th)]
    if leaking:
        top = leaking[0]
        reason = f"{top.kind} {top.name} grows by {format_bytes(top.growth_bytes_per_run)} per run in {top.steady:.0%} of runs after warm-up"
    elif rss_leak and heap_leak:
        what = "RSS and live Python bytes grow" if census_ok else "RSS grows (no census to confirm)"
        reason = f"{what} steadily ({format_bytes(rss_rate)} per run)"
    elif rss_leak:
        reason = f"RSS grows ({format_bytes(rss_rate)}/run) but live objects do not: allocator retention, not a leak"
    else:
        reason = "no sustained growth after warm-up"
    leak = bool(leaking) or (rss_leak and heap_leak)
    d = snap.to_dict()
    finished = list(snap.runs)
    warnings = analysis.build_warnings(snap.rss, snap.limit.bytes, snap.trend, (rss_leak, rss_slope, rss_share), suspects, snap.caches, th)
    return CheckReport(
        app=str(path),
        runs=len(finished),
        leak=leak,
        growth_bytes_per_run=rss_rate,
        heap_growth_bytes_per_run=heap_slope,
        peak_rss=max((r.peak for r in finished), default=snap.rss),
        rss_first=finished[0].rss_before if finished else snap.rss,
        rss_last=finished[-1].rss_after if finished else snap.rss,
        limit=d["limit"],
        suspects=[
            {
                "kind": s.kind,
                "name": s.name,
                "growth_bytes_per_run": s.growth_bytes_per_run,
                "growth_count_per_run": s.growth_count_per_run,
                "steady": s.steady,
                "leaking": analysis.is_leaking(s, th),
                "holds_bytes_each": held.get(s.name) if s.kind == "type" else None,
                "advice": s.advice,
            }
            for s in suspects
        ],
        caches=d["caches"],
        warnings=[asdict(w) for w in warnings],
        errors=errors[:10],
        failed_runs=failed,
        notes=d["notes"],
        verdict_reason=reason,
        python_heap_first=int(recorder.heap[0]) if recorder.heap else None,
        python_heap_last=int(recorder.heap[-1]) if recorder.heap else None,
    )


def format_report(r: CheckReport) -> str:
    """The short, readable report for people (the JSON form is for machines)."""
    verdict = "LEAK" if r.leak else "no leak"
    heap = (
        f"{format_bytes(r.python_heap_first)} -> {format_bytes(r.python_heap_last)}"
        if r.python_heap_first is not None and r.python_heap_last is not None
        else "not measured"
    )
    lines = [
        f"st_memwatch check: {r.app} - {r.runs} runs - {verdict}",
        f"  why: {r.verdict_reason}",
        f"  RSS {format_bytes(r.rss_first)} -> {format_bytes(r.rss_last)} "
        f"({'+' if r.growth_bytes_per_run >= 0 else ''}{format_bytes(r.growth_bytes_per_run)}/run), "
        f"peak {format_bytes(r.peak_rss)}",
        f"  live Python bytes {heap} ({'+' if r.heap_growth_bytes_per_run >= 0 else ''}"
        f"{format_bytes(r.heap_growth_bytes_per_run)}/run)",
    ]
    if r.failed_runs:
        lines.append(f"  {r.failed_runs} of {r.runs} runs raised: {r.errors[0] if r.errors else ''}")
    shown = [s for s in r.suspects if s["leaking"]]
    if not shown and r.suspects:
        # Candidates that did not grow enough or steadily enough: named, not diagnosed.
        lines.append(
            "  nothing grows steadily; largest trends: "
            + ", ".join(f"{s['kind']} {s['name']} {'+' if s['growth_bytes_per_run'] >= 0 else ''}"
                        f"{format_bytes(s['growth_bytes_per_run'])}/run" for s in r.suspects[:3])
        )
    if shown:
        lines.append("  suspects:")
        for s in shown[:3]:
            lines.append(
                f"    - {s['kind']} {s['name']}: +{format_bytes(s['growth_bytes_per_run'])}/run, "
                f"+{s['growth_count_per_run']:.1f} objects/run, grew in {s['steady']:.0%} of runs"
            )
            lines.append(f"      fix: {s['advice']}")
    if r.caches:
        lines.append("  caches:")
        for c in r.caches:
            bound = ", ".join(
                x for x in (f"ttl={c['ttl_s']:g}s" if c["ttl_s"] is not None else "", f"max_entries={c['max_entries']}" if c["max_entries"] is not None else "") if x
            ) or "unbounded"
            lines.append(f"    - {c['kind']} {c['function']}: {c['entries']} entries, {format_bytes(c['bytes'])} ({bound})")
    for note in r.notes[:3]:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def report_json(r: CheckReport) -> str:
    return json.dumps(r.to_dict())

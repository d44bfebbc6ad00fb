"""Headless leak check: run an app's script N times in-process and judge the growth.

Why AppTest, in-process: it runs the real script with the real ScriptRunner, so
the same run hooks, census, cache and session readers as the live panel apply,
and no browser or server is needed in CI. Throttling is switched off: every run
gets a census and a size reading, since here precision beats latency.

The verdict is the live panel's own: the check records through the same monitor
and reads ``judgement.judge``'s verdict from its snapshot, so the report, its JSON,
the pytest helper and the panel quote one rate and one holder. What the check adds
is precision: a census after every run (the runner collects cycles first, as the
server does), series that keep every run, and what one more instance of a growing
class keeps alive (``measure_holders``), measured while the app's objects live.

Why a check may stop before ``--runs`` (``settle=True``, the default of the command):
once the process's warm-up is over and the live heap and RSS have not grown for
``SETTLE_STEPS`` steps in a row, with no verdict of a leak and no suspect leaking,
the runs left could only show a leak that starts later, which a repeated rerun
does not do; ``--thorough`` makes every run.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from st_memwatch.core import analysis
from st_memwatch.core.holders import measure_holders
from st_memwatch.core.ledger import OWNERS
from st_memwatch.core.limits import format_bytes, parse_limit
from st_memwatch.core.models import Snapshot

DEFAULT_RUNS = 30
MIN_RUNS = 10  # three warm-up runs, then enough to tell what Streamlit keeps from its first runs from a leak
SUSPECTS_SHOWN = 8
HOLDER_SEARCH_BUDGET_S = 2.0
SETTLE_STEPS = 7  # flat steps in a row, after the process's warm-up, that end a settling check early
SETTLE_MIN_RUNS = MIN_RUNS  # a settling check makes at least this many runs


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
    since_run: int | None = None  # the run at which the current growth started
    holders: list[dict[str, Any]] = field(default_factory=list)  # what keeps it, most specific first
    settled_at: int | None = None  # the run after which memory was flat long enough to stop (settle=True)
    # Where the memory was, by owner (``core.ledger.OWNERS``): first and last bytes and the rate per run;
    # ``ledger_missing``: owners this platform could not measure.
    ledger: dict[str, dict[str, float]] = field(default_factory=dict)
    ledger_missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_thresholds(runs: int) -> analysis.Thresholds:
    """Warm-up grows with the check: a fifth of the runs, at least two.

    A cache filling to max_entries, a window of results filling to its maxlen,
    and Streamlit 1.40 keeping the namespaces of the last few runs alive are all
    growth that stops within the first runs; the verdict looks past them, and
    the recent half of what remains must still grow.
    """
    return analysis.Thresholds(warmup=max(3, runs // 5), window=max(runs, MIN_RUNS))


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
        self._rich: object = None

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
        import streamlit as st
        import streamlit.logger as st_logger

        registry = getattr(st_logger, "_loggers", {})
        self._loggers = [logging.getLogger("streamlit"), *registry.values()]
        for log in self._loggers:
            log.addFilter(self)
        # With rich installed Streamlit prints a run's traceback itself, past the loggers: ask for the logger.
        try:
            self._rich = st.get_option("logger.enableRich")
            st.set_option("logger.enableRich", False)
        except Exception:  # noqa: BLE001 - a Streamlit without the option logs through the loggers anyway
            self._rich = None

    def close(self) -> None:
        if self._rich is not None:
            import streamlit as st

            try:
                st.set_option("logger.enableRich", self._rich)
            except Exception:  # noqa: BLE001
                pass
            self._rich = None
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


_active: list[Any] = [None]  # the Monitor of the check running in this process


def live_bytes(wait_s: float = 30.0, after: object = None) -> tuple[object, int | None]:
    """The last census of the running check (as a token) and its live bytes, waiting for one newer than ``after``.

    The check takes a census at the end of every run, in the script thread, and
    AppTest can return before it is done: on a loaded machine that takes seconds,
    and a step read from the previous census would be lost. Outside a check
    nothing measures: ``(None, None)``.
    """
    deadline = time.monotonic() + wait_s
    while True:
        monitor = _active[0]
        if monitor is None:
            return None, None
        census = monitor.last_census
        if census is not None and census is not after:
            total = sum(s.bytes for s in census.stats if not s.type_name.startswith(analysis.OWN_PREFIX))
            return census, int(total)
        if time.monotonic() > deadline:
            return census, None
        time.sleep(0.005)


def _census_of(monitor: Any, x: int, wait_s: float = 30.0) -> bool:
    """Wait for run ``x``'s census to be filed (AppTest can return first); False when none comes."""
    deadline = time.monotonic() + wait_s
    while True:
        heap = monitor.heap_series()
        if heap and heap[-1][0] >= x:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)


def _settled(monitor: Any, th: analysis.Thresholds, done: int) -> bool:
    """Has memory been flat long enough after warm-up that the runs left cannot change the verdict?

    Flat, over the last SETTLE_STEPS steps of the live heap (one complete census per
    run) and of RSS: fewer than half of the steps at or above the verdict's floor, and
    less than half the floor per step in all. A leak at the floor's rate grows at
    nearly every step, and by the floor at each; an app's noise goes up and down.
    Also no verdict of a leak and no suspect that leaks.
    """
    if done < max(SETTLE_MIN_RUNS, th.process_warmup_runs + 1 + SETTLE_STEPS):
        return False
    verdict = monitor.verdict
    if verdict is None or verdict.leak or verdict.warming_up:
        return False
    if any(analysis.is_leaking(s, th) for s in monitor.suspects):
        return False
    heap = monitor.heap_series()[-(SETTLE_STEPS + 1):]
    if len(heap) < SETTLE_STEPS + 1 or heap[-1][0] != done or heap[-1][0] - heap[0][0] != SETTLE_STEPS:
        return False  # a census missing or late: no evidence, no stop
    runs = monitor.runs.last(SETTLE_STEPS + 1)
    if len(runs) < SETTLE_STEPS + 1:
        return False
    return _flat([b for _, b in heap], th.min_suspect_bytes_per_run) and _flat(
        [r.rss_after for r in runs], th.min_rss_bytes_per_run
    )


def _flat(values: Sequence[float], floor: float) -> bool:
    steps = [b - a for a, b in zip(values, values[1:], strict=False)]
    growing = sum(1 for step in steps if step >= floor)
    return 2 * growing < len(steps) and values[-1] - values[0] < floor * len(steps) / 2


def run_check(
    app: str | os.PathLike[str],
    runs: int = DEFAULT_RUNS,
    limit: object = None,
    timeout_s: float = 60.0,
    driver: Driver | None = None,
    on_run_end: Callable[[int], None] | None = None,
    settle: bool = False,
    on_settled: Callable[[int], None] | None = None,
) -> CheckReport:
    """Run ``app`` ``runs`` times and return the report; raises CheckError if it cannot run.

    ``driver(at, i)`` is called before run ``i`` to act on the app as a visitor would
    (click, select, type); its answer says what it did, and StopChecking from it ends
    the runs early. ``on_run_end(i)`` is told when run ``i`` has finished (the
    sandbox's per-run deadline listens to it). With ``settle`` the runs end once
    memory has been flat long enough after warm-up (``_settled``); ``on_settled(i)``
    is told after run ``i`` when they do.
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
    import st_memwatch
    from st_memwatch.streamlit_bridge import runs as run_hooks
    from st_memwatch.streamlit_bridge import wire_readers

    try:
        from streamlit.testing.v1 import AppTest
    except ImportError as exc:  # pragma: no cover - streamlit is a dependency
        raise CheckError(f"streamlit.testing is unavailable: {exc}") from None

    th = check_thresholds(runs)
    # Every run gets a census and a size reading, and the series keep every run of the check.
    monitor = st_memwatch.fresh_monitor(census_every_run=True, series_window=max(runs, MIN_RUNS), thresholds=th)
    limit_obj = monitor.resolve_limit(resolved_limit)
    problem = run_hooks.install(monitor)
    if problem:
        quiet.close()
        raise CheckError(f"cannot observe runs on this streamlit: {problem}")
    wire_readers(monitor)
    # After AppTest and the hooks are imported: the loggers that print a run's traceback exist now.
    try:
        quiet.install()
    except ImportError as exc:  # pragma: no cover - streamlit is a dependency
        raise CheckError(f"streamlit is unavailable: {exc}") from None

    app_dir = str(path.resolve().parent)
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    errors: list[str] = []
    failed = 0
    settled_at: int | None = None
    _active[0] = monitor
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
            elif settle and SETTLE_MIN_RUNS <= i + 1 < runs and _census_of(monitor, i + 1) and _settled(monitor, th, i + 1):
                settled_at = i + 1
                if on_settled is not None:
                    on_settled(i)
                break
        if failed < runs:
            # While the app's objects are still alive: what one more instance of a growing class keeps.
            monitor.set_holdings(measure_holders(monitor.series_points(), th))
            if monitor.search_holders(HOLDER_SEARCH_BUDGET_S):  # what keeps the growing types
                monitor.set_holdings(monitor.held)
        snap = monitor.snapshot(limit=limit_obj, timeline_points=0)
    finally:
        _active[0] = None
        quiet.close()
        st_memwatch.stop()
    if failed == runs:
        first = errors[0] if errors else "unknown error"
        raise CheckError(f"the script raised on every run ({runs}): {first}")
    report = _report(
        str(path), snap, monitor.heap_series(), monitor.held, errors, failed, th, monitor.runs_total, monitor.ledger_series()
    )
    report.settled_at = settled_at
    return report


def _report(
    app: str,
    snap: Snapshot,
    heap: Sequence[tuple[float, int]],
    held: Mapping[str, float],
    errors: list[str],
    failed: int,
    th: analysis.Thresholds,
    runs_total: int,
    ledger_series: Mapping[str, Sequence[tuple[float, int]]] | None = None,
) -> CheckReport:
    """The report, from the snapshot's verdict: the figures every other surface shows."""
    verdict = snap.verdict
    assert verdict is not None
    d = snap.to_dict()
    finished = list(snap.runs)
    # The live heap's rate as the verdict read it: over the growing regime, else the
    # live series a leak RSS has not shown yet was judged on, else none.
    judged_heap = verdict.python_bytes_per_run
    if judged_heap is None and verdict.leak:
        judged_heap = verdict.bytes_per_run
    return CheckReport(
        app=app,
        runs=len(finished),
        leak=verdict.leak,
        growth_bytes_per_run=verdict.bytes_per_run,
        heap_growth_bytes_per_run=judged_heap if judged_heap is not None else 0.0,
        peak_rss=max((r.peak for r in finished), default=snap.rss),
        rss_first=finished[0].rss_before if finished else snap.rss,
        rss_last=finished[-1].rss_after if finished else snap.rss,
        limit=d["limit"],
        suspects=_suspects(snap, held, th),
        caches=d["caches"],
        warnings=d["warnings"],
        errors=errors[:10],
        failed_runs=failed,
        notes=d["notes"],
        verdict_reason=verdict.reason,
        python_heap_first=int(heap[0][1]) if heap else None,
        python_heap_last=int(heap[-1][1]) if heap else None,
        since_run=verdict.since_run,
        holders=d["verdict"]["holders"],
        ledger=_ledger(ledger_series or {}),
        ledger_missing=list((snap.ledger or {}).get("missing", [])),
    )


def _ledger(series: Mapping[str, Sequence[tuple[float, int]]]) -> dict[str, dict[str, float]]:
    """Each owner of the process's memory: its bytes at the first and last reading, and its rate per run."""
    out: dict[str, dict[str, float]] = {}
    for owner, points in series.items():
        if not points:
            continue
        xs, ys = [x for x, _ in points], [float(b) for _, b in points]
        rate = analysis.theil_sen(xs, ys) if len(points) >= 2 else 0.0
        out[owner] = {"first": ys[0], "last": ys[-1], "bytes_per_run": rate}
    return out


def _suspects(snap: Snapshot, held: Mapping[str, float], th: analysis.Thresholds) -> list[dict[str, Any]]:
    """The verdict's holders first (they name the culprit), then the other suspects for context."""
    verdict = snap.verdict
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for h in verdict.holders if verdict is not None else ():
        seen.add((h.kind, h.name))
        out.append({
            "kind": h.kind, "name": h.name, "growth_bytes_per_run": h.bytes_per_run, "growth_count_per_run": 0.0,
            "steady": 1.0, "leaking": True, "holds_bytes_each": held.get(h.name) if h.kind == "type" else None,
            "advice": h.advice, "session": h.session, "chain": list(h.chain),
        })
    for s in snap.suspects:
        if (s.kind, s.name) in seen:
            continue
        out.append({
            "kind": s.kind, "name": s.name, "growth_bytes_per_run": s.growth_bytes_per_run,
            "growth_count_per_run": s.growth_count_per_run, "steady": s.steady,
            "leaking": bool(verdict is not None and verdict.leak and analysis.is_leaking(s, th)),
            "holds_bytes_each": held.get(s.name) if s.kind == "type" else None, "advice": s.advice,
            "session": "", "chain": [],
        })
    return out[:SUSPECTS_SHOWN]


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
    if r.ledger:
        parts = [
            f"{owner.replace('_', ' ')} {format_bytes(int(r.ledger[owner]['last']))}"
            + (f" ({'+' if rate >= 0 else ''}{format_bytes(rate)}/run)" if abs(rate := r.ledger[owner]["bytes_per_run"]) >= 1024 else "")
            for owner in OWNERS
            if owner in r.ledger and owner not in r.ledger_missing
        ]
        missing = f"; not measurable here: {', '.join(m.replace('_', ' ') for m in r.ledger_missing)}" if r.ledger_missing else ""
        lines.append(f"  where the memory is: {', '.join(parts)}{missing}")
    if r.settled_at is not None:
        lines.append(f"  stopped after run {r.settled_at}: memory flat for {SETTLE_STEPS} runs after warm-up (--thorough makes every run)")
    if r.failed_runs:
        lines.append(f"  {r.failed_runs} of {r.runs} runs raised: {r.errors[0] if r.errors else ''}")
    shown = [s for s in r.suspects if s["leaking"]]
    if not shown and r.suspects:
        # Candidates that did not grow enough or steadily enough: named, not diagnosed.
        lines.append(
            "  nothing grows steadily; largest trends: "
            + ", ".join(f"{_named(s)} {'+' if s['growth_bytes_per_run'] >= 0 else ''}"
                        f"{format_bytes(s['growth_bytes_per_run'])}/run" for s in r.suspects[:3])
        )
    if shown:
        lines.append("  suspects:")
        for s in shown[:3]:
            lines.append(
                f"    - {_named(s)}: +{format_bytes(s['growth_bytes_per_run'])}/run, "
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


def _named(s: Mapping[str, Any]) -> str:
    """A suspect as people read it: "session_state gallery", "type str", or native memory by its name alone."""
    return str(s["name"]) if s["kind"] == "native" else f"{s['kind']} {s['name']}"


def report_json(r: CheckReport) -> str:
    return json.dumps(r.to_dict())

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

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from st_memwatch.core import analysis
from st_memwatch.core.limits import format_bytes, parse_size

DEFAULT_RUNS = 30
MIN_RUNS = 5


class CheckError(Exception):
    """The app could not be checked (exit status 2)."""


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _warm_steady(values: list[float], th: analysis.Thresholds) -> tuple[float, float]:
    tail = values[-th.window :]
    tail = tail[th.warmup :] if len(tail) > th.warmup + 3 else tail
    if len(tail) < 3:
        return 0.0, 0.0
    return analysis.theil_sen(range(len(tail)), tail), analysis.steady_share(tail)


def run_check(app: str | os.PathLike[str], runs: int = DEFAULT_RUNS, limit: object = None, timeout_s: float = 60.0) -> CheckReport:
    """Run ``app`` ``runs`` times and return the report; raises CheckError if it cannot run."""
    path = Path(app)
    if not path.is_file():
        raise CheckError(f"app script not found: {str(app)!r}")
    if not isinstance(runs, int) or isinstance(runs, bool) or runs < MIN_RUNS:
        raise CheckError(f"invalid --runs {runs!r}: expected a whole number >= {MIN_RUNS}")
    resolved_limit = None
    if limit is not None:
        try:
            parse_size(limit)
        except ValueError as exc:
            raise CheckError(str(exc)) from None
        resolved_limit = limit

    import st_memwatch
    from st_memwatch.streamlit_bridge import runs as run_hooks
    from st_memwatch.streamlit_bridge import wire_readers

    try:
        from streamlit.testing.v1 import AppTest
    except ImportError as exc:  # pragma: no cover - streamlit is a dependency
        raise CheckError(f"streamlit.testing is unavailable: {exc}") from None

    monitor = st_memwatch._reset_for_tests(census_every_run=True)
    limit_obj = monitor.resolve_limit(resolved_limit)
    problem = run_hooks.install(monitor)
    if problem:
        raise CheckError(f"cannot observe runs on this streamlit: {problem}")
    wire_readers(monitor)

    app_dir = str(path.resolve().parent)
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    errors: list[str] = []
    failed = 0
    try:
        at = AppTest.from_file(str(path.resolve()), default_timeout=timeout_s)
        for _ in range(runs):
            try:
                at.run()
            except Exception as exc:  # a timeout or a crash inside the harness
                failed += 1
                errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                continue
            if at.exception:
                failed += 1
                errors.append(str(at.exception[0].value).strip().splitlines()[0][:200] if at.exception[0].value else "exception")
    finally:
        snap = monitor.snapshot(limit=limit_obj, timeline_points=0)
        heap = [b for _, b in monitor.heap_totals]
        st_memwatch.stop()
    if failed == runs:
        first = errors[0] if errors else "unknown error"
        raise CheckError(f"the script raised on every run ({runs}): {first}")

    th = analysis.Thresholds()
    rss_leak, rss_slope, rss_share = analysis.rss_grows_steadily(snap.runs, th)
    heap_slope, heap_share = _warm_steady([float(b) for b in heap], th)
    census_ok = len(heap) >= MIN_RUNS
    # Without a census, RSS alone decides: better a warning to check than a silent leak.
    heap_leak = heap_share >= th.min_steady and heap_slope >= th.min_suspect_bytes_per_run if census_ok else rss_leak
    leaking = [s for s in snap.suspects if analysis.is_leaking(s, th)]
    if leaking:
        top = leaking[0]
        reason = f"{top.kind} {top.name} grows by {format_bytes(top.growth_bytes_per_run)} per run in {top.steady:.0%} of runs"
    elif rss_leak and heap_leak:
        what = "RSS and live Python bytes grow" if census_ok else "RSS grows (no census to confirm)"
        reason = f"{what} steadily ({format_bytes(rss_slope)} per run)"
    elif rss_leak:
        reason = f"RSS grows ({format_bytes(rss_slope)}/run) but live objects do not: allocator retention, not a leak"
    else:
        reason = "no steady growth after warm-up"
    leak = bool(leaking) or (rss_leak and heap_leak)
    d = snap.to_dict()
    finished = list(snap.runs)
    return CheckReport(
        app=str(path),
        runs=len(finished),
        leak=leak,
        growth_bytes_per_run=rss_slope if rss_share or rss_slope else 0.0,
        heap_growth_bytes_per_run=heap_slope,
        peak_rss=max((r.peak for r in finished), default=snap.rss),
        rss_first=finished[0].rss_before if finished else snap.rss,
        rss_last=finished[-1].rss_after if finished else snap.rss,
        limit=d["limit"],
        suspects=[
            {
                "kind": s["kind"],
                "name": s["name"],
                "growth_bytes_per_run": s["growth_bytes_per_run"],
                "growth_count_per_run": s["growth_count_per_run"],
                "steady": s["steady"],
                "leaking": analysis.is_leaking(x, th),
                "advice": s["advice"],
            }
            for s, x in zip(d["suspects"], snap.suspects, strict=True)
        ],
        caches=d["caches"],
        warnings=d["warnings"],
        errors=errors[:10],
        failed_runs=failed,
        notes=d["notes"],
        verdict_reason=reason,
    )


def format_report(r: CheckReport) -> str:
    """The short, readable report for people (the JSON form is for machines)."""
    verdict = "LEAK" if r.leak else "no leak"
    lines = [
        f"st_memwatch check: {r.app} - {r.runs} runs - {verdict}",
        f"  why: {r.verdict_reason}",
        f"  RSS {format_bytes(r.rss_first)} -> {format_bytes(r.rss_last)} "
        f"({'+' if r.growth_bytes_per_run >= 0 else ''}{format_bytes(r.growth_bytes_per_run)}/run), "
        f"peak {format_bytes(r.peak_rss)}; live Python bytes {'+' if r.heap_growth_bytes_per_run >= 0 else ''}"
        f"{format_bytes(r.heap_growth_bytes_per_run)}/run",
    ]
    if r.failed_runs:
        lines.append(f"  {r.failed_runs} of {r.runs} runs raised: {r.errors[0] if r.errors else ''}")
    shown = [s for s in r.suspects if s["leaking"]] or r.suspects[:3]
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

"""Memory held by st_memwatch itself in a long-lived app: it must level off once its buffers fill.

Part 1, runs and samples: 20,000 runs across 20 sessions and 48 hours of samples at
the default rate (10 Hz), on a simulated clock (no sleeping): one run every 8.64 s,
so 10,000 runs fall at 24 h. Memory is read at checkpoints (1 h, 1k runs, 12 h,
24 h = 10k runs, 48 h = 20k runs) two independent ways:
- ``tracemalloc``: live blocks allocated while st_memwatch code was on the stack
  (any frame), numpy's buffers included (numpy reports them to tracemalloc);
- ``walk``: the sizes of everything reachable from the Monitor (runs, sample
  buffers, series, census, notes, ...), each object counted once.
The heap census is kept from running here (its throttle is marked as just done, with
an infinite interval); part 2 measures what the census keeps. The trend/suspect
analysis, whose state is a few objects replaced on every run, is run only before
each checkpoint: under tracemalloc it would make 20,000 runs take minutes.

Part 2, census state: the per-type series the suspects come from, after 1, 10, 30
and 40 censuses (the series window is 30), with Streamlit, pandas and plotly
imported so the heap has the types of a real app.

Session ids: the bridge interns the id string of each ScriptRunner's session, so
the runs of one session share one string; this simulation does the same, in its
own frame, so ``held`` = tracemalloc's figure + those strings (``walk`` counts
them by itself).
"""

from __future__ import annotations

import functools
import gc
import itertools
import sys
import time
import tracemalloc
import uuid
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import Any

import _benchutil as bu

NAME = "bench_selfmem"
MIB = 2**20
MB = 10**6  # as parse_size reads "5MB"
RUN_SPACING_S = 86_400 / 10_000  # 10,000 runs in 24 h
SAMPLE_S = 0.1
SESSIONS = 20
PKG = str(bu.REPO / "st_memwatch")
FRAMES = 1  # the innermost frame: the fake clock and rss are C callables, so st_memwatch's frame is it


class FakeClock:
    """A settable clock whose readings are made in C, like ``time.monotonic()``.

    tracemalloc credits an allocation to the innermost Python frame; with C-level
    callables the floats the Monitor keeps are credited to st_memwatch's own code,
    as in a real app.
    """

    def __init__(self, start: float = 10_000.0) -> None:
        self._cell = array("d", [start])
        self.read = functools.partial(self._cell.__getitem__, 0)

    @property
    def t(self) -> float:
        return self._cell[0]

    @t.setter
    def t(self, value: float) -> None:
        self._cell[0] = value


def fake_rss() -> Callable[[], int]:
    """Flat memory (400 MiB) with 256 KiB of noise; a new int per reading, made in C as psutil does."""
    values = array("q", [400 * MIB + ((k * 7919) % 64) * 4096 for k in range(997)])
    return map(values.__getitem__, itertools.cycle(range(len(values)))).__next__


# -- measuring -------------------------------------------------------------------------
def traced_bytes() -> tuple[int, int]:
    """(all st_memwatch-attributed live bytes, of which numpy buffers)."""
    gc.collect()
    snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, PKG + "/*", all_frames=True)])
    total = sum(s.size for s in snap.statistics("filename"))
    numpy_domain = 389047  # numpy's tracemalloc domain for array data
    np_snap = snap.filter_traces([tracemalloc.DomainFilter(True, numpy_domain)])
    return total, sum(s.size for s in np_snap.statistics("filename"))


_SKIP = (type, type(sys), type(len), type(lambda: 0))


def walk(root: Any, skip_ids: set[int] | None = None) -> int:
    """Bytes of everything reachable from ``root`` through data (not code, locks or threads), each once."""
    import numpy as np

    seen: set[int] = set(skip_ids or ())
    stack = [root]
    total = 0
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, _SKIP) or callable(o) and not is_dataclass(o):
            continue
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            total += sys.getsizeof(o)  # header, plus the buffer when the array owns it
            continue
        total += sys.getsizeof(o)
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset, deque)):
            stack.extend(o)
        elif isinstance(o, (str, bytes, int, float, bool, type(None))):
            pass
        elif is_dataclass(o):
            stack.extend(getattr(o, f.name) for f in fields(o))
        else:
            mod = type(o).__module__ or ""
            if not mod.startswith("st_memwatch"):
                continue  # locks, events, threads: fixed size, not data
            slots = [s for c in type(o).__mro__ for s in getattr(c, "__slots__", ())]
            stack.extend(getattr(o, s) for s in slots if hasattr(o, s))
            if hasattr(o, "__dict__"):
                stack.append(o.__dict__)
    return total


def monitor_parts(monitor: Any) -> dict[str, int]:
    return {
        "runs": walk(monitor.runs),
        "samples": monitor.history.nbytes,
        "series": walk(monitor._series),
        "census": walk((monitor.last_census, monitor.growth)),
        "other": 0,
    }


# -- part 1 ----------------------------------------------------------------------------
def session_string_bytes(monitor: Any) -> int:
    """The per-run session id strings the runs keep (the bridge makes them; here the simulation does)."""
    seen: dict[int, int] = {}
    for r in monitor.runs:
        seen.setdefault(id(r.session), sys.getsizeof(r.session))
    return sum(seen.values())


def part_runs_and_samples(checkpoints: list[tuple[str, float]]) -> list[dict[str, Any]]:
    from st_memwatch.core.monitor import Monitor, Settings

    clock = FakeClock()
    session_ids = [uuid.UUID(int=(k + 1) * 0x9E3779B97F4A7C15) for k in range(SESSIONS)]
    tracemalloc.start(FRAMES)
    t_real = time.perf_counter()
    monitor = Monitor(Settings(throttle_min_interval_s=float("inf")), clock=clock.read, rss=fake_rss(), start_sampler=False)
    monitor._census_throttle.done(clock.t, 0.0)  # never due: the census is part 2's subject
    analyse = monitor._analyse
    monitor._analyse = lambda *a, **k: None  # run before each checkpoint instead (see the docstring)
    start = clock.t
    pending = sorted(checkpoints, key=lambda c: c[1])
    rows = []
    run_no = 0
    next_run = start + RUN_SPACING_S
    next_sample = start + SAMPLE_S
    samples = 0
    sample = monitor._sample  # what the sampler thread calls every tick
    while pending:
        # Sampler ticks up to the next run, then the run (20 ms long) itself.
        while next_sample < next_run:
            clock.t = next_sample
            sample()
            samples += 1
            next_sample += SAMPLE_S
        clock.t = next_run
        run_no += 1
        key = (run_no, 0)
        session = sys.intern(str(session_ids[run_no % SESSIONS]))  # one string per session, as the bridge interns it
        monitor.run_started(key, session, "full")
        clock.t = next_run + 0.02
        monitor.run_finished(key, "success")
        next_run += RUN_SPACING_S
        elapsed = clock.t - start
        while pending and elapsed >= pending[0][1]:
            label, _ = pending.pop(0)
            analyse()
            traced, traced_np = traced_bytes()
            sessions = session_string_bytes(monitor)
            parts = monitor_parts(monitor)
            walked = walk(monitor)
            rows.append({
                "part": "runs+samples",
                "checkpoint": label,
                "sim_hours": elapsed / 3600,
                "runs": run_no,
                "runs_kept": len(monitor.runs),
                "samples_added": samples,
                "samples_kept": len(monitor.history.recent) + len(monitor.history.long),
                "traced_bytes": traced,
                "traced_numpy_bytes": traced_np,
                "session_string_bytes": sessions,
                "held_bytes": traced + sessions,
                "walk_bytes": walked,
                "numpy_buffers_bytes": monitor.history.nbytes,
                **{f"walk_{k}_bytes": v for k, v in parts.items() if k != "other"},
                "real_s": time.perf_counter() - t_real,
            })
            print(f"  {label}: {(traced + sessions) / MB:.2f} MB held, {walked / MB:.2f} MB reachable ({time.perf_counter() - t_real:.0f} s)", file=sys.stderr, flush=True)
    tracemalloc.stop()
    monitor.close()
    return rows


# -- part 2 ----------------------------------------------------------------------------
def part_census(checkpoints: list[int], app_heap: bool = True) -> list[dict[str, Any]]:
    """Census state by reachability at each checkpoint; then two more censuses under tracemalloc.

    A census under tracemalloc takes seconds instead of tens of milliseconds, so the
    traced figure is taken only at the end: what two more censuses add once the
    series are full (it should be ~0), which also catches state kept outside the Monitor.
    """
    from st_memwatch.core.monitor import Monitor, Settings

    if app_heap:
        # The types of a real app in the heap.
        import pandas  # noqa: F401
        import plotly.graph_objects  # noqa: F401
        import streamlit  # noqa: F401
    try:
        from st_memwatch.core import census  # noqa: F401
    except ImportError:
        return []

    clock = FakeClock()
    t_real = time.perf_counter()
    monitor = Monitor(Settings(census_every_run=True), clock=clock.read, rss=fake_rss(), start_sampler=False)
    rows: list[dict[str, Any]] = []
    run_no = 0

    def one_run() -> None:
        nonlocal run_no
        run_no += 1
        clock.t += RUN_SPACING_S
        monitor.run_started((run_no, 0), "census-session", "full")
        clock.t += 0.02
        monitor.run_finished((run_no, 0), "success")

    def row(traced_growth: float | None = None) -> dict[str, Any]:
        last = monitor.last_census
        return {
            "part": "census",
            "checkpoint": f"{run_no} censuses",
            "censuses": run_no,
            "types": len(last.stats) if last else 0,
            "tracked_objects": last.tracked_objects if last else 0,
            "census_complete": bool(last.complete) if last else False,
            "series": len(monitor._series.data),
            "series_points": sum(min(n, monitor._series.window) for _, n in monitor._series.data.values()),
            "walk_series_bytes": walk(monitor._series),
            "walk_census_bytes": walk((monitor.last_census, monitor.growth, monitor.suspects)),
            "walk_bytes": walk(monitor),
            "traced_growth_bytes": traced_growth,
            "census_note": monitor.census_note,
            "real_s": time.perf_counter() - t_real,
        }

    for target in sorted(checkpoints):
        while run_no < target:
            one_run()
        rows.append(row())
        print(f"  census {run_no}: {rows[-1]['walk_series_bytes'] / MB:.2f} MB of series ({time.perf_counter() - t_real:.0f} s)", file=sys.stderr, flush=True)
    tracemalloc.start(FRAMES)
    before, _ = traced_bytes()
    one_run()
    one_run()
    after, _ = traced_bytes()
    tracemalloc.stop()
    rows.append(row(traced_growth=float(after - before)))
    monitor.close()
    return rows


def main() -> int:
    p = bu.parser(__doc__.splitlines()[0])
    args = p.parse_args()
    if args.quick:
        checkpoints = [("100 runs", 100 * RUN_SPACING_S), ("1 h", 3600.0), ("300 runs", 300 * RUN_SPACING_S)]
        census_points = [1, 2]
    else:
        h = 3600.0
        checkpoints = [
            ("1 h", 1 * h), ("1k runs", 1_000 * RUN_SPACING_S), ("5k runs = 12 h", 12 * h),
            ("10k runs = 24 h", 24 * h), ("20k runs = 48 h", 48 * h),
        ]
        census_points = [1, 10, 30, 40]
    t_start = time.perf_counter()
    rows = part_runs_and_samples(checkpoints)
    print(bu.table(
        ["checkpoint", "sim h", "runs", "runs kept", "samples kept", "held MB", "traced MB", "+ session ids MB", "of which numpy MB", "reachable MB", "runs MB", "samples MB"],
        [[r["checkpoint"], r["sim_hours"], r["runs"], r["runs_kept"], r["samples_kept"], r["held_bytes"] / MB, r["traced_bytes"] / MB,
          r["session_string_bytes"] / MB, r["traced_numpy_bytes"] / MB, r["walk_bytes"] / MB, r["walk_runs_bytes"] / MB, r["walk_samples_bytes"] / MB] for r in rows],
        title=(
            f"Memory held by st_memwatch (MB = 10^6 bytes): runs across {SESSIONS} sessions, one every {RUN_SPACING_S:.2f} s, "
            "samples at 10 Hz, simulated clock; held = tracemalloc of st_memwatch's allocations + the runs' session id strings"
        ),
    ))
    census_rows = part_census(census_points, app_heap=not args.quick)
    print()
    print(bu.table(
        ["after", "types", "objects", "complete", "series", "points", "series MB", "last census+growth MB", "traced growth MB"],
        [[r["checkpoint"], r["types"], r["tracked_objects"], r["census_complete"], r["series"], r["series_points"], r["walk_series_bytes"] / MB,
          r["walk_census_bytes"] / MB, "" if r["traced_growth_bytes"] is None else f"{r['traced_growth_bytes'] / MB:+.3f}"] for r in census_rows],
        title="Census state kept by the Monitor (complete census after every run" + ("" if args.quick else "; Streamlit, pandas, plotly imported") + ")",
    ))
    at_24h = next((r for r in rows if r["checkpoint"].startswith("10k")), rows[-1])
    worst = max(r["held_bytes"] for r in rows)
    census_state = max((r["walk_series_bytes"] + r["walk_census_bytes"] for r in census_rows), default=0)
    combined = at_24h["held_bytes"] + census_state
    budgets = [
        bu.budget(f"held at {at_24h['checkpoint']}, no census", at_24h["held_bytes"] / MB, 5.0, "MB"),
        bu.budget("held at any checkpoint, no census", worst / MB, 5.0, "MB"),
        bu.budget(f"held at {at_24h['checkpoint']} plus full census series", combined / MB, 5.0, "MB",
                  note="part 1 at that checkpoint plus part 2's largest census state"),
    ]
    if len(rows) >= 2:
        last, prev = rows[-1], rows[-2]
        print(f"\ngrowth from {prev['checkpoint']} to {last['checkpoint']}: {(last['held_bytes'] - prev['held_bytes']) / MB:+.3f} MB held")
    bu.print_budgets(budgets)
    bu.write_result(
        NAME, args,
        {"run_spacing_s": RUN_SPACING_S, "sample_s": SAMPLE_S, "sessions": SESSIONS, "checkpoints": [c[0] for c in checkpoints],
         "census_points": census_points, "unit": "MB = 10^6 bytes"},
        rows + census_rows, budgets, elapsed_s=time.perf_counter() - t_start,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

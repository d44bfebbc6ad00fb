"""Census cost against its floor and objgraph, on heaps of 100k, 1M and 3M tracked objects.

One process, one heap grown step by step; at each size every method runs ``--repeat``
times, interleaved, and the table shows median, min and max:

- ``gc.get_objects()`` alone: the floor of any census;
- ``Counter(map(type, gc.get_objects()))``: counting types in C, no bytes;
- ``objgraph.typestats()`` and ``objgraph.growth()`` (the latter runs ``gc.collect()``);
- reaching untracked objects: ``gc.get_referents`` of every tracked object, filtered by
  ``gc.is_tracked``; the floor of any census that sees numpy arrays, bytes and str;
- ``take_census()`` (full) and ``take_census(untracked=False)`` (tracked objects only).

Then, on the heap closest to 1M tracked objects, the longest pause another thread sees
(a heartbeat thread's largest gap: how long it waited for the GIL) while the monitor's
automatic census runs (``take_census(Settings.census_budget_s)``, and the
tracked-only census the monitor falls back to when a full one would not fit), beside
the same for a full census, typestats and ``gc.get_objects()``.

The heap mimics an app's data: dicts of atoms (records), instances with a list
attribute, named tuples, closures, lists of floats, tuples of str, int and bytes, sets
of str, and a numpy array every thousand items; a collection settles it before
measuring.

With ``--baseline FILE`` (an older ``census.py``, e.g. saved with
``git show <commit>:st_memwatch/core/census.py > FILE``, outside the repository),
that module's ``take_census`` runs interleaved with the current one on the same heap,
and a table sets their figures for the heap's types side by side: a refactor shows
both its cost ratio and that the figures did not change.

    python benchmarks/bench_census.py [--sizes 100000,1000000,3000000] [--repeat 3] [--quick] [--json PATH]
                                      [--baseline FILE]
"""

from __future__ import annotations

import gc
import importlib.util
import sys
import threading
import time
from collections import Counter, namedtuple
from collections.abc import Callable
from itertools import filterfalse
from pathlib import Path
from typing import Any

import _benchutil as bu
import numpy as np
import objgraph

from st_memwatch.core.census import take_census
from st_memwatch.core.monitor import Settings

AUTO_BUDGET_S = Settings().census_budget_s  # what the monitor gives each automatic census
PAUSE_LIMIT_MS = 50.0

NAME = "bench_census"
TITLE = "Census cost vs objgraph"
Point = namedtuple("Point", "x y label")


class Item:
    def __init__(self, i: int) -> None:
        self.id = i
        self.name = f"item-{i}"
        self.price = i * 1.25
        self.tags = ["a", f"t{i % 97}"]


def make_handler(i: int) -> Callable[[int], int]:
    def handler(event: int, _i: int = i) -> int:
        return event + _i

    return handler


class Heap:
    """A list that grows by app-like items until ``gc.get_objects()`` reaches a size."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.k = 0

    def add(self, count: int) -> None:
        out = self.items
        for k in range(self.k, self.k + count):
            r = k % 10
            if r < 3:
                out.append({"id": k, "user": f"user{k}", "score": k * 0.1, "ok": True})
            elif r < 5:
                out.append(Item(k))
            elif r < 6:
                out.append(Point(k * 0.5, k * 2.0, f"p{k}"))
            elif r < 7:
                out.append(make_handler(k))
            elif r < 8:
                out.append([k * 0.5 + j for j in range(4)])
            elif r < 9:
                out.append((f"k{k}", k, k.to_bytes(8, "little") * 4))
            else:
                out.append({f"s{k}", f"s{k + 1}"})
            if k % 1000 == 999:
                out.append(np.full(1000, float(k)))
        self.k += count

    def grow_to(self, target: int) -> int:
        was = gc.isenabled()
        gc.disable()
        try:
            tracked = len(gc.get_objects())
            while tracked < target:
                # about 0.75 tracked objects per item; aim a little short, then re-count
                self.add(max(1000, int((target - tracked) / 0.75 * 0.9)))
                tracked = len(gc.get_objects())
        finally:
            if was:
                gc.enable()
        gc.collect()  # settle: untrack tuples of atoms, as an app's heap is between runs
        return len(gc.get_objects())


def reach_untracked() -> int:
    """Every untracked object one hop from a tracked one, unfiltered: the census's floor."""
    objs = gc.get_objects()
    found = 0
    for a in range(0, len(objs), 4096):
        refs = gc.get_referents(*objs[a : a + 4096])
        found += len(list(filterfalse(gc.is_tracked, refs)))
    return found


def referents_per_tracked() -> float:
    objs = gc.get_objects()
    refs = sum(len(gc.get_referents(*objs[a : a + 4096])) for a in range(0, len(objs), 4096))
    return refs / max(len(objs), 1)


METHODS: list[tuple[str, str, Callable[[], object]]] = [
    ("floor", "gc.get_objects() (floor)", gc.get_objects),
    ("counter", "Counter(map(type, get_objects()))", lambda: Counter(map(type, gc.get_objects()))),
    ("typestats", "objgraph.typestats()", objgraph.typestats),
    ("growth", "objgraph.growth() (runs gc.collect)", lambda: objgraph.growth(limit=10)),
    ("reach", "reach untracked objects (floor)", reach_untracked),
    ("census", "take_census()", take_census),
    ("census_tracked_only", "take_census(untracked=False)", lambda: take_census(untracked=False)),
]


# Types whose figures the baseline comparison sets side by side: the heap's own, and atoms.
COMPARED = ["dict", "list", "tuple", "set", "function", "float", "bytes", "numpy.ndarray", "str", "int"]


def load_baseline(path: Path) -> Callable[..., Any]:
    """``take_census`` of an older census module, loaded from a file under a name of its own."""
    spec = importlib.util.spec_from_file_location("census_baseline", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn: Callable[..., Any] = module.take_census
    return fn


def compare_figures(baseline: Callable[..., Any]) -> list[list[Any]]:
    """Rows of (type, count and bytes before, after): one census of each, back to back."""
    old = {s.type_name: s for s in baseline().stats}
    new = {s.type_name: s for s in take_census().stats}
    names = [*COMPARED, Item.__module__ + ".Item", "__main__.Point"]
    names += sorted(n for n in old if n.startswith("st_memwatch."))  # left out of the census since
    rows = []
    for name in names:
        a, b = old.get(name), new.get(name)
        ac, ab = (a.count, a.bytes) if a else (0, 0)
        bc, bb = (b.count, b.bytes) if b else (0, 0)
        rows.append([name, ac, bc, bc - ac, ab, bb, bb - ab])
    return rows


def longest_pause(fn: Callable[[], object]) -> tuple[float, float, object]:
    """(largest gap a heartbeat thread saw, wall time of fn, its result)."""
    worst = [0.0]
    stop = threading.Event()

    def beat() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            time.sleep(0.0002)
            now = time.perf_counter()
            worst[0] = max(worst[0], now - last)
            last = now

    th = threading.Thread(target=beat, daemon=True)
    th.start()
    time.sleep(0.05)
    worst[0] = 0.0
    t0 = time.perf_counter()
    result = fn()
    took = time.perf_counter() - t0
    time.sleep(0.01)
    stop.set()
    th.join()
    return worst[0], took, result


def main() -> int:
    p = bu.parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", default="100000,1000000,3000000", help="tracked-object counts, comma-separated")
    p.add_argument("--repeat", type=int, default=3, help="runs of each method at each size")
    p.add_argument("--json", type=Path, default=None, help=f"where the JSON goes (default: <results-dir>/{NAME}.json)")
    p.add_argument("--baseline", type=Path, default=None, help="an older census.py to run side by side with this one")
    args = p.parse_args()
    methods = list(METHODS)
    baseline = load_baseline(args.baseline) if args.baseline is not None else None
    if baseline is not None:
        methods += [
            ("census_baseline", "baseline take_census()", baseline),
            (
                "census_tracked_only_baseline",
                "baseline take_census(untracked=False)",
                lambda: baseline(untracked=False),
            ),
        ]
        baseline()  # warm its first-use checks too
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    repeat = max(args.repeat, 1)
    if args.quick:
        sizes, repeat = [60_000], 1
    sizes.sort()
    t_start = time.perf_counter()
    objgraph.growth(limit=10)  # its first call only records the baseline
    take_census()  # warm imports and first-use checks
    heap = Heap()
    rows: list[dict[str, Any]] = []
    per_size: dict[int, dict[str, Any]] = {}
    compared: dict[str, list[list[Any]]] = {}
    for target in sizes:
        tracked = heap.grow_to(target)
        rpt = referents_per_tracked()
        census = take_census()
        counted = sum(s.count for s in census.stats)
        runs: dict[str, list[float]] = {key: [] for key, _, _ in methods}
        cpu: dict[str, list[float]] = {key: [] for key, _, _ in methods}  # this thread's CPU time
        for _ in range(repeat):
            for key, _, fn in methods:
                t0, c0 = time.perf_counter(), time.thread_time()
                fn()
                runs[key].append(time.perf_counter() - t0)
                cpu[key].append(time.thread_time() - c0)
        typestats_med = bu.median(runs["typestats"])
        table_rows = []
        for key, label, _ in methods:
            med, lo, hi = bu.spread(runs[key])
            ratio = med / typestats_med if typestats_med else float("nan")
            rows.append(
                {
                    "size": target,
                    "tracked_objects": tracked,
                    "referents_per_tracked": rpt,
                    "objects_counted": counted,
                    "method": key,
                    "label": label,
                    "median_ms": med * 1e3,
                    "min_ms": lo * 1e3,
                    "max_ms": hi * 1e3,
                    "runs_ms": [r * 1e3 for r in runs[key]],
                    "cpu_ms": [c * 1e3 for c in cpu[key]],
                    "x_typestats": ratio,
                }
            )
            table_rows.append([label, med * 1e3, lo * 1e3, hi * 1e3, f"{ratio:.2f}x"])
        per_size[target] = {"tracked": tracked, "runs": runs, "cpu": cpu}
        print(
            bu.table(
                ["method", "median ms", "min ms", "max ms", "vs typestats"],
                table_rows,
                title=(
                    f"\n{TITLE}: {tracked:,} tracked objects, {rpt:.1f} referents each, "
                    f"{counted:,} objects counted by the census; {repeat} run(s) each"
                ),
            ),
            flush=True,
        )
        if baseline is not None:
            rows_cmp = compare_figures(baseline)
            compared[str(target)] = rows_cmp
            print(
                bu.table(
                    ["type", "count before", "count now", "Δ count", "bytes before", "bytes now", "Δ bytes"],
                    rows_cmp,
                    title=f"\nFigures, baseline then current census back to back, {tracked:,} tracked objects",
                ),
                flush=True,
            )

    summary = []
    for d in per_size.values():
        row: list[Any] = [f"{d['tracked']:,}"]
        for key in ("census", "census_tracked_only", "typestats", "growth", "floor"):
            med_, lo, hi = bu.spread(d["runs"][key])
            row.append(f"{med_ * 1e3:.0f} [{lo * 1e3:.0f}-{hi * 1e3:.0f}]")
        row.append(f"{bu.median(d['runs']['census']) / bu.median(d['runs']['typestats']):.2f}x")
        if baseline is not None:
            for key in ("census", "census_tracked_only"):
                for kind in ("runs", "cpu"):
                    row.append(f"{bu.median(d[kind][key]) / bu.median(d[kind][key + '_baseline']):.2f}x")
        summary.append(row)
    headers = [
        "tracked",
        "census ms",
        "tracked-only ms",
        "typestats ms",
        "growth ms",
        "get_objects ms",
        "census/typestats",
    ]
    if baseline is not None:
        # Wall time suffers from other jobs on the machine; the census thread's CPU time much less.
        headers += ["census/baseline", "(CPU)", "tracked-only/baseline", "(CPU)"]
    print(
        bu.table(
            headers,
            summary,
            title="\nSummary: median [min-max] of the interleaved runs",
        ),
        flush=True,
    )

    # Pauses on the heap closest to 1M tracked objects (the heap only grows: rebuild it).
    pause_size = min(sizes, key=lambda s: abs(s - 1_000_000))
    del heap
    gc.collect()
    heap = Heap()
    tracked = heap.grow_to(pause_size)
    pauses: dict[str, dict[str, Any]] = {}
    for key, fn in [
        ("census_default_budget", lambda: take_census(AUTO_BUDGET_S)),
        ("census_default_budget_tracked_only", lambda: take_census(AUTO_BUDGET_S, untracked=False)),
        ("census_full", take_census),
        ("census_tracked_only", lambda: take_census(untracked=False)),
        ("typestats", objgraph.typestats),
        ("floor", gc.get_objects),
    ]:
        gap, took, result = longest_pause(fn)
        pauses[key] = {"longest_pause_ms": gap * 1e3, "wall_ms": took * 1e3}
        if key.startswith("census"):
            pauses[key]["complete"] = bool(getattr(result, "complete", False))
    print(
        bu.table(
            ["what runs", "longest pause ms", "wall ms", "complete"],
            [[k, v["longest_pause_ms"], v["wall_ms"], v.get("complete", "")] for k, v in pauses.items()],
            title=(
                f"\nLongest pause another thread sees, {tracked:,} tracked objects "
                f"(switch interval {sys.getswitchinterval() * 1e3:.0f} ms, automatic census budget {AUTO_BUDGET_S} s)"
            ),
        )
    )

    ratio_size = min(per_size, key=lambda s: abs(s - 1_000_000))
    meds = {k: bu.median(v) for k, v in per_size[ratio_size]["runs"].items()}
    ratios = {
        str(s): {
            "tracked_objects": d["tracked"],
            "census_vs_typestats": bu.median(d["runs"]["census"]) / bu.median(d["runs"]["typestats"]),
            "tracked_only_vs_typestats": bu.median(d["runs"]["census_tracked_only"])
            / bu.median(d["runs"]["typestats"]),
            "reach_vs_typestats": bu.median(d["runs"]["reach"]) / bu.median(d["runs"]["typestats"]),
            **(
                {
                    "census_vs_baseline": bu.median(d["runs"]["census"]) / bu.median(d["runs"]["census_baseline"]),
                    "census_vs_baseline_cpu": bu.median(d["cpu"]["census"]) / bu.median(d["cpu"]["census_baseline"]),
                    "tracked_only_vs_baseline_cpu": bu.median(d["cpu"]["census_tracked_only"])
                    / bu.median(d["cpu"]["census_tracked_only_baseline"]),
                    "tracked_only_vs_baseline": bu.median(d["runs"]["census_tracked_only"])
                    / bu.median(d["runs"]["census_tracked_only_baseline"]),
                }
                if baseline is not None
                else {}
            ),
        }
        for s, d in per_size.items()
    }
    at = f"{per_size[ratio_size]['tracked']:,} tracked"
    budgets = [
        *[
            bu.budget(
                f"full census / typestats at {d['tracked']:,} tracked",
                bu.median(d["runs"]["census"]) / bu.median(d["runs"]["typestats"]),
                1.0,
                "x",
            )
            for d in per_size.values()
        ],
        bu.budget(
            f"tracked-only census / typestats at {at}", meds["census_tracked_only"] / meds["typestats"], 1.0, "x"
        ),
        bu.budget(
            f"longest pause, automatic census ({AUTO_BUDGET_S} s budget), {tracked:,} tracked",
            pauses["census_default_budget"]["longest_pause_ms"],
            PAUSE_LIMIT_MS,
            "ms",
            note=f"gc.get_objects() alone, one C call that cannot be cut, pauses {pauses['floor']['longest_pause_ms']:.0f} ms",
        ),
        bu.budget(
            f"longest pause, automatic tracked-only census, {tracked:,} tracked",
            pauses["census_default_budget_tracked_only"]["longest_pause_ms"],
            PAUSE_LIMIT_MS,
            "ms",
        ),
        bu.budget(
            f"wall time, automatic census ({AUTO_BUDGET_S} s budget), {tracked:,} tracked",
            pauses["census_default_budget"]["wall_ms"],
            AUTO_BUDGET_S * 1e3 * 1.2 + pauses["floor"]["wall_ms"],
            "ms",
            note="the budget plus 20% for the work after the cut, plus gc.get_objects() (before any check)",
        ),
    ]
    bu.print_budgets(budgets)
    if args.json is not None:
        args.results_dir = args.json.parent
    path = bu.write_result(
        NAME,
        args,
        {
            "sizes": sizes,
            "repeat": repeat,
            "auto_budget_s": AUTO_BUDGET_S,
            "switch_interval_s": sys.getswitchinterval(),
            "baseline": str(args.baseline) if args.baseline is not None else None,
        },
        rows,
        budgets,
        ratios=ratios,
        pause={"tracked_objects": tracked, **pauses},
        baseline_figures=compared,
        elapsed_s=time.perf_counter() - t_start,
    )
    if args.json is not None and path != args.json:
        path.replace(args.json)
        print(f"moved to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

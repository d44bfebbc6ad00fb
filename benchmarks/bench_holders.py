"""CPU time of the backref search to what holds growing objects, against objgraph's.

On heaps of about 100k and 1M tracked objects (records as dicts, instances with
a list attribute, lists of floats), 64 objects made last (a leak keeps adding
new ones) are kept by a module global 2, 3 or 4 references above them, and
eight of them are sampled. Per heap and depth, interleaved and
repeated ``--repeat`` times, in thread CPU time:

- ``find_holder(sample)``: the level-by-level search from all eight at once
  (one ``gc.get_referrers`` per level), with an ample budget, and whether it named
  the module global;
- ``find_holder(sample)`` at the default budget (``SEARCH_BUDGET_S``): found or not;
- ``find_holder_of_type(name)``: sampling the family from the heap, then the
  search, with an ample and with the default budget; the same for ``bytes``,
  which gc does not track (found among the referents of tracked objects);
- ``objgraph.find_backref_chain(one object, is-module)``: one ``gc.get_referrers``
  per object visited and a ``gc.collect()`` first (run once per point: it has
  no time limit);
- one ``gc.get_referrers`` call for a full level (``LEVEL_MAX`` objects): the
  longest the search holds the GIL at once, so the longest pause other threads see.

    python benchmarks/bench_holders.py [--sizes 100000,1000000] [--depths 2,3,4] [--repeat 3] [--quick]
"""

from __future__ import annotations

import gc
import os
import sys
import time
import types
from collections.abc import Callable
from typing import Any

import _benchutil as bu
import objgraph

from st_memwatch.core.census import type_name
from st_memwatch.core.holders import LEVEL_MAX, SEARCH_BUDGET_S, find_holder, find_holder_of_type

NAME = "bench_holders"
TITLE = "Backref search to the holder (thread CPU time)"
MODULE = "_bench_holders_registry"


class Item:
    def __init__(self, i: int) -> None:
        self.id = i
        self.tags = ["a", f"t{i % 97}"]


class Leaked:
    """The growing objects: eight of them are sampled."""

    def __init__(self, i: int) -> None:
        self.rows = [float(i)] * 4


def grow_heap(heap: list[Any], tracked_target: int) -> None:
    """Add app-like objects until gc tracks about ``tracked_target`` objects."""
    i = len(heap)
    while len(gc.get_objects()) < tracked_target:
        for _ in range(20_000):
            k = i % 3
            heap.append({"id": i, "name": f"r{i}", "ok": [i]} if k == 0 else Item(i) if k == 1 else [float(i)] * 3)
            i += 1


def nest(depth: int, objs: list[Any]) -> Any:
    value: Any = objs  # module dict -> list -> objects: depth 2
    for level in range(depth - 2):
        value = {"k": value} if level % 2 == 0 else [value]
    return value


def hold(depth: int, objs: list[Leaked], blobs: list[bytes]) -> types.ModuleType:
    """A module whose globals keep ``objs`` and ``blobs`` ``depth`` references above them."""
    mod = types.ModuleType(MODULE)
    mod.kept = nest(depth, objs)  # type: ignore[attr-defined]
    mod.blobs = nest(depth, blobs)  # type: ignore[attr-defined]
    sys.modules[MODULE] = mod
    return mod


def _is_module(obj: object) -> bool:
    return isinstance(obj, types.ModuleType)


def cpu(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.thread_time()
    out = fn(*args, **kwargs)
    return (time.thread_time() - start) * 1000, out


def main() -> int:
    p = bu.parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", default="100000,1000000")
    p.add_argument("--depths", default="2,3,4")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    sizes = [20_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    depths = [2] if args.quick else [int(d) for d in args.depths.split(",")]
    repeat = 1 if args.quick else args.repeat

    heap: list[Any] = []
    name = type_name(Leaked)
    rows: list[dict[str, Any]] = []
    table: list[list[Any]] = []
    for size in sizes:
        grow_heap(heap, size)
        # The leak's objects are the newest, as they are when a leak keeps adding them.
        leaked = [Leaked(i) for i in range(64)]
        blobs = [os.urandom(100_000) for _ in range(64)]  # untracked: sampled through their containers
        gc.collect()
        tracked = len(gc.get_objects())
        for depth in depths:
            mod = hold(depth, leaked, blobs)
            sample = leaked[:8]
            runs: dict[str, list[float]] = {m: [] for m in ("search", "search_default", "of_type", "of_type_default", "bytes", "bytes_default")}
            found: dict[str, bool] = {}
            for _ in range(repeat):
                ms, h = cpu(find_holder, sample, budget_s=30.0, ignore=(id(sample),))
                runs["search"].append(ms)
                found["search"] = h is not None and h.name == f"{MODULE}.kept"
                ms, h = cpu(find_holder, sample, budget_s=SEARCH_BUDGET_S, ignore=(id(sample),))
                runs["search_default"].append(ms)
                found["search_default"] = h is not None and h.name == f"{MODULE}.kept"
                ms, h = cpu(find_holder_of_type, name, budget_s=30.0)
                runs["of_type"].append(ms)
                found["of_type"] = h is not None and h.name == f"{MODULE}.kept"
                ms, h = cpu(find_holder_of_type, name, budget_s=SEARCH_BUDGET_S)
                runs["of_type_default"].append(ms)
                found["of_type_default"] = h is not None and h.name == f"{MODULE}.kept"
                ms, h = cpu(find_holder_of_type, "bytes", budget_s=30.0)
                runs["bytes"].append(ms)
                found["bytes"] = h is not None and h.name == f"{MODULE}.blobs"
                ms, h = cpu(find_holder_of_type, "bytes", budget_s=SEARCH_BUDGET_S)
                runs["bytes_default"].append(ms)
                found["bytes_default"] = h is not None and h.name == f"{MODULE}.blobs"
            ms, _ = cpu(gc.get_referrers, *heap[-LEVEL_MAX:])
            runs["scan"] = [ms]
            found["scan"] = True
            ms, chain = cpu(objgraph.find_backref_chain, leaked[0], _is_module, max_depth=depth + 1)
            runs["objgraph"] = [ms]
            found["objgraph"] = bool(chain) and chain[0] is mod
            del chain
            labels = {
                "search": "find_holder (ample budget)",
                "search_default": f"find_holder (budget {SEARCH_BUDGET_S * 1000:.0f} ms)",
                "of_type": "find_holder_of_type (ample budget)",
                "of_type_default": f"find_holder_of_type (budget {SEARCH_BUDGET_S * 1000:.0f} ms)",
                "bytes": "find_holder_of_type('bytes') (ample budget)",
                "bytes_default": f"find_holder_of_type('bytes') (budget {SEARCH_BUDGET_S * 1000:.0f} ms)",
                "objgraph": "objgraph.find_backref_chain",
                "scan": f"one level's heap scan ({LEVEL_MAX} objects): the longest pause",
            }
            for method, xs in runs.items():
                med, lo, hi = bu.spread(xs)
                rows.append({"size": size, "tracked_objects": tracked, "depth": depth, "method": method, "median_ms": med, "min_ms": lo, "max_ms": hi, "runs_ms": xs, "found": found[method]})
                table.append([tracked, depth, labels[method], med, lo, hi, "-" if method == "scan" else "yes" if found[method] else "no"])
            del sys.modules[MODULE]
            del mod
    print(bu.table(["tracked objects", "depth", "method", "median ms", "min ms", "max ms", "holder named"], table, title=TITLE))

    biggest = max(r["tracked_objects"] for r in rows)
    deepest = max(r["depth"] for r in rows)
    at = {r["method"]: r for r in rows if r["tracked_objects"] == biggest and r["depth"] == deepest}
    ratio = at["objgraph"]["median_ms"] / at["search"]["median_ms"] if at["search"]["median_ms"] > 0 else float("nan")
    print(f"\nobjgraph / find_holder at {biggest} tracked objects, depth {deepest}: {ratio:.1f}x")
    budgets = [
        bu.budget(f"find_holder CPU at {biggest} objects, depth {deepest}", at["search"]["median_ms"], SEARCH_BUDGET_S * 1000, "ms", "the default budget of one search"),
        bu.budget("holder named within the default budget", float(at["search_default"]["found"]), 1.0, "", "1 = yes", at_least=True),
        bu.budget("holder of a type named within the default budget", float(at["of_type_default"]["found"]), 1.0, "", "1 = yes", at_least=True),
        bu.budget("holder of bytes named within the default budget", float(at["bytes_default"]["found"]), 1.0, "", "1 = yes", at_least=True),
    ]
    bu.print_budgets(budgets)
    bu.write_result(NAME, args, {"sizes": sizes, "depths": depths, "repeat": repeat, "sample": 8}, rows, budgets, objgraph_vs_search=ratio)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

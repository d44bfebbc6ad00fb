"""The ledger: what one reading costs, and how much of the anonymous memory it gives a named owner.

Cost: ``read_ledger`` called in a loop, from the main thread (as at a run's end) and
from a background thread (as the sampler would), median microseconds per reading;
each probe is timed alone too.

Attribution: each native test app (tests/native/) and each lab lesson in both
variants is driven with AppTest for ``--runs`` runs in an interpreter of its own
(so that one app's leftovers do not pollute the next), with the panel on, the
server's after-run ``gc.collect()`` done by hand. Then a complete census is taken
and the ledger read with the census's figures; the share is
``(python + native + allocator_free + arrow) / anonymous``, python being the census's
bytes plus pymalloc's blocks the census did not size ("unsized"). The goal is 90 %.

    python benchmarks/bench_ledger.py [--quick] [--runs 15] [--only app_c_library,lesson1_model:bad]
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import _benchutil as bu

NAME = "bench_ledger"
MiB = 2**20
GOAL_SHARE = 0.90
NATIVE_DIR = bu.REPO / "tests" / "native"
NATIVE_APPS = ("app_c_library", "app_image_gallery", "app_native_registry", "app_bounded_pool", "app_big_temporary")
LESSONS = (
    "lesson1_model",
    "lesson2_caches",
    "lesson3_session",
    "lesson4_bigdata",
    "lesson5_peak",
    "lesson6_free",
    "lesson7_visitors",
)
# The lesson's key in its widgets (lab_<key>_variant), as each page names it.
LESSON_KEYS = {
    "lesson1_model": "model",
    "lesson2_caches": "caches",
    "lesson3_session": "session",
    "lesson4_bigdata": "bigdata",
    "lesson5_peak": "peak",
    "lesson6_free": "free",
    "lesson7_visitors": "visitors",
}
LAB_SCALE = "0.2"  # keeps the lessons' models tens of MiB, as the test-suite does

LESSON_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
import streamlit as st
import st_memwatch
from lab import {module}
st_memwatch.panel()
{module}.page()
"""


# -- cost ---------------------------------------------------------------------------------
def time_calls(fn: Any, n: int) -> list[float]:
    out = []
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        fn()
        out.append((clock() - t0) / 1000)
    return out


def measure_cost(n: int) -> dict[str, Any]:
    from st_memwatch.core import probes
    from st_memwatch.core.ledger import read_ledger

    def reading() -> None:
        read_ledger(50 * MiB, python_in_native=20 * MiB)

    time_calls(reading, 50)  # warm
    main = time_calls(reading, n)
    threaded: list[float] = []
    worker = threading.Thread(target=lambda: threaded.extend(time_calls(reading, n)), name="bench-ledger")
    worker.start()
    worker.join()
    probes_us = {
        "memory_split (statm)": bu.median(time_calls(probes.memory_split, n)),
        "heap_in_use (psutil.heap_info)": bu.median(time_calls(probes.heap_in_use, n)),
        "allocator_free (mallinfo2)": bu.median(time_calls(probes.allocator_free, n)),
        "pymalloc (its statistics)": bu.median(time_calls(probes.pymalloc, n)),
        "arrow_pool": bu.median(time_calls(probes.arrow_pool, n)),
    }
    return {"main_us": bu.summary(main), "thread_us": bu.summary(threaded), "probes_us": probes_us}


# -- attribution, one app per interpreter ------------------------------------------------------
def app_targets() -> list[str]:
    return [*NATIVE_APPS, *(f"{lesson}:{variant}" for lesson in LESSONS for variant in ("bad", "good"))]


def drive_one(target: str, runs: int) -> dict[str, Any]:
    """In this interpreter: run ``target`` ``runs`` times, then read the ledger with a complete census."""
    os.environ.setdefault("ST_MEMWATCH_LAB_SCALE", LAB_SCALE)
    os.environ.setdefault("ST_MEMWATCH_HISTORY", "off")
    for p in (str(bu.REPO), str(NATIVE_DIR)):
        if p not in sys.path:
            sys.path.insert(0, p)
    from streamlit.testing.v1 import AppTest

    import st_memwatch
    from st_memwatch.core.census import split_of, take_census
    from st_memwatch.core.ledger import read_ledger

    st_memwatch._reset_for_tests()
    if ":" in target:
        module, variant = target.split(":")
        at = AppTest.from_string(LESSON_SCRIPT.format(root=str(bu.REPO), module=module), default_timeout=300)
        at.session_state[f"lab_{LESSON_KEYS[module]}_variant"] = variant
    else:
        at = AppTest.from_file(str(NATIVE_DIR / f"{target}.py"), default_timeout=300)
    readings = []
    t0 = time.perf_counter()
    for i in range(runs):
        at.run()
        if at.exception:
            raise RuntimeError(f"{target}: {[e.value for e in at.exception]}")
        gc.collect()  # the server's after-run collection, which AppTest leaves out
        if i + 1 in (max(1, runs // 3), runs):
            for _ in range(5):  # the monitor's own census may end between ours and the question
                result = take_census(None)
                split = split_of(result)
                if split is not None:
                    break
            else:
                raise RuntimeError("no census of our own could be read")
            r = read_ledger(split.total, python_in_native=split.in_malloc, python_in_arrow=split.in_arrow)
            readings.append({"run": i + 1, **{k: getattr(r, k) for k in READING_FIELDS}, "share": r.attributed_share()})
    st_memwatch.stop()
    return {"target": target, "runs": runs, "seconds": time.perf_counter() - t0, "readings": readings}


READING_FIELDS = (
    "rss",
    "anonymous",
    "file_backed",
    "native_in_use",
    "free_listed",
    "arrow_pool",
    "python_objects",
    "python_in_native",
    "python_in_arrow",
    "pymalloc_in_use",
    "pymalloc_arenas",
    "python_unsized",
    "native",
    "arrow",
    "allocator_free",
    "unexplained",
    "missing",
)


def drive_in_subprocess(target: str, runs: int) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--drive", target, "--runs", str(runs)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=str(bu.REPO))
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = (out.stderr or out.stdout).strip().splitlines()[-5:]
        return {"target": target, "error": " | ".join(tail) or f"exit {out.returncode}"}
    return dict(json.loads(lines[-1]))


def mib(n: float) -> float:
    return n / MiB


def main() -> int:
    p = bu.parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=None, help="runs per app (default 15)")
    p.add_argument("--calls", type=int, default=None, help="ledger readings timed per thread (default 20000)")
    p.add_argument("--only", default="", help="comma-separated targets, e.g. app_c_library,lesson1_model:bad")
    p.add_argument("--drive", default="", help=argparse_hidden())
    args = p.parse_args()
    runs = args.runs or (3 if args.quick else 15)
    if args.drive:  # the child: one app, one JSON line
        print(json.dumps(drive_one(args.drive, runs), default=str))
        return 0
    calls = args.calls or (500 if args.quick else 20_000)

    cost = measure_cost(calls)
    print(
        bu.table(
            ["where", "median us", "p95 us", "min us"],
            [
                [
                    "script thread (a run's end)",
                    cost["main_us"]["median"],
                    cost["main_us"]["p95"],
                    cost["main_us"]["min"],
                ],
                [
                    "background thread (sampler)",
                    cost["thread_us"]["median"],
                    cost["thread_us"]["p95"],
                    cost["thread_us"]["min"],
                ],
                *[[f"  probe: {k}", v, "", ""] for k, v in cost["probes_us"].items()],
            ],
            title=f"One ledger reading ({calls} timed per thread)",
        )
    )

    targets = [t for t in args.only.split(",") if t] or app_targets()
    if args.quick:
        targets = targets[:2]
    rows: list[dict[str, Any]] = []
    for target in targets:
        res = drive_in_subprocess(target, runs)
        rows.append(res)
        if "error" in res:
            print(f"{target}: failed: {res['error']}", flush=True)
            continue
        last = res["readings"][-1]
        print(f"{target}: {last['share']:.1%} attributed after {runs} runs ({res['seconds']:.0f} s)", flush=True)

    table_rows = []
    for res in rows:
        if "error" in res:
            table_rows.append([res["target"], "error", "", "", "", "", "", "", "", "", ""])
            continue
        for r in res["readings"]:
            table_rows.append(
                [
                    res["target"],
                    r["run"],
                    f"{r['share']:.1%}",
                    mib(r["anonymous"]),
                    mib(r["python_objects"]),
                    mib(r["python_unsized"]),
                    mib(r["native"]),
                    mib(r["allocator_free"]),
                    mib(r["arrow"]),
                    mib(r["unexplained"]),
                    ",".join(r["missing"]) or "-",
                ]
            )
    print()
    print(
        bu.table(
            [
                "app",
                "run",
                "share",
                "anon MiB",
                "census",
                "unsized",
                "native",
                "alloc free",
                "arrow",
                "unexplained",
                "missing",
            ],
            table_rows,
            title=f"Anonymous memory with a named owner (python + native + allocator_free + arrow), goal {GOAL_SHARE:.0%}",
        )
    )
    finals = [res["readings"][-1]["share"] for res in rows if "error" not in res and res["readings"]]
    budgets = [
        bu.budget("ledger reading, script thread (median)", cost["main_us"]["median"], 1000.0, "us"),
        bu.budget("ledger reading, background thread (median)", cost["thread_us"]["median"], 1000.0, "us"),
        bu.budget(
            "lowest share attributed after the last run",
            100 * min(finals) if finals else float("nan"),
            100 * GOAL_SHARE,
            "%",
            at_least=True,
        ),
    ]
    bu.print_budgets(budgets)
    bu.write_result(
        NAME,
        args,
        {"runs": runs, "calls": calls, "lab_scale": LAB_SCALE, "targets": targets},
        rows,
        budgets,
        cost=cost,
        median_share=statistics.median(finals) if finals else None,
    )
    failed = [res["target"] for res in rows if "error" in res]
    return 1 if failed else 0


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())

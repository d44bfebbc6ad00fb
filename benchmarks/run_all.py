"""Run every benchmark (benchmarks/bench_*.py) in sequence, each in its own interpreter.

Each script prints its table and writes results/<name>.json; at the end a summary
lists each script's time, exit code and the budgets it reports as met or missed.
A missed budget is a finding, not a failure: the exit code is non-zero only when a
script fails (or, with --strict, when a budget is missed).

    python benchmarks/run_all.py [--quick] [--strict] [--only overhead,sampler] [--list]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
# Cheapest first, so a broken setup shows early; anything else named bench_*.py follows.
PREFERRED = ["bench_selfmem", "bench_sampler", "bench_overhead", "bench_census"]


def discover() -> list[Path]:
    found = {p.stem: p for p in HERE.glob("bench_*.py")}
    order = [n for n in PREFERRED if n in found] + sorted(n for n in found if n not in PREFERRED)
    return [found[n] for n in order]


def budgets_of(name: str) -> list[dict]:
    path = RESULTS / f"{name}.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    budgets = doc.get("budgets", []) if isinstance(doc, dict) else []
    return [b for b in budgets if isinstance(b, dict) and "met" in b]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="pass --quick to every script (tiny sizes)")
    p.add_argument("--strict", action="store_true", help="exit non-zero when a budget is missed")
    p.add_argument("--only", default="", help="comma-separated names, e.g. overhead,sampler")
    p.add_argument("--list", action="store_true", help="print the scripts that would run, and exit")
    args = p.parse_args()
    scripts = discover()
    if args.only:
        wanted = {w.strip().removeprefix("bench_") for w in args.only.split(",") if w.strip()}
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
    if args.list:
        for s in scripts:
            print(s.name)
        return 0
    summary = []
    t_all = time.perf_counter()
    for script in scripts:
        cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        print(f"\n=== {script.name} {'--quick' if args.quick else ''}".rstrip() + " ===", flush=True)
        started = time.time()
        t0 = time.perf_counter()
        rc = subprocess.run(cmd, cwd=HERE.parent).returncode
        took = time.perf_counter() - t0
        result = RESULTS / f"{script.stem}.json"
        fresh = result.exists() and result.stat().st_mtime >= started - 1
        budgets = budgets_of(script.stem) if fresh else []
        summary.append((script.name, rc, took, budgets, fresh))
    print(f"\n=== summary ({time.perf_counter() - t_all:.0f} s) ===")
    failed = missed = 0
    for name, rc, took, budgets, fresh in summary:
        met = sum(1 for b in budgets if b["met"])
        miss = [b["name"] for b in budgets if not b["met"]]
        failed += rc != 0
        missed += len(miss)
        state = "ok" if rc == 0 else f"FAILED (exit {rc})"
        note = f"budgets met {met}/{len(budgets)}" if budgets else ("no budgets reported" if fresh else "no fresh results JSON")
        print(f"{name:24s} {took:6.0f} s  {state:18s} {note}")
        for m in miss:
            print(f"{'':24s}          missed: {m}")
    if failed:
        return 1
    return 2 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())

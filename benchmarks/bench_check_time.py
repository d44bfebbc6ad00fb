"""How long `st-memwatch check` takes by default and with `--thorough`, side by side, and what each finds.

Each app is checked by the public command in a subprocess, the default check and
the long tour (``--thorough``) one after the other, per app, so both see the same
machine. Printed per app: wall seconds and the CPU seconds of the check's
processes (the figure a loaded machine distorts least), the verdict, the trigger
and the forecasts of each mode, and whether the two modes agree.

    python benchmarks/bench_check_time.py [--runs 30] [--timeout 60] [--only NAME ...] [--modes default thorough] [--json PATH]

Apps: Streamlit's own hello demos (plotting, animation, dataframe, mapping), the
explore corpus (tests/corpus/explore) and the main corpus's many-widget app.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
HELLO = ("plotting_demo.py", "animation_demo.py", "dataframe_demo.py", "mapping_demo.py")


def apps() -> list[tuple[str, Path]]:
    import streamlit

    hello = Path(streamlit.__file__).parent / "hello"
    out = [(f"hello/{name}", hello / name) for name in HELLO]
    for entry in json.loads((CORPUS / "explore" / "manifest.json").read_text()):
        out.append((entry["app"], CORPUS / "explore" / entry["app"]))
    out.append(("ok_widget_heavy.py", CORPUS / "ok_widget_heavy.py"))
    return out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def check(path: Path, runs: int, thorough: bool, timeout_s: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "st_memwatch", "check", str(path), "--runs", str(runs), "--json", "--timeout", str(timeout_s)]
    if thorough:
        cmd.append("--thorough")
    cpu0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=path.parent, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        report = {"error": (proc.stderr or "no output")[-300:], "leak": None}
    explore = report.get("explore") or {}
    trigger = report.get("trigger") or {}
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "exit": proc.returncode,
        "leak": report.get("leak"),
        "error": report.get("error"),
        "runs": report.get("runs"),
        "settled_at": report.get("settled_at"),
        "trigger": {k: trigger.get(k) for k in ("widget", "label", "value", "holder")} if trigger else None,
        "forecasts": [f.get("cache") for f in report.get("forecasts") or []],
        "blocks": len(explore.get("blocks", [])),
        "tour_runs": sum(len(b.get("steps_bytes", [])) + 1 for b in explore.get("blocks", [])),
        "not_explored": len(explore.get("not_explored", [])),
    }


def _finding(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["leak"], json.dumps(r["trigger"], sort_keys=True), tuple(r["forecasts"]), bool(r["error"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--timeout", type=float, default=60.0, help="check's --timeout per run (raise it on a loaded machine)")
    parser.add_argument("--only", nargs="*", default=None, help="app names (as printed) to run")
    parser.add_argument("--modes", nargs="+", default=["default", "thorough"], choices=["default", "thorough"])
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "check_time.json"))
    args = parser.parse_args()
    import streamlit

    print(f"streamlit {streamlit.__version__}, --runs {args.runs}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} at start")
    head = f"{'app':30} " + " ".join(f"{m + ' wall/cpu s':>22} {'finding':24}" for m in args.modes) + "  same"
    print(head)
    rows: list[dict[str, Any]] = []
    for name, path in apps():
        if args.only and name not in args.only:
            continue
        row: dict[str, Any] = {"app": name}
        for mode in args.modes:
            row[mode] = check(path, args.runs, thorough=mode == "thorough", timeout_s=args.timeout)
        said = []
        for mode in args.modes:
            r = row[mode]
            what = ("error: " + str(r["error"])) if r["error"] else ("LEAK " + str((r["trigger"] or {}).get("label") or "rerun") if r["leak"] else "no leak")
            if r["forecasts"]:
                what += " +forecast"
            said.append(f"{r['wall_s']:>10.1f} / {r['cpu_s']:>9.1f} {what[:24]:24}")
        same = len({_finding(row[m]) for m in args.modes}) == 1
        row["same_finding"] = same
        rows.append(row)
        print(f"{name[:30]:30} " + " ".join(said) + f"  {'yes' if same else 'NO'}", flush=True)
    if len(args.modes) == 2 and rows:
        a, b = args.modes
        wall = [sum(r[m]["wall_s"] for r in rows) for m in (a, b)]
        cpu = [sum(r[m]["cpu_s"] for r in rows) for m in (a, b)]
        print(f"\ntotal wall s: {a} {wall[0]:.0f}, {b} {wall[1]:.0f} (x{wall[1] / max(wall[0], 1e-9):.1f}); "
              f"cpu s: {a} {cpu[0]:.0f}, {b} {cpu[1]:.0f} (x{cpu[1] / max(cpu[0], 1e-9):.1f}); "
              f"same findings: {sum(r['same_finding'] for r in rows)}/{len(rows)}")
    print(f"load {os.getloadavg()[0]:.1f} at end")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"streamlit": streamlit.__version__, "runs": args.runs, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

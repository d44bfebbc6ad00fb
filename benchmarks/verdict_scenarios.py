"""Per scenario: alarms on steady apps, the run the warning came, reported vs true rate, the run the holder was named.

    python benchmarks/verdict_scenarios.py                # every scenario, each in a fresh process
    python benchmarks/verdict_scenarios.py --scenario leak-after-quiet --json

Each scenario runs in a child process of its own (RSS is process-wide), clicking
once a second of the monitor's clock; see ``scenarios.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _benchutil  # noqa: E402  (puts the repository on sys.path)
from scenarios import SCENARIOS, run_scenario, summarise  # noqa: E402


def one(name: str) -> dict:
    source, phases, past, rate, holder = SCENARIOS[name]
    t0 = time.perf_counter()
    summary = summarise(run_scenario(source, phases, name, past_runs=past), rate, holder)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    return summary


def in_child(name: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--scenario", name, "--json"],
        capture_output=True, text=True, timeout=600,
    )
    if done.returncode != 0:
        return {"scenario": name, "error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _mib(x: float | None) -> str:
    return "-" if x is None else f"{x / 2**20:.2f}"


def main() -> None:
    p = _benchutil.parser(__doc__.splitlines()[0])
    p.add_argument("--scenario", choices=sorted(SCENARIOS), help="run one scenario in this process")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    args = p.parse_args()
    if args.scenario:
        summary = one(args.scenario)
        print(json.dumps(summary) if args.json else summary)
        return
    rows = [in_child(name) for name in SCENARIOS]
    print(f"{'scenario':24} {'alarms':>6} {'warned':>6} {'rate MiB':>9} {'true':>6} {'named':>6} {'cleared':>7}  cause")
    for r in rows:
        if "error" in r:
            print(f"{r['scenario']:24} error: {r['error']}")
            continue
        print(
            f"{r['scenario']:24} {r['alarms_while_quiet']:>6} {str(r.get('warned_at_leak_run', '-')):>6} "
            f"{_mib(r.get('reported_rate')):>9} {_mib(r.get('true_rate')):>6} {str(r.get('holder_named_at_leak_run', '-')):>6} "
            f"{str(r.get('quiet_again_at_fixed_run', '-')):>7}  {r.get('cause', '')}"
        )
    _benchutil.write_result("verdict_scenarios", args, {}, rows, [])


if __name__ == "__main__":
    main()

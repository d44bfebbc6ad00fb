"""How well `check` finds leaks that sit behind an interaction, and what exploring costs.

Over tests/corpus/explore (leaks behind a button, an option, a slider, an upload,
a second page; a steady app with every drivable widget), the main corpus's
many-widget look-alike, the `streamlit hello` pages and demo_app.py, each app is
checked by the public command in its own sandboxed process, exploring (the
default) and, side by side, at the widgets' defaults only (``--no-explore``).

    python benchmarks/explore_accuracy.py [--runs 10] [--only APP ...] [--no-plain] [--thorough] [--json PATH]

``--thorough`` checks with the long tour (``check --thorough``) instead of the default.

Prints, per app, the verdict, the trigger named and the seconds of each mode;
then leaks found, triggers named, false leaks and seconds per check.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
sys.path.insert(0, str(ROOT))

from st_memwatch.testing import check_app  # noqa: E402


def cases() -> list[dict[str, Any]]:
    import streamlit

    out: list[dict[str, Any]] = []
    for entry in json.loads((CORPUS / "explore" / "manifest.json").read_text()):
        out.append({"path": CORPUS / "explore" / entry["app"], "name": entry["app"], "leak": entry["leak"], "trigger": entry["trigger"]})
    out.append({"path": CORPUS / "ok_widget_heavy.py", "name": "ok_widget_heavy.py", "leak": False, "trigger": None})
    hello = Path(streamlit.__file__).parent / "hello"
    for page in sorted(hello.glob("*.py")):
        if page.name not in {"__init__.py", "utils.py", "streamlit_app.py"}:
            out.append({"path": page, "name": f"hello/{page.name}", "leak": False, "trigger": None})
    out.append({"path": ROOT / "demo_app.py", "name": "demo_app.py", "leak": True, "trigger": {"widget": "radio"}})
    return out


def _thorough_check(path: Path, runs: int) -> dict[str, Any]:
    """``check --thorough --json``: the pytest helper has no such option."""
    cmd = [sys.executable, "-m", "st_memwatch", "check", str(path), "--runs", str(runs), "--json", "--thorough"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    try:
        report: dict[str, Any] = json.loads(proc.stdout)
    except ValueError:
        report = {"error": proc.stderr[-300:], "leak": None}
    report["exit_status"] = proc.returncode
    return report


def _named(trigger: dict[str, Any] | None, expected: dict[str, Any] | None) -> bool:
    return bool(trigger and expected and all(trigger.get(k) == v for k, v in expected.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", nargs="*", default=None, help="app names (as printed) to run")
    parser.add_argument("--no-plain", action="store_true", help="skip the --no-explore comparison")
    parser.add_argument("--thorough", action="store_true", help="explore with the long tour (check --thorough)")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "explore_accuracy.json"))
    args = parser.parse_args()
    import streamlit

    rows: list[dict[str, Any]] = []
    print(f"streamlit {streamlit.__version__}, --runs {args.runs}{', --thorough' if args.thorough else ''}")
    print(f"{'app':34} {'expect':6} {'found':6} {'trigger':52} {'explore s':>9} {'plain s':>8}")
    for case in cases():
        if args.only and case["name"] not in args.only:
            continue
        t0 = time.perf_counter()
        report = _thorough_check(case["path"], args.runs) if args.thorough else check_app(case["path"], runs=args.runs, explore=True)
        explore_s = time.perf_counter() - t0
        plain_s = None
        plain_leak = None
        if not args.no_plain:
            t0 = time.perf_counter()
            plain = check_app(case["path"], runs=args.runs)
            plain_s = time.perf_counter() - t0
            plain_leak = plain.get("leak")
        trigger = report.get("trigger")
        row = {
            "app": case["name"],
            "expected_leak": case["leak"],
            "leak": report.get("leak"),
            "plain_leak": plain_leak,
            "error": report.get("error"),
            "trigger": trigger,
            "trigger_named": _named(trigger, case["trigger"]) if case["leak"] else None,
            "explore_seconds": round(explore_s, 1),
            "plain_seconds": round(plain_s, 1) if plain_s is not None else None,
            "interactions": len((report.get("explore") or {}).get("blocks", [])),
            "forecasts": [f.get("cache") for f in report.get("forecasts") or []],
        }
        rows.append(row)
        said = (trigger or {}).get("sentence") or (report.get("error") or "")[:52]
        print(
            f"{case['name'][:34]:34} {str(case['leak']):6} {str(report.get('leak')):6} {said[:52]:52} "
            f"{explore_s:9.1f} {plain_s if plain_s is not None else float('nan'):8.1f}",
            flush=True,
        )
    leaks = [r for r in rows if r["expected_leak"]]
    steady = [r for r in rows if not r["expected_leak"]]
    found = sum(1 for r in leaks if r["leak"])
    named = sum(1 for r in leaks if r["trigger_named"])
    false = sum(1 for r in steady if r["leak"])
    plain_found = sum(1 for r in leaks if r["plain_leak"])
    per_check = sum(r["explore_seconds"] for r in rows) / max(1, len(rows))
    print()
    at_defaults = "" if args.no_plain else f" ({plain_found}/{len(leaks)} at the defaults only)"
    print(f"leaks found: {found}/{len(leaks)} exploring{at_defaults}")
    print(f"triggers named: {named}/{len(leaks)}")
    print(f"false leaks: {false}/{len(steady)}")
    line = f"seconds per check: {per_check:.1f} exploring"
    if not args.no_plain and rows:
        plain_per = sum(r["plain_seconds"] or 0 for r in rows) / len(rows)
        line += f", {plain_per:.1f} at the defaults only (x{per_check / plain_per:.1f})"
    print(line)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"streamlit": streamlit.__version__, "runs": args.runs, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Shared helpers of the benchmark scripts: statistics, tables, machine facts, JSON output.

Every script prints a plain-text table and writes ``results/<name>.json`` (or into
``--results-dir``) with the same top-level keys: ``benchmark``, ``quick``,
``machine``, ``params``, ``rows``, ``budgets``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DEFAULT_RESULTS = BENCH_DIR / "results"

# Run from a clone without installing: the package next to benchmarks/ wins.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the script works, measures nothing useful")
    p.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS, help="where <name>.json goes (default: benchmarks/results)")
    return p


# -- statistics ----------------------------------------------------------------------
def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def mean(xs: Sequence[float]) -> float:
    return float(statistics.fmean(xs)) if xs else float("nan")


def quantile(xs: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile (q in 0..1); nan when empty."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    if len(s) == 1:
        return float(s[0])
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return float(s[lo] + (s[hi] - s[lo]) * (pos - lo))


def spread(xs: Sequence[float]) -> tuple[float, float, float]:
    """(median, min, max) of repeated measurements."""
    return (median(xs), float(min(xs)), float(max(xs))) if xs else (float("nan"),) * 3


def summary(xs: Sequence[float]) -> dict[str, float]:
    return {"n": len(xs), "median": median(xs), "mean": mean(xs), "p95": quantile(xs, 0.95), "min": min(xs) if xs else float("nan"), "max": max(xs) if xs else float("nan")}


# -- output ----------------------------------------------------------------------------
def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "") -> str:
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    if title:
        lines.append(title)
    for n, r in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if n and _numeric(c) else c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        if v != v:
            return "n/a"
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def _numeric(text: str) -> bool:
    """Right-align numbers ("1.5", "+2.1 [+1.9, +2.3]", "95%", "2.10x"), not labels that start with one."""
    parts = text.split()
    if not parts or len(parts) > 3 or not all(any(ch.isdigit() for ch in p) for p in parts):
        return False
    try:
        float(parts[0].rstrip("%x").lstrip("+"))
    except ValueError:
        return False
    return True


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        import streamlit

        info["streamlit"] = streamlit.__version__
    except ImportError:
        info["streamlit"] = None
    try:
        import numpy

        info["numpy"] = numpy.__version__
    except ImportError:
        pass
    try:
        out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "st_memwatch"], capture_output=True, text=True, timeout=5)
        info["commit"] = out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        info["commit"] = None
    return info


def write_result(name: str, args: argparse.Namespace, params: dict[str, Any], rows: list[dict[str, Any]], budgets: list[dict[str, Any]], **extra: Any) -> Path:
    out_dir: Path = args.results_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    doc = {"benchmark": name, "quick": bool(args.quick), "machine": machine(), "params": params, "rows": rows, "budgets": budgets, **extra}
    path.write_text(json.dumps(doc, indent=1, default=_json_default))
    print(f"\nwrote {path}")
    return path


def budget(name: str, measured: float, limit: float, unit: str, note: str = "", at_least: bool = False) -> dict[str, Any]:
    """A budget verdict: ``measured <= limit`` (or ``>=`` with ``at_least``); nan never meets it."""
    met = measured == measured and (measured >= limit if at_least else measured <= limit)
    return {"name": name, "measured": measured, "limit": limit, "unit": unit, "met": bool(met), "note": note, "at_least": at_least}


def print_budgets(budgets: list[dict[str, Any]]) -> None:
    print(table(
        ["budget", "measured", "limit", "verdict"],
        [[b["name"], f"{_cell(b['measured'])} {b['unit']}", f"{'>=' if b.get('at_least') else '<='} {_cell(b['limit'])} {b['unit']}", "met" if b["met"] else "MISSED"] for b in budgets],
        title="\nBudgets",
    ))


def _json_default(o: Any) -> Any:
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")

"""bench_census.py still runs: --quick prints its tables and writes JSON with the expected keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_census.py"
METHODS = {"floor", "counter", "typestats", "growth", "reach", "census", "census_tracked_only"}
ROW_KEYS = {
    "size",
    "tracked_objects",
    "referents_per_tracked",
    "method",
    "median_ms",
    "min_ms",
    "max_ms",
    "runs_ms",
    "x_typestats",
}


def test_quick_run_prints_tables_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "census.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=BENCH.parents[1],
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for line in ("Census cost vs objgraph", "objgraph.typestats()", "take_census()", "Longest pause", "Budgets"):
        assert line in proc.stdout, line

    doc = json.loads(out.read_text())
    assert {"benchmark", "quick", "machine", "params", "rows", "budgets", "ratios", "pause"} <= doc.keys()
    assert doc["benchmark"] == "bench_census" and doc["quick"] is True
    assert {row["method"] for row in doc["rows"]} == METHODS
    for row in doc["rows"]:
        assert ROW_KEYS <= row.keys(), sorted(ROW_KEYS - row.keys())
        assert row["min_ms"] <= row["median_ms"] <= row["max_ms"]
        assert row["tracked_objects"] > 0
    ratios = next(iter(doc["ratios"].values()))
    assert {"census_vs_typestats", "tracked_only_vs_typestats", "reach_vs_typestats"} <= ratios.keys()
    assert {"census_default_budget", "census_full", "typestats", "floor"} <= doc["pause"].keys()
    assert doc["pause"]["census_default_budget"]["longest_pause_ms"] > 0
    assert doc["budgets"] and all({"name", "measured", "limit", "met"} <= b.keys() for b in doc["budgets"])

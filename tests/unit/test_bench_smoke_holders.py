"""bench_holders.py still runs: --quick prints its table and writes JSON with every method's row."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_holders.py"
METHODS = {"search", "search_default", "of_type", "of_type_default", "bytes", "bytes_default", "objgraph", "scan"}


def test_quick_run_prints_the_table_and_writes_json(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--results-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=BENCH.parents[1],
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for line in ("Backref search to the holder", "objgraph.find_backref_chain", "Budgets"):
        assert line in proc.stdout, line
    doc = json.loads((tmp_path / "bench_holders.json").read_text())
    assert {"benchmark", "quick", "machine", "params", "rows", "budgets", "objgraph_vs_search"} <= doc.keys()
    assert doc["benchmark"] == "bench_holders" and doc["quick"] is True
    assert {row["method"] for row in doc["rows"]} == METHODS
    for row in doc["rows"]:
        assert row["min_ms"] <= row["median_ms"] <= row["max_ms"]
        assert row["found"] is True, row  # every method names the module global on the small heap

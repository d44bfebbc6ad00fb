"""bench_census.py --baseline runs an older census module side by side and sets the figures apart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_census.py"


def test_quick_run_with_a_baseline_prints_ratios_and_figures(tmp_path: Path) -> None:
    baseline = tmp_path / "census_then.py"  # stands for a file saved from an older commit
    baseline.write_text("from st_memwatch.core.census import take_census\n")
    out = tmp_path / "census.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--baseline", str(baseline), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=BENCH.parents[1],
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for line in ("baseline take_census()", "census/baseline", "Figures, baseline then current census"):
        assert line in proc.stdout, line
    doc = json.loads(out.read_text())
    methods = {row["method"] for row in doc["rows"]}
    assert {"census_baseline", "census_tracked_only_baseline"} <= methods
    ratios = next(iter(doc["ratios"].values()))
    assert ratios["census_vs_baseline"] > 0 and ratios["tracked_only_vs_baseline"] > 0
    figures = {row[0]: row for row in next(iter(doc["baseline_figures"].values()))}
    # the same census on both sides: the heap's own types agree to the object
    for name in ("set", "function", "float", "numpy.ndarray", "__main__.Item", "__main__.Point"):
        assert figures[name][3] == 0 and figures[name][6] == 0, figures[name]

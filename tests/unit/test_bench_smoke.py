"""The benchmark scripts still run: each in --quick mode prints its table and writes its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
TOP_KEYS = {"benchmark", "quick", "machine", "params", "rows", "budgets"}

# script -> (a line its table prints, keys every row has, keys of at least one row)
CASES = {
    "bench_overhead": ("Per-rerun overhead", {"app", "history_runs", "variant", "baseline", "thread", "cpu", "e2e", "scenario"}, {"panel", "hooks"}),
    "bench_sampler": ("Sampler CPU at the default rate", {"kind"}, {"sampler_cpu_pct", "thread_cpu_pct", "hold_ms", "rate", "method"}),
    "bench_selfmem": ("Memory held by st_memwatch", {"part", "checkpoint", "walk_bytes"}, {"held_bytes", "traced_bytes", "runs", "samples_kept", "series"}),
}


def run_quick(name: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / f"{name}.py"), "--quick", "--results-dir", str(out)],
        capture_output=True, text=True, timeout=180, cwd=BENCH.parent,
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_quick_run_prints_its_table_and_writes_json(name, tmp_path):
    title, every_row, some_row = CASES[name]
    proc = run_quick(name, tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert title in proc.stdout
    assert "Budgets" in proc.stdout
    doc = json.loads((tmp_path / f"{name}.json").read_text())
    assert TOP_KEYS <= doc.keys()
    assert doc["benchmark"] == name and doc["quick"] is True
    assert {"nproc", "cpu", "python", "streamlit"} <= doc["machine"].keys()
    assert doc["rows"], "no rows measured"
    for row in doc["rows"]:
        assert every_row <= row.keys(), sorted(every_row - row.keys())
    present = set().union(*(row.keys() for row in doc["rows"]))
    assert some_row <= present, sorted(some_row - present)
    assert doc["budgets"] and all({"name", "measured", "limit", "met"} <= b.keys() for b in doc["budgets"])


def test_run_all_finds_the_benchmarks():
    proc = subprocess.run([sys.executable, str(BENCH / "run_all.py"), "--list"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    listed = set(proc.stdout.split())
    assert {f"{n}.py" for n in CASES} <= listed

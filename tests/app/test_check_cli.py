"""The headless check as a CI user runs it: a real subprocess, real exit codes, real JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from st_memwatch.core.limits import format_bytes
from st_memwatch.testing import LeakFound, assert_no_leak

LEAKY = """
import sys, types
import numpy as np
import streamlit as st
box = sys.modules.setdefault("_cli_leak_box", types.ModuleType("_cli_leak_box"))
if not hasattr(box, "items"):
    box.items = []
box.items.append(np.ones(200_000))  # 1.6 MB kept per run
st.write(len(box.items))
"""

CLEAN = """
import numpy as np
import streamlit as st
data = np.ones(200_000)  # 1.6 MB per run, freed with the run
st.write(float(data.sum()))
"""

SOMETIMES = """
import streamlit as st
if "n" not in st.session_state:
    st.session_state.n = 0
st.session_state.n += 1
if st.session_state.n % 3 == 0:
    raise ValueError("every third run fails")
st.write("ok")
"""


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "st_memwatch", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def test_leaky_app_exits_1_with_json_naming_the_culprit(tmp_path):
    proc = run_cli("check", write(tmp_path, "leaky.py", LEAKY), "--runs", 12, "--json")
    assert proc.returncode == 1, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["leak"] is True and report["runs"] == 12
    assert report["growth_bytes_per_run"] > 1_000_000
    assert report["peak_rss"] >= report["rss_first"]
    # the Python-heap figure beside RSS: the census sees the kept arrays
    assert report["heap_growth_bytes_per_run"] > 1_000_000
    assert report["python_heap_last"] - report["python_heap_first"] > 8 * 1_000_000
    top3 = [s["name"] for s in report["suspects"][:3]]
    assert "numpy.ndarray" in top3, report["suspects"]
    for key in ("suspects", "caches", "warnings"):
        assert isinstance(report[key], list)
    s = report["suspects"][0]
    assert set(s) >= {"kind", "name", "growth_bytes_per_run", "growth_count_per_run", "advice"}
    # One growth figure per report: the warning quotes the same one.
    steady = next(w for w in report["warnings"] if w["code"] == "steady-growth")
    assert f"+{format_bytes(report['growth_bytes_per_run'])} per run" in steady["message"], (steady, report["growth_bytes_per_run"])


def test_clean_app_exits_0_and_the_human_report_is_short(tmp_path):
    proc = run_cli("check", write(tmp_path, "clean.py", CLEAN), "--runs", 12)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert "no leak" in proc.stdout.splitlines()[0]
    assert "live Python bytes" in proc.stdout
    assert len(proc.stdout.splitlines()) < 25


def test_script_that_raises_sometimes_is_reported_not_crashed(tmp_path):
    proc = run_cli("check", write(tmp_path, "sometimes.py", SOMETIMES), "--runs", 10, "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["failed_runs"] == 3
    assert "every third run fails" in report["errors"][0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["check", "does_not_exist.py", "--json"], "not found"),
        (["check", "{app}", "--runs", "2", "--json"], "--runs 2"),
        (["check", "{app}", "--limit", "12 parsecs", "--json"], "--limit: invalid size '12 parsecs'"),
        (["check", "{app}", "--timeout", "0", "--json"], "invalid --timeout 0.0"),
        (["check", "{app}", "--budget", "-5", "--json"], "invalid --budget -5.0"),
        (["check", "{app}", "--budget", "30", "--thorough", "--json"], "--budget and --thorough do not go together"),
        (["check", "{raiser}", "--runs", "10", "--json"], "raised on every run"),
        (["check", "--json"], "app"),
        (["check", "{broken}", "--runs", "10", "--json"], "SyntaxError: '(' was never closed (broken.py, line 2)"),
        (["check", "{folder}", "--json"], "is a directory"),
    ],
)
def test_unusable_input_exits_2_with_a_clear_message_and_valid_json(tmp_path, args, needle):
    app = write(tmp_path, "app.py", CLEAN)
    raiser = write(tmp_path, "raiser.py", "raise RuntimeError('boom at import')\n")
    broken = write(tmp_path, "broken.py", "import streamlit as st\nst.write(\n")
    argv = [a.format(app=app, raiser=raiser, broken=broken, folder=tmp_path) for a in args]
    proc = run_cli(*argv)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["leak"] is None and needle in payload["error"]


def test_console_script_is_installed_or_module_runs():
    proc = run_cli("--help")
    assert proc.returncode == 0 and "check" in proc.stdout


def test_assert_no_leak_fails_with_the_readable_report(tmp_path):
    with pytest.raises(LeakFound) as err:
        assert_no_leak(write(tmp_path, "leaky.py", LEAKY), runs=10)
    text = str(err.value)
    assert "LEAK" in text and "numpy.ndarray" in text and "fix:" in text
    report = assert_no_leak(write(tmp_path, "clean.py", CLEAN), runs=10)
    assert report["leak"] is False


def test_a_flat_app_stops_once_settled_and_thorough_makes_every_run(tmp_path):
    app = write(tmp_path, "clean.py", CLEAN)
    quick = json.loads(run_cli("check", app, "--runs", 30, "--no-explore", "--json").stdout)
    assert quick["leak"] is False and quick["settled_at"] == quick["runs"] < 30, (quick["runs"], quick["settled_at"])
    thorough = json.loads(run_cli("check", app, "--runs", 30, "--no-explore", "--thorough", "--json").stdout)
    assert thorough["leak"] is False and thorough["runs"] == 30 and thorough["settled_at"] is None


def test_a_leak_is_not_cut_short_by_settling(tmp_path):
    report = json.loads(run_cli("check", write(tmp_path, "leaky.py", LEAKY), "--runs", 20, "--no-explore", "--json").stdout)
    assert report["leak"] is True and report["runs"] == 20 and report["settled_at"] is None


def test_settling_tells_an_apps_noise_from_a_slow_leak():
    from st_memwatch.check import _flat

    floor = 64 * 1024
    assert _flat([0] * 8, floor)
    assert _flat([0, 100_000, 0, 100_000, 0, 100_000, 0, 50_000], floor)  # up and down: noise
    assert not _flat([i * floor for i in range(8)], floor)  # a leak at the floor's rate
    assert not _flat([0, 2 * floor, 2 * floor, 4 * floor, 4 * floor, 6 * floor, 6 * floor, 8 * floor], floor)  # every other run

"""Hostile scripts: whatever the app does, `check` exits 2 with valid JSON saying what happened, in time.

Each case runs the real command in a subprocess, as CI does, and measures the
wall time around it: the promise is --timeout plus a few seconds, plus the
child's start (importing streamlit) on a loaded machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

# Starting the child (python, streamlit, numpy) and the first run's readings on a
# loaded 2-core CI machine; the cases below must end within --timeout plus this.
STARTUP_ALLOWANCE_S = 30.0

CASES = {
    "os_exit": (
        """
        import os
        import streamlit as st
        st.write("about to leave")
        os._exit(7)
        """,
        [],
        {"status": "exited", "exit_status": 7},
        "exit status 7",
    ),
    "segfault": (
        """
        import ctypes
        import streamlit as st
        st.write("about to crash")
        ctypes.string_at(0)
        """,
        [],
        {"status": "crashed", "signal": "SIGSEGV"},
        "SIGSEGV",
    ),
    "endless_loop": (
        """
        import time
        import streamlit as st
        st.write("never done")
        while True:
            time.sleep(0.1)
        """,
        ["--timeout", "1"],
        {"status": "timeout", "run": 1},
        "did not finish within --timeout 1 s",
    ),
    "slow_later_run": (
        """
        import time
        import streamlit as st
        st.session_state.setdefault("n", 0)
        st.session_state.n += 1
        if st.session_state.n >= 3:
            time.sleep(60)
        st.write(st.session_state.n)
        """,
        ["--timeout", "2"],
        {"status": "timeout", "run": 3},
        "run 3 of 10 did not finish within --timeout 2 s",
    ),
    "out_of_memory": (
        """
        import streamlit as st
        hoard = []
        while True:
            hoard.append(bytearray(20_000_000))
        """,
        ["--max-memory", "400MB"],
        {"status": "out_of_memory", "run": 1},
        "over the cap of",
    ),
}


def run_cli(*args, timeout=300):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "st_memwatch", *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return proc, time.monotonic() - started


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_script_exits_2_with_json_in_time(tmp_path, case):
    body, extra, expected, needle = CASES[case]
    app = tmp_path / f"{case}.py"
    app.write_text(textwrap.dedent(body))
    proc, seconds = run_cli("check", app, "--runs", 10, "--json", "--no-explore", *extra)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    payload = json.loads(proc.stdout)
    assert payload["leak"] is None and needle in payload["error"], payload
    for key, value in expected.items():
        assert payload["sandbox"][key] == value, payload["sandbox"]
    budget = (float(extra[1]) if "--timeout" in extra else 0.0) + STARTUP_ALLOWANCE_S
    assert seconds < budget, f"{case} took {seconds:.1f} s"


def test_closing_stdout_does_not_corrupt_the_json(tmp_path):
    app = tmp_path / "closes_stdout.py"
    app.write_text(textwrap.dedent("""
        import os, sys
        import streamlit as st
        st.write("closing")
        sys.stdout.close()
        os.close(1)
    """))
    proc, _ = run_cli("check", app, "--runs", 10, "--json", "--no-explore")
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert json.loads(proc.stdout)["runs"] == 10


def test_a_button_that_kills_the_process_is_named(tmp_path):
    app = tmp_path / "kill_button.py"
    app.write_text(textwrap.dedent("""
        import os
        import streamlit as st
        if st.button("Shut down"):
            os._exit(3)
        st.write("running")
    """))
    proc, _ = run_cli("check", app, "--runs", 10, "--json")
    assert proc.returncode == 2, proc.stderr[-2000:]
    payload = json.loads(proc.stdout)
    assert "exit status 3" in payload["error"] and "Shut down" in payload["error"], payload
    assert payload["sandbox"]["action"] == "click 'Shut down'"


def test_repeated_errors_print_one_traceback_and_no_context_warning(tmp_path):
    app = tmp_path / "raises.py"
    app.write_text("import streamlit as st\nst.write('x')\nraise ValueError('broken every run')\n")
    proc, _ = run_cli("check", app, "--runs", 10, "--no-explore")
    assert proc.returncode == 2
    assert proc.stderr.count("Traceback") == 1, proc.stderr
    assert "the same error in 9 more runs" in proc.stderr
    assert "missing ScriptRunContext" not in proc.stderr
    assert "raised on every run" in proc.stderr


def test_a_file_that_is_not_python_source_is_refused(tmp_path):
    data = tmp_path / "upload.csv"
    data.write_text("a,b\n1,2\n")
    proc, seconds = run_cli("check", data, "--json")
    assert proc.returncode == 2
    payload = json.loads(proc.stdout)
    assert "'upload.csv' is not a Python script" in payload["error"]
    assert seconds < STARTUP_ALLOWANCE_S


def test_a_check_no_longer_needed_is_stopped(tmp_path):
    """The plain check and the tour run side by side; a leak found by one stops the other."""
    import threading

    from st_memwatch.sandbox import SandboxLimits, check_in_sandbox

    app = tmp_path / "slow.py"
    app.write_text("import time\nimport streamlit as st\ntime.sleep(1)\nst.write('slow')\n")
    cancel = threading.Event()
    timer = threading.Timer(3.0, cancel.set)
    timer.start()
    t0 = time.monotonic()
    try:
        outcome = check_in_sandbox(str(app), 50, None, SandboxLimits(timeout_s=30), cancel=cancel)
    finally:
        timer.cancel()
    assert outcome.report is None and outcome.sandbox["status"] == "cancelled", outcome
    assert time.monotonic() - t0 < 3.0 + STARTUP_ALLOWANCE_S

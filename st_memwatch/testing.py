"""Gate an app's own test suite on leaks.

    from st_memwatch.testing import assert_no_leak

    def test_app_does_not_leak():
        assert_no_leak("app.py", runs=30)

The check runs in a fresh interpreter: module-level state of other tests (or of
an earlier check) cannot leak into the verdict, and the app's leaks cannot leak
into the test process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any


class LeakFound(AssertionError):
    """Raised by ``assert_no_leak``; the message is the readable report."""


def check_app(app: str | os.PathLike[str], runs: int = 30, limit: str | None = None, timeout_s: float = 600.0) -> dict[str, Any]:
    """Run ``st-memwatch check --json`` on ``app`` in a subprocess; the report as a dict."""
    cmd = [sys.executable, "-m", "st_memwatch", "check", os.fspath(app), "--runs", str(runs), "--json"]
    if limit is not None:
        cmd += ["--limit", str(limit)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    try:
        report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise RuntimeError(f"st-memwatch check produced no report (exit {proc.returncode}): {proc.stderr[-2000:]}") from None
    report["exit_status"] = proc.returncode
    return report


def assert_no_leak(app: str | os.PathLike[str], runs: int = 30, limit: str | None = None) -> dict[str, Any]:
    """Fail (LeakFound) when the app leaks, with the readable report; returns the report."""
    from st_memwatch.check import CheckReport, format_report

    report = check_app(app, runs=runs, limit=limit)
    if report.get("error"):
        raise RuntimeError(f"st-memwatch could not check {os.fspath(app)!r}: {report['error']}")
    if report["leak"]:
        fields = {k: v for k, v in report.items() if k in CheckReport.__dataclass_fields__}
        raise LeakFound(format_report(CheckReport(**fields)))
    return report

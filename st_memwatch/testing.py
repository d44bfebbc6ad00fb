"""Gate an app's own test suite on leaks.

    from st_memwatch.testing import assert_no_leak

    def test_app_does_not_leak():
        assert_no_leak("app.py", runs=30)                  # every widget at its default
        assert_no_leak("app.py", runs=30, explore=True)    # and acting like a visitor

    def drive(at, run):                                    # a flow no explorer can guess
        if run == 1:
            at.text_input(key="user").input("ada")
        elif run > 1:
            at.button(key="ask").click()

    def test_asking_does_not_leak():
        assert_no_leak("app.py", runs=20, driver=drive)

The check runs in a fresh interpreter, sandboxed: module-level state of other
tests (or of an earlier check) cannot leak into the verdict, and the app's
leaks, crashes or endless loops cannot reach the test process. A driver is
therefore named, not passed: a module-level function (found again in its file)
or a path ``"driver.py"`` / ``"driver.py:function"``.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any


class LeakFound(AssertionError):
    """Raised by ``assert_no_leak``; the message is the readable report."""


def _scenario_arg(driver: str | os.PathLike[str] | Callable[..., Any]) -> str:
    """``--scenario`` for a driver: 'file.py' / 'file.py:function' as given, or where a function lives."""
    if isinstance(driver, (str, os.PathLike)):
        return os.fspath(driver)
    if callable(driver):
        name = getattr(driver, "__name__", "")
        qualname = getattr(driver, "__qualname__", "")
        try:
            source = inspect.getsourcefile(driver)
        except TypeError:
            source = None
        if source and name.isidentifier() and qualname == name:
            return f"{source}:{name}"
    raise ValueError(
        f"invalid driver {driver!r}: expected a module-level function drive(at, run), "
        "or the path of a file that defines one ('driver.py' or 'driver.py:function'); "
        "lambdas, methods and nested functions cannot be found again in the sandboxed check"
    )


def check_app(
    app: str | os.PathLike[str],
    runs: int = 30,
    limit: str | None = None,
    timeout_s: float = 900.0,
    *,
    explore: bool = False,
    driver: str | os.PathLike[str] | Callable[..., Any] | None = None,
    seed: int = 0,
    run_timeout_s: float | None = None,
    max_memory: str | None = None,
    budget_s: float | None = None,
) -> dict[str, Any]:
    """Run ``st-memwatch check --json`` on ``app`` in a subprocess; the report as a dict.

    ``timeout_s`` bounds the whole command, ``run_timeout_s`` each run of the app
    (``--timeout``), ``budget_s`` the exploring and re-checking (``--budget``; None:
    the command's default). ``exit_status`` is added to the report.
    """
    cmd = [sys.executable, "-m", "st_memwatch", "check", os.fspath(app), "--runs", str(runs), "--json", "--seed", str(seed)]
    if driver is not None:
        cmd += ["--scenario", _scenario_arg(driver)]
    elif not explore:
        cmd.append("--no-explore")
    if limit is not None:
        cmd += ["--limit", str(limit)]
    if run_timeout_s is not None:
        cmd += ["--timeout", str(run_timeout_s)]
    if max_memory is not None:
        cmd += ["--max-memory", str(max_memory)]
    if budget_s is not None:
        cmd += ["--budget", str(budget_s)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    try:
        report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise RuntimeError(f"st-memwatch check produced no report (exit {proc.returncode}): {proc.stderr[-2000:]}") from None
    report["exit_status"] = proc.returncode
    return report


def assert_no_leak(
    app: str | os.PathLike[str],
    runs: int = 30,
    limit: str | None = None,
    *,
    explore: bool = False,
    driver: str | os.PathLike[str] | Callable[..., Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Fail (LeakFound) when the app leaks, with the readable report; returns the report.

    ``explore=True`` acts on the app like a visitor (see ``st_memwatch.explore``);
    ``driver`` acts on it with your own ``drive(at, run)`` instead.
    """
    from st_memwatch.check import CheckReport, format_report

    report = check_app(app, runs=runs, limit=limit, explore=explore, driver=driver, seed=seed)
    if report.get("error"):
        raise RuntimeError(f"st-memwatch could not check {os.fspath(app)!r}: {report['error']}")
    if report["leak"]:
        fields = {k: v for k, v in report.items() if k in CheckReport.__dataclass_fields__}
        text = format_report(CheckReport(**fields))
        trigger = report.get("trigger") or {}
        if trigger.get("sentence"):
            text += f"\n  trigger: {trigger['sentence']}"
        raise LeakFound(text)
    return report

"""Run one check in a child process the app cannot take down with it.

Why a child process: the script under check runs inside the checker (AppTest is
in-process), so whatever it does happens to the checker too: ``os._exit``, a
segfault in an extension, an endless loop (a Python thread cannot be stopped),
memory until the kernel kills the process, closing standard output. The parent
only watches: it reads the child's progress over a pipe of its own (not the
child's stdout, which the script may close or fill), gives each run its
deadline, polls the child's RSS against a memory cap, and turns any way the
child can end into one sentence and a ``sandbox`` record for the JSON.

The child's standard output goes to the parent's standard error, so what the
app prints is still visible and can never corrupt ``--json``.

Several sandboxed checks can run at once, one thread each (``st_memwatch.tour``
runs the plain check beside the tour): a check whose answer is no longer needed
is stopped through its ``cancel`` event, and ends with the status ``cancelled``.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from st_memwatch.core.limits import format_bytes

STARTUP_S = 120.0  # importing streamlit and the app's first imports on a loaded CI machine
ANALYSIS_S = 120.0  # the verdict after the last run: holders are sized with budgets of their own
POLL_S = 0.1
# Each run also carries the check's own census and readings (seconds on a loaded
# machine), and the first run the app's imports: the deadline is --timeout plus
# this much, so that --timeout is the script's own time.
RUN_GRACE_S = 2.0
FIRST_RUN_GRACE_S = 3.0
KILL_WAIT_S = 5.0


@dataclass
class SandboxLimits:
    """Deadlines and the memory cap of one sandboxed check."""

    timeout_s: float = 60.0  # per run; the child is stopped RUN_GRACE_S after it (polled every POLL_S)
    max_memory: int | None = None  # bytes of RSS; None: no cap
    startup_s: float = STARTUP_S
    analysis_s: float = ANALYSIS_S
    total_s: float | None = None  # the whole check; None: startup + runs x timeout + analysis


@dataclass
class SandboxResult:
    """What the child sent (``payload``) or, when it sent nothing usable, why (``error``)."""

    payload: dict[str, Any] | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


_SIGNALS = {
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating-point exception",
    signal.SIGILL: "illegal instruction",
    signal.SIGKILL: "killed (most likely by the system's out-of-memory killer)",
    signal.SIGTERM: "terminated",
}


def _rss(pid: int) -> int | None:
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss)
    except Exception:  # gone, or not readable: no reading this time
        return None


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the app's own children too
    except (ProcessLookupError, PermissionError):
        proc.kill()
    try:
        proc.wait(KILL_WAIT_S)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait for much
        pass


def _where(phase: str, run: int, runs: int) -> str:
    if phase == "start":
        return "while the app was starting"
    if phase == "analysis":
        return "after the last run, while the check was measuring"
    return f"during run {run} of {runs}"


def run_sandboxed(job: dict[str, Any], limits: SandboxLimits, cancel: threading.Event | None = None) -> SandboxResult:
    """Run ``job`` (see ``_child_main``) in a child and return its result or what went wrong.

    ``cancel``, once set, stops the child (polled with the deadlines): status ``cancelled``.
    """
    runs = int(job["runs"])
    total_s = limits.total_s if limits.total_s is not None else limits.startup_s + runs * limits.timeout_s + limits.analysis_s
    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "st_memwatch.sandbox", str(write_fd), json.dumps(job)],
            pass_fds=(write_fd,),
            stdin=subprocess.DEVNULL,
            stdout=2,  # what the app prints goes to our stderr, never into the report
            start_new_session=True,
        )
    finally:
        os.close(write_fd)
    phase, run = "start", 0
    phase_deadline = started + limits.startup_s
    overall = started + total_s
    payload: dict[str, Any] | None = None
    buffer = b""
    failure: tuple[str, str] | None = None  # (status, message) when we stopped the child
    sel = selectors.DefaultSelector()
    sel.register(read_fd, selectors.EVENT_READ)
    eof = False
    last_action: str | None = None
    try:
        while not eof:
            now = time.monotonic()
            if cancel is not None and cancel.is_set():
                failure = ("cancelled", "the check was stopped: its answer was no longer needed")
                break
            if now > phase_deadline or now > overall:
                if now > overall:
                    failure = ("deadline", f"the check did not finish within its overall deadline of {total_s:g} s ({_where(phase, run, runs)})")
                elif phase == "run":
                    failure = ("timeout", f"run {run} of {runs} did not finish within --timeout {limits.timeout_s:g} s: the app was stopped")
                elif phase == "start":
                    failure = ("timeout", f"the app did not start within {limits.startup_s:g} s")
                else:
                    failure = ("timeout", f"the check did not finish measuring within {limits.analysis_s:g} s after the last run")
                break
            if limits.max_memory is not None:
                rss = _rss(proc.pid)
                if rss is not None and rss > limits.max_memory:
                    failure = (
                        "out_of_memory",
                        f"the app used {format_bytes(rss)} of memory {_where(phase, run, runs)}, over the cap of "
                        f"{format_bytes(limits.max_memory)} (--max-memory): the app was stopped",
                    )
                    break
            for _key, _mask in sel.select(timeout=min(POLL_S, max(0.0, min(phase_deadline, overall) - now))):
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    eof = True
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    try:
                        msg = json.loads(line)
                    except ValueError:
                        continue
                    event = msg.get("event")
                    now = time.monotonic()
                    if event == "run_start":
                        phase, run = "run", int(msg["run"]) + 1
                        phase_deadline = now + limits.timeout_s + (FIRST_RUN_GRACE_S if run == 1 else RUN_GRACE_S)
                        last_action = msg.get("action")
                    elif event == "run_end":
                        phase = "analysis" if int(msg["run"]) + 1 >= runs else "between"
                        # between runs the driver acts: it gets a run's time too
                        phase_deadline = now + (limits.analysis_s if phase == "analysis" else limits.timeout_s)
                    elif event == "stopped_early":
                        phase, phase_deadline = "analysis", now + limits.analysis_s
                    elif event in ("result", "check_error", "internal_error"):
                        payload = msg
    finally:
        sel.close()
        os.close(read_fd)
    seconds = time.monotonic() - started
    details: dict[str, Any] = {"phase": phase, "run": run if phase != "start" else None, "seconds": round(seconds, 1)}
    if last_action and phase == "run":
        details["action"] = last_action
    if failure is not None:
        _kill(proc)
        details["status"] = failure[0]
        return SandboxResult(error=failure[1], details=details, seconds=seconds)
    try:
        code = proc.wait(KILL_WAIT_S)
    except subprocess.TimeoutExpired:  # the result is in; threads the app left behind do not matter
        _kill(proc)
        code = 0
    if payload is not None:
        return SandboxResult(payload=payload, details=details, seconds=seconds)
    where = _where(phase, run, runs)
    if code < 0:
        sig = signal.Signals(-code)
        details.update(status="crashed", signal=sig.name)
        message = f"the app crashed the Python process {where}: {sig.name}, {_SIGNALS.get(sig, 'signal')}"
    elif code > 0:
        details.update(status="exited", exit_status=code)
        message = f"the app ended the check's process {where} with exit status {code} (os._exit or a hard exit)"
    else:
        details.update(status="no_result", exit_status=0)
        message = f"the app's process ended {where} without a result (did the app close the check's file descriptors?)"
    return SandboxResult(error=message, details=details, seconds=seconds)


@dataclass
class CheckOutcome:
    """One sandboxed check: the report (dict and readable text), or the error and what happened."""

    report: dict[str, Any] | None = None
    text: str = ""
    error: str | None = None
    sandbox: dict[str, Any] = field(default_factory=dict)
    explore: dict[str, Any] | None = None
    seconds: float = 0.0


def check_in_sandbox(
    app: str,
    runs: int,
    limit: object,
    limits: SandboxLimits,
    driver: dict[str, Any] | None = None,
    settle: bool = False,
    cancel: threading.Event | None = None,
) -> CheckOutcome:
    """``run_check`` in a child process; whatever the app does, an outcome comes back.

    ``settle``: the runs end once memory has settled (``check.run_check``); ``cancel``: see ``run_sandboxed``.
    """
    job = {"app": str(app), "runs": runs, "limit": limit, "timeout_s": limits.timeout_s, "driver": driver, "settle": settle}
    result = run_sandboxed(job, limits, cancel)
    payload = result.payload
    if payload is None:
        return CheckOutcome(error=result.error, sandbox=result.details, seconds=result.seconds)
    if payload.get("event") != "result":
        return CheckOutcome(error=str(payload.get("message")), sandbox={**result.details, "status": "error"}, seconds=result.seconds)
    return CheckOutcome(
        report=payload["report"],
        text=payload.get("text") or "",
        sandbox={**result.details, "status": "ok"},
        explore=payload.get("explore"),
        seconds=result.seconds,
    )


# ---------------------------------------------------------------------------- child


def _child_main(argv: list[str]) -> None:
    """``python -m st_memwatch.sandbox FD JOB``: run the job, send progress and the result to FD.

    JOB keys: app, runs, limit, timeout_s, driver (None or a spec that
    ``st_memwatch.explore.build_driver`` understands), settle.
    """
    out = os.fdopen(int(argv[0]), "w", buffering=1)
    job = json.loads(argv[1])

    def send(**msg: Any) -> None:
        out.write(json.dumps(msg, default=str) + "\n")
        out.flush()

    from st_memwatch.check import CheckError, StopChecking, format_report, run_check

    try:
        from st_memwatch.explore import build_driver

        inner = build_driver(job.get("driver"))
        runs = int(job["runs"])

        def driver(at: Any, i: int) -> str | None:
            what = None
            if inner is not None:
                try:
                    what = inner(at, i)
                except StopChecking:
                    send(event="stopped_early", run=i)
                    raise
            send(event="run_start", run=i, action=what if isinstance(what, str) else None)
            return what

        # The parent enforces --timeout; AppTest's own timeout is only a backstop, so
        # that a stuck run ends the check instead of being counted and followed by another.
        report = run_check(
            job["app"],
            runs=runs,
            limit=job.get("limit"),
            timeout_s=float(job["timeout_s"]) * 2 + 10,
            driver=driver,
            on_run_end=lambda i: send(event="run_end", run=i),
            settle=bool(job.get("settle")),
            on_settled=lambda i: send(event="stopped_early", run=i),
        )
        summary = getattr(inner, "summary", None)
        send(event="result", report=report.to_dict(), text=format_report(report), explore=summary() if callable(summary) else None)
    except CheckError as exc:
        send(event="check_error", message=str(exc))
    except Exception as exc:  # a bug of ours: still one clear line
        send(event="internal_error", message=f"internal error: {type(exc).__name__}: {exc}")
    out.close()
    # Threads the app started (non-daemon ones too) must not keep the child alive.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":  # pragma: no cover - exercised through run_sandboxed
    _child_main(sys.argv[1:])

"""What every lesson shares: sizes scaled to the limit, the variant switch, the rerun loop, the readout.

Sizes come from st_memwatch's resolved limit, so a lesson never allocates enough to
end its own host: a "model" is at most 300 MiB and at most 1/25 of the limit, and a
bad variant stops adding once the process is at 60 % of the limit.
``ST_MEMWATCH_LAB_SCALE`` (a number in (0, 1], default 1) shrinks every allocation,
so the test-suite drives the same code with small arrays.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable

import psutil
import streamlit as st

import st_memwatch
from st_memwatch.core.limits import format_bytes
from st_memwatch.core.models import Snapshot

MiB = 2**20
SCALE_ENV = "ST_MEMWATCH_LAB_SCALE"
FULL_MODEL_BYTES = 300 * MiB
MODEL_SHARE_OF_LIMIT = 25  # a model is at most 1/25 of the limit
HEADROOM_SHARE = 0.6  # a bad variant stops adding at 60 % of the limit
RERUNS = 10
RERUN_PAUSE_S = 0.2  # long enough to watch the counter tick, short enough for "within seconds"
VARIANTS = ("bad", "good")

_limit_bytes: int | None = None


def scale() -> float:
    """The lab's allocation factor from ``ST_MEMWATCH_LAB_SCALE``; a bad value raises ValueError naming it."""
    raw = os.environ.get(SCALE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:
        raise ValueError(f"invalid {SCALE_ENV}={raw!r}: expected a number greater than 0 and at most 1 (e.g. 0.05)")
    return value


def limit_bytes() -> int:
    """st_memwatch's resolved limit, read once per process (it is what the panel shows)."""
    global _limit_bytes
    if _limit_bytes is None:
        _limit_bytes = st_memwatch.snapshot().limit.bytes
    return _limit_bytes


def model_bytes() -> int:
    """The lab's unit of memory: a model of a few hundred MiB, scaled down to the limit."""
    return max(MiB, int(min(FULL_MODEL_BYTES, limit_bytes() // MODEL_SHARE_OF_LIMIT) * scale()))


def has_room(extra: int, share: float = HEADROOM_SHARE) -> bool:
    """Would ``extra`` more bytes keep the process under ``share`` of the limit?

    A guard, not a figure shown to anyone: one cheap RSS reading instead of a snapshot.
    """
    return int(psutil.Process().memory_info().rss) + extra <= share * limit_bytes()


def out_of_room(share: float = HEADROOM_SHARE) -> None:
    st.warning(
        f"The lab stopped adding at {share:.0%} of the limit, so it never ends its own host. "
        "Press **Reset** to free what this lesson holds."
    )


def measure(max_runs: int = 1) -> Snapshot:
    """What st_memwatch knows now, with this session's ``st.session_state`` figures.

    The public ``st_memwatch.snapshot()`` leaves the session out (it is process-wide);
    the lessons about session state read this session's figures the way the panel does.
    """
    try:
        from st_memwatch import _get_monitor
        from st_memwatch.streamlit_bridge.runs import current_session_id

        monitor = _get_monitor()
        session = current_session_id()
        monitor.flush()
        if monitor.cache_reader is not None:
            monitor.refresh_sizes(session, with_session=bool(session))
        return monitor.snapshot(session=session or None, timeline_points=0, max_runs=max_runs)
    except Exception:  # the panel's internals moved: the process-wide figures still teach
        return st_memwatch.snapshot()


def variant(lesson: str, bad: str, good: str) -> str:
    """The bad/good switch (a radio, so a visitor, or ``check --explore``, can step through it)."""
    labels = {"bad": f"Bad: {bad}", "good": f"Good: {good}"}
    choice = st.radio("Variant", VARIANTS, format_func=labels.__getitem__, key=f"lab_{lesson}_variant")
    return str(choice)


def controls(lesson: str, reset: Callable[[], None]) -> bool:
    """The "rerun 10 times" and "reset" buttons; call ``finish`` at the end of the page.

    Returns False in the run that reset the lesson, so that run allocates nothing new.
    """
    left_key = f"lab_{lesson}_reruns_left"
    one, two, three, _ = st.columns([3, 2.4, 2, 4])
    if one.button(f"Rerun {RERUNS} times", key=f"lab_{lesson}_rerun", type="primary"):
        st.session_state[left_key] = RERUNS
    two.button("Rerun once", key=f"lab_{lesson}_once")  # a click is a rerun: one step at a person's pace
    if three.button("Reset", key=f"lab_{lesson}_reset"):
        st.session_state[left_key] = 0
        reset()
        gc.collect()
        trim()
        st.session_state[f"lab_{lesson}_was_reset"] = True
    left = int(st.session_state.get(left_key, 0))
    if left:
        st.caption(f"Rerunning by itself: {left} more to go.")
    if st.session_state.pop(f"lab_{lesson}_was_reset", False):
        st.info("Reset: this lesson's allocations are released. The panel shows the drop from the next run on.")
        return False
    return True


def finish(lesson: str) -> None:
    """Start the next self-rerun when the "rerun 10 times" counter says so (last line of a page)."""
    left_key = f"lab_{lesson}_reruns_left"
    left = int(st.session_state.get(left_key, 0))
    if left > 0:
        st.session_state[left_key] = left - 1
        time.sleep(RERUN_PAUSE_S)
        st.rerun()


def trim() -> bool:
    """Return freed heap pages to the OS (``psutil.heap_trim()``, glibc's ``malloc_trim(0)``); False where it cannot."""
    heap_trim = getattr(psutil, "heap_trim", None)
    if heap_trim is not None:
        try:
            heap_trim()
            return True
        except (OSError, RuntimeError, psutil.Error):
            return False
    try:  # a psutil older than 7.2: glibc's own function
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
        return True
    except (OSError, AttributeError):
        return False


def readout(snap: Snapshot, *extra: str) -> None:
    """The panel's figures for this lesson, in one block: every number here is st_memwatch's."""
    lines = [
        f"**Process memory (RSS):** {format_bytes(snap.rss)} of {format_bytes(snap.limit.bytes)} ({snap.limit.source})"
    ]
    if snap.runs:
        last = snap.runs[-1]
        lines.append(
            f"**Last finished run:** {_signed(last.delta)}, peak {format_bytes(last.peak)} "
            f"({_signed(last.peak - last.rss_before)} above its start), {last.duration_s * 1000:.0f} ms"
        )
    if snap.trend is not None:
        lines.append(f"**Trend ({snap.trend.n_runs} runs):** {_signed(snap.trend.bytes_per_run)} per run")
    lines.extend(extra)
    lines.append(f"**Verdict:** {verdict_line(snap)}")
    st.markdown("  \n".join(lines))


def verdict_line(snap: Snapshot) -> str:
    """The panel's verdict in one line: leak or not, its rate and what holds it."""
    verdict = getattr(snap, "verdict", None)
    if verdict is not None:
        if not verdict.leak:
            return "warming up: the first runs are not judged." if verdict.warming_up else "no leak."
        since = f" since run {verdict.since_run}" if verdict.since_run is not None else ""
        cause = f" Likely cause: {verdict.cause}." if verdict.cause else ""
        return f"leak{since}: {_signed(verdict.bytes_per_run)} per run.{cause}"
    growth = [w for w in snap.warnings if w.code == "steady-growth"]
    if snap.leak or growth:
        cause = f" Likely cause: {growth[0].cause}." if growth and growth[0].cause else ""
        return f"leak: memory grows from run to run.{cause}"
    return "no leak."


def _signed(n: float) -> str:
    return ("+" if n >= 0 else "-") + format_bytes(abs(n))

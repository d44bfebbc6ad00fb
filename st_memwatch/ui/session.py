"""The panel's boundary: wires the bridge to the monitor, renders, and contains failures.

Nothing raised in here reaches the user's script: any failure becomes one short
line in the panel. Toasts fire once per warning episode and session: a warning
that stays on does not toast again on every rerun, one that clears and returns does.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from st_memwatch.core.models import Warning
from st_memwatch.core.monitor import Monitor
from st_memwatch.ui.export import Exporter

DETAILS_KEY = "st_memwatch_details"
SUMMARY_RUNS = 1  # the always-visible part shows the last run and nothing older
DETAIL_RUNS = 200  # the details plot this many runs and list 50; the exports take all of them
# Timeline points: about one per pixel of a sidebar chart. Each slice keeps its maximum,
# so a spike still shows; fewer points also mean less to downsample, encode and send.
DETAIL_POINTS = 300
_MAX_TRACKED_SESSIONS = 1000
_active_codes: OrderedDict[str, frozenset[str]] = OrderedDict()
_codes_lock = threading.Lock()


def new_episodes(session: str, warnings: Sequence[Warning]) -> list[Warning]:
    """Warnings that were not on at this session's previous render."""
    codes = frozenset(w.code for w in warnings)
    with _codes_lock:
        before = _active_codes.pop(session, frozenset())
        _active_codes[session] = codes
        while len(_active_codes) > _MAX_TRACKED_SESSIONS:
            _active_codes.popitem(last=False)
    return [w for w in warnings if w.code not in before]


_drawn_in_run: OrderedDict[str, tuple[int, int]] = OrderedDict()


def _already_drawn(session: str, run_id: tuple[int, int]) -> bool:
    """Has this run of this session drawn the panel already? (Two calls would clash on widget keys.)"""
    with _codes_lock:
        if _drawn_in_run.get(session) == run_id:
            return True
        _drawn_in_run[session] = run_id
        _drawn_in_run.move_to_end(session)
        while len(_drawn_in_run) > _MAX_TRACKED_SESSIONS:
            _drawn_in_run.popitem(last=False)
    return False


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


def show_panel(monitor: Monitor, limit: object, location: str, toast: bool) -> None:
    import streamlit as st

    from st_memwatch.streamlit_bridge import runs, wire_sizes
    from st_memwatch.ui import panel as view

    area: Any = st.sidebar if location == "sidebar" else st.container()
    try:
        session = runs.current_session_id()
        problem = runs.install(monitor)
        if problem:
            monitor.mode = "panel-calls"
            monitor.note(problem)
            runs.measure_between_calls(monitor, session)
        run_id = monitor.recorder.active_run_id(session)
        if run_id is not None and _already_drawn(session, run_id):
            area.caption("st_memwatch: panel() is already shown in this run; this second call is ignored")
            return
        wire_sizes(monitor, session)
        resolved = monitor.resolve_limit(limit)
        # The toggle's state from the last interaction is known before the toggle is
        # drawn: with the details on, one snapshot (timeline included) serves both parts.
        wanted = bool(st.session_state.get(DETAILS_KEY, False))
        snap = (
            monitor.snapshot(session, resolved, timeline_points=DETAIL_POINTS, max_runs=DETAIL_RUNS)
            if wanted
            else monitor.snapshot(session, resolved, timeline_points=0, max_runs=SUMMARY_RUNS)
        )
        fresh = new_episodes(session, snap.warnings)
        with area:
            view.render_summary(st, snap, fresh, toast)
            details = st.toggle("Memory details", key=DETAILS_KEY)
        exports = Exporter(monitor, session, resolved)
        if details:
            if not wanted:
                snap = monitor.snapshot(session, resolved, timeline_points=DETAIL_POINTS, max_runs=DETAIL_RUNS)
            with area:
                view.render_details(st, snap, exports)
        else:
            exports.discard()
    except Exception as exc:  # the boundary: the user's script carries on
        try:
            area.caption(f"st_memwatch: {_short(exc)}")
        except Exception:
            pass

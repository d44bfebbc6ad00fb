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

DETAILS_KEY = "st_memwatch_details"
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
        wire_sizes(monitor, session)
        resolved = monitor.resolve_limit(limit)
        snap = monitor.snapshot(session, resolved, timeline_points=0, max_runs=50)
        fresh = new_episodes(session, snap.warnings)
        with area:
            view.render_summary(st, snap, fresh, toast)
            details = st.toggle("Memory details", key=DETAILS_KEY)
        if details:
            from st_memwatch.ui.export import runs_to_csv, to_json

            full = monitor.snapshot(session, resolved)
            with area:
                view.render_details(st, full, to_json(full), runs_to_csv(full))
    except Exception as exc:  # the boundary: the user's script carries on
        try:
            area.caption(f"st_memwatch: {_short(exc)}")
        except Exception:
            pass

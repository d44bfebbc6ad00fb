"""The panel's boundary: wires the bridge to the monitor, renders, and contains failures.

Nothing raised in here reaches the user's script: any failure becomes one short
line in the panel. Toasts fire once per warning episode and session: a warning
that stays on does not toast again on every rerun, and one that flickers off for a
render or two (a run whose memory dipped while the fit was still short) does not
either; one that stayed clear for EPISODE_GAP renders and returns does.

The gate (``ui.gate``) decides per session whether anything is drawn; the run
hooks, size readers and metrics provider are wired first, so a hidden panel still
records every visitor's runs for the author's view. Nothing is drawn before the
decision, not even a line about a failure or a second ``panel()`` call: a hidden
visitor's page carries no trace of st_memwatch. After the decision the session's
browser is told to the metrics provider (the gauge's polls are answered for it
alone), and an accepted token leaves the page's address.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from st_memwatch.core.gate import TOKEN_IN_URL, Decision, Gate, Visible, Visitor, how_to_open
from st_memwatch.core.models import Finding
from st_memwatch.core.monitor import Monitor
from st_memwatch.ui.export import Exporter

log = logging.getLogger("st_memwatch")
gate = Gate()
_told_how_to_open = threading.Event()

DETAILS_KEY = "st_memwatch_details"
SUMMARY_RUNS = 1  # the always-visible part shows the last run and nothing older
DETAIL_RUNS = 200  # the details plot this many runs' peaks and list the latest few; the exports take all
# Timeline points: about one per pixel of a sidebar chart. Each slice keeps its maximum,
# so a spike still shows; fewer points also mean less to downsample, encode and send.
DETAIL_POINTS = 300
_MAX_TRACKED_SESSIONS = 1000
EPISODE_GAP = 3  # renders a warning must stay away before its return counts as a new episode
_per_session_lock = threading.Lock()
_renders_since_seen: OrderedDict[str, dict[str, tuple[int, int]]] = OrderedDict()  # code -> (renders away, stage)
_drawn_in_run: OrderedDict[str, tuple[int, int]] = OrderedDict()


def _swap(store: OrderedDict[str, Any], session: str, value: Any) -> Any:
    """Remember ``value`` for ``session`` (newest last, at most _MAX_TRACKED_SESSIONS); return what it held."""
    with _per_session_lock:
        before = store.pop(session, None)
        store[session] = value
        while len(store) > _MAX_TRACKED_SESSIONS:
            store.popitem(last=False)
    return before


def new_episodes(session: str, warnings: Sequence[Finding]) -> list[Finding]:
    """Warnings that were not on in any of this session's last EPISODE_GAP renders, or that escalated.

    An episode keeps its code as the limit nears; a stage it had not reached yet
    (~25 runs, ~5 runs, over) is news again, so it toasts again.
    """
    with _per_session_lock:
        before = _renders_since_seen.get(session, {})
    now = {code: (gap + 1, stage) for code, (gap, stage) in before.items() if gap + 1 < EPISODE_GAP}
    fresh = []
    for w in warnings:
        seen = before.get(w.code)
        if seen is None or w.stage > seen[1]:
            fresh.append(w)
        now[w.code] = (0, max(w.stage, seen[1] if seen is not None else 0))
    _swap(_renders_since_seen, session, now)
    return fresh


def _already_drawn(session: str, run_id: tuple[int, int]) -> bool:
    """Has this run of this session drawn the panel already? (Two calls would clash on widget keys.)"""
    return _swap(_drawn_in_run, session, run_id) == run_id


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


def reset_gate() -> None:
    """Forget granted sessions, their browsers and the log line already written (``st_memwatch.stop()``, tests)."""
    from st_memwatch.streamlit_bridge import metrics, visitor

    gate.forget()
    visitor.forget_secrets_token()
    metrics.forget_viewers()
    _told_how_to_open.clear()


def decide(session: str, visible: Visible) -> Decision:
    """The gate's answer for this run; says once per process how to open a hidden panel."""
    from st_memwatch.streamlit_bridge import visitor

    if visible is not None:  # the author's own rule: nothing about the browser is read
        return gate.decide(session, visible, "", Visitor(server=False))
    token = visitor.configured_token()
    decision = gate.decide(session, visible, token, visitor.read_visitor(token_set=bool(token)))
    if not decision.show and visible is None and not _told_how_to_open.is_set():
        _told_how_to_open.set()
        log.warning(how_to_open(bool(token)))
    return decision


_NO_GAUGE = object()  # the gauge failed in this run: the native figures stand in


def _gauge_usable(monitor: Monitor) -> bool:
    """Can the gauge be drawn? When not, the panel says why once (as a note) and is native."""
    from st_memwatch.ui import component as gauge_view

    problem = gauge_view.bundle_problem()
    if problem:
        monitor.note(problem)
    return not problem


def _render_gauge(monitor: Monitor, snap: Any, cookie: str | None) -> object:
    """The gauge in the panel's place; the run selected on it, None, or _NO_GAUGE when it failed."""
    from st_memwatch.streamlit_bridge import metrics
    from st_memwatch.ui import component as gauge_view

    reason = metrics.live_problem(cookie)  # polls this browser would not be answered: don't make them
    live = not reason
    try:
        return gauge_view.render_gauge(snap, None, live, reason)
    except Exception as exc:
        monitor.note(f"gauge failed ({_short(exc)}); showing the native panel")
        return _NO_GAUGE


def show_panel(
    monitor: Monitor,
    limit: object,
    location: str,
    toast: bool,
    visible: Visible = None,
    actions: bool = False,
    component: bool = True,
) -> None:
    import streamlit as st

    from st_memwatch.streamlit_bridge import metrics, runs, wire_sizes
    from st_memwatch.ui import component as gauge_view
    from st_memwatch.ui import panel as view

    area: Any = st.sidebar if location == "sidebar" else st.container()
    moved = False
    try:
        from st_memwatch.streamlit_bridge import in_form

        if location != "sidebar" and in_form(area):
            # Inside st.form the toggle waits for the submit button and downloads raise:
            # the panel goes to the sidebar, which no form contains.
            area, moved = st.sidebar, True
    except Exception:  # noqa: BLE001 - keep the requested place
        pass
    opened = False
    try:
        from st_memwatch.streamlit_bridge import visitor

        session = runs.current_session_id()
        problem = runs.install(monitor)
        if problem:
            monitor.measure_between_calls(problem)
            runs.measure_between_calls(monitor, session)
        wire_sizes(monitor, session)
        for metrics_problem in (metrics.register(monitor) or metrics.env_problem(), metrics.route_requests()):
            if metrics_problem:
                monitor.note(metrics_problem)
        decision = decide(session, visible)
        cookie = visitor.xsrf_cookie()
        metrics.note_viewer(session, cookie, decision.show, visitor.active_aliases)
        if not decision.show:
            return  # recorded above; nothing about the process reaches this browser
        opened = True
        if decision.reason == TOKEN_IN_URL:
            url_problem = visitor.drop_token_from_url()  # no later request, Referer or log line carries it
            if url_problem:
                monitor.note(url_problem)
        run_id = monitor.active_run_id(session)
        if run_id is not None and _already_drawn(session, run_id):
            area.caption("st_memwatch: panel() is already shown in this run; this second call is ignored")
            return
        # AppTest has no browser to draw a component: an app's own tests read the native figures.
        gauge = component and not runs.under_apptest() and _gauge_usable(monitor)
        resolved = monitor.resolve_limit(limit)
        # The toggle's state from the last interaction is known before the toggle is
        # drawn: with the details on, one snapshot (timeline included) serves both parts.
        wanted = bool(st.session_state.get(DETAILS_KEY, False))
        if wanted:
            snap = monitor.snapshot(session, resolved, timeline_points=DETAIL_POINTS, max_runs=DETAIL_RUNS)
        elif gauge:  # the sparkline's run boundaries; its history only at the session's first render
            points = gauge_view.GAUGE_POINTS if gauge_view.wants_history(session) else 0
            snap = monitor.snapshot(
                session, resolved, timeline_points=points, max_runs=gauge_view.GAUGE_RUNS, ledger_history=False,
                timeline_window_s=gauge_view.SPARK_WINDOW_S,
            )
        else:
            snap = monitor.snapshot(session, resolved, timeline_points=0, max_runs=SUMMARY_RUNS)
        fresh = new_episodes(session, snap.warnings)
        # Elements are drawn through the container itself (``area.toggle``), not inside
        # ``with area:``: a module-level call inside ``st.form`` belongs to the form even
        # in the sidebar, where downloads raise and the toggle waits for the submit button.
        if moved:
            area.caption("st_memwatch: shown in the sidebar, since panel() was called inside st.form")
        picked: object = None
        if gauge:
            with area:  # the component's mount draws into the surrounding container
                picked = _render_gauge(monitor, snap, cookie)
        view.render_summary(area, snap, fresh, toast, headline=picked is _NO_GAUGE or not gauge)
        if isinstance(picked, int):
            area.caption(gauge_view.run_details_markdown(snap, picked))
        if snap.previous:
            from st_memwatch.core.history import previous_line

            area.caption(previous_line(snap.previous))
        details = area.toggle("Memory details", key=DETAILS_KEY)
        exports = Exporter(monitor, session, resolved)
        if details:
            if not wanted:
                snap = monitor.snapshot(session, resolved, timeline_points=DETAIL_POINTS, max_runs=DETAIL_RUNS)
            view.render_details(area, snap, exports)
            if actions:
                from st_memwatch.ui.actions import render_actions

                render_actions(area, session)
        else:
            exports.discard()
    except Exception as exc:  # the boundary: the user's script carries on
        try:
            if opened:
                area.caption(f"st_memwatch: {_short(exc)}")
            else:  # before (or in) the gate's decision: the author reads it, a visitor sees nothing
                monitor.note(f"panel failed before drawing: {_short(exc)}")
        except Exception:
            pass

"""st_memwatch: an in-app memory monitor for Streamlit.

Add one line to a Streamlit script::

    import streamlit as st
    import st_memwatch

    st_memwatch.panel()        # renders in the sidebar

and read per-rerun memory deltas and peaks, growing object types, cache and
session sizes, and warnings while memory trends toward the hosting limit.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, Literal

from st_memwatch.core import history as _history
from st_memwatch.core.gate import check_visible
from st_memwatch.core.limits import parse_limit, parse_size
from st_memwatch.core.models import CensusResult, Snapshot
from st_memwatch.core.monitor import Monitor, Settings
from st_memwatch.core.sizers import register_sizer

__version__ = "0.1.0"
__all__ = ["__version__", "census", "panel", "parse_size", "register_sizer", "snapshot", "stop"]

_monitor: Monitor | None = None
_monitor_lock = threading.Lock()
_follower: _history.Follower | None = None
_LOCATIONS = ("sidebar", "main")


def _get_monitor() -> Monitor:
    """The one Monitor of this process (one sampler thread, one history)."""
    global _monitor
    if _monitor is None:
        with _monitor_lock:
            if _monitor is None:
                _monitor = Monitor(Settings())
    return _monitor


def panel(
    limit: int | str | None = None,
    *,
    location: Literal["sidebar", "main"] = "sidebar",
    toast: bool = True,
    visible: bool | Callable[[], bool] | None = None,
    actions: bool = False,
    history: str | os.PathLike[str] | None = None,
    component: bool = True,
) -> None:
    """Show the memory panel (in the sidebar by default) and record every rerun.

    Who sees it: ``visible`` (a bool, or a callable returning one) decides when
    given; otherwise, with ``ST_MEMWATCH_TOKEN`` (or ``st.secrets["st_memwatch"]
    ["token"]``) set, sessions opened with ``?memwatch=<token>``; otherwise only a
    browser on this machine (and AppTest). Runs are recorded either way.
    ``actions=True`` adds buttons that act on the whole process (clear every cache,
    a full collection, ``malloc_trim``) to the details, for whoever the gate lets in.
    ``history`` is where samples, runs and warning episodes are kept so they survive
    a crash (a file path, or ``"off"``); default ``ST_MEMWATCH_HISTORY``, else a
    file per app in the user's cache directory when served by ``streamlit run``.

    ``limit`` overrides where the ceiling comes from (bytes, or a string such as
    ``"2.7GB"``); otherwise ``ST_MEMWATCH_LIMIT``, the container's cgroup limit,
    Community Cloud's 2.7 GB, then total RAM. A bad ``limit`` or ``location``
    raises ValueError; any failure inside st_memwatch is shown as one line in the
    panel and the script carries on.

    ``component=True`` draws the figures as a live gauge that keeps moving while
    the script is busy (it polls the app's ``/_stcore/metrics``); ``component=False``
    gives the native panel, drawn once per run.

    >>> import st_memwatch
    >>> st_memwatch.panel(limit="2.7GB")  # doctest: +SKIP
    """
    if not isinstance(toast, bool):
        raise ValueError(f"invalid toast {toast!r}: expected True or False")
    if not isinstance(actions, bool):
        raise ValueError(f"invalid actions {actions!r}: expected True or False")
    check_visible(visible)
    try:
        _history.check_setting(history)
    except ValueError as exc:
        raise ValueError(f"panel(history=...): {exc}") from None
    if not isinstance(component, bool):
        raise ValueError(f"invalid component {component!r}: expected True or False")
    if location not in _LOCATIONS:
        raise ValueError(f"invalid location {location!r}: expected one of {', '.join(map(repr, _LOCATIONS))}")
    if limit is not None:
        try:  # raise for the author's mistake before the safety net below
            parse_limit(limit)
        except ValueError as exc:
            raise ValueError(f"panel(limit=...): {exc}") from None
    from st_memwatch.ui.session import show_panel

    monitor = _get_monitor()
    _start_history(monitor, history, limit)
    show_panel(monitor, limit=limit, location=location, toast=toast, visible=visible, actions=actions, component=component)


def _log_to_stderr_unless_configured() -> None:
    """Episode ends and actions are INFO lines: show them where hosts collect output.

    Only when nobody configured logging (no handler on ``st_memwatch`` or the root);
    Python's last-resort handler would drop INFO and print WARNING without a time.
    """
    logger = logging.getLogger("st_memwatch")
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _start_history(monitor: Monitor, setting: object, limit: int | str | None = None) -> None:
    """Once per monitor: open the history file (or not) and start the follower thread."""
    global _follower
    if _follower is not None and _follower.monitor is monitor:
        return
    with _monitor_lock:
        if _follower is not None and _follower.monitor is monitor:
            return
        store = None
        try:
            from st_memwatch.streamlit_bridge import runs, visitor

            path = _history.resolve_path(setting, runs.main_script_path(), default_on=visitor.has_server())
            if path is not None:
                store = _history.HistoryStore(path, monitor.resolve_limit(limit).bytes)
                for note in store.notes:
                    monitor.note(note)
                if store.problem:
                    monitor.note(store.problem)
                monitor.remember_previous(store.previous)
        except Exception as exc:  # the app runs on without a history
            monitor.note(f"history unavailable: {type(exc).__name__}: {exc}")
        _log_to_stderr_unless_configured()
        _follower = _history.Follower(monitor, store)
        _follower.start()


def _close_history() -> None:
    global _follower
    follower, _follower = _follower, None
    if follower is not None:
        follower.close(cleanly=True)


atexit.register(_close_history)


def snapshot() -> Snapshot:
    """An immutable record of everything the panel shows; ``.to_dict()`` gives plain JSON data.

    >>> import st_memwatch
    >>> st_memwatch.snapshot().to_dict()["limit"]["source"] in {"argument", "environment", "cgroup-v2", "cgroup-v1", "community-cloud", "total-ram"}
    True
    """
    monitor = _get_monitor()
    monitor.flush()
    if monitor.has_readers:
        monitor.refresh_sizes("", with_session=False)  # cache figures are throttled in the app; read them fresh
        monitor.flush()
    return monitor.snapshot()


def census(budget_s: float | None = None) -> CensusResult:
    """Live objects per type, with their shallow bytes (numpy buffers counted once).

    ``budget_s`` is a CPU-time limit in seconds (None: no limit); anything but None
    or a positive, finite number raises ValueError. st_memwatch's own objects are
    left out.

    >>> import st_memwatch
    >>> st_memwatch.census().by_type()["dict"].count > 0
    True
    """
    from st_memwatch.core.census import check_budget, take_census

    try:  # the author's mistake, named as they wrote it, before any work
        budget = check_budget(budget_s)
    except ValueError as exc:
        raise ValueError(f"census(budget_s=...): {exc}") from None
    return take_census(budget)


def stop() -> None:
    """Stop the sampler thread and unhook Streamlit (tests, or switching the panel off)."""
    global _monitor
    _close_history()
    with _monitor_lock:
        monitor, _monitor = _monitor, None
    if monitor is not None:
        monitor.close()
    try:
        from st_memwatch.ui.session import reset_gate
    except ImportError:  # pragma: no cover
        pass
    else:
        reset_gate()
    try:
        from st_memwatch.streamlit_bridge.runs import uninstall
    except ImportError:  # pragma: no cover
        return
    uninstall()


def _hook_runs_at_import() -> None:
    from st_memwatch.streamlit_bridge.runs import install_at_import

    install_at_import(_get_monitor)


def fresh_monitor(**settings: Any) -> Monitor:
    """Stop the current monitor and start this process's one Monitor afresh with these ``Settings``.

    For tools that record an app from its first run on a clean slate, as the headless
    check does (a census after every run, series that keep every run); an app calls
    ``panel()`` instead. Unknown settings raise TypeError.
    """
    global _monitor
    stop()
    with _monitor_lock:
        _monitor = Monitor(Settings(**settings))
    return _monitor


def _reset_for_tests(**settings: Any) -> Monitor:
    """A fresh Monitor with the given Settings (used by the test-suite)."""
    return fresh_monitor(**settings)


if "streamlit" in sys.modules:  # imported by a running app: record its first run whole
    _hook_runs_at_import()

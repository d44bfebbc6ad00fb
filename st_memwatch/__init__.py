"""st_memwatch: an in-app memory monitor for Streamlit.

Add one line to a Streamlit script::

    import streamlit as st
    import st_memwatch

    st_memwatch.panel()        # renders in the sidebar

and read per-rerun memory deltas and peaks, growing object types, cache and
session sizes, and warnings while memory trends toward the hosting limit.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from st_memwatch.core.limits import parse_limit, parse_size
from st_memwatch.core.models import CensusResult, Snapshot
from st_memwatch.core.monitor import Monitor, Settings

__version__ = "0.1.0"
__all__ = ["__version__", "census", "panel", "parse_size", "snapshot", "stop"]

_monitor: Monitor | None = None
_monitor_lock = threading.Lock()
_LOCATIONS = ("sidebar", "main")


def _get_monitor() -> Monitor:
    """The one Monitor of this process (one sampler thread, one history)."""
    global _monitor
    if _monitor is None:
        with _monitor_lock:
            if _monitor is None:
                _monitor = Monitor(Settings())
    return _monitor


def panel(limit: int | str | None = None, *, location: Literal["sidebar", "main"] = "sidebar", toast: bool = True) -> None:
    """Show the memory panel (in the sidebar by default) and record every rerun.

    ``limit`` overrides where the ceiling comes from (bytes, or a string such as
    ``"2.7GB"``); otherwise ``ST_MEMWATCH_LIMIT``, the container's cgroup limit,
    Community Cloud's 2.7 GB, then total RAM. A bad ``limit`` or ``location``
    raises ValueError; any failure inside st_memwatch is shown as one line in the
    panel and the script carries on.

    >>> import st_memwatch
    >>> st_memwatch.panel(limit="2.7GB")  # doctest: +SKIP
    """
    if not isinstance(toast, bool):
        raise ValueError(f"invalid toast {toast!r}: expected True or False")
    if location not in _LOCATIONS:
        raise ValueError(f"invalid location {location!r}: expected one of {', '.join(map(repr, _LOCATIONS))}")
    if limit is not None:
        try:  # raise for the author's mistake before the safety net below
            parse_limit(limit)
        except ValueError as exc:
            raise ValueError(f"panel(limit=...): {exc}") from None
    from st_memwatch.ui.session import show_panel

    show_panel(_get_monitor(), limit=limit, location=location, toast=toast)


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
    return monitor.snapshot()


def census(budget_s: float | None = None) -> CensusResult:
    """Live objects per type, with their shallow bytes (numpy buffers counted once).

    >>> import st_memwatch
    >>> st_memwatch.census().by_type()["dict"].count > 0
    True
    """
    from st_memwatch.core.census import take_census

    return take_census(budget_s)


def stop() -> None:
    """Stop the sampler thread and unhook Streamlit (tests, or switching the panel off)."""
    global _monitor
    with _monitor_lock:
        monitor, _monitor = _monitor, None
    if monitor is not None:
        monitor.close()
    try:
        from st_memwatch.streamlit_bridge.runs import uninstall
    except ImportError:  # pragma: no cover
        return
    uninstall()


def _reset_for_tests(**settings: Any) -> Monitor:
    """A fresh Monitor with the given Settings (used by the test-suite and ``check``)."""
    global _monitor
    stop()
    with _monitor_lock:
        _monitor = Monitor(Settings(**settings))
    return _monitor

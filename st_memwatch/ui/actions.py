"""Buttons that act on the whole process: clear the caches, collect, return freed memory.

Each affects every visitor (an emptied cache is refilled at their cost, a full
collection pauses every session), so they exist only with ``panel(actions=True)``
and only inside a panel the gate has opened. Each click is logged with the
session's alias and what it changed, so that an operator can tell a drop of
memory caused by a click from one the app made by itself.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import Any

from st_memwatch.core import probes
from st_memwatch.core.limits import format_bytes

log = logging.getLogger("st_memwatch")
KEY_PREFIX = "st_memwatch_action_"


def _clear_caches() -> str:
    from st_memwatch.streamlit_bridge import clear_all_caches

    clear_all_caches()
    return "every st.cache_data and st.cache_resource cache cleared"


def _collect() -> str:
    found = gc.collect()
    return f"full garbage collection: {found:,} unreachable objects"


def _trim() -> str:
    gc.collect()
    problem = probes.trim_allocator()
    if problem:
        raise RuntimeError(problem)
    return "freed memory returned to the OS (gc.collect, then malloc_trim)"


ACTIONS: tuple[tuple[str, str, str, Callable[[], str]], ...] = (
    ("clear_caches", "Clear all caches", "Empties every st.cache_data / st.cache_resource cache, for every visitor", _clear_caches),
    ("collect", "Full garbage collection", "gc.collect(): pauses every session while it runs", _collect),
    ("trim", "Return freed memory to the OS", "gc.collect() then glibc's malloc_trim(0)", _trim),
)


def run_action(key: str, session: str, rss: Callable[[], int] = probes.rss) -> str:
    """Run one action; the one line that says what it did (or why it could not)."""
    for name, label, _help, act in ACTIONS:
        if name == key:
            before = rss()
            try:
                what = act()
            except Exception as exc:  # an action that fails is a line, not a traceback
                line = f"{label} failed: {type(exc).__name__}: {exc}"
                log.warning("st_memwatch: %s (session %s)", line, session)
                return line
            after = rss()
            line = f"{what}; RSS {format_bytes(before)} → {format_bytes(after)}"
            log.info("st_memwatch: %s (session %s)", line, session)
            return line
    raise ValueError(f"unknown action {key!r}: expected one of {', '.join(a[0] for a in ACTIONS)}")


def render_actions(st: Any, session: str) -> None:
    """The buttons, and the result of the one clicked in this run."""
    st.caption("Actions (they affect every visitor of this app)")
    for name, label, help_text, _act in ACTIONS:
        if st.button(label, key=KEY_PREFIX + name, help=help_text):
            st.caption(run_action(name, session))

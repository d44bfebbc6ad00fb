"""The only package that touches Streamlit internals; every entry point is version-guarded."""

from __future__ import annotations

from st_memwatch.core.monitor import Monitor

def wire_sizes(monitor: Monitor, session: str) -> None:
    """Give the monitor its cache/session readers, and read sizes at a session's first render."""
    if monitor.cache_reader is None:
        from st_memwatch.streamlit_bridge import caches

        monitor.cache_reader = caches.read_caches
        monitor.session_reader = caches.read_session
    if session not in monitor.seen_sessions:
        monitor.seen_sessions.add(session)
        monitor.refresh_sizes(session)

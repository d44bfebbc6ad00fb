"""The only package that touches Streamlit internals; every entry point is version-guarded."""

from __future__ import annotations

from st_memwatch.core.models import SessionUsage
from st_memwatch.core.monitor import Monitor


def wire_sizes(monitor: Monitor, session: str) -> None:
    """Give the monitor its cache/session readers, and read sizes at a session's first render."""
    if not monitor.has_readers:
        wire_readers(monitor)
    if monitor.first_sight(session):
        monitor.refresh_sizes(session)


def wire_readers(monitor: Monitor) -> None:
    """Connect the cache and session_state readers of this Streamlit to the monitor."""
    if not monitor.has_readers:
        from st_memwatch.streamlit_bridge import caches

        def session_of_this_run(session: str, budget_s: float) -> SessionUsage | None:
            # Always called on the script thread (run end or panel call): the run's
            # own context finds the session, also under AppTest where no runtime exists.
            problems: list[str] = []
            usage = caches.read_session(None, budget_s, notes=problems)
            for problem in problems:
                monitor.note(problem)
            return usage

        # Streamlit's own session state, caches and runners: what a reference search ending there
        # found is named by these readers (the key, the function) or is no place in the app at all.
        monitor.connect_readers(caches.read_caches, session_of_this_run, ("streamlit.",))


def clear_all_caches() -> None:
    """Empty every ``st.cache_data`` and ``st.cache_resource`` cache (every session's)."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


def in_form(container: object) -> bool:
    """Is ``container`` inside an ``st.form``? (Buttons and downloads raise there; a toggle waits for submit.)"""
    try:
        from streamlit.elements.lib.form_utils import is_in_form
    except ImportError:
        return False
    try:
        return bool(is_in_form(container))  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - an unknown container: assume not
        return False

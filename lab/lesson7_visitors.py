"""Lesson 7: many visitors."""

import numpy as np
import streamlit as st

from lab import common

# A visitor's table: about a twelfth of the limit (at most a quarter of the lab's full model), so
# that a handful of tabs bring the sessions near the limit, which is what this lesson shows; it
# lets them go to 85 % of it (the other lessons stop at 60 %).
VISITOR_SHARE_OF_LIMIT = 12
ROOM_SHARE = 0.85


def table_bytes() -> int:
    return max(common.MiB, int(min(common.FULL_MODEL_BYTES // 4, common.limit_bytes() // VISITOR_SHARE_OF_LIMIT) * common.scale()))


size = table_bytes()


@st.cache_resource
def shared_table(nbytes: int) -> np.ndarray:
    """One copy per process, whatever the number of sessions."""
    return np.random.default_rng(7).standard_normal(max(1, nbytes // 8))


def page() -> None:
    """Lesson 7: many visitors: the page shown by st.navigation."""
    st.header("7 · Many visitors")
    st.markdown(
        f"""
    Every browser tab is a session with its own `st.session_state`. A table loaded into session state
    costs {common.format_bytes(size)} **per visitor**: ten tabs, ten copies, and they stay until each session
    ends. Load it once with `@st.cache_resource` and keep only the visitor's own choices in session state:
    the sessions share one copy. Open this page in a few more tabs (the link below) and watch the panel's
    session count and RSS: as the open sessions near what the limit fits, the panel says what a visitor
    costs and how many fit (`ST_MEMWATCH_LIMIT=700MiB make demo` brings the limit near enough).
    """
    )

    def reset() -> None:
        st.session_state.pop("lab_table", None)
        shared_table.clear()

    choice = common.variant("visitors", "a copy of the table in every session", "one shared copy (@st.cache_resource)")
    active = common.controls("visitors", reset)
    if not active:
        st.caption("Nothing allocated in the run that reset the lesson.")
    elif choice == "bad":
        st.code('st.session_state["lab_table"] = load_table()   # per session', language="python")
        if "lab_table" not in st.session_state:
            if common.has_room(size, ROOM_SHARE):
                st.session_state["lab_table"] = np.random.default_rng(7).standard_normal(max(1, size // 8))
            else:
                common.out_of_room(ROOM_SHARE)
        st.session_state.get("lab_table")
    else:
        st.code("table = shared_table()   # @st.cache_resource, one per process", language="python")
        st.session_state.pop("lab_table", None)
        shared_table(size)
    st.session_state["lab_visitor_pick"] = int(st.session_state.get("lab_visitor_pick", 0)) + 1
    st.link_button("Open another visitor (a new tab)", "?", help="A new tab is a new session")
    snap = common.measure()
    extra = []
    if snap.session is not None:
        sessions = snap.session.active_sessions
        extra.append(
            f"**Sessions (from the panel):** {sessions if sessions is not None else 'unknown'} active; "
            f"this one's state {common.format_bytes(snap.session.bytes)} in {snap.session.keys} keys"
        )
    everyone = getattr(snap, "sessions", None)  # all sessions as one aggregate, none of them named
    if everyone is not None:
        extra.append(
            f"**All sessions' state:** {common.format_bytes(everyone.total_bytes)} in {everyone.count} sessions "
            f"(largest {common.format_bytes(everyone.largest_bytes)})"
        )
    common.readout(snap, *extra)
    common.finish("visitors")

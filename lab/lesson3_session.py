"""Lesson 3: session state that hoards."""

from collections import deque

import numpy as np
import streamlit as st

from lab import common

KEEP = 5


def page() -> None:
    """Lesson 3: session state that hoards: the page shown by st.navigation."""
    size = common.model_bytes() // 16
    st.header("3 · Session state that hoards")
    st.markdown(
        f"""
    `st.session_state` lives as long as the visitor's session. Appending every run's result to a list
    there (a chat log, query results, uploads) grows it by one item per run
    ({common.format_bytes(size)} each here) for as long as the tab stays open, and for every open tab.
    Keep the last {KEEP} (or store results on disk and keep a key) and the session stays the same size.
    """
    )

    def reset() -> None:
        for key in ("lab_results", "lab_recent"):
            st.session_state.pop(key, None)

    choice = common.variant("session", "append every run's result", f"keep the last {KEEP}")
    active = common.controls("session", reset)
    result = np.random.default_rng().standard_normal(max(1, size // 8))
    if not active:
        st.caption("Nothing allocated in the run that reset the lesson.")
    elif choice == "bad":
        st.code('st.session_state["lab_results"].append(result)', language="python")
        if common.has_room(size):
            st.session_state.setdefault("lab_results", []).append(result)
        else:
            common.out_of_room()
    else:
        st.code(
            f'st.session_state.setdefault("lab_recent", deque(maxlen={KEEP})).append(result)', language="python"
        )
        # A deque with a maxlen says its bound out loud: the panel reads it and calls the window a forecast.
        st.session_state.setdefault("lab_recent", deque(maxlen=KEEP)).append(result)
    del result
    snap = common.measure()
    extra = []
    if snap.session is not None:
        biggest = ", ".join(f"`{k}` {common.format_bytes(b)}" for k, b in snap.session.largest_keys[:3])
        extra.append(
            f"**This session's state (from the panel):** {snap.session.keys} keys, "
            f"{common.format_bytes(snap.session.bytes)}" + (f"; largest: {biggest}" if biggest else "")
        )
    common.readout(snap, *extra)
    common.finish("session")

"""Lesson 5: peak vs. leak."""

import numpy as np
import streamlit as st

from lab import common, state


def page() -> None:
    """Lesson 5: peak vs. leak: the page shown by st.navigation."""
    temp_size = max(64 * common.MiB, 2 * common.model_bytes())
    leak_size = common.model_bytes() // 4
    st.header("5 · Peak vs. leak")
    st.markdown(
        f"""
    A run that builds a big temporary ({common.format_bytes(temp_size)} here) and lets it go ends where it
    started: its *delta* is about zero, yet for a moment the process needed that much more. That is a
    **peak**, and a peak over the limit kills an app as surely as a leak: this is why the panel shows each
    run's peak (from the kernel's high-water mark), not only its delta. A **leak** is different: what each
    run keeps ({common.format_bytes(leak_size)} here, in a module-level list) adds up, and the trend
    points at the limit.
    """
    )

    def reset() -> None:
        state.kept.clear()

    choice = common.variant("peak", "keep every run's result (a leak)", "a big temporary, freed (a peak)")
    active = common.controls("peak", reset)
    if not active:
        st.caption("Nothing allocated in the run that reset the lesson.")
    elif choice == "bad":
        st.code("state.kept.append(np.ones(n))   # a module-level list", language="python")
        if common.has_room(leak_size):
            state.kept.append(np.ones(max(1, leak_size // 8)))
        else:
            common.out_of_room()
    else:
        st.code("total = np.ones(n).sum()   # freed when the line is done", language="python")
        float(np.ones(max(1, temp_size // 8)).sum())
    st.caption(f"Arrays kept by the leaky variant: {len(state.kept)}.")
    common.readout(common.measure())
    common.finish("peak")

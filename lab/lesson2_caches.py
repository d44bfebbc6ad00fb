"""Lesson 2: bound your caches."""

import streamlit as st

from lab import common, features


def reset() -> None:
    features.features_unbounded.clear()
    features.features_bounded.clear()


def page() -> None:
    """Lesson 2: bound your caches: the page shown by st.navigation."""
    size = common.model_bytes() // 8
    st.header("2 · Bound your caches")
    st.markdown(
        f"""
    `st.cache_data` keeps one entry per distinct argument. Keyed on something that changes on every
    run (a timestamp, a free-text query, a counter), an unbounded cache grows by one entry per run
    ({common.format_bytes(size)} each here) and never lets go. `max_entries=` caps the number of
    entries and `ttl=` drops old ones: the cache fills to its bound and stays there.
    """
    )
    choice = common.variant(
        "caches", "@st.cache_data, no bound", f"@st.cache_data(max_entries={features.BOUND}, ttl=3600)"
    )
    active = common.controls("caches", reset)
    seed = int(st.session_state.get("lab_caches_seed", 0)) + 1
    st.session_state["lab_caches_seed"] = seed  # the changing argument: a new value on every run
    if not active:
        st.caption("Nothing allocated in the run that reset the lesson.")
    elif choice == "bad":
        if common.has_room(size):
            features.features_unbounded(seed, size)
        else:
            common.out_of_room()
    else:
        features.features_bounded(seed, size)
    snap = common.measure()
    rows = [
        f"`{c.function.rsplit('.', 1)[-1]}`: {c.entries} entries, {common.format_bytes(c.bytes)}"
        + (" (bounded)" if c.bounded else " (no bound)")
        for c in snap.caches
        if c.function.rsplit(".", 1)[-1].startswith("features_")
    ]
    common.readout(snap, "**Caches (from the panel):** " + ("; ".join(rows) if rows else "none filled yet"))
    common.finish("caches")

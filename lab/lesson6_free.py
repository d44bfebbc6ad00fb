"""Lesson 6: free what you hold."""

import gc

import streamlit as st

from lab import common, state

CHUNK = 2048  # bytes per object: above Python's small-object limit, so glibc's malloc serves them
KEEP_EVERY = 64  # a few survivors scattered through the heap, as real apps leave them


def page() -> None:
    """Lesson 6: free what you hold: the page shown by st.navigation."""
    size = common.model_bytes() // 2
    st.header("6 · Free what you hold")
    st.markdown(
        f"""
    Each run here builds {common.format_bytes(size)} of small objects and drops them again, keeping one in
    {KEEP_EVERY} alive (as real apps keep a few results). Dropping the references (`del`) frees the objects:
    the panel's **Python heap** falls. **RSS** often does not: the allocator keeps the freed pages for later,
    because the survivors are scattered between them. That is *retention*, not a leak: the next run reuses
    those pages. `gc.collect()` frees only objects caught in reference cycles (Streamlit's server already
    collects after every run); glibc's `malloc_trim(0)` returns the free pages to the operating system, and
    RSS comes down. Compare RSS with the Python heap in the readout below.
    """
    )

    def reset() -> None:
        state.survivors.clear()

    choice = common.variant("free", "drop the references and stop there", "drop, gc.collect(), malloc_trim(0)")
    common.controls("free", reset)
    objects = [bytes(CHUNK) + bytes([i % 251]) for i in range(max(1, size // CHUNK))]
    state.survivors[:] = objects[::KEEP_EVERY]
    del objects
    if choice == "bad":
        st.code("del objects", language="python")
    else:
        st.code("del objects\ngc.collect()\nctypes.CDLL('libc.so.6').malloc_trim(0)", language="python")
        gc.collect()
        if not common.trim():
            st.caption("No glibc here: malloc_trim is not available, so RSS stays where the allocator leaves it.")
    snap = common.measure()
    heap = (
        f"**Python heap (live objects, last census):** {common.format_bytes(snap.python_heap)}; "
        f"RSS above it: {common.format_bytes(max(0, snap.rss - snap.python_heap))}"
        if snap.python_heap is not None
        else "**Python heap:** no census yet (it runs between runs; click again in a moment)"
    )
    common.readout(snap, heap)
    common.finish("free")

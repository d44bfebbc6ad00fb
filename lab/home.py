"""The lab's first page: what it is and how to use it."""

import streamlit as st

from lab import common, lesson7_visitors


def page() -> None:
    """The lab's first page: what it is and how to use it: the page shown by st.navigation."""
    st.title("st_memwatch caching lab")
    st.markdown(
        f"""
    Seven lessons, one per memory fix the Streamlit docs teach. Each lesson has a **bad** and a
    **good** variant, a **Rerun {common.RERUNS} times** button that reruns the script by itself,
    and a **Reset** that frees what the lesson allocated. Watch the panel in the sidebar while
    you click: every number a lesson prints is read from st_memwatch, none is written in advance.

    Sizes are scaled to the memory limit the panel shows (a "model" here is
    {common.format_bytes(common.model_bytes())}), and a bad variant stops adding at
    {common.HEADROOM_SHARE:.0%} of the limit ({lesson7_visitors.ROOM_SHARE:.0%} in lesson 7, whose point is
    visitors approaching it), so the lab never ends its own host.
    """
    )
    st.markdown(
        "1. **Load the model once**: the script body vs. `st.cache_resource`\n"
        "2. **Bound your caches**: `st.cache_data` without a bound vs. `max_entries` / `ttl`\n"
        "3. **Session state that hoards**: append every run vs. keep the last N\n"
        "4. **Big data: memory vs. disk**: CSV into memory vs. Parquet columns from disk\n"
        "5. **Peak vs. leak**: a big temporary vs. memory that is kept\n"
        "6. **Free what you hold**: `del`, `gc.collect()` and `malloc_trim`\n"
        "7. **Many visitors**: what each session costs"
    )
    common.readout(common.measure())

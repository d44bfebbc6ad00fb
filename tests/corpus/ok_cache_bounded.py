"""NOT A LEAK: ``st.cache_data(max_entries=5)`` keyed on a changing argument.

Looks like ``leak_cache_data_counter.py`` for the first five reruns (the cache
fills), then the oldest entry is evicted on every insert and memory is flat.
"""

import numpy as np
import pandas as pd
import streamlit as st

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no


@st.cache_data(max_entries=5)
def load_recent_snapshot(refresh_no: int) -> pd.DataFrame:
    rng = np.random.default_rng(refresh_no)
    return pd.DataFrame(rng.standard_normal((20_000, 3)), columns=["a", "b", "c"])  # ~0.5 MB


st.title("Live snapshot (bounded cache)")
snapshot = load_recent_snapshot(run_no)
st.line_chart(snapshot.head(200))
st.caption(f"refresh #{run_no}")

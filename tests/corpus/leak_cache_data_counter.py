"""LEAK: unbounded ``st.cache_data`` keyed on an argument that changes every rerun.

The classic form passes ``datetime.now()`` or a refresh counter into a cached
loader: every call is a miss, every result is kept, nothing is ever evicted
(no ``max_entries``, no ``ttl``).
"""

import numpy as np
import pandas as pd
import streamlit as st

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no


@st.cache_data
def load_snapshot(refresh_no: int) -> pd.DataFrame:
    rng = np.random.default_rng(refresh_no)
    return pd.DataFrame(rng.standard_normal((20_000, 3)), columns=["a", "b", "c"])  # ~0.5 MB


st.title("Live snapshot")
snapshot = load_snapshot(run_no)  # a new cache entry on every rerun
st.line_chart(snapshot.head(200))
st.caption(f"refresh #{run_no}")

"""LEAK: every query result is kept in ``st.session_state`` under its query id.

A "don't lose my results" dict: each new query adds a DataFrame and none is
ever removed, so a long session holds every result it ever fetched.
"""

import numpy as np
import pandas as pd
import streamlit as st

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no

if "query_results" not in st.session_state:
    st.session_state.query_results = {}

query_id = f"q{run_no:04d}"
rng = np.random.default_rng(run_no)
result = pd.DataFrame(
    {
        "customer": rng.integers(0, 50_000, 40_000),
        "amount": rng.random(40_000) * 1_000,
        "category": pd.Categorical(rng.choice(["a", "b", "c"], 40_000)),
        "ts": pd.date_range("2024-01-01", periods=40_000, freq="min"),
    }
)  # ~1 MB
st.session_state.query_results[query_id] = result  # the bug: kept forever

st.title("Query workbench")
st.selectbox("Previous queries", list(st.session_state.query_results))
st.dataframe(result.head(50))

"""Healthy: st.cache_data(max_entries=8) keyed by a counter fills up to its bound (~16 MiB), then stays."""

import numpy as np
import streamlit as st

import st_memwatch

st_memwatch.panel()


@st.cache_data(max_entries=8)
def report(n: int) -> np.ndarray:
    return np.random.default_rng(n).standard_normal(2**18)  # 2 MiB


st.title("Reports (a bounded cache)")
if st.button("Next report"):
    st.session_state["n"] = st.session_state.get("n", 0) + 1
n = st.session_state.get("n", 0)
st.write(f"Report {n}: mean {float(report(n).mean()):+.4f}")

"""Leak: st.cache_data without a bound, keyed by a counter that changes on every click (4 MiB an entry)."""

import numpy as np
import streamlit as st

import st_memwatch

st_memwatch.panel()


@st.cache_data
def load_report(n: int) -> np.ndarray:
    return np.random.default_rng(n).standard_normal(2**19)  # 4 MiB


st.title("Reports (an unbounded cache)")
if st.button("Next report"):
    st.session_state["n"] = st.session_state.get("n", 0) + 1
n = st.session_state.get("n", 0)
st.write(f"Report {n}: mean {float(load_report(n).mean()):+.4f}")

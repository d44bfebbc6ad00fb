"""NOT A LEAK: ``st.cache_data(ttl=...)`` keyed on a changing argument.

Time is compressed so the pattern shows within a short test: entries live
0.1 s and each rerun starts by waiting 0.15 s (standing in for the time between
user interactions), so by the time a new entry is written the previous one has
expired and is reaped. The cache holds about one entry at any time.
"""

import time

import numpy as np
import pandas as pd
import streamlit as st

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no


@st.cache_data(ttl=0.1)
def fetch_quotes(refresh_no: int) -> pd.DataFrame:
    rng = np.random.default_rng(refresh_no)
    return pd.DataFrame(rng.standard_normal((20_000, 3)), columns=["bid", "ask", "last"])  # ~0.5 MB


time.sleep(0.15)
st.title("Quotes (ttl cache)")
quotes = fetch_quotes(run_no)
st.dataframe(quotes.tail(20))

"""LEAK: every rerun appends a DataFrame to a history list in ``st.session_state``.

Chat and "analysis history" apps keep each result so the user can scroll back;
without a cap the session grows by one result per interaction.
"""

import numpy as np
import pandas as pd
import streamlit as st

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no

if "history" not in st.session_state:
    st.session_state.history = []

rng = np.random.default_rng(run_no)
result = pd.DataFrame(rng.standard_normal((20_000, 3)), columns=["x", "y", "z"])  # ~0.5 MB
st.session_state.history.append(result)  # the bug: never trimmed

st.title("Analysis history")
st.write(f"{len(st.session_state.history)} results in history")
st.dataframe(result.describe())

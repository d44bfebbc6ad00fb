"""NOT A LEAK: session state holds a fixed-size window of recent results.

Looks like ``leak_session_history.py`` for ten reruns, then ``deque(maxlen=10)``
drops the oldest result for each new one and memory is flat.
"""

from collections import deque

import numpy as np
import pandas as pd
import streamlit as st

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no

if "recent_results" not in st.session_state:
    st.session_state.recent_results = deque(maxlen=10)

rng = np.random.default_rng(run_no)
result = pd.DataFrame(rng.standard_normal((20_000, 3)), columns=["x", "y", "z"])  # ~0.5 MB
st.session_state.recent_results.append(result)

st.title("Recent analyses")
st.write(f"{len(st.session_state.recent_results)} recent results kept")
st.dataframe(result.describe())

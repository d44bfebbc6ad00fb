"""NOT A LEAK: a 50 MB numpy array is built and freed within each run.

Peak memory per run is high, but nothing survives the run, so RSS after each
run returns to the same level (numpy's large buffers are handed back to the OS).
"""

import numpy as np
import streamlit as st

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no

st.title("Monte Carlo")
samples = np.random.default_rng(run_no).standard_normal(6_553_600)  # 50 MiB of float64
estimate = float((samples > 1.96).mean())
del samples
st.metric("P(Z > 1.96)", f"{estimate:.4f}")

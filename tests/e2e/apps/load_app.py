"""The app of the load test and the latency benchmark: the panel (unless told not to) and one line."""

import os
import threading

import streamlit as st

if os.environ.get("LOAD_APP_NUMPY") == "1":
    import numpy  # noqa: F401 - a data app's usual import: its objects are in every post-run collection

if os.environ.get("LOAD_APP_PANEL", "1") == "1":
    import st_memwatch
    from st_memwatch.streamlit_bridge.runs import current_session_id

    st_memwatch.panel()
    alias = current_session_id()
else:
    alias = "-"

n = st.session_state["n"] = st.session_state.get("n", 0) + 1
rows = [{"i": i, "square": i * i} for i in range(200)]  # a little work, as a real page has
st.write(f"{len(rows)} rows")
samplers = sum(t.name == "st_memwatch-sampler" for t in threading.enumerate())
st.write(f"alias {alias} run {n} samplers {samplers}")

"""A first run that loads ~150 MiB over 3 s before ``panel()``, which sits on the script's last line."""

import time

import numpy as np
import streamlit as st

import st_memwatch

st.title("Panel on the last line")
if "model" not in st.session_state:
    weights = np.empty(150 * 1024 * 1024, dtype=np.uint8)
    weights.fill(1)  # touch every page: RSS grows now
    time.sleep(3)
    st.session_state["model"] = weights
st.write("Model loaded")
st_memwatch.panel()

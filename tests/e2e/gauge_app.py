"""The app of the gauge's browser tests: one button allocates memory step by step while the script sleeps."""

import os
import time

import numpy as np
import streamlit as st

import st_memwatch

st_memwatch.panel(limit=os.environ.get("GAUGE_TEST_LIMIT") or None)
st.title("Gauge test app")
if st.button("Allocate step by step"):
    kept = []
    for step in range(8):  # ~8 s, 8 steps of 40 MiB: the gauge polls about once a second meanwhile
        block = np.empty(40 * 1024 * 1024, dtype=np.uint8)
        block.fill(step + 1)  # touch every page, so RSS grows now
        kept.append(block)
        time.sleep(1.0)
    st.write(f"Allocated {len(kept)} blocks")
else:
    st.write("Idle")

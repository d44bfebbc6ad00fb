"""LEAK behind a button: each click of "Allocate" keeps 1 MiB in st.session_state.

At the widgets' defaults nothing grows; a visitor who clicks keeps adding.
"""

import numpy as np
import streamlit as st

st.session_state.setdefault("blobs", [])
st.title("Scratch space")
rows = st.slider("Preview rows", 1, 50, 5)
if st.button("Allocate"):
    st.session_state.blobs.append(np.ones(1 << 17))  # 1 MiB per click, never dropped
if st.button("Show count"):
    st.write(len(st.session_state.blobs))
st.caption(f"{len(st.session_state.blobs)} blocks, showing {rows} rows")

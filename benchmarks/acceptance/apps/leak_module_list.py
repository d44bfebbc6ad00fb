"""Leak: every run appends a 4 MiB frame to a module-level list (applib._seen_frames)."""

import numpy as np
import pandas as pd
import streamlit as st
from applib import _seen_frames

import st_memwatch

st_memwatch.panel()

st.title("Frames (a module-level list)")
st.button("Load")
frame = pd.DataFrame(np.random.default_rng().standard_normal((2**16, 8)), columns=list("abcdefgh"))
_seen_frames.append(frame)
st.write(f"{len(_seen_frames)} frames seen by this process.")

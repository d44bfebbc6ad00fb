"""Leak: every run appends a 4 MiB result to a list in st.session_state["answers"]."""

import numpy as np
import streamlit as st

import st_memwatch

st_memwatch.panel()

st.title("Answers (session state that hoards)")
st.button("Ask again")
result = np.random.default_rng().standard_normal(2**19)
st.session_state.setdefault("answers", []).append(result)
st.write(f"{len(st.session_state['answers'])} answers kept in this session.")

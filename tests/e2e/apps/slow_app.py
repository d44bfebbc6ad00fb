"""A script that takes a few seconds, so a click can interrupt a run with a rerun."""

import time

import streamlit as st

import st_memwatch

st_memwatch.panel()
st.button("Go")
box = st.empty()
for i in range(25):
    box.write(f"working {i}")
    time.sleep(0.1)
st.write("done")

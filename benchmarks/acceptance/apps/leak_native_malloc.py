"""Leak: a C library keeps 8 MiB per run (ctypes malloc from libc, never freed), as a native session would."""

import streamlit as st
from applib import MiB, c_alloc

import st_memwatch

st_memwatch.panel()

st.title("Native session (built on every run)")
st.button("Run")
c_alloc(8 * MiB)  # the address is dropped: nothing in Python refers to this memory
st.write("A native session was built.")

"""Healthy: a pool of C buffers (4 MiB each) that fills to 10 buffers (40 MiB) and then stops."""

import streamlit as st
from applib import POOL_BUFFERS, MiB, pool_take

import st_memwatch

st_memwatch.panel()

st.title("A bounded native pool")
st.button("Process")
size = pool_take(4 * MiB)
st.write(f"The pool holds {size} of at most {POOL_BUFFERS} C buffers of 4 MiB.")

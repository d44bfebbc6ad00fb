"""Healthy: every run builds a big temporary (64 MiB of C memory and 32 MiB of numpy) and frees it."""

import numpy as np
import streamlit as st
from applib import MiB, c_alloc, c_free

import st_memwatch

st_memwatch.panel()

st.title("A big temporary, freed every run")
st.button("Process")
address = c_alloc(64 * MiB)
total = float(np.ones(4 * MiB).sum())  # 32 MiB of float64
c_free(address)
st.write(f"Processed {total:,.0f} values; nothing kept.")

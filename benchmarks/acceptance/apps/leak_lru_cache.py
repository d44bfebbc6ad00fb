"""Leak: functools.lru_cache(maxsize=None) keyed by a counter (2 MiB an entry, applib.render_tile)."""

import streamlit as st
from applib import render_tile

import st_memwatch

st_memwatch.panel()

st.title("Tiles (an unbounded lru_cache)")
if st.button("Next tile"):
    st.session_state["n"] = st.session_state.get("n", 0) + 1
n = st.session_state.get("n", 0)
st.write(f"Tile {n}: {len(render_tile(n)):,} bytes; {render_tile.cache_info().currsize} tiles cached.")

"""NOT A LEAK: ``functools.lru_cache(maxsize=8)`` keyed on a changing value.

Same tiles as ``leak_lru_cache_helper.py``; the cache fills to eight entries
and then evicts the least recently used one for each new tile.
"""

import sys
from pathlib import Path

import streamlit as st

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import corpus_tiles  # noqa: E402

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no

st.title("Map viewer (bounded cache)")
tile = corpus_tiles.render_tile_bounded(run_no)
st.write(f"tile {run_no}: {len(tile)} bytes")
st.caption(f"cache: {corpus_tiles.render_tile_bounded.cache_info()}")

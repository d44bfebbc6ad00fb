"""LEAK: ``functools.lru_cache(maxsize=None)`` in a helper module, keyed on a changing value.

The cache belongs to the helper module, so it lives for the whole process,
and every new tile id is a new entry.
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

st.title("Map viewer")
tile = corpus_tiles.render_tile(run_no)  # the viewport moves: a new tile id per rerun
st.write(f"tile {run_no}: {len(tile)} bytes")
st.caption(f"cache: {corpus_tiles.render_tile.cache_info()}")

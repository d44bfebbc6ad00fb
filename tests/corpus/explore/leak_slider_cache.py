"""LEAK behind a slider: every position fills one more entry of an unbounded st.cache_data.

At the default position the cache holds one entry; a visitor moving the slider adds one per move.
"""

import numpy as np
import streamlit as st


@st.cache_data  # no max_entries, no ttl
def render_tile(zoom: int) -> np.ndarray:
    return np.random.default_rng(zoom).standard_normal(1 << 17)  # 1 MiB per zoom level


zoom = st.slider("Zoom", 0, 1000, 100)
show_grid = st.checkbox("Grid", value=True)
tile = render_tile(zoom)
st.write(f"zoom {zoom}: mean {tile.mean():+.3f}, grid {'on' if show_grid else 'off'}")

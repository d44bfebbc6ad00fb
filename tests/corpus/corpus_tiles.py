"""Tile rendering memoised with ``functools.lru_cache(maxsize=None)``.

An unbounded ``lru_cache`` in an imported module is a process-wide cache that
Streamlit knows nothing about: ``st.cache_data.clear()`` does not touch it and
it grows with every distinct argument it ever sees.
"""

from __future__ import annotations

import functools

import numpy as np

TILE_BYTES = 512 * 1024


@functools.lru_cache(maxsize=None)
def render_tile(tile_id: int) -> bytes:
    """Pretend-render a map tile; the payload is deterministic per tile id."""
    return np.random.default_rng(tile_id).bytes(TILE_BYTES)


@functools.lru_cache(maxsize=8)
def render_tile_bounded(tile_id: int) -> bytes:
    """The same tile renderer with a bounded cache."""
    return np.random.default_rng(tile_id).bytes(TILE_BYTES)

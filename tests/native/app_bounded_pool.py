"""(d) A native buffer pool that fills to its bound (12 buffers of 8 MiB, 2 a run) and stops.

Growth during the first runs, then none: bounded, not a leak.
"""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import native_support  # noqa: E402

import st_memwatch  # noqa: E402

st_memwatch.panel()
filled = native_support.fill_pool(2, native_support.size(8 * native_support.MiB))
st.write(f"Pool: {filled} of {native_support.POOL_BOUND} buffers")

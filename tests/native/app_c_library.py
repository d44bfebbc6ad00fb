"""(a) A C library that keeps 8 MiB on every run: a native session built in the script body.

The leak is outside Python: the script keeps nothing but a count; libc's malloc holds
the blocks. The fix would be ``@st.cache_resource`` around the session's creation.
"""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import native_support  # noqa: E402

import st_memwatch  # noqa: E402

st_memwatch.panel()
sessions = native_support.build_native_session(native_support.size(8 * native_support.MiB))
st.write(f"Native sessions built so far: {sessions}")

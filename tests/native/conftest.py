from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture
def monitor():
    """A fresh process monitor and empty caches; what the native apps keep is freed afterwards."""
    import native_support
    import streamlit as st

    import st_memwatch

    st.cache_data.clear()
    st.cache_resource.clear()
    native_support.reset()
    mon = st_memwatch._reset_for_tests()
    yield mon
    st_memwatch.stop()
    native_support.reset()

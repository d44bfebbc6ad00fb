from __future__ import annotations

import pytest


@pytest.fixture
def monitor():
    """A fresh process monitor, so one test's runs never leak into another's figures."""
    import streamlit as st

    import st_memwatch

    st.cache_data.clear()
    st.cache_resource.clear()
    mon = st_memwatch._reset_for_tests()
    yield mon
    st_memwatch.stop()

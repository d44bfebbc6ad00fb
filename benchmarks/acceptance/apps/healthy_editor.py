"""Healthy: a data editor over a cached frame; the edits live in the widget's state."""

import numpy as np
import pandas as pd
import streamlit as st

import st_memwatch

st_memwatch.panel()


@st.cache_data
def inventory(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(13)
    return pd.DataFrame({"stock": rng.integers(0, 100, n), "price": rng.normal(10, 2, n).round(2)})


st.title("Inventory editor")
edited = st.data_editor(inventory(), key="editor", height=400)
st.metric("Stock value", f"{float((edited['stock'] * edited['price']).sum()):,.2f}")

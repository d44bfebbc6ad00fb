"""Healthy: a multipage app (st.navigation) with a cached frame shared by its pages."""

import numpy as np
import pandas as pd
import streamlit as st

import st_memwatch


@st.cache_data
def sales() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    days = pd.date_range("2026-01-01", periods=365, freq="D")
    return pd.DataFrame({"day": days, "units": rng.poisson(40, 365), "price": rng.normal(20, 2, 365).round(2)})


def overview() -> None:
    st.title("Overview")
    frame = sales()
    st.metric("Units this year", f"{int(frame['units'].sum()):,}")
    st.line_chart(frame.set_index("day")["units"])


def table() -> None:
    st.title("Table")
    st.dataframe(sales(), height=300)


def settings() -> None:
    st.title("Settings")
    st.toggle("Show prices in euros", key="euros")
    st.radio("Week starts on", ["Monday", "Sunday"], key="week_start")


page = st.navigation(
    [
        st.Page(overview, title="Overview", url_path="overview", default=True),
        st.Page(table, title="Table", url_path="table"),
        st.Page(settings, title="Settings", url_path="settings"),
    ]
)
st_memwatch.panel()
page.run()

"""NOT A LEAK: the Uber-pickups demo's pattern, a cache keyed by a slider of 24 hours.

A cached 100,000-row frame of pickups, and ``filterdata(df, hour)`` cached per hour:
each new hour a visitor picks adds one entry (a few thousand rows), and the slider
has 24 values, so the cache holds at most 24 entries. Bounded by the widget.
"""

import numpy as np
import pandas as pd
import streamlit as st

DATE_TIME = "date/time"


@st.cache_data
def load_data(nrows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    start = np.datetime64("2014-09-01T00:00")
    minutes = rng.integers(0, 30 * 24 * 60, nrows)
    return pd.DataFrame({
        DATE_TIME: start + minutes.astype("timedelta64[m]"),
        "lat": 40.7 + rng.standard_normal(nrows) * 0.05,
        "lon": -73.97 + rng.standard_normal(nrows) * 0.05,
    })


@st.cache_data
def filterdata(df: pd.DataFrame, hour_selected: int) -> pd.DataFrame:
    return df[df[DATE_TIME].dt.hour == hour_selected]


@st.cache_data
def histdata(df: pd.DataFrame, hr: int) -> pd.DataFrame:
    filtered = df[(df[DATE_TIME].dt.hour >= hr) & (df[DATE_TIME].dt.hour < hr + 1)]
    hist = np.histogram(filtered[DATE_TIME].dt.minute, bins=60, range=(0, 60))[0]
    return pd.DataFrame({"minute": range(60), "pickups": hist})


st.title("NYC Uber ridesharing data")
data = load_data(100_000)
hour_selected = st.slider("Select hour of pickup", 0, 23, 0)
chosen = filterdata(data, hour_selected)
st.write(f"**All New York City from {hour_selected}:00 and {(hour_selected + 1) % 24}:00**: {len(chosen)} pickups")
st.map(chosen.sample(min(len(chosen), 500), random_state=0), latitude="lat", longitude="lon")
st.bar_chart(histdata(data, hour_selected), x="minute", y="pickups")

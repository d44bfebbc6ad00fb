"""Healthy: a cached 100,000-row frame, a slider that filters it, a weekly line chart and a table."""

import numpy as np
import pandas as pd
import streamlit as st

import st_memwatch

st_memwatch.panel()


@st.cache_data
def load_trips(n: int = 100_000) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    start = pd.Timestamp("2026-01-01")
    return pd.DataFrame(
        {
            "when": start + pd.to_timedelta(rng.integers(0, 365 * 24 * 3600, n), unit="s"),
            "fare": rng.gamma(2.0, 8.0, n).round(2),
            "distance_km": rng.gamma(1.5, 3.0, n).round(1),
            "zone": rng.choice(["north", "south", "east", "west", "centre"], n),
        }
    )


st.title("Trips dashboard")
trips = load_trips()
min_fare = st.slider("Minimum fare", 0, 60, 0)
view = trips[trips["fare"] >= min_fare]
left, right = st.columns(2)
left.metric("Trips", f"{len(view):,}")
right.metric("Mean fare", f"{view['fare'].mean():.2f}" if len(view) else "n/a")
weekly = view.set_index("when").sort_index()["fare"].resample("W").sum()
st.line_chart(weekly)
st.dataframe(view.head(200), height=300)

"""Healthy: a map of cached points, filtered by a selectbox."""

import numpy as np
import pandas as pd
import streamlit as st

import st_memwatch

st_memwatch.panel()
DISTRICTS = ["all", "north", "south", "east", "west"]


@st.cache_data
def points(n: int = 50_000) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    lat = 48.85 + rng.normal(0, 0.05, n)
    lon = 2.35 + rng.normal(0, 0.08, n)
    district = np.where(lat > 48.85, np.where(lon > 2.35, "north", "west"), np.where(lon > 2.35, "east", "south"))
    return pd.DataFrame({"lat": lat, "lon": lon, "district": district})


st.title("Pickups map")
where = st.selectbox("District", DISTRICTS)
data = points()
shown = data if where == "all" else data[data["district"] == where]
st.write(f"{len(shown):,} pickups")
st.map(shown[["lat", "lon"]], size=5)

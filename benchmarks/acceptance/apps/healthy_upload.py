"""Healthy: upload a CSV, summarise it and chart it; nothing is kept beyond the uploader's own file."""

import pandas as pd
import streamlit as st

import st_memwatch

st_memwatch.panel()

st.title("CSV explorer")
uploaded = st.file_uploader("A CSV file", type=["csv"])
column = st.selectbox("Column to chart", ["value", "other"])
if uploaded is not None:
    frame = pd.read_csv(uploaded)
    st.write(f"{uploaded.name}: {len(frame):,} rows, {len(frame.columns)} columns")
    st.dataframe(frame.describe())
    if column in frame:
        st.line_chart(frame[column])
else:
    st.info("Upload a file to start.")

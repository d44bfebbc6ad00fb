"""NOT A LEAK: a page with many widgets, tabs and columns.

Widget state lives in ``st.session_state`` but its size is fixed by the number
of widgets, not by the number of reruns.
"""

import datetime as dt

import numpy as np
import pandas as pd
import streamlit as st

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1

st.title("Control panel")
with st.sidebar:
    region = st.selectbox("Region", ["north", "south", "east", "west"], key="region")
    metrics = st.multiselect("Metrics", ["units", "price", "margin"], ["units"], key="metrics")
    since = st.date_input("Since", dt.date(2024, 1, 1), key="since")

tab_filters, tab_table, tab_notes = st.tabs(["Filters", "Table", "Notes"])
with tab_filters:
    cols = st.columns(4)
    thresholds = [cols[i % 4].slider(f"Threshold {i}", 0, 100, i * 3, key=f"thr_{i}") for i in range(16)]
    flags = [cols[i % 4].checkbox(f"Flag {i}", value=i % 2 == 0, key=f"flag_{i}") for i in range(12)]
    mode = st.radio("Mode", ["fast", "exact", "sampled"], horizontal=True, key="mode")
    limit = st.number_input("Row limit", 10, 10_000, 500, key="limit")
with tab_table:
    base = pd.DataFrame(
        {
            "item": [f"item {i}" for i in range(30)],
            "qty": np.arange(30),
            "active": np.arange(30) % 3 == 0,
        }
    )
    edited = st.data_editor(base, key="editor")
    st.dataframe(edited.describe())
with tab_notes:
    note = st.text_area("Notes", "nothing yet", key="notes")
    name = st.text_input("Owner", "ops", key="owner")
    st.toggle("Notify", key="notify")
    st.color_picker("Colour", "#3366cc", key="colour")

with st.expander("Summary"):
    st.json(
        {
            "region": region,
            "metrics": metrics,
            "since": str(since),
            "thresholds": sum(thresholds),
            "flags": sum(flags),
            "mode": mode,
            "limit": int(limit),
            "owner": name,
            "note_len": len(note),
        }
    )
st.button("Apply", key="apply")

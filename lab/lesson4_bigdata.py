"""Lesson 4: big data, memory vs. disk."""

import pandas as pd
import pyarrow.parquet as pq
import streamlit as st

from lab import bigdata, common


def page() -> None:
    """Lesson 4: big data, memory vs. disk: the page shown by st.navigation."""
    size = common.model_bytes() // 2
    st.header("4 · Big data: memory vs. disk")
    st.markdown(
        f"""
    `pd.read_csv` parses the whole file into memory, every column, on every run that calls it: a table of
    {common.format_bytes(size)} here is a peak of at least that much per click (and the text parser needs
    more while it works). The same data as Parquet on disk can be read a column at a time;
    `memory_map=True` lets Arrow read the file's pages instead of copying it first. Read only what the page
    shows, and the run's peak shrinks to the columns it uses. Watch **peak** in the panel's *Last run*
    line: neither variant keeps anything, so neither is a leak; the cost is the peak and the time.
    """
    )
    choice = common.variant(
        "bigdata", "pd.read_csv, every column, every run", "Parquet on disk, one column, memory-mapped"
    )
    common.controls("bigdata", bigdata.remove)
    csv_path, parquet_path = bigdata.generate(size)
    if choice == "bad":
        st.code("df = pd.read_csv('data.csv')\nmean = df['price'].mean()", language="python")
        frame = pd.read_csv(csv_path)
        mean = float(frame["price"].mean())
        del frame
    else:
        st.code("table = pq.read_table('data.parquet', columns=['price'], memory_map=True)", language="python")
        table = pq.read_table(parquet_path, columns=["price"], memory_map=True)
        mean = float(table.column("price").to_numpy().mean())
        del table
    st.caption(f"Mean price: {mean:+.4f} (the same answer either way).")
    common.readout(common.measure())
    common.finish("bigdata")

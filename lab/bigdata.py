"""Lesson 4's data: one generated table written once as CSV and as Parquet (no download)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import streamlit as st

COLUMNS = ("price", "qty", "lat", "lon", "temp", "wind", "score", "noise")


@st.cache_resource
def generate(nbytes: int) -> tuple[str, str]:
    """Paths of ``data.csv`` and ``data.parquet``, about ``nbytes`` of float64 in 8 columns."""
    rows = max(1000, nbytes // (8 * len(COLUMNS)))
    rng = np.random.default_rng(0)
    table = pa.table({name: rng.standard_normal(rows) for name in COLUMNS})
    folder = Path(tempfile.mkdtemp(prefix="st_memwatch_lab_"))
    csv_path, parquet_path = folder / "data.csv", folder / "data.parquet"
    pa_csv.write_csv(table, csv_path)
    # Uncompressed, so a memory-mapped read can hand out the file's own pages.
    pq.write_table(table, parquet_path, compression="none")
    return str(csv_path), str(parquet_path)


def remove() -> None:
    """Delete the generated files and forget them."""
    for folder in Path(tempfile.gettempdir()).glob("st_memwatch_lab_*"):
        shutil.rmtree(folder, ignore_errors=True)
    generate.clear()

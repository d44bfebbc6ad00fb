"""LEAK behind an upload: each uploaded CSV, expanded to 1 MiB, is kept in st.session_state.

Without an upload nothing is kept. (AppTest can upload files from Streamlit 1.52 on.)
"""

import io

import numpy as np
import pandas as pd
import streamlit as st

st.session_state.setdefault("uploads", {})
upload = st.file_uploader("Data file", type=["csv"])
st.text_input("Title", "Untitled")
if upload is not None:
    frame = pd.read_csv(io.BytesIO(upload.getvalue()))
    # "enriched" copy kept per upload, keyed by the upload's id: never evicted
    st.session_state.uploads[upload.file_id] = np.resize(frame.to_numpy(dtype=float), 1 << 17)
    st.write(f"{len(frame)} rows; {len(st.session_state.uploads)} uploads kept")

"""LEAK: raw bytes of every uploaded/generated file are kept in ``st.session_state``.

Apps that let users upload files (or generate exports for ``st.download_button``)
often stash the bytes in session state "for later" and never drop them.
The upload is simulated with deterministic bytes so that the app runs headless.
"""

import numpy as np
import streamlit as st

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no

if "uploaded_files" not in st.session_state:
    st.session_state.uploaded_files = []

payload = np.random.default_rng(run_no).bytes(600 * 1024)  # a 600 KiB "upload"
st.session_state.uploaded_files.append(payload)  # the bug: every upload kept

st.title("Document inbox")
st.download_button("Download latest", payload, file_name=f"upload_{run_no}.bin")
st.write(f"{len(st.session_state.uploaded_files)} files kept in this session")

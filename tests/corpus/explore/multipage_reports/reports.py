import numpy as np
import streamlit as st

st.title("Reports")
st.session_state.setdefault("report_cache", [])
st.session_state.report_cache.append(np.ones(1 << 17))  # 1 MiB per rerun of this page
st.write(f"{len(st.session_state.report_cache)} reports cached")

"""LEAK behind a non-default option: the "detailed" report is logged to a module-level list on every run.

The default option ("summary") keeps nothing.
"""

import sys
import types

import numpy as np
import streamlit as st

audit = sys.modules.setdefault("_explore_corpus_audit", types.ModuleType("_explore_corpus_audit"))
if not hasattr(audit, "reports"):
    audit.reports = []

kind = st.selectbox("Report", ["summary", "detailed", "chart"])
region = st.radio("Region", ["north", "south"], horizontal=True)
data = np.random.default_rng(len(region)).standard_normal(1 << 17)
if kind == "detailed":
    audit.reports.append(data.copy())  # 1 MiB kept for every detailed run
    st.write(f"{len(audit.reports)} detailed reports logged")
elif kind == "chart":
    st.line_chart(data[:200])
else:
    st.metric("mean", f"{data.mean():+.3f}")

"""LEAK: every rerun appends a rendered report to a module-level audit log.

Seen in the wild as "memory grows forever but session_state is tiny": the data
sits in an imported module's global, which outlives reruns and sessions.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import corpus_registry  # noqa: E402

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no

st.title("Sales report")
rng = np.random.default_rng(run_no)
df = pd.DataFrame(
    {
        "region": rng.choice(["north", "south", "east", "west"], 40_000),
        "units": rng.integers(1, 500, 40_000),
        "price": (rng.random(40_000) * 100).round(2),
    }
)
report = df.to_csv(index=False)  # ~0.6 MB of text per run

# The bug: an audit log at module level, never trimmed.
logged = corpus_registry.record("leak_module_registry", {"run": run_no, "rows": len(df), "report": report})

st.metric("Units sold", int(df["units"].sum()))
st.dataframe(df.groupby("region")["units"].sum())
st.caption(f"{logged} reports in the audit log")

"""LEAK: a model is loaded on every rerun instead of once with ``st.cache_resource``.

The script drops its reference each rerun, but the framework's global state
keeps every model it built (see ``corpus_models``), so each rerun adds one.
"""

import sys
from pathlib import Path

import numpy as np
import streamlit as st

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import corpus_models  # noqa: E402

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1

st.title("Sentiment")
text = st.text_input("Review", "The soup was great")
model = corpus_models.TinyModel.load("sentiment")  # the bug: no st.cache_resource
features = np.full(64, float(len(text)))
score = float(model.predict(features).mean())
st.metric("Score", f"{score:.3f}")
st.caption(f"models alive: {corpus_models.live_model_count()}")

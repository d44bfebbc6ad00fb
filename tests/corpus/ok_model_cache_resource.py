"""NOT A LEAK: a big model loaded once with ``st.cache_resource``.

The first run pays ~30 MB; every later run gets the same object back. The
look-alike leak is ``leak_model_reload.py``, which loads it on every run.
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


@st.cache_resource
def load_classifier() -> corpus_models.TinyModel:
    return corpus_models.TinyModel.load("classifier", seed=1, shape=(4_096, 1_024))  # 32 MiB


st.title("Classifier")
text = st.text_input("Text", "ship it")
model = load_classifier()
score = float(model.predict(np.full(64, float(len(text)))).mean())
st.metric("Score", f"{score:.3f}")

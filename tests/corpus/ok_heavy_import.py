"""NOT A LEAK: a heavy module is imported on the first run only.

``corpus_heavy`` builds ~40 MB of tables at import. The first run jumps; later
runs find it in ``sys.modules`` and memory stays flat.
"""

import sys
from pathlib import Path

import streamlit as st

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import corpus_heavy  # noqa: E402

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no

st.title("Embeddings")
vector = corpus_heavy.embed([f"token_{run_no:06d}", "token_000001"])
st.write({"norm": float((vector**2).sum() ** 0.5)})

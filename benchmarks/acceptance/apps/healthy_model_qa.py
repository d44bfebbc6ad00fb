"""Healthy: a "model" loaded once with st.cache_resource answers the questions typed in a text input."""

import zlib

import numpy as np
import streamlit as st

import st_memwatch

st_memwatch.panel()

VOCAB, DIM = 32_768, 512  # 64 MiB of float32 weights


@st.cache_resource
def load_model() -> np.ndarray:
    return np.random.default_rng(5).standard_normal((VOCAB, DIM), dtype=np.float32)


st.title("Ask the model")
weights = load_model()
question = st.text_input("Your question", key="question")
if question:
    ids = [zlib.crc32(w.encode()) % VOCAB for w in question.lower().split()] or [0]
    vector = weights[ids].mean(axis=0)
    scores = weights[:2048] @ vector
    best = int(np.argmax(scores))
    st.write(f"Answer #{best} (score {float(scores[best]):.2f}) to: {question}")
else:
    st.caption("Type a question and press Enter.")

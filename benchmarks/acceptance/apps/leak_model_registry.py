"""Leak: a 16 MiB "model" built on every run, and the library keeps each one (applib._registry)."""

import streamlit as st
from applib import MiB, build_model

import st_memwatch

st_memwatch.panel()

st.title("Predict (the model is built on every run)")
st.button("Predict")
weights = build_model(16 * MiB)
st.write(f"Prediction: {float(weights[:1000].mean()):+.4f}")

"""Leak: a logging handler added on every run; each buffers every record logged after it (~2 MiB a run)."""

import logging
import logging.handlers

import streamlit as st

import st_memwatch

st_memwatch.panel()

logger = logging.getLogger("app.audit")
logger.setLevel(logging.INFO)
logger.propagate = False
logger.addHandler(logging.handlers.MemoryHandler(capacity=10**7, flushLevel=logging.CRITICAL + 1))

st.title("Audit log (a handler added per run)")
st.button("Record")
for i in range(50):
    logger.info("event %d: %s", i, "x" * 40_000)
st.write(f"The logger has {len(logger.handlers)} handlers.")

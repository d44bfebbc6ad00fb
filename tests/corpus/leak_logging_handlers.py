"""LEAK: a logging handler is attached on every rerun.

``logging.getLogger(name)`` returns the same process-wide logger each time, so
``addHandler`` in the script body adds one more handler per rerun (the visible
symptom is duplicated log lines). Each handler keeps a buffer of formatted
lines to show in the page, so each rerun also adds a full buffer.
"""

import sys
from pathlib import Path

import streamlit as st

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from corpus_logcapture import UILogHandler, app_logger  # noqa: E402

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no

logger = app_logger("leak_logging_handlers")
handler = UILogHandler(capacity=2_000)
logger.addHandler(handler)  # the bug: no check whether one is already attached

for i in range(2_000):
    logger.info("run %d step %04d processed batch %s", run_no, i, "payload-" * 22)

st.title("Pipeline log")
with st.expander("Last lines"):
    st.code("\n".join(list(handler.lines)[-20:]))
st.caption(f"{len(logger.handlers)} handlers on the logger")

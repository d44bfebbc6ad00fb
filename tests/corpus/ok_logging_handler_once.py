"""NOT A LEAK: the log-capture handler is attached only if it is not there yet.

Same logging volume and handler as ``leak_logging_handlers.py``; the guard keeps
exactly one handler, whose buffer is bounded, so memory is flat.
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

logger = app_logger("ok_logging_handler_once")
handler = next((h for h in logger.handlers if isinstance(h, UILogHandler)), None)
if handler is None:
    handler = UILogHandler(capacity=2_000)
    logger.addHandler(handler)

for i in range(2_000):
    logger.info("run %d step %04d processed batch %s", run_no, i, "payload-" * 22)

st.title("Pipeline log")
with st.expander("Last lines"):
    st.code("\n".join(list(handler.lines)[-20:]))
st.caption(f"{len(logger.handlers)} handler(s) on the logger")

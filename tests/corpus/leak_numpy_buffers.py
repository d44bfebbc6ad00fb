"""LEAK: a per-rerun numpy frame is recorded in a class-attribute buffer.

"Keep the recent frames for the replay chart": the buffer is a list on a class
in an imported module, created once per process and never bounded.
"""

import sys
from pathlib import Path

import numpy as np
import streamlit as st

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from corpus_frames import FrameRecorder  # noqa: E402

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no

frame = np.random.default_rng(run_no).standard_normal((256, 512))  # 1 MiB
n = FrameRecorder.record(frame)  # the bug: unbounded buffer

st.title("Sensor replay")
st.line_chart(frame[:, :4])
st.caption(f"{n} frames recorded")

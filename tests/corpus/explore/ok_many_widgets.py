"""NOT A LEAK: many widgets a visitor can drive, all with bounded state.

Buttons that count, choices, sliders feeding a bounded cache, text that replaces
the previous text, a chat whose history is capped, an upload that replaces the last.
"""

from collections import deque

import numpy as np
import streamlit as st

st.session_state.setdefault("clicks", 0)
st.session_state.setdefault("chat", deque(maxlen=5))


@st.cache_data(max_entries=4)
def histogram(bins: int, scale: float) -> np.ndarray:
    return np.histogram(np.random.default_rng(bins).standard_normal(1 << 15) * scale, bins=bins)[0]


st.title("Dashboard")
if st.button("Count"):
    st.session_state.clicks += 1
if st.button("Reset"):
    st.session_state.clicks = 0
bins = st.slider("Bins", 5, 200, 20)
scale = st.number_input("Scale", 0.5, 10.0, 1.0, step=0.5)
colour = st.selectbox("Colour", ["red", "green", "blue", "grey"])
style = st.radio("Style", ["bars", "line"], horizontal=True)
extras = st.multiselect("Extras", ["mean", "median", "spread"])
note = st.text_input("Note", "")
body = st.text_area("Description", "")
dark = st.checkbox("Dark mode")
live = st.toggle("Live")
upload = st.file_uploader("Reference data", type=["csv", "txt"])
st.session_state["last_upload"] = upload.getvalue() if upload is not None else None  # replaced, not kept
if prompt := st.chat_input("Ask"):
    st.session_state.chat.append(prompt)
counts = histogram(bins, scale)
st.write(f"{st.session_state.clicks} clicks; {colour} {style}; {extras}; {len(note) + len(body)} chars; dark={dark} live={live}")
st.bar_chart(counts)

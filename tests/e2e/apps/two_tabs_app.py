"""Two visitors in one process: the one whose URL says ?leak=1 keeps 2 MB per click in session_state."""

import streamlit as st

import st_memwatch

st_memwatch.panel(component=False)
st.session_state.setdefault("clicks", 0)
st.session_state.setdefault("messages", [])
leaky = st.query_params.get("leak") == "1"
if st.button("Ask"):
    st.session_state.clicks += 1
    if leaky:
        st.session_state.messages.append(str(st.session_state.clicks) + "x" * 2_000_000)
st.write(f"click {st.session_state.clicks} in this tab")

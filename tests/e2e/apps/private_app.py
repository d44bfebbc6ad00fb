"""An app as a deployed one would look to st_memwatch: secrets in state and caches, several sessions."""

import inspect

import streamlit as st

import st_memwatch

st_memwatch.panel()

st.session_state.setdefault("note", "private-note-of-this-visitor")
st.session_state["clicks"] = st.session_state.get("clicks", 0) + 1


@st.cache_data
def fetch_rows(n: int) -> list[int]:
    return list(range(n))


fetch_rows(100)
if "scope" in inspect.signature(st.cache_resource).parameters:  # session-scoped caches (newer Streamlit)

    @st.cache_resource(scope="session")
    def per_visitor() -> bytearray:
        return bytearray(10_000)

    per_visitor()

st.button("Rerun")
st.write(f"run {st.session_state['clicks']} of this session")

"""Healthy: a chat whose history is bounded (the last 20 messages, a deque with maxlen)."""

from collections import deque

import streamlit as st

import st_memwatch

st_memwatch.panel()

st.title("Support chat")
history = st.session_state.setdefault("history", deque(maxlen=20))
prompt = st.chat_input("Ask something")
if prompt:
    history.append(("user", prompt))
    words = prompt.split()
    answer = f"You asked about {len(words)} word(s); the longest is '{max(words, key=len) if words else ''}'. " * 20
    history.append(("assistant", answer))
for role, text in history:
    with st.chat_message(role):
        st.write(text)
st.caption(f"{len(history)} messages kept (at most {history.maxlen}).")

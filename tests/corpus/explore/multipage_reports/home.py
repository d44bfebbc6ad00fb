import streamlit as st

st.title("Home")
name = st.text_input("Your name", "visitor")
st.write(f"Hello {name}")

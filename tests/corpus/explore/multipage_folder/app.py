"""LEAK on the second page of a pages/ folder app: each rerun of "Archive" keeps 1 MiB.

The main page is steady; the leak shows only once a visitor opens the Archive page.
"""

import streamlit as st

st.title("Overview")
st.checkbox("Compact view")

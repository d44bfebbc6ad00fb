"""LEAK on the second page of an st.navigation app: each rerun of "Reports" keeps 1 MiB.

The first page (Home) is steady; the leak shows only once a visitor opens Reports.
"""

import streamlit as st

nav = st.navigation([st.Page("home.py", title="Home", default=True), st.Page("reports.py", title="Reports")])
nav.run()

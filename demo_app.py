"""st_memwatch caching lab: one page per memory lesson, the panel in the sidebar.

Run it with `make demo` (or `streamlit run demo_app.py`). Each lesson has a bad and a
good variant, a button that reruns the script ten times by itself, and a reset; the
numbers it prints are read from st_memwatch. Set ST_MEMWATCH_LAB_SCALE (0 < x <= 1)
to shrink every allocation, ST_MEMWATCH_LIMIT to try a smaller limit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

import st_memwatch

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the lessons import the `lab` package next to this file
    sys.path.insert(0, str(HERE))

LESSONS = [
    ("lab/home.py", "Start here", "🧪"),
    ("lab/lesson1_model.py", "1 · Load the model once", "📦"),
    ("lab/lesson2_caches.py", "2 · Bound your caches", "🗄️"),
    ("lab/lesson3_session.py", "3 · Session state that hoards", "🧺"),
    ("lab/lesson4_bigdata.py", "4 · Big data: memory vs. disk", "💾"),
    ("lab/lesson5_peak.py", "5 · Peak vs. leak", "⛰️"),
    ("lab/lesson6_free.py", "6 · Free what you hold", "🧹"),
    ("lab/lesson7_visitors.py", "7 · Many visitors", "👥"),
]

st.set_page_config(page_title="st_memwatch lab", page_icon="🧠")
page = st.navigation([st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(LESSONS)])
st_memwatch.panel()
page.run()

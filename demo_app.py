"""st_memwatch caching lab: one page per memory lesson, the panel in the sidebar.

Run it with `make demo` (or `streamlit run demo_app.py`). Each lesson has a bad and a
good variant, a button that reruns the script ten times by itself, and a reset; the
numbers it prints are read from st_memwatch. Set ST_MEMWATCH_LAB_SCALE (0 < x <= 1)
to shrink every allocation, ST_MEMWATCH_LIMIT to try a smaller limit.

The pages are functions of the modules in `lab/` (st.navigation takes callables on
every supported Streamlit, and AppTest on 1.40 renders callable pages only).
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

import st_memwatch

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the lessons are the `lab` package next to this file
    sys.path.insert(0, str(HERE))

from lab import LESSONS  # noqa: E402

st.set_page_config(page_title="st_memwatch lab", page_icon=":material/memory:")
page = st.navigation(
    [
        st.Page(lesson.page, title=title, icon=icon, url_path=slug, default=i == 0)
        for i, (slug, title, icon, lesson) in enumerate(LESSONS)
    ]
)
st_memwatch.panel()
page.run()

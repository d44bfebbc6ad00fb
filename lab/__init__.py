"""The caching lab: one page per memory lesson, shown by ``demo_app.py``.

Page files (``lesson_*.py``) are run by ``st.navigation`` on every rerun, so
anything a lesson must keep between runs lives in an imported module
(``lab.state``, ``lab.modellib``), exactly as it would in a real app.
"""

from __future__ import annotations

from types import ModuleType

from lab import (  # noqa: E402 - after the docstring and __future__
    home,
    lesson1_model,
    lesson2_caches,
    lesson3_session,
    lesson4_bigdata,
    lesson5_peak,
    lesson6_free,
    lesson7_visitors,
)

# (url path, title, icon, module with a ``page()`` function), in the order of the menu
LESSONS: list[tuple[str, str, str, ModuleType]] = [
    ("start", "Start here", "🧪", home),
    ("model", "1 · Load the model once", "📦", lesson1_model),
    ("caches", "2 · Bound your caches", "🗄️", lesson2_caches),
    ("session", "3 · Session state that hoards", "🧺", lesson3_session),
    ("bigdata", "4 · Big data: memory vs. disk", "💾", lesson4_bigdata),
    ("peak", "5 · Peak vs. leak", "⛰️", lesson5_peak),
    ("free", "6 · Free what you hold", "🧹", lesson6_free),
    ("visitors", "7 · Many visitors", "👥", lesson7_visitors),
]

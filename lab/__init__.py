"""The caching lab: one page per memory lesson, shown by ``demo_app.py``.

Each lesson is a module with a ``page()`` function that ``st.navigation`` runs on
every rerun; what a bad variant keeps between runs lives at module level
(``lab.state``, ``lab.modellib``) or in ``st.session_state``, as it would in a real app.
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
    ("start", "Start here", ":material/science:", home),
    ("model", "1 · Load the model once", ":material/inventory_2:", lesson1_model),
    ("caches", "2 · Bound your caches", ":material/database:", lesson2_caches),
    ("session", "3 · Session state that hoards", ":material/shopping_basket:", lesson3_session),
    ("bigdata", "4 · Big data: memory vs. disk", ":material/save:", lesson4_bigdata),
    ("peak", "5 · Peak vs. leak", ":material/landscape:", lesson5_peak),
    ("free", "6 · Free what you hold", ":material/cleaning_services:", lesson6_free),
    ("visitors", "7 · Many visitors", ":material/group:", lesson7_visitors),
]

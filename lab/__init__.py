"""The caching lab: one page per memory lesson, shown by ``demo_app.py``.

Page files (``lesson_*.py``) are run by ``st.navigation`` on every rerun, so
anything a lesson must keep between runs lives in an imported module
(``lab.state``, ``lab.modellib``), exactly as it would in a real app.
"""

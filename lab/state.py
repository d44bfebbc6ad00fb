"""What the lessons keep between runs: module-level state, as a real app's would be.

A page file is run afresh on every rerun, so a list defined in it would start empty
each time; a list in an imported module lives as long as the process, which is
exactly how real module-level leaks happen.
"""

from __future__ import annotations

from typing import Any

kept: list[Any] = []  # lesson 5: what the leaky variant keeps, run after run
survivors: list[Any] = []  # lesson 6: the few small objects each run keeps alive

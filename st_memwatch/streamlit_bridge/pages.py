"""The pages of a multipage app under AppTest, for ``check --explore`` (Streamlit internals, hence here).

AppTest builds a ``PagesManager`` per run and keeps no public list of pages on 1.40;
the explorer reads the registry (``st.navigation`` pages or the ``pages/`` folder) from
the last manager made, which this hook keeps.
"""

from __future__ import annotations

from typing import Any

_last: list[Any] = [None]


def install_page_hook() -> bool:
    """Keep the PagesManager each AppTest run builds (once per process); False where there is none."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - present on every supported version
        return False
    original = PagesManager.__init__
    if getattr(original, "_st_memwatch", False):
        return True

    def init(pm: Any, *args: Any, **kwargs: Any) -> None:
        original(pm, *args, **kwargs)
        _last[0] = pm

    init._st_memwatch = True  # type: ignore[attr-defined]
    setattr(PagesManager, "__init__", init)  # noqa: B010 - mypy forbids assigning a method directly
    return True


def last_manager() -> Any:
    """The PagesManager of the last AppTest run (None before the hook saw one)."""
    return _last[0]

"""The pages of a multipage app under AppTest, for ``check --explore`` (Streamlit internals, hence here).

AppTest builds a ``PagesManager`` per run and keeps no public list of pages on 1.40;
the explorer reads the registry (``st.navigation`` pages or the ``pages/`` folder) from
the last manager made, which this hook keeps. Switching pages sets the hash AppTest
requests on its next run, so the explorer never touches AppTest's or Streamlit's
internals itself.
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


def page_names() -> dict[str, str]:
    """Page hash -> page name of the last run, in the app's order; empty for a one-page app."""
    pm = _last[0]
    if pm is None:
        return {}
    try:
        registry = pm.get_pages()
    except Exception:  # a manager of a shape this release does not have: no pages known
        return {}
    out = {str(h): str(info.get("page_name") or info.get("url_pathname") or h) for h, info in registry.items()}
    return out if len(out) > 1 else {}


def current_page() -> str | None:
    """The hash of the page the last run showed (None before any run or on a one-page app)."""
    try:
        return str(_last[0].current_page_script_hash) if _last[0] is not None else None
    except Exception:
        return None


def switch_page(at: Any, page_hash: str) -> None:
    """Make the AppTest's next run show the page ``page_hash``, as ``AppTest.switch_page`` does for file pages.

    AppTest's own ``switch_page`` takes a file path and knows nothing of ``st.navigation``
    pages; both kinds are requested by hash on the next run.
    """
    at._page_hash = page_hash

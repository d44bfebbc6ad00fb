"""What the installed Streamlit offers, probed once: renderers ask here, never Streamlit's internals."""

from __future__ import annotations

import functools
import inspect
from typing import Any


@functools.cache
def _takes_width(name: str) -> bool:
    """Does ``st.<name>`` take ``width="stretch"``? (Newer Streamlit; ``use_container_width`` is deprecated there.)"""
    import streamlit

    try:
        param = inspect.signature(getattr(streamlit, name)).parameters.get("width")
    except (TypeError, ValueError, AttributeError):
        return False
    return param is not None and isinstance(param.default, str)


def stretch(name: str) -> dict[str, Any]:
    """The keyword that makes ``st.<name>`` fill its container on the installed Streamlit."""
    return {"width": "stretch"} if _takes_width(name) else {"use_container_width": True}


@functools.cache
def deferred_downloads() -> bool:
    """Does ``st.download_button`` take a callable as ``data`` (built only when clicked)?"""
    try:
        from streamlit.runtime.media_file_manager import MediaFileManager
    except ImportError:
        return False
    return hasattr(MediaFileManager, "add_deferred")


@functools.cache
def download_ignores_rerun() -> bool:
    import streamlit

    try:
        param = inspect.signature(streamlit.download_button).parameters.get("on_click")
    except (TypeError, ValueError):
        return False
    return param is not None and "ignore" in str(param.annotation)

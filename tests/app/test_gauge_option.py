"""panel(component=...): validated, and where no browser draws a component (AppTest) the native figures stand in."""

from __future__ import annotations

from unittest import mock

from streamlit.testing.v1 import AppTest

from st_memwatch.streamlit_bridge import runs


def sidebar_markdown(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in at.sidebar.markdown)


def test_bad_component_argument_is_a_clear_error(monitor) -> None:
    at = AppTest.from_string("import st_memwatch\nst_memwatch.panel(component='yes')")
    at.run(timeout=30)
    assert at.exception
    assert "invalid component 'yes': expected True or False" in at.exception[0].value


def test_native_panel_on_request_and_under_apptest(monitor) -> None:
    for call in ("st_memwatch.panel(component=False)", "st_memwatch.panel()"):
        at = AppTest.from_string(f"import streamlit as st\nimport st_memwatch\n{call}\nst.write('hi')")
        at.run(timeout=30)
        assert not at.exception
        assert "Memory</b>" in sidebar_markdown(at), call


def test_gauge_mounts_in_place_of_the_native_figures(monitor) -> None:
    """Mounted as for a browser session: a component element in the sidebar, no native headline, no failure note."""
    at = AppTest.from_string("import streamlit as st\nimport st_memwatch\nst_memwatch.panel()\nst.write('hi')", default_timeout=60)
    with mock.patch.object(runs, "under_apptest", lambda: False):
        at.run()
        at.run()
    assert not at.exception
    assert "Memory</b>" not in sidebar_markdown(at)
    kinds = [type(e).__name__ for e in at.sidebar]
    assert "UnknownElement" in kinds, kinds  # AppTest's name for a custom component
    assert not [n for n in monitor.notes if "gauge" in n], list(monitor.notes)
    assert at.sidebar.toggle[0].label == "Memory details"


def gauge_data(at: AppTest) -> dict:
    """The data the gauge received in the last run (components v2 send JSON bytes, v1 JSON arguments)."""
    import json

    for e in at.sidebar:
        proto = getattr(e, "proto", None)
        if type(e).__name__ != "UnknownElement" or proto is None:
            continue
        if hasattr(proto, "json_args"):  # components v1
            return json.loads(proto.json_args)["data"]
        return json.loads(proto.bytes)  # components v2
    raise AssertionError("no gauge in the sidebar")


def test_the_gauge_carries_the_box(monitor) -> None:
    """One story: with the gauge, the box is the gauge's (it follows the live verdict), not a native alert drawn beside it."""
    src = "import streamlit as st\nimport st_memwatch\nst_memwatch.panel(limit='1MiB'{extra})\nst.write('hi')"
    at = AppTest.from_string(src.format(extra=""), default_timeout=60)
    with mock.patch.object(runs, "under_apptest", lambda: False):
        at.run()
        at.run()
    assert not at.exception
    box = gauge_data(at)["box"]
    assert box is not None and box["level"] == "error" and box["title"].startswith("Over the limit"), box
    assert box["leak"] is False
    assert not at.sidebar.error and not at.sidebar.warning
    # The native panel (and AppTest, where no browser draws the gauge) keeps the native box.
    native = AppTest.from_string(src.format(extra=", component=False"), default_timeout=60)
    native.run()
    assert [e.value for e in native.sidebar.error][0].startswith("**Over the limit")

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

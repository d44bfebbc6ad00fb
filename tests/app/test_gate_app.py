"""The gate inside real script runs (AppTest): hidden panels draw nothing and still record."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import st_memwatch

APP = "import streamlit as st\nimport st_memwatch\nst_memwatch.panel({args})\nst.write('app body')"


def shown(at: AppTest) -> bool:
    return any("Memory" in str(m.value) for m in at.sidebar.markdown) or bool(at.sidebar.toggle)


def runs_recorded() -> int:
    return len(st_memwatch.snapshot().to_dict()["runs"])


def test_under_apptest_without_settings_the_panel_shows(monitor, monkeypatch):
    monkeypatch.delenv("ST_MEMWATCH_TOKEN", raising=False)
    at = AppTest.from_string(APP.format(args=""))
    at.run(timeout=30)
    assert not at.exception and shown(at)


def test_with_a_token_set_no_token_and_a_wrong_one_hide_it_and_runs_are_still_recorded(monitor, monkeypatch):
    monkeypatch.setenv("ST_MEMWATCH_TOKEN", "open-sesame")
    at = AppTest.from_string(APP.format(args=""))
    at.run(timeout=30)
    assert not at.exception and not shown(at)
    assert [m.value for m in at.markdown] == ["app body"]  # the app itself is untouched
    at.query_params["memwatch"] = "open-sesam"
    at.run(timeout=30)
    assert not shown(at)
    assert not at.sidebar.caption, [c.value for c in at.sidebar.caption]  # not even a hint to the visitor
    assert runs_recorded() == 2


def test_the_right_token_opens_it_for_the_session_and_is_remembered(monitor, monkeypatch):
    monkeypatch.setenv("ST_MEMWATCH_TOKEN", "open-sesame")
    at = AppTest.from_string(APP.format(args=""))
    at.query_params["memwatch"] = "open-sesame"
    at.run(timeout=30)
    assert shown(at)
    at.query_params.clear()
    at.run(timeout=30)
    assert shown(at), "a token given once is remembered for the session"


def test_a_callable_decides(monitor, monkeypatch):
    monkeypatch.setenv("ST_MEMWATCH_TOKEN", "open-sesame")
    at = AppTest.from_string(
        "import streamlit as st\nimport st_memwatch\n"
        "st_memwatch.panel(visible=lambda: st.session_state.get('admin', False))\n"
        "st.checkbox('admin', key='admin')"
    )
    at.run(timeout=30)
    assert not shown(at)
    at.checkbox[0].check().run(timeout=30)
    assert shown(at)
    at.checkbox[0].uncheck().run(timeout=30)
    assert not shown(at)
    assert runs_recorded() == 3


def test_visible_false_hides_it_locally(monitor):
    at = AppTest.from_string(APP.format(args="visible=False"))
    at.run(timeout=30)
    assert not shown(at) and runs_recorded() == 1


def test_a_bad_visible_is_a_clear_error(monitor):
    at = AppTest.from_string(APP.format(args="visible='admins'"))
    at.run(timeout=30)
    assert at.exception and "invalid visible 'admins'" in at.exception[0].message


@pytest.fixture(autouse=True)
def _fresh_gate():
    yield
    st_memwatch.stop()

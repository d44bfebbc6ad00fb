"""The gate inside real script runs (AppTest): hidden panels draw nothing and still record."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import st_memwatch

APP = "import streamlit as st\nimport st_memwatch\nst_memwatch.panel({args})\nst.write('app body')"


def shown(at: AppTest) -> bool:
    return any("Memory" in str(m.value) for m in at.sidebar.markdown) or bool(at.sidebar.toggle)


def param(at: AppTest, name: str) -> str:
    """A query parameter's value (AppTest gives a list on some Streamlit versions, a string on others)."""
    value = at.query_params[name]
    return str(value[-1] if isinstance(value, list) else value)


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


def test_the_right_token_opens_it_for_the_session_leaves_the_address_and_is_remembered(monitor, monkeypatch):
    monkeypatch.setenv("ST_MEMWATCH_TOKEN", "open-sesame")
    at = AppTest.from_string(APP.format(args="") + "\nst.query_params['page'] = 'two'")
    at.query_params["memwatch"] = "open-sesame"
    at.query_params["page"] = "one"
    at.run(timeout=30)
    assert shown(at)
    assert "memwatch" not in at.query_params, dict(at.query_params)  # the token does not travel on
    assert param(at, "page") == "two", "the app's own parameters are left alone"
    at.run(timeout=30)
    assert shown(at), "a token given once is remembered for the session"


def test_a_wrong_token_stays_where_the_visitor_put_it(monitor, monkeypatch):
    monkeypatch.setenv("ST_MEMWATCH_TOKEN", "open-sesame")
    at = AppTest.from_string(APP.format(args=""))
    at.query_params["memwatch"] = "open-sesam"
    at.run(timeout=30)
    assert not shown(at) and param(at, "memwatch") == "open-sesam"  # no sign that anything read it


TWICE = "import streamlit as st\nimport st_memwatch\nst_memwatch.panel()\nst_memwatch.panel()\nst.write('app body')"


def test_a_second_panel_call_says_so_to_the_author_and_nothing_to_a_hidden_visitor(monitor, monkeypatch):
    monkeypatch.delenv("ST_MEMWATCH_TOKEN", raising=False)
    at = AppTest.from_string(TWICE)
    at.run(timeout=30)
    assert shown(at) and any("already shown" in c.value for c in at.sidebar.caption)
    monkeypatch.setenv("ST_MEMWATCH_TOKEN", "open-sesame")
    hidden = AppTest.from_string(TWICE)
    hidden.run(timeout=30)
    assert not shown(hidden) and not hidden.exception
    assert not hidden.sidebar.caption and not hidden.caption, [c.value for c in hidden.sidebar.caption]
    assert [m.value for m in hidden.markdown] == ["app body"]


def test_with_a_token_set_the_log_hint_asks_for_the_token_not_for_a_local_browser(monitor, monkeypatch, caplog):
    import logging

    from st_memwatch.core.gate import HOW_TO_OPEN_WITH_TOKEN

    monkeypatch.setenv("ST_MEMWATCH_TOKEN", "open-sesame")
    with caplog.at_level(logging.WARNING, logger="st_memwatch"):
        AppTest.from_string(APP.format(args="")).run(timeout=30)
    hints = [r.getMessage() for r in caplog.records if "hidden" in r.getMessage()]
    assert hints == [HOW_TO_OPEN_WITH_TOKEN], hints
    assert "open-sesame" not in caplog.text


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

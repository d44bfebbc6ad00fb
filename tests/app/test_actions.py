"""Actions that affect every visitor: only with actions=True, only behind the gate, each logged."""

from __future__ import annotations

import logging

from streamlit.testing.v1 import AppTest

from st_memwatch.core import probes
from st_memwatch.ui.actions import run_action

APP = """
import streamlit as st
import st_memwatch

st_memwatch.panel({args})

@st.cache_data
def load(n):
    st.session_state["loads"] = st.session_state.get("loads", 0) + 1
    return list(range(n))

load(10)
st.write(f"loads {{st.session_state.get('loads', 0)}}")
"""
LABELS = {"Clear all caches", "Full garbage collection", "Return freed memory to the OS"}


def with_details(at: AppTest) -> AppTest:
    at.run(timeout=30)
    if at.sidebar.toggle:
        at.sidebar.toggle[0].set_value(True).run(timeout=30)
    return at


def action_buttons(at: AppTest) -> set[str]:
    return {b.label for b in at.sidebar.button} & LABELS


def test_no_actions_unless_enabled(monitor):
    at = with_details(AppTest.from_string(APP.format(args="")))
    assert not at.exception and at.sidebar.toggle[0].value
    assert action_buttons(at) == set()


def test_actions_work_and_are_logged(monitor, caplog):
    at = with_details(AppTest.from_string(APP.format(args="actions=True")))
    assert action_buttons(at) == LABELS
    assert at.main.markdown[-1].value == "loads 1"
    with caplog.at_level(logging.INFO, logger="st_memwatch"):
        next(b for b in at.sidebar.button if b.label == "Clear all caches").click().run(timeout=30)
    assert not at.exception
    # panel() comes first in the script: the cache was cleared before this run's load.
    assert at.main.markdown[-1].value == "loads 2", "the cache was not cleared"
    assert any("cache cleared; RSS" in c.value for c in at.sidebar.caption), [c.value for c in at.sidebar.caption]
    at.run(timeout=30)
    assert at.main.markdown[-1].value == "loads 2", "the cache was cleared again without a click"
    assert any("cache cleared" in r.getMessage() and "session s" in r.getMessage() for r in caplog.records)
    next(b for b in at.sidebar.button if b.label == "Full garbage collection").click().run(timeout=30)
    assert any("unreachable objects" in c.value for c in at.sidebar.caption)


def test_actions_stay_behind_the_gate(monitor, monkeypatch):
    monkeypatch.setenv("ST_MEMWATCH_TOKEN", "sesame")
    at = with_details(AppTest.from_string(APP.format(args="actions=True")))
    assert not at.sidebar.toggle and action_buttons(at) == set()


def test_trim_runs_on_this_machine_and_reports_rss():
    line = run_action("trim", "s1")
    assert probes.trim_allocator() == "" and "malloc_trim" in line and "RSS" in line, line


def test_a_failing_action_is_one_line(monkeypatch):
    monkeypatch.setattr(probes, "trim_allocator", lambda: "malloc_trim unavailable (not glibc?)")
    assert run_action("trim", "s1") == (
        "Return freed memory to the OS failed: RuntimeError: malloc_trim unavailable (not glibc?)"
    )

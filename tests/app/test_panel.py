"""The panel inside real Streamlit script runs (AppTest): hooks, records, warnings, safety."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

import st_memwatch

LEAKY = """
import sys, types
import numpy as np
import streamlit as st
import st_memwatch

st_memwatch.panel()
box = sys.modules.setdefault("_apptest_leak_box", types.ModuleType("_apptest_leak_box"))
if not hasattr(box, "items"):
    box.items = []
box.items.append(np.ones(1_000_000))  # 8 MB kept forever
st.write(len(box.items))
"""

CACHED = """
import numpy as np
import streamlit as st
import st_memwatch

st_memwatch.panel()

@st.cache_resource
def model():
    return np.ones(2_000_000)

m = model()
st.write(float(m.sum()))
"""


def sidebar_text(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in at.sidebar.markdown) + "\n".join(
        str(e.value) for kind in ("warning", "error", "caption") for e in getattr(at.sidebar, kind)
    )


def test_panel_renders_in_the_sidebar(monitor):
    at = AppTest.from_string("import streamlit as st\nimport st_memwatch\nst_memwatch.panel()\nst.write('hi')")
    at.run(timeout=30)
    assert not at.exception
    text = sidebar_text(at)
    assert "Memory" in text and "limit:" in text
    assert [t.label for t in at.sidebar.toggle] == ["Memory details"]
    assert at.markdown[0].value == "hi"  # the app's own output is untouched


def test_runs_are_recorded_across_reruns_with_their_session(monitor):
    at = AppTest.from_string("import streamlit as st\nimport st_memwatch\nst_memwatch.panel()\nst.write(1)")
    for _ in range(5):
        at.run(timeout=30)
    runs = st_memwatch.snapshot().to_dict()["runs"]
    assert len(runs) == 5
    assert {r["kind"] for r in runs} == {"full"} and {r["outcome"] for r in runs} == {"success"}
    assert {r["measured_by"] for r in runs} == {"hooks"}
    assert len({r["session"] for r in runs}) == 1
    assert all(r["rss_before"] > 0 and r["peak"] >= max(r["rss_before"], r["rss_after"]) for r in runs)
    assert "Last run:" in sidebar_text(at)


def test_leaky_app_warns_after_ten_reruns(monitor):
    at = AppTest.from_string(LEAKY)
    for _ in range(9):
        at.run(timeout=30)
    # The refit happens on the sampler thread after each run; here reruns come
    # back to back, so wait for it as a person's next click would.
    st_memwatch.snapshot()
    at.run(timeout=30)
    d = st_memwatch.snapshot().to_dict()
    assert len(d["runs"]) == 10
    assert all(r["delta"] > 0 for r in d["runs"]), [r["delta"] for r in d["runs"]]
    assert d["leak"] is True
    codes = [w["code"] for w in d["warnings"]]
    assert "steady-growth" in codes
    assert d["trend"]["bytes_per_run"] > 4 * 2**20
    assert "Memory grows steadily" in sidebar_text(at)
    json.dumps(d)  # plain data only


def test_cached_app_does_not_warn(monitor):
    at = AppTest.from_string(CACHED)
    for _ in range(10):
        at.run(timeout=30)
    d = st_memwatch.snapshot().to_dict()
    assert len(d["runs"]) == 10
    assert d["warnings"] == [], d["warnings"]
    assert d["leak"] is False
    caches = {c["function"]: c for c in d["caches"]}
    assert any(name.endswith("model") for name in caches), caches
    model = next(c for name, c in caches.items() if name.endswith("model"))
    assert model["kind"] == "resource" and model["entries"] == 1 and model["bytes"] >= 16_000_000


def test_exception_in_the_user_script_is_recorded_and_the_panel_stays(monitor):
    at = AppTest.from_string(
        "import streamlit as st\nimport st_memwatch\nst_memwatch.panel()\nraise RuntimeError('user bug')"
    )
    at.run(timeout=30)
    at.run(timeout=30)
    assert at.exception and "user bug" in at.exception[0].value
    assert "Memory" in sidebar_text(at)
    outcomes = [r["outcome"] for r in st_memwatch.snapshot().to_dict()["runs"]]
    assert outcomes == ["exception", "exception"]


def test_rerun_outcome_is_recorded(monitor):
    at = AppTest.from_string(
        """
import streamlit as st
import st_memwatch
st_memwatch.panel()
if "n" not in st.session_state:
    st.session_state.n = 0
st.session_state.n += 1
if st.session_state.n == 2:
    st.rerun()
"""
    )
    at.run(timeout=30)
    at.run(timeout=30)  # n == 2 -> st.rerun() -> a "rerun" outcome, then a fresh run
    outcomes = [r["outcome"] for r in st_memwatch.snapshot().to_dict()["runs"]]
    assert outcomes == ["success", "rerun", "success"], outcomes


def test_fragment_and_stop_events_from_a_real_runner_event_enum(monitor):
    """AppTest cannot rerun a fragment alone, so the watch is fed Streamlit's own events."""
    from streamlit.runtime.scriptrunner import ScriptRunnerEvent

    from st_memwatch.streamlit_bridge.runs import _RunnerWatch

    class Sender:
        _session_state = {}

    watch = _RunnerWatch(monitor, "sess", ScriptRunnerEvent, None)
    watch.on_event(Sender(), event=ScriptRunnerEvent.SCRIPT_STARTED, fragment_ids_this_run=["f1"], run_descriptor=None)
    watch.on_event(Sender(), event=ScriptRunnerEvent.ENQUEUE_FORWARD_MSG, forward_msg=object())
    watch.on_event(Sender(), event=ScriptRunnerEvent.FRAGMENT_STOPPED_WITH_SUCCESS, run_descriptor=None)
    watch.on_event(Sender(), event=ScriptRunnerEvent.SCRIPT_STARTED, fragment_ids_this_run=None)
    watch.premature = True
    watch.on_event(Sender(), event=ScriptRunnerEvent.SCRIPT_STOPPED_WITH_SUCCESS)
    watch.on_event(Sender(), event=ScriptRunnerEvent.SCRIPT_STARTED, fragment_ids_this_run=None)
    watch.on_event(Sender(), event=ScriptRunnerEvent.SHUTDOWN, client_state=None)
    runs = [(r.kind, r.outcome, r.session) for r in monitor.runs]
    assert runs == [("fragment", "success", "sess"), ("full", "stopped", "sess"), ("full", "stopped", "sess")]


def test_a_failure_inside_st_memwatch_is_one_line_and_the_script_goes_on(monitor, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("probe exploded")

    monkeypatch.setattr(monitor, "snapshot", broken)
    at = AppTest.from_string("import streamlit as st\nimport st_memwatch\nst_memwatch.panel()\nst.write('after panel')")
    at.run(timeout=30)
    assert not at.exception
    assert at.markdown[-1].value == "after panel"
    captions = [c.value for c in at.sidebar.caption]
    assert captions == ["st_memwatch: OSError: probe exploded"]


def test_bad_limit_is_a_clear_error_naming_the_value(monitor):
    at = AppTest.from_string("import st_memwatch\nst_memwatch.panel(limit='abc')")
    at.run(timeout=30)
    assert at.exception
    message = at.exception[0].value
    assert "'abc'" in message and "GB" in message


def test_bad_option_is_a_clear_error(monitor):
    at = AppTest.from_string("import st_memwatch\nst_memwatch.panel(location='top')")
    at.run(timeout=30)
    assert at.exception and "'top'" in at.exception[0].value and "'sidebar'" in at.exception[0].value


def test_explicit_limit_is_shown_with_its_source(monitor):
    at = AppTest.from_string("import st_memwatch\nst_memwatch.panel(limit='64 MiB')")
    at.run(timeout=30)
    d = st_memwatch.snapshot().to_dict()
    assert d["limit"] == {"bytes": 64 * 2**20, "source": "argument", "detail": "panel(limit=...)", "notes": []}
    text = sidebar_text(at)
    assert "64.0 MiB" in text and "panel(limit=...)" in text
    # A process far above 64 MiB is over the red line:
    assert "near-limit" in [w["code"] for w in d["warnings"]]
    assert at.sidebar.error, "the near-limit warning is shown in the sidebar"


def test_details_toggle_builds_exports(monitor):
    at = AppTest.from_string("import streamlit as st\nimport st_memwatch\nst_memwatch.panel()\nst.write(1)")
    at.run(timeout=30)
    at.run(timeout=30)
    at.sidebar.toggle[0].set_value(True).run(timeout=30)
    assert not at.exception
    assert not [c.value for c in at.sidebar.caption if str(c.value).startswith("st_memwatch:")]
    labels = [str(getattr(e, "label", "")) for e in at.sidebar]
    blob = json.dumps(st_memwatch.snapshot().to_dict())
    assert "**Runs** (latest 50)" in "\n".join(str(m.value) for m in at.sidebar.markdown)
    assert json.loads(blob)["runs"], labels

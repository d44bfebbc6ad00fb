"""The panel inside real Streamlit script runs (AppTest): hooks, records, warnings, safety."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import st_memwatch
from st_memwatch.core.models import (
    CacheUsage,
    ContainerUsage,
    Finding,
    Limit,
    RunRecord,
    Sample,
    Snapshot,
)
from st_memwatch.ui import figures, panel
from st_memwatch.ui.export import RUN_COLUMNS, runs_to_csv, to_json

LEAKY = """
import sys, types
import numpy as np
import streamlit as st
import st_memwatch

st_memwatch.panel()
box = sys.modules.setdefault("_apptest_leak_box", types.ModuleType("_apptest_leak_box"))
if not hasattr(box, "items"):
    box.items = []
# 40 MB kept forever per run. Over glibc's largest mmap threshold (32 MiB), so every
# run maps fresh pages and RSS shows each step even after earlier tests freed memory
# that a smaller array would quietly reuse (the panel then warns from the census alone).
box.items.append(np.ones(5_000_000))
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
    assert "grows steadily: +" in sidebar_text(at)
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
    assert "'abc'" in message and "GB" in message and message.startswith("panel(limit=...): ")


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
    # A process far above 64 MiB is over the limit, and says so plainly:
    assert "over-limit" in [w["code"] for w in d["warnings"]]
    assert at.sidebar.error and "Over the limit" in at.sidebar.error[0].value, "the over-limit box is shown in the sidebar"


# -- the details view ---------------------------------------------------------------------
# The app stashes the run's media file manager, so a test can fetch what a download serves
# (AppTest's mock runtime is gone once the run is over).
MEDIA_STASH = """
import sys, types
from streamlit.runtime import Runtime
sys.modules.setdefault("_st_memwatch_test_media", types.ModuleType("_st_memwatch_test_media")).mgr = Runtime.instance().media_file_mgr
"""
PLAIN = "import streamlit as st\nimport st_memwatch\nst_memwatch.panel()\nst.write(1)\n" + MEDIA_STASH
BOUNDED_AND_UNBOUNDED = (
    """
import numpy as np
import streamlit as st
import st_memwatch

st_memwatch.panel()

@st.cache_resource
def model():
    return np.ones(100_000)

@st.cache_data(max_entries=4, ttl=60)
def part(n):
    return list(range(n))

model()
part(10)
"""
    + MEDIA_STASH
)


def details_markdown(at: AppTest) -> str:
    blocks = [str(m.value) for m in at.sidebar.markdown if "st-memwatch-details" in str(m.value)]
    assert len(blocks) == 1, [str(m.value)[:80] for m in at.sidebar.markdown]
    return blocks[0]


def open_details(at: AppTest, runs: int = 2) -> None:
    for _ in range(runs):
        at.run(timeout=30)
    at.sidebar.toggle[0].set_value(True).run(timeout=30)
    assert not at.exception, [e.value for e in at.exception]
    failures = [c.value for c in at.sidebar.caption if str(c.value).startswith("st_memwatch:")]
    assert not failures, failures


def download_buttons(at: AppTest) -> dict[str, Any]:
    """The sidebar's download buttons by label; on Streamlit without deferred downloads, after "Prepare export"."""
    if not panel.deferred_downloads():
        assert not at.sidebar.get("download_button"), "the exports were built before anyone asked for them"
        assert [b.label for b in at.sidebar.button] == ["Prepare export"]
        at.sidebar.button[0].click().run(timeout=30)
        assert not at.exception
        assert any(str(c.value).startswith("export as of ") for c in at.sidebar.caption)
    return {b.proto.label: b.proto for b in at.sidebar.get("download_button")}


def served(proto: Any) -> str:
    """What the browser would download: deferred data is built now, eager data was stored at render."""
    mgr = sys.modules["_st_memwatch_test_media"].mgr
    deferred = getattr(proto, "deferred_file_id", "")
    url = mgr.execute_deferred(deferred) if deferred else proto.url
    return bytes(mgr._storage.get_file(url.rsplit("/", 1)[-1]).content).decode()


def test_details_show_two_charts_one_table_block_and_lazy_exports(monitor):
    at = AppTest.from_string(PLAIN)
    for _ in range(3):
        at.run(timeout=30)
        monitor.flush()  # what a run's end owes the sampler thread, the ledger's reading included
    open_details(at, runs=0)
    assert len(at.sidebar.get("plotly_chart")) == 2, "the timeline, then where the memory is"
    assert not at.sidebar.get("arrow_data_frame"), "the tables are one HTML block, not st.dataframe"
    html = details_markdown(at)
    for heading in ("<b>Suspects</b>", "<b>Growing object types</b>", "<b>Caches</b>", f"<b>Runs</b> (latest {panel.LISTED_RUNS})"):
        assert heading in html
    buttons = download_buttons(at)
    assert set(buttons) == {"Record (JSON)", "Runs (CSV)"}
    if panel.deferred_downloads():
        assert all(b.deferred_file_id for b in buttons.values()), "data should be built on click"


def test_downloads_hold_the_whole_record_and_the_runs(monitor):
    at = AppTest.from_string(PLAIN)
    open_details(at, runs=3)
    buttons = download_buttons(at)
    record = json.loads(served(buttons["Record (JSON)"]))
    for key in ("runs", "samples", "caches", "growth", "warnings", "limit", "trend"):
        assert key in record, key
    # Where the record is prepared during a run, that run is not in it yet.
    assert len(monitor.runs) - 1 <= len(record["runs"]) <= len(monitor.runs) and len(record["runs"]) >= 3
    assert record["samples"] and all(len(s) == 2 for s in record["samples"])
    rows = list(csv.reader(io.StringIO(served(buttons["Runs (CSV)"]))))
    assert tuple(rows[0]) == RUN_COLUMNS
    assert len(rows) - 1 == len(record["runs"])
    first = dict(zip(rows[0], rows[1], strict=True))
    assert int(first["delta"]) == int(first["rss_after"]) - int(first["rss_before"])


def test_exports_take_every_run_while_the_details_take_the_last_200(monitor):
    from st_memwatch.ui.export import Exporter

    records = [_run(i) for i in range(1, 251)]
    monitor.runs.extend(records)
    at = AppTest.from_string(PLAIN)
    open_details(at, runs=1)
    rows = details_markdown(at).count("<tr>") - 2  # header rows of the runs and caches tables aside
    assert rows <= panel.LISTED_RUNS + 5
    exporter = Exporter(monitor, "s", monitor.resolve_limit(None))
    assert len(json.loads(exporter.json())["runs"]) == len(monitor.runs) > 250
    assert len(exporter.csv().splitlines()) == len(monitor.runs) + 1


def test_caches_table_with_and_without_max_entries(monitor):
    """max_entries None and 4 in one column: plain text cells, no Arrow type clash."""
    import time

    monitor.settings.census_every_run = True  # read cache sizes after every run, not once a second
    at = AppTest.from_string(BOUNDED_AND_UNBOUNDED)
    for _ in range(20):  # the sizes may be read off the script thread: wait until both caches are known
        at.run(timeout=30)
        if len(st_memwatch.snapshot().caches) == 2:
            break
        time.sleep(0.2)
    open_details(at, runs=1)
    html = details_markdown(at)
    assert "max 4, ttl 60 s" in html
    caches = html[html.index("<b>Caches</b>") : html.index("<b>Runs</b>")]
    assert "model (resource)" in caches and "none" in caches


def test_leaky_app_warns_in_one_line_with_the_fix_and_toasts_once(monitor):
    at = AppTest.from_string(LEAKY)
    toasts: list[str] = []
    for _ in range(10):
        at.run(timeout=30)
        toasts += [str(t.value) for t in at.toast]
        st_memwatch.snapshot()  # the sampler thread's refit between two clicks, done now
    warned = [w.value for w in at.sidebar.warning if "grows steadily" in w.value]
    d = st_memwatch.snapshot().to_dict()
    settled = [r["rss_after"] >> 20 for r in d["runs"]]
    assert warned, f"no growth warning after 10 runs; settled MiB {settled}, warnings {[w['code'] for w in d['warnings']]}"
    box = warned[0]
    message, *middle, fix = box.split("  \n")
    # "Memory" when RSS shows the growth; "Python objects" while freed pages still absorb it.
    assert re.fullmatch(r"\*\*(Memory grows|Python objects grow) steadily: \+\S+ \S+ per run since run \d+\.\*\*", message), box
    assert "(" not in message
    assert all(line.startswith("Likely cause: ") for line in middle) and len(middle) <= 1, box
    assert fix.startswith("Fix: ") and len(fix) > 10
    steady = [t for t in toasts if "grows steadily" in t]
    assert len(steady) == 1, toasts
    assert re.match(r"(Memory grows|Python objects grow) steadily: \+", steady[0]) and "Memory: Memory" not in steady[0]


def test_a_warning_that_flickers_off_does_not_toast_again_but_one_that_stays_away_does():
    from st_memwatch.ui import session as boundary

    grows = Finding("warning", "steady-growth", "Memory grows steadily.", "", "Fix it.")
    near = Finding("error", "near-limit", "Memory is at 95% of the limit.", "", "Fix it.")
    renders = [[grows], [], [grows, near], [], [], [grows], [], [], [], [grows], [grows]]
    fresh = [[w.code for w in boundary.new_episodes("flicker-session", shown)] for shown in renders]
    assert boundary.EPISODE_GAP == 3
    assert fresh == [["steady-growth"], [], ["near-limit"], [], [], [], [], [], [], ["steady-growth"], []]
    assert boundary.new_episodes("another-session", [grows]) == [grows]


def test_a_growing_episode_toasts_again_as_the_limit_nears_and_only_then():
    from st_memwatch.ui import session as boundary

    stages = [0, 0, 1, 1, 2, 2, 1, 3, 3]  # growing, ~25 runs, ~5 runs, a dip, over
    renders = [[Finding("warning", "steady-growth", "Memory grows.", "", "Fix it.", stage=k)] for k in stages]
    fresh = [[w.stage for w in boundary.new_episodes("escalating-session", shown)] for shown in renders]
    assert fresh == [[0], [], [1], [], [2], [], [], [3], []]


def test_width_keyword_matches_the_installed_streamlit():
    import inspect

    import streamlit

    params = inspect.signature(streamlit.plotly_chart).parameters
    if "width" in params and isinstance(params["width"].default, str):
        assert panel.stretch("plotly_chart") == {"width": "stretch"}
    else:
        assert panel.stretch("plotly_chart") == {"use_container_width": True}


# -- renderers on hand-made snapshots -----------------------------------------------------
MIB = 2**20


def _run(i: int, rss: int = 200 * MIB) -> RunRecord:
    return RunRecord(
        run_id=i, session="s", kind="full", outcome="success", started_at=1000.0 + i, duration_s=0.05,
        rss_before=rss, rss_after=rss + MIB, peak=rss + 2 * MIB, peak_source="hwm", overlapped=False,
        measured_by="hooks",
    )


def make_snapshot(**changes: Any) -> Snapshot:
    fields: dict[str, Any] = {
        "taken_at": 1100.0,
        "rss": 200 * MIB,
        "limit": Limit(24 * 2**30, "total-ram"),
        "container": None,
        "mode": "hooks",
        "peak_method": "hwm",
        "runs": tuple(_run(i) for i in range(1, 61)),
        "samples": tuple(Sample(1000.0 + k * 0.25, 180 * MIB + k * 4096) for k in range(400)),
        "caches": (),
        "session": None,
        "growth": (),
        "trend": None,
        "warnings": (),
    }
    fields.update(changes)
    return Snapshot(**fields)


def test_container_usage_is_shown_only_beside_a_cgroup_limit():
    usage = ContainerUsage(300 * MIB, "v2")
    assert "container usage" not in panel.summary_html(make_snapshot(container=usage))
    cgroup = make_snapshot(container=usage, limit=Limit(512 * MIB, "cgroup-v2"))
    assert "container usage (what the OOM killer counts): 300.0 MiB" in panel.summary_html(cgroup)


def test_far_limit_is_stated_not_drawn_so_the_curve_stays_readable():
    spec = figures.timeline_spec(make_snapshot())  # 24 GiB limit, ~200 MiB RSS
    layout = spec["layout"]
    assert layout["yaxis"]["range"][1] < 400
    assert not [s for s in layout["shapes"] if s["yref"] == "y"], "no limit line far above the data"
    assert "limit 24.0 GiB (total RAM)" in layout["annotations"][-1]["text"]
    assert layout["xaxis"]["automargin"] and layout["yaxis"]["automargin"], "tick labels must not be clipped"


def test_near_limit_is_a_dashed_line_and_run_starts_are_one_shapes_list():
    spec = figures.timeline_spec(make_snapshot(limit=Limit(256 * MIB, "argument")))
    shapes = spec["layout"]["shapes"]
    limit_lines = [s for s in shapes if s["yref"] == "y"]
    assert len(limit_lines) == 1 and limit_lines[0]["y0"] == 256.0 and limit_lines[0]["line"]["dash"] == "dash"
    assert len(shapes) - 1 == figures.MAX_BOUNDARIES
    assert spec["layout"]["yaxis"]["range"][1] >= 256
    assert [t["mode"] for t in spec["data"]] == ["lines", "markers"]
    assert len(spec["data"][0]["x"]) == 400 and len(spec["data"][1]["x"]) == 60


def test_chart_figure_is_a_valid_plotly_figure():
    import plotly.graph_objects as go
    import plotly.tools

    snap = make_snapshot(limit=Limit(256 * MIB, "argument"))
    spec = figures.timeline_spec(snap)
    go.Figure(spec)  # validated: every property name and value is one plotly accepts
    fig = figures.chart_figure(snap)
    assert isinstance(fig, go.Figure)
    # What st.plotly_chart does with it: no validation pass, the prepared dict as it is.
    assert plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True) == spec
    # Any other use gets a complete Figure.
    assert len(fig.data) == 2 and len(fig.layout.shapes) == figures.MAX_BOUNDARIES + 1
    assert figures.timeline_figure(snap).to_dict()["data"][0]["y"] == spec["data"][0]["y"]


def test_caches_render_with_max_entries_none_and_names_are_escaped():
    caches = (
        CacheUsage("app.<b>load</b>", "resource", 1, 40 * MIB, "deep-size", max_entries=None),
        CacheUsage("app.part", "data", 4, 1000, "pickled", bytes_exact=False, ttl_s=60.0, max_entries=4, growing=True),
    )
    html = panel.details_html(make_snapshot(caches=caches))
    assert "app.&lt;b&gt;load&lt;/b&gt; (resource)" in html and "<b>load</b>" not in html
    assert "<td>none</td>" in html and "max 4, ttl 60 s" in html and "1000 B+" in html and "↑" in html


def test_names_break_at_dots_and_underscores_with_the_full_name_on_hover():
    """At sidebar width a name wraps at its dots and underscores, never mid-word ("features _bounde d")."""
    caches = (CacheUsage("lab.pages.features_bounded", "data", 3, 3 * MIB, "pickled", max_entries=20),)
    html = panel.details_html(make_snapshot(caches=caches))
    assert '<td title="lab.pages.features_bounded (data)">lab.<wbr>pages.<wbr>features_<wbr>bounded (data)</td>' in html
    assert "overflow-wrap:anywhere" not in html and "overflow-wrap:break-word" in html


def test_names_from_the_app_cannot_format_or_link_the_box():
    w = Finding("warning", "steady-growth", "Memory grows steadily: +1.0 MiB per run.",
                "st.session_state['[click](http://x) :red[boom] **b**'], +1.0 MiB/run", "", "Clear `it`.")
    text = panel.warning_text(w)
    assert "\\[click\\](http" in text and "\\:red\\[boom\\]" in text and "\\*\\*b\\*\\*" in text and "\\`it\\`" in text


def test_warning_text_is_one_short_line_and_the_fix():
    w = Finding(
        "warning",
        "steady-growth",
        "Memory grows steadily: +7.6 MiB per run (100% of recent runs grew).",
        "type numpy.ndarray, +7.6 MiB/run",
        "numpy.ndarray objects pile up every run in something long-lived (a module-level list): "
        "create them once with @st.cache_resource.",
        "Create them once with @st.cache_resource (models, data).",
    )
    assert panel.warning_text(w) == (
        "**Memory grows steadily: +7.6 MiB per run.**  \nLikely cause: type numpy.ndarray, +7.6 MiB/run"
        "  \nFix: Create them once with @st.cache\\_resource."
    )
    assert panel.toast_text(w) == "Memory grows steadily: +7.6 MiB per run."
    details = panel.details_html(make_snapshot(warnings=(w,)))
    assert "Likely cause: type numpy.ndarray, +7.6 MiB/run." in details and "pile up every run" in details
    plain = Finding("error", "near-limit", "Memory is at 95% of the limit (64.0 MiB).", "", "Load models once.")
    assert panel.warning_text(plain) == "**Memory is at 95% of the limit.**  \nFix: Load models once."


def test_the_box_carries_the_verdicts_cause_and_action_apart():
    from st_memwatch.core import analysis, judgement

    series = {("type", "numpy.ndarray", ""): [(float(i), i, 8 * MIB * i) for i in range(1, 21)]}
    settled = [200 * MIB + 8 * MIB * i for i in range(20)]
    runs = [
        RunRecord(i + 1, "s1", "full", "success", float(i), 0.1, settled[max(i - 1, 0)], v, v, "hwm", False, "hooks", 0, i + 1)
        for i, v in enumerate(settled)
    ]
    verdict = judgement.judge(runs, series, {}, 24 * 2**30)
    (top,) = verdict.holders
    assert top.advice.endswith(": " + top.action[:1].lower() + top.action[1:]), (top.advice, top.action)
    (w,) = analysis.diagnosis(verdict, settled[-1], 24 * 2**30)
    assert w.cause == "type numpy.ndarray" and w.fix == top.advice and w.action == top.action
    assert panel.warning_text(w).endswith("  \nFix: " + panel.md_escape(panel.drop_asides(top.action)))


@pytest.mark.parametrize(
    ("text", "short"),
    [
        ("keep only what you need (e.g. collections.deque(maxlen=N)) or clear it", "keep only what you need or clear it"),
        ("use @st.cache_data(max_entries=..., ttl=...) so old entries are dropped", "use @st.cache_data(max_entries=..., ttl=...) so old entries are dropped"),
        ("keep large data on disk (Arrow/Parquet) or in a database.", "keep large data on disk or in a database."),
        ("an unbalanced (aside", "an unbalanced (aside"),
    ],
)
def test_asides_are_dropped_code_is_kept(text, short):
    assert panel.drop_asides(text) == short


@pytest.mark.parametrize("snap", [make_snapshot(), make_snapshot(runs=(), samples=())])
def test_exports_are_plain_json_and_csv(snap):
    record = json.loads(to_json(snap))
    # The snapshot's own data, plus ISO 8601 UTC times beside the monotonic ones.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record.pop("taken_at_utc"))
    for run in record["runs"]:
        assert run.pop("started_at_utc").endswith("Z")
    assert record == snap.to_dict()
    rows = list(csv.reader(io.StringIO(runs_to_csv(snap))))
    assert tuple(rows[0]) == RUN_COLUMNS and len(rows) == len(snap.runs) + 1


def test_the_python_heap_is_shown_beside_rss_once_a_census_measured_it():
    assert "live Python objects" not in panel.summary_html(make_snapshot())
    html = panel.summary_html(make_snapshot(python_heap=150 * MIB))
    assert "live Python objects (last census): 150.0 MiB" in html


def test_only_leaking_suspects_get_a_row_and_a_fix_the_rest_are_named_below_the_threshold():
    from st_memwatch.core.models import Suspect

    big = Suspect("type", "numpy.ndarray", 8 * MIB, 1.0, 1.0, 80 * MIB, 10, "Keep them in st.cache_resource.")
    small = Suspect("type", "tuple", 7.0, 0.1, 0.4, 1000, 10, "Look for a module-level list.")
    html = panel.details_html(make_snapshot(suspects=(big, small)))
    suspects = html[html.index("<b>Suspects</b>") : html.index("<b>Growing object types</b>")]
    assert "numpy.ndarray (type)" in suspects and "Keep them in st.cache_resource." in suspects
    assert "below the leak threshold: tuple +7 B/run" in suspects
    assert "module-level list" not in suspects and "tuple (type)" not in suspects


def test_a_limit_far_away_is_said_so_not_counted_in_millions_of_runs():
    from st_memwatch.core.models import Trend

    far = Trend(30, 1024.0, 0.0, runs_to_limit=24_517_648.0, seconds_to_limit=None)
    assert "limit far away" in panel.summary_html(make_snapshot(trend=far))
    near = Trend(30, 8 * MIB, 0.0, runs_to_limit=56.0, seconds_to_limit=None)
    assert "limit in ~56 runs" in panel.summary_html(make_snapshot(trend=near))


def test_a_toast_that_is_not_a_bool_is_a_clear_error():
    with pytest.raises(ValueError, match=r"invalid toast 'no': expected True or False"):
        st_memwatch.panel(toast="no")  # type: ignore[arg-type]


def test_calling_the_panel_twice_shows_it_once_and_says_so(monitor):
    at = AppTest.from_string(
        "import streamlit as st\nimport st_memwatch\nst_memwatch.panel()\nst_memwatch.panel()\nst.write('after')\n"
    )
    at.run(timeout=30)
    assert not at.exception, at.exception
    assert len(at.sidebar.toggle) == 1
    assert any("already shown in this run" in str(c.value) for c in at.sidebar.caption)
    assert "after" in [str(m.value) for m in at.main.markdown]
    at.run(timeout=30)
    assert len(at.sidebar.toggle) == 1 and not at.exception


def test_container_usage_is_shown_inside_a_limited_container_whatever_limit_the_panel_uses():
    usage = ContainerUsage(300 * MIB, "v2", limit=1024 * MIB)
    explicit = make_snapshot(container=usage, limit=Limit(700 * MIB, "environment"))
    assert "container usage (what the OOM killer counts): 300.0 MiB" in panel.summary_html(explicit)


def test_the_details_say_where_the_memory_is_owner_by_owner_with_its_trend():
    from st_memwatch.core import ledger

    reading = ledger.read_ledger(40 * 2**20)
    series = {o: [(float(x), 10 * 2**20 + (x * 2**20 if o == "native" else 0)) for x in range(1, 15)] for o in ledger.OWNERS}
    view = ledger.ledger_view(reading, series)
    html = "".join(panel.ledger_html(view, "<div>"))
    assert "Where the memory is" in html and "Python objects" in html and "native memory in use" in html
    assert "+1.0 MiB" in html  # the native owner's trend per run
    view_missing = dict(view, missing=["arrow"])
    assert "Arrow's memory pool" not in "".join(panel.ledger_html(view_missing, "<div>")).split("not measurable")[0]
    assert "not measurable on this platform: Arrow" in "".join(panel.ledger_html(view_missing, "<div>"))
    spec = figures.ledger_spec(view)
    assert spec is not None
    names = [t["name"] for t in spec["data"]]
    assert "native memory in use" in names and "file-backed" not in " ".join(names)
    assert all(t["stackgroup"] == "ledger" for t in spec["data"])
    native = next(t for t in spec["data"] if t["name"] == "native memory in use")
    assert native["y"][-1] - native["y"][0] == 13.0
    assert figures.ledger_spec({"owners": {}, "series": {"native": [[1.0, 5]]}}) is None  # one reading: no figure
    assert panel.ledger_html(None, "<div>") == []


def test_no_metrics_provider_is_registered_with_apptests_mock_runtime(monitor):
    """AppTest's runtime is a new mock every run: registering with it served nothing and cost every run."""
    from st_memwatch.streamlit_bridge import metrics

    before = set(metrics._registered)
    at = AppTest.from_string("import streamlit as st\nimport st_memwatch\nst_memwatch.panel()\n")
    for _ in range(3):
        at.run()
    assert not at.exception
    assert metrics._registered == before

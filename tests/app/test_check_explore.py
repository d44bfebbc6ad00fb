"""`check` acts on the app like a visitor: leaks behind an interaction are found and their trigger named.

The apps are in tests/corpus/explore (see its manifest). Each check runs the
real command in a subprocess at the smallest --runs the verdict allows.
"""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from st_memwatch.explore import GROWTH_STEP_BYTES, Block, Explorer, Interaction, _steps_between, _sweep, _upload_payload
from st_memwatch.testing import LeakFound, assert_no_leak, check_app
from st_memwatch.tour import FINITE_DOMAIN_MAX, domain_forecast

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "explore"
MANIFEST = {e["app"]: e for e in json.loads((CORPUS / "manifest.json").read_text())}
# These tests read what the tour covers: its time budget (a CI minute by default) is raised so that
# a loaded machine does not cut the tour short.
TOUR_BUDGET_S = 600.0
RUNS = 12  # the verdict needs eight points after warm-up for a leak RSS does not show (1.40 reuses freed pages)


@functools.cache
def _navigation_renders() -> bool:
    """Older AppTest runs an st.navigation app without rendering its pages (streamlit#9446)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(CORPUS / "multipage_reports" / "app.py"), default_timeout=60).run()
    return [t.value for t in at.title] == ["Home"]


@functools.cache
def _uploads() -> bool:
    """AppTest drives st.file_uploader only in newer releases (streamlit#14341)."""
    from streamlit.testing.v1 import AppTest

    return hasattr(AppTest, "file_uploader")



def _drivable(entry):
    if entry["app"] == "leak_upload_session.py":
        return _uploads()
    if entry["app"] == "multipage_reports/app.py":
        return _navigation_renders()
    return True


LEAKS = [a for a, e in MANIFEST.items() if e["leak"]]


@pytest.mark.parametrize("app", LEAKS)
def test_leak_behind_an_interaction_is_found_with_its_trigger(app):
    entry = MANIFEST[app]
    report = check_app(CORPUS / app, runs=RUNS, explore=True, budget_s=TOUR_BUDGET_S)
    assert not report.get("error"), report.get("error")
    if not _drivable(entry):
        # Honest about what it could not do on this Streamlit: no leak claimed, the element listed.
        assert report["leak"] is False
        assert report["trigger"] is None
        if app == "leak_upload_session.py":
            assert any("file_uploader" in s for s in report["explore"]["not_drivable"]), report["explore"]
        return
    assert report["exit_status"] == 1 and report["leak"] is True, report.get("verdict_reason")
    trigger = report["trigger"]
    for key, value in entry["trigger"].items():
        assert trigger[key] == value, trigger
    if entry["holder"]:
        assert trigger["holder"] == entry["holder"], trigger
    assert trigger["bytes_per_run"] > 512 * 1024, trigger
    assert f"'{entry['trigger']['label']}'" in trigger["sentence"] and "grows by" in trigger["sentence"]
    # the plain check at the widgets' defaults does not see these leaks: that is the point
    assert report["explore"]["blocks"], report["explore"]


def test_steady_app_with_every_drivable_widget_is_not_a_leak():
    report = check_app(CORPUS / "ok_many_widgets.py", runs=RUNS, explore=True, budget_s=TOUR_BUDGET_S)
    assert not report.get("error"), report.get("error")
    assert report["leak"] is False, (report["verdict_reason"], report["explore"].get("confirmed"))
    explored = {b["interaction"]["action"] for b in report["explore"]["blocks"]}
    expected = {"click", "choose", "pick", "tick", "move", "type"} | ({"upload"} if _uploads() else set())
    assert expected <= explored, explored


def test_a_cache_keyed_by_an_hour_slider_is_a_forecast_not_a_leak():
    """The Uber-pickups pattern: the re-check sees the cache grow on every move, the slider's 24 values bound it."""
    entry = MANIFEST["ok_uber_pickups.py"]
    report = check_app(CORPUS / "ok_uber_pickups.py", runs=RUNS, explore=True, budget_s=TOUR_BUDGET_S)
    assert not report.get("error"), report.get("error")
    assert report["exit_status"] == 0 and report["leak"] is False and report["trigger"] is None, report["verdict_reason"]
    [forecast] = report["forecasts"]
    assert {k: forecast[k] for k in ("cache", "label", "domain")} == entry["forecast"], forecast
    assert forecast["entries_full"] == 24 and 0 < forecast["entries_now"] <= 24
    assert forecast["bytes_full"] == forecast["bytes_per_entry"] * 24 or abs(forecast["bytes_full"] - forecast["bytes_per_entry"] * 24) < 24
    assert "fills to at most 24 entries" in forecast["sentence"], forecast["sentence"]
    # the re-check did call it a leak on its own: the domain is what turned it into a forecast
    assert [c["forecast"] for c in report["explore"]["confirmed"]] == [True], report["explore"]["confirmed"]


def test_the_report_names_the_trigger_in_words(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "st_memwatch", "check", str(CORPUS / "leak_button_allocate.py"), "--runs", str(RUNS)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "trigger: grows by 1.0 MiB each time you click 'Allocate' (session_state blobs)" in proc.stdout, proc.stdout


def test_no_explore_keeps_the_widgets_at_their_defaults():
    report = check_app(CORPUS / "leak_button_allocate.py", runs=RUNS)
    assert report["leak"] is False and report["trigger"] is None and "explore" not in report


SCENARIO = """
def drive(at, run):
    if run >= 1:
        at.button[0].click()
    return "click the first button"
"""


def drive(at, run):  # a module-level driver, found again by the sandboxed check
    if run >= 1:
        at.button[0].click()


def test_scenario_file_and_pytest_helper_drive_the_app(tmp_path):
    scenario = tmp_path / "driver.py"
    scenario.write_text(textwrap.dedent(SCENARIO))
    report = check_app(CORPUS / "leak_button_allocate.py", runs=RUNS, driver=scenario)
    assert report["leak"] is True and report["suspects"][0]["name"] == "blobs", report["suspects"][:2]
    with pytest.raises(LeakFound) as err:
        assert_no_leak(CORPUS / "leak_button_allocate.py", runs=RUNS, driver=drive)
    assert "session_state blobs" in str(err.value)
    with pytest.raises(ValueError, match="module-level function"):
        assert_no_leak(CORPUS / "leak_button_allocate.py", driver=lambda at, run: None)


def test_a_broken_scenario_is_a_clear_error(tmp_path):
    scenario = tmp_path / "broken_driver.py"
    scenario.write_text("def drive(at, run):\n    if run == 2:\n        at.button(key='missing').click()\n")
    report = check_app(CORPUS / "leak_button_allocate.py", runs=RUNS, driver=scenario)
    assert report["exit_status"] == 2 and "the driver raised before run 3" in report["error"], report


# ---- pure parts of the explorer (no app run)


def _leaking_report(holder_kind="cache", entries=5, size=5 * 2**20, limit=8 * 2**30, max_entries=None):
    return {
        "leak": True, "rss_last": 300 * 2**20, "limit": {"bytes": limit},
        "holders": [{"kind": holder_kind, "name": "filterdata", "bytes_per_run": 2**20}],
        "caches": [{"function": "filterdata", "entries": entries, "bytes": size, "max_entries": max_entries}],
    }


def test_a_small_domain_bounds_the_cache_it_keys():
    hours = Interaction("move", "slider", "Hour", domain=24)
    forecast = domain_forecast(_leaking_report(), hours)
    assert forecast is not None and forecast["entries_full"] == 24 and forecast["bytes_full"] == 24 * 2**20
    assert forecast["bytes_per_entry"] == 2**20 and "~24.0 MiB" in forecast["sentence"], forecast["sentence"]
    assert domain_forecast(_leaking_report(max_entries=10), hours)["entries_full"] == 10


def test_no_forecast_where_the_domain_does_not_bound_the_growth():
    hours = Interaction("move", "slider", "Hour", domain=24)
    assert domain_forecast(_leaking_report(holder_kind="session_state"), hours) is None  # kept per visit, not per value
    assert domain_forecast(_leaking_report(entries=30), hours) is None  # keyed by more than the slider
    assert domain_forecast(_leaking_report(size=5 * 2**30, limit=2**30), hours) is None  # fills past the limit
    wide = Interaction("move", "slider", "Zoom", domain=FINITE_DOMAIN_MAX + 1)
    assert domain_forecast(_leaking_report(), wide) is None  # a thousand positions: judged unbounded
    assert domain_forecast(_leaking_report(), Interaction("click", "button", "Add")) is None
    assert domain_forecast(_leaking_report(), Interaction("move", "number_input", "N")) is None  # no known domain


def test_widget_domains_are_counted():
    assert _steps_between(0, 23, 1) == 24
    assert _steps_between(0.0, 1.0, 0.25) == 5
    assert _steps_between(0, 1000, 1) == 1001
    assert _steps_between(None, 10, 1) is None and _steps_between(0, 10**9, 1) is None


def test_a_block_is_known_flat_after_two_flat_steps():
    block = Block(Interaction("click", "button", "Add"), 1, acted=4)
    big = 4 * GROWTH_STEP_BYTES
    block.heap = [0, big]
    assert not block.known_flat(4)
    block.heap = [0, big, big]  # one flat step: the block can still grow on the last two
    assert not block.known_flat(4)
    block.heap = [0, 0, 10]  # two flat steps of three: it cannot be a candidate any more
    assert block.known_flat(4) and not block.grows


def _imports(module: str) -> set[str]:
    path = Path(__file__).resolve().parents[2] / "st_memwatch" / f"{module}.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_the_check_modules_import_each_other_one_way():
    """check <- explore <- sandbox <- tour <- cli: no cycle, and Streamlit's internals only through the bridge."""
    order = ["check", "explore", "sandbox", "tour", "cli"]
    for i, module in enumerate(order):
        later = {f"st_memwatch.{m}" for m in order[i + 1 :]}
        assert not (_imports(module) & later), (module, _imports(module) & later)
    explore_source = (Path(__file__).resolve().parents[2] / "st_memwatch" / "explore.py").read_text()
    for internal in ("_page_hash", "PagesManager", "_monitor", "streamlit.runtime"):
        assert internal not in explore_source, internal


def test_sweep_visits_new_values_across_the_range():
    values = [_sweep(0, 1000, 1, 100, t, True) for t in range(12)]
    assert len(set(values)) == 12 and all(0 <= v <= 1000 for v in values) and 100 not in values
    assert min(values) < 300 and max(values) > 700  # spread across, not a crawl from one end
    assert [_sweep(None, None, 2, 10, t, True) for t in range(3)] == [12, 14, 16]


def test_uploads_follow_the_accepted_types():
    assert _upload_payload([".csv"], 1)[0].endswith(".csv")
    name, content, mime = _upload_payload(["png"], 2)
    assert name.endswith(".png") and content.startswith(b"\x89PNG") and mime == "image/png"
    assert _upload_payload([".txt"], 3)[2] == "text/plain"
    assert _upload_payload([".pdf"], 1) is None


def test_interactions_round_trip_and_read_well():
    it = Interaction("choose", "radio", "Path", value="leaky", page="abc", page_name="Lab")
    assert Interaction.from_dict(json.loads(json.dumps(it.to_dict()))) == it
    assert it.each_time() == "on every rerun while 'Path' is set to 'leaky' on page 'Lab'"
    assert it.trigger() == {"widget": "radio", "label": "Path", "action": "choose", "value": "leaky", "page": "Lab"}


def test_the_exploration_is_deterministic_for_a_seed():
    from streamlit.testing.v1 import AppTest

    def tour(seed):
        explorer = Explorer(seed=seed, max_blocks=6)
        at = AppTest.from_file(str(CORPUS / "ok_many_widgets.py"), default_timeout=60)
        said = []
        for i in range(explorer.runs_needed):
            try:
                said.append(explorer(at, i))
            except Exception:  # StopChecking: the tour is over
                break
            at.run()
        return said

    assert tour(1) == tour(1)
    assert tour(1) != tour(2)


def test_re_checks_past_the_budget_are_listed_not_guessed():
    """The default check's budget: interactions that grew at first but had no time left for their
    re-check are named as not re-checked, and no sandbox is started for them."""
    from st_memwatch.sandbox import SandboxLimits
    from st_memwatch.tour import _confirm

    grew = [Interaction("move", "slider", "Zoom"), Interaction("click", "button", "Allocate")]
    summary: dict = {"confirmed": []}
    found = _confirm("no_such_app.py", 10, None, SandboxLimits(timeout_s=5.0), 0, grew, summary, [], False,
                     deadline=time.monotonic() - 1.0)
    assert found is None and summary["confirmed"] == []
    assert summary["not_rechecked"] == [it.describe() for it in grew]

"""The caching lab (demo_app.py) under AppTest: every lesson in both variants, judged by the panel.

Each test opens the real multipage lab on one lesson with the variant chosen, clicks
"Rerun 10 times" (eleven runs, back to back, as in the app), then reruns a few more
times at a person's pace, reading ``st_memwatch.snapshot()`` between clicks as the
next render would. The bad variant of a leak lesson must be called a leak with its
holder named; the good variant must not warn at all. The lessons that are not about
leaks (peaks, allocator retention, per-session cost) are held to their own figures.
``ST_MEMWATCH_LAB_SCALE`` keeps the allocations small, so the suite stays fast.
"""

from __future__ import annotations

import gc
import re
import statistics
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import st_memwatch
from st_memwatch.core.models import Snapshot

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO = str(REPO_ROOT / "demo_app.py")
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from lab import common, modellib, state  # noqa: E402  (the lab package sits next to demo_app.py)

SCALE = 0.1
PACED_RUNS = 8  # after the button's 11 runs: clicks at a person's pace (one a second), the panel read between
MiB = 2**20
UNITS = {"B": 1, "KiB": 1024, "MiB": MiB, "GiB": 1024**3}
GROWTH_CODES = ("steady-growth",)  # the one diagnosis box for growth (rate, limit soon, cause, fix)


@pytest.fixture
def lab(monitor, monkeypatch):
    """A fresh monitor, empty caches, and the lab's module-level state cleared before and after."""
    monkeypatch.setenv(common.SCALE_ENV, str(SCALE))
    monkeypatch.delenv("ST_MEMWATCH_LIMIT", raising=False)
    _clear_lab()
    yield monitor
    _clear_lab()


def _clear_lab() -> None:
    modellib.forget()
    state.kept.clear()
    state.survivors.clear()
    common._limit_bytes = None
    gc.collect()
    common.trim()


# One lesson page with the panel, as demo_app.py shows it once st.navigation picked the page.
# (AppTest's switch_page takes file paths only, and the lab's pages are functions.)
LESSON_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
import streamlit as st
import st_memwatch
from lab import {module}
st_memwatch.panel()
{module}.page()
"""


def open_lesson(page: str, lesson: str, variant: str) -> AppTest:
    """The lesson ``page`` (a module of lab/) in a new session, with ``variant`` chosen before it first runs."""
    module = Path(page).stem
    at = AppTest.from_string(LESSON_SCRIPT.format(root=str(REPO_ROOT), module=module), default_timeout=180)
    at.session_state[f"lab_{lesson}_variant"] = variant
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if lesson != "any":
        assert [r.value for r in at.radio if r.key == f"lab_{lesson}_variant"] == [variant]
    return at


def drive(at: AppTest, lesson: str, paced: int = PACED_RUNS) -> Snapshot:
    """Click "Rerun 10 times", then rerun ``paced`` times reading the panel in between."""
    before = len(st_memwatch.snapshot().runs)
    at.button(key=f"lab_{lesson}_rerun").click().run()
    assert not at.exception, [e.value for e in at.exception]
    after_button = len(st_memwatch.snapshot().runs)
    assert after_button - before == common.RERUNS + 1, "the button should rerun the script 10 times by itself"
    for _ in range(paced):
        time.sleep(1.0)  # idle between clicks, as a person clicks: the moment the panel's background work uses
        st_memwatch.snapshot()
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    return st_memwatch.snapshot()


def growth_warnings(snap: Snapshot) -> list[str]:
    return [f"{w.code}: {w.message} (cause: {w.cause})" for w in snap.warnings if w.code in GROWTH_CODES]


def causes(snap: Snapshot) -> str:
    return " | ".join(f"{w.code}: {w.cause}" for w in snap.warnings)


def assert_leak_named(snap: Snapshot, holder: str) -> None:
    """A leak (the verdict, or a growth warning), with ``holder`` named as its cause."""
    assert snap.leak or growth_warnings(snap), (
        f"the bad variant should be judged a leak: trend {snap.trend}, warnings {causes(snap)}"
    )
    verdict = snap.verdict
    top = verdict.holders[0].name if verdict is not None and verdict.holders else None
    named = [w.cause for w in snap.warnings if holder in w.cause]
    if verdict is not None:
        named += [text for text in (verdict.cause, top or "") if holder in text]
    assert named, (
        f"neither the warning nor the verdict names the holder {holder!r}: {causes(snap)}; "
        f"verdict cause {verdict.cause if verdict else None!r}, top holder {top!r}"
    )


def assert_quiet(snap: Snapshot) -> None:
    assert not snap.leak, f"the good variant was judged a leak: trend {snap.trend}, warnings {causes(snap)}"
    assert not growth_warnings(snap), f"the good variant warned of growth: {growth_warnings(snap)}"


def readout(at: AppTest, label: str) -> str:
    """The lesson's readout line that starts with ``label`` (its numbers are st_memwatch's)."""
    for m in at.main.markdown:
        for line in str(m.value).split("  \n"):
            if line.startswith(f"**{label}"):
                return line
    pytest.fail(f"the lesson shows no {label!r} line: {[m.value for m in at.main.markdown]}")


def size_in(text: str, after: str) -> int:
    match = re.search(re.escape(after) + r"\s*([\d.]+) (B|KiB|MiB|GiB)", text)
    assert match, f"no size after {after!r} in {text!r}"
    return int(float(match.group(1)) * UNITS[match.group(2)])


def peaks_above_start(snap: Snapshot, n: int) -> list[int]:
    return [r.peak - r.rss_before for r in snap.runs[-n:]]


def wait_for_heap(timeout_s: float = 120.0) -> Snapshot:
    """The Python-heap figure comes from a census between runs: poll until a complete one is in.

    The panel's census note says whether the last census was complete; a partial one
    (cut by its time budget) misses bytes, so its total is not the heap.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        snap = st_memwatch.snapshot()
        if snap.python_heap is not None and ", complete" in snap.census_note:
            return snap
        if time.monotonic() > deadline:
            pytest.fail(f"no complete census within {timeout_s:.0f} s of idle: {snap.census_note!r}")
        time.sleep(2.0)


# ------------------------------------------------------------------ 1 load the model once
def test_model_in_the_script_body_leaks_and_names_the_library_registry(lab):
    at = open_lesson("lab/lesson1_model.py", "model", "bad")
    snap = drive(at, "model")
    assert modellib.models_built() >= common.RERUNS + 2
    assert_leak_named(snap, "_registry")
    assert "leak" in readout(at, "Verdict")


def test_model_with_cache_resource_is_built_once_and_quiet(lab):
    at = open_lesson("lab/lesson1_model.py", "model", "good")
    snap = drive(at, "model")
    assert modellib.models_built() == 1
    assert_quiet(snap)
    assert readout(at, "Verdict") == "**Verdict:** no leak."
    assert snap.verdict is not None and not snap.verdict.leak


# ------------------------------------------------------------------ 2 bound your caches
def test_unbounded_cache_on_a_changing_argument_leaks_and_is_named(lab):
    at = open_lesson("lab/lesson2_caches.py", "caches", "bad")
    snap = drive(at, "caches")
    cache = next(c for c in snap.caches if c.function.endswith("features_unbounded"))
    assert cache.entries >= common.RERUNS + 1 and not cache.bounded
    assert_leak_named(snap, "features_unbounded")


def test_bounded_cache_fills_to_its_bound_and_is_quiet(lab):
    from lab import features

    at = open_lesson("lab/lesson2_caches.py", "caches", "good")
    snap = drive(at, "caches")
    cache = next(c for c in snap.caches if c.function.endswith("features_bounded"))
    assert cache.bounded and cache.entries <= features.BOUND
    assert_quiet(snap)
    assert "(bounded)" in readout(at, "Caches")


# ------------------------------------------------------------------ 3 session state that hoards
def test_session_state_that_appends_every_run_leaks_and_names_the_key(lab):
    at = open_lesson("lab/lesson3_session.py", "session", "bad")
    snap = drive(at, "session")
    assert len(at.session_state["lab_results"]) >= common.RERUNS + 2
    assert_leak_named(snap, "lab_results")
    assert size_in(readout(at, "This session's state"), "keys,") >= common.RERUNS * common.model_bytes() // 16


def test_session_state_keeping_the_last_n_is_quiet(lab):
    at = open_lesson("lab/lesson3_session.py", "session", "good")
    snap = drive(at, "session")
    assert len(at.session_state["lab_recent"]) == 5
    assert_quiet(snap)
    assert size_in(readout(at, "This session's state"), "keys,") <= 7 * common.model_bytes() // 16


# ------------------------------------------------------------------ 4 big data: memory vs disk
def test_csv_into_memory_costs_a_peak_every_run_that_parquet_columns_do_not(lab):
    """Peaks are compared as the panel shows them (RSS at the run's high point), good first.

    The allocator keeps the pages of the first parse for the next, so after it a bad
    run's RSS starts high and its peak above its own start is small: the cost shows as
    the level of every bad run's peak against the good variant's.
    """
    data = common.model_bytes() // 2
    n = PACED_RUNS + common.RERUNS
    at = open_lesson("lab/lesson4_bigdata.py", "bigdata", "good")
    good = drive(at, "bigdata")
    good_peaks = [r.peak for r in good.runs[-n:]]
    assert max(peaks_above_start(good, n)) < 0.5 * data, peaks_above_start(good, n)  # one column of eight
    assert_quiet(good)
    at.radio(key="lab_bigdata_variant").set_value("bad").run()
    bad = drive(at, "bigdata")
    bad_peaks = [r.peak for r in bad.runs[-n:]]
    assert not bad.leak, f"reading a CSV each run is a peak, not a leak: {causes(bad)}"
    assert min(bad_peaks) - statistics.median(good_peaks) >= 0.5 * data, (
        f"every bad run should peak at least {0.5 * data / MiB:.1f} MiB above the good variant's: "
        f"{[round((p - statistics.median(good_peaks)) / MiB, 1) for p in bad_peaks]} MiB"
    )


# ------------------------------------------------------------------ 5 peak vs leak
def test_a_freed_temporary_is_a_peak_not_a_leak(lab):
    temp = max(64 * MiB, 2 * common.model_bytes())
    at = open_lesson("lab/lesson5_peak.py", "peak", "good")
    snap = drive(at, "peak")
    runs = snap.runs[-(PACED_RUNS + common.RERUNS) :]
    assert statistics.median(r.peak - r.rss_before for r in runs) >= 0.8 * temp, [r.peak - r.rss_before for r in runs]
    assert abs(statistics.median(r.delta for r in runs)) < 0.1 * temp, [r.delta for r in runs]
    assert all(r.peak_source in ("hwm", "sampler") for r in runs)
    assert_quiet(snap)


def test_what_every_run_keeps_is_a_leak_named_by_its_holder(lab):
    at = open_lesson("lab/lesson5_peak.py", "peak", "bad")
    snap = drive(at, "peak")
    assert len(state.kept) >= common.RERUNS + 2
    assert_leak_named(snap, "kept")


# ------------------------------------------------------------------ 6 free what you hold
def test_dropping_references_lowers_the_heap_and_trim_lowers_rss(lab):
    """Both variants keep the same live objects; only trimming gives the freed pages back."""
    alloc = common.model_bytes() // 2
    at = open_lesson("lab/lesson6_free.py", "free", "good")
    good = drive(at, "free")
    assert_quiet(good)
    good_rss = good.runs[-1].rss_after
    good_heap = wait_for_heap()
    at.radio(key="lab_free_variant").set_value("bad").run()
    bad = drive(at, "free")
    assert not bad.leak, f"retention is not a leak: {causes(bad)}"
    bad_rss = bad.runs[-1].rss_after
    bad_heap = wait_for_heap()
    assert bad_rss - good_rss >= 0.5 * alloc, (
        f"without malloc_trim the freed pages should stay in RSS: {bad_rss / MiB:.1f} vs {good_rss / MiB:.1f} MiB"
    )
    assert good_heap.python_heap is not None and bad_heap.python_heap is not None
    assert abs(bad_heap.python_heap - good_heap.python_heap) < 0.3 * alloc, (
        f"the live Python heap should not differ: {bad_heap.python_heap / MiB:.1f} vs {good_heap.python_heap / MiB:.1f} MiB"
    )
    assert "RSS above it" in readout(at, "Python heap")


# ------------------------------------------------------------------ 7 many visitors
def _visit(variant: str, sessions: int) -> tuple[list[int], list[AppTest]]:
    """Open ``sessions`` new sessions on lesson 7; RSS after each one's runs."""
    rss, visitors = [], []
    for _ in range(sessions):
        at = open_lesson("lab/lesson7_visitors.py", "visitors", variant)
        at.run()
        visitors.append(at)
        rss.append(st_memwatch.snapshot().rss)
    return rss, visitors


def test_a_table_per_session_adds_up_and_a_shared_one_does_not(lab, monkeypatch):
    monkeypatch.setenv(common.SCALE_ENV, "0.4")  # tables well above what a new AppTest session costs by itself
    from lab import lesson7_visitors

    size = lesson7_visitors.table_bytes()
    shared_rss, shared = _visit("good", 4)
    for at in shared:
        assert size_in(readout(at, "Sessions"), "this one's state") < size / 4
        assert "lab_table" not in at.session_state
    hoarding_rss, hoarding = _visit("bad", 4)
    for at in hoarding:
        assert size_in(readout(at, "Sessions"), "this one's state") >= size
    # After the first session, each further one costs what it keeps in its own state.
    shared_each = (shared_rss[-1] - shared_rss[0]) / 3
    hoarding_each = (hoarding_rss[-1] - hoarding_rss[0]) / 3
    assert shared_each <= size / 4, f"sessions sharing one table cost {shared_each / MiB:.1f} MiB each"
    assert hoarding_each >= 0.8 * size, (
        f"a table per session should cost about {size / MiB:.1f} MiB each, not {hoarding_each / MiB:.1f}"
    )


# ------------------------------------------------------------------ the lab itself
def test_every_page_runs_and_reset_clears_what_it_allocated(lab):
    at = open_lesson("lab/lesson5_peak.py", "peak", "bad")
    at.run()
    assert len(state.kept) == 2
    at.button(key="lab_peak_reset").click().run()
    assert state.kept == [] and not at.exception
    assert any("Reset" in i.value for i in at.info)
    from lab import LESSONS

    for _, title, _, module in LESSONS:
        page = open_lesson(f"lab/{module.__name__.rsplit('.', 1)[-1]}.py", "any", "bad")
        assert "Verdict" in " ".join(m.value for m in page.main.markdown), f"{title}: no readout from the panel"


def test_demo_app_opens_on_the_lab_with_the_panel(lab):
    at = AppTest.from_file(DEMO, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.main.title] == ["st_memwatch caching lab"]
    assert [t.label for t in at.sidebar.toggle] == ["Memory details"]


def test_a_bad_scale_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(common.SCALE_ENV, "2")
    with pytest.raises(ValueError, match=r"ST_MEMWATCH_LAB_SCALE='2'.*greater than 0 and at most 1"):
        common.scale()

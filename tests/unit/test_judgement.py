"""The one verdict on scripted series: regimes, warm-up, holders, the box (no Streamlit, no clock)."""

from __future__ import annotations

import pytest
from builders import settled_runs

from st_memwatch.core import analysis, judgement
from st_memwatch.core.models import CacheUsage

MB = 1024 * 1024
GB = 1024 * MB


def judge(settled, limit=10 * GB, **kw):
    return judgement.judge(settled_runs(settled, dt=kw.pop("dt", 1.0), sessions=kw.pop("sessions", None)), kw.pop("series", {}), kw.pop("caches", {}), limit, **kw)


def leak_after_quiet(quiet, leaky, step=8 * MB, base=300 * MB):
    settled = [base + (k % 3) * 16 * 1024 for k in range(quiet)]
    level = settled[-1]
    for _ in range(leaky):
        level += step
        settled.append(level)
    return settled


def test_a_fresh_app_warms_up_without_alarm():
    # Imports and first renders: big steps in the first runs, then a few KiB per run.
    settled = [120 * MB, 150 * MB, 158 * MB] + [158 * MB + k * 16 * 1024 for k in range(1, 18)]
    for n in range(1, len(settled) + 1):
        v = judge(settled[:n])
        assert not v.leak, (n, v.reason)
        assert analysis.diagnosis(v, settled[n - 1], 10 * GB) == ()
    assert judge(settled[:2]).warming_up


def test_a_leak_after_a_long_quiet_past_is_flagged_within_four_runs_at_its_rate():
    for quiet in (12, 300):
        flagged = None
        for leaky in range(1, 9):
            v = judge(leak_after_quiet(quiet, leaky))
            if v.leak and flagged is None:
                flagged = leaky
        assert flagged is not None and flagged <= 4, (quiet, flagged)
        v = judge(leak_after_quiet(quiet, 8))
        assert v.bytes_per_run == pytest.approx(8 * MB, rel=0.25)
        assert v.since_run == quiet + 1  # the first leaky run


def test_the_verdict_goes_quiet_within_four_runs_after_the_leak_stops():
    settled = leak_after_quiet(12, 10)
    level = settled[-1]
    cleared_at = None
    for k in range(1, 8):
        settled.append(level + k * 4096)
        if cleared_at is None and not judge(settled).leak:
            cleared_at = k
    assert cleared_at is not None and cleared_at <= 4
    trend = judgement.trend_of(judge(settled), settled_runs(settled))
    assert trend is not None and trend.bytes_per_run == 0.0  # no stale "+1.1 MiB/run" after the fix


def test_a_few_more_small_arrays_after_the_fix_do_not_keep_the_leak_alive():
    # Measured on the leak-after-quiet scenario: 8 MiB arrays kept in runs 14-23, then the
    # fix; the census of numpy.ndarray (run, count, MiB) keeps counting a few small arrays more.
    measured = [(3, 523, 9.42), (5, 558, 9.45), (7, 558, 9.45), (9, 558, 9.45), (11, 558, 9.45), (13, 558, 9.45),
                (15, 560, 25.45), (18, 561, 49.45), (20, 564, 65.45), (22, 564, 81.45), (24, 565, 89.45),
                (26, 566, 89.45), (28, 570, 89.45), (30, 570, 89.45)]
    settled = leak_after_quiet(13, 10)
    settled += [settled[-1] + k * 4096 for k in range(1, 8)]
    for n in range(27, 31):  # four flat steps ended the regime at run 27
        points = tuple((float(x), c, int(mib * MB)) for x, c, mib in measured if x <= n)
        v = judge(settled[:n], series={("type", "numpy.ndarray", ""): points})
        assert not v.leak, (n, v.reason)


def test_a_leak_with_allocator_reuse_keeps_its_rate():
    # 3 MiB kept per run, the allocator handing back pages every fifth run.
    settled, level = [], 200 * MB
    for i in range(25):
        level += -8 * MB if i % 5 == 4 else 3 * MB
        settled.append(level)
    v = judge(settled)
    assert v.leak


def test_a_leak_that_restarts_after_a_clear_gets_its_own_rate():
    leak = [100 * MB + i * 8 * MB for i in range(14)]
    cleared = [100 * MB] * 4
    again = [100 * MB + (i + 1) * 8 * MB for i in range(5)]
    v = judge(leak + cleared + again)
    assert v.leak and v.bytes_per_run == pytest.approx(8 * MB, rel=0.25)
    assert v.since_run == len(leak + cleared) + 1


def test_one_big_step_and_a_bounded_fill_are_not_leaks():
    assert not judge([100 * MB] * 10 + [400 * MB] + [400 * MB] * 10).leak
    fill = [100 * MB + min(i, 5) * 2 * MB for i in range(20)]  # 5 runs of a cache filling to its bound
    assert not judge(fill).leak


def test_a_new_sessions_first_run_is_not_growth():
    # Each new tab's first run costs 1 MiB of its own objects; every other run is flat.
    settled, sessions, level = [], [], 200 * MB
    for i in range(20):
        new = i % 2 == 0
        level += MB if new else 4096
        settled.append(level)
        sessions.append(f"s{i // 2 + 1}" if new else f"s{i // 2 + 1}")
    assert not judge(settled, sessions=sessions).leak


def test_retention_is_named_only_when_the_allocators_free_memory_explains_it():
    settled = leak_after_quiet(10, 8)
    heap = [(float(x), 50 * MB) for x in range(1, 19, 2)]  # complete censuses: live bytes flat
    free = [(float(x), 10 * MB + max(0, x - 10) * 8 * MB) for x in range(1, 19)]  # glibc keeps what RSS gained
    v = judge(settled, heap=heap, free=free)
    assert not v.leak and "free memory" in v.reason


def test_growth_no_owner_explains_is_a_leak_once_sustained_and_the_limit_is_within_reach():
    heap = [(float(x), 50 * MB) for x in range(1, 40, 2)]
    free = [(float(x), 10 * MB) for x in range(1, 40)]  # the allocator keeps nothing more
    early = judge(leak_after_quiet(10, 4), heap=heap, free=free)
    assert not early.leak and "no owner" in early.reason
    far = judge(leak_after_quiet(10, 8), heap=heap, free=free)  # 10 GB: the limit is over a thousand runs away
    assert not far.leak and "no owner" in far.reason
    v = judge(leak_after_quiet(10, 8), limit=2 * GB, heap=heap, free=free)
    assert v.leak and "outside Python objects" in v.reason
    assert v.holders[0].kind == "native" and "type" not in v.cause


def test_native_memory_that_grows_is_a_leak_named_by_the_type_that_owns_it():
    settled = leak_after_quiet(10, 8)
    heap = [(float(x), 50 * MB) for x in range(1, 19, 2)]
    native = tuple((float(x), 0, 40 * MB + max(0, x - 10) * 8 * MB) for x in range(1, 19))
    images = tuple((float(x), 3 + max(0, x - 10), 56 * (3 + max(0, x - 10))) for x in range(1, 19))
    strings = tuple((float(x), 1000 + 40 * x, 60_000 + 4000 * x) for x in range(1, 19))
    series = {("native", "native memory outside Python objects", ""): native,
              ("type", "PIL.Image.Image", ""): images, ("type", "str", ""): strings}
    v = judge(settled, heap=heap, series=series)
    assert v.leak and v.reason.startswith("native memory outside Python objects grows")
    assert v.holders[0].name == "PIL.Image.Image" and "each keeping ~8.0 MiB outside Python" in v.holders[0].evidence
    assert v.cause == "type PIL.Image.Image"


def test_a_census_from_before_a_quiet_stretch_names_the_holder_at_the_first_reading_after_the_onset():
    # The census ran at run 4, then memory held still until run 13; the next census, at the
    # first leaky run, sees one 8 MiB array more. That growth is the regime's own step (dated
    # from run 13), not 8 MiB spread over the nine quiet runs since run 4.
    settled = leak_after_quiet(13, 3)
    series = {("type", "numpy.ndarray", ""): [(4.0, 500, 9 * MB), (14.0, 501, 17 * MB)]}
    v = judge(settled, series=series)
    assert v.leak and v.since_run == 14, v.reason
    assert v.holders[0].name == "numpy.ndarray"
    assert v.holders[0].bytes_per_run == pytest.approx(8 * MB, rel=0.01)


def test_a_first_reading_that_grew_more_than_memory_did_is_not_dated_from_the_onset():
    # Settled memory grows 1 MiB a run for three runs; the census before the onset, nine runs
    # earlier, saw 6 MiB fewer arrays than the first one inside: more than memory added since
    # the onset, so most of it is older (freed pages reused, transients caught by a census).
    settled = [300 * MB] * 13 + [300 * MB + k * MB for k in range(1, 4)]
    series = {("type", "numpy.ndarray", ""): [(4.0, 500, 9 * MB), (14.0, 506, 15 * MB)]}
    v = judge(settled, series=series)
    arrays = [h for h in v.holders if h.name == "numpy.ndarray"]
    assert not arrays or arrays[0].bytes_per_run == pytest.approx(6 * MB / 10), arrays  # over its own ten runs


def test_fields_of_classes_made_at_run_time_are_not_charged_with_native_memory():
    # A C library keeps 8 MiB a run (ctypes malloc, no Python object); the framework defines a few
    # dataclasses per run, whose Field objects wait for the collector. They own nothing outside Python.
    settled = leak_after_quiet(10, 8)
    native = tuple((float(x), 0, 40 * MB + max(0, x - 10) * 8 * MB) for x in range(1, 19))
    fields = tuple((float(x), 300 + 3 * x, 300 * (300 + 3 * x)) for x in range(1, 19, 2))
    series = {("native", "native memory outside Python objects", ""): native, ("type", "dataclasses.Field", ""): fields}
    v = judge(settled, heap=[(float(x), 50 * MB) for x in range(1, 19, 2)], series=series)
    assert v.leak and v.holders[0].kind == "native", (v.cause, v.holders)
    assert "Field" not in v.cause


def test_the_session_state_key_is_named_before_the_arrays_it_holds():
    settled = leak_after_quiet(10, 6)
    series = {
        ("session_state", "blobs", "s2"): [(float(x), 1, max(0, x - 10) * 8 * MB) for x in range(8, 17)],
        ("type", "numpy.ndarray", ""): [(11.0, 5, 20 * MB), (15.0, 9, 52 * MB)],
        ("session_state", "note", "s1"): [(float(x), 1, 100) for x in range(8, 17)],
    }
    v = judge(settled, series=series)
    assert v.leak
    assert [(h.kind, h.name, h.session) for h in v.holders][:2] == [("session_state", "blobs", "s2"), ("type", "numpy.ndarray", "")]
    assert v.cause == "st.session_state['blobs'] in session s2"
    assert "deque(maxlen=N)" in v.action
    assert v.holders[1].action.startswith("Apply the fix for st.session_state['blobs']")


def test_a_growing_cache_is_named_from_two_readings():
    settled = leak_after_quiet(10, 4)
    series = {("cache", "load_frame", ""): [(9.0, 3, 3 * MB), (13.0, 7, 35 * MB)]}
    caches = {"load_frame": CacheUsage("load_frame", "data", 7, 35 * MB, "pickled")}
    v = judge(settled, series=series, caches=caches)
    assert v.leak and v.holders[0].name == "load_frame" and "max_entries" in v.action


def test_a_holder_that_grows_far_less_than_rss_is_not_named():
    settled = leak_after_quiet(10, 6)
    series = {("session_state", "log", "s1"): [(float(x), 1, x * 10 * 1024) for x in range(8, 17)]}
    v = judge(settled, series=series)
    assert v.leak and v.holders == () and v.cause == ""
    assert v.fix == judgement.GENERIC_FIX


def test_the_box_is_one_per_episode_with_one_rate_and_the_state():
    settled = leak_after_quiet(10, 8)
    v = judge(settled, limit=400 * MB)
    (box,) = analysis.diagnosis(v, settled[-1], 400 * MB)
    assert box.code == "steady-growth" and box.level == "error"
    assert box.message.startswith("Limit in ~") and "+8.0 MiB per run" in box.message
    (over,) = analysis.diagnosis(judge(settled, limit=320 * MB), settled[-1], 320 * MB)
    assert over.code == "steady-growth" and over.message.startswith("Over the limit: ")
    assert "a container would already have ended this app" in over.message and "~0 runs" not in over.message
    (high,) = analysis.diagnosis(judge([300 * MB] * 10), 300 * MB, 400 * MB)
    assert high.code == "high-usage" and high.cause == ""
    assert analysis.diagnosis(judge([300 * MB] * 10), 300 * MB, 10 * GB) == ()


def test_the_forecast_does_not_depend_on_when_it_is_read():
    settled = leak_after_quiet(10, 8)
    v = judge(settled, limit=GB, dt=10.0)
    assert v.runs_to_limit == pytest.approx((GB - settled[-1]) / v.bytes_per_run)
    assert v.seconds_to_limit is not None and v.seconds_to_limit == pytest.approx(v.runs_to_limit * 10, rel=0.25)


def test_types_followed_to_one_module_global_name_it_once_with_its_fix():
    from st_memwatch.core.models import Holder

    settled = leak_after_quiet(10, 6)
    series = {
        ("type", "corpus_models.TinyModel", ""): [(9.0, 1, 100), (16.0, 7, 700)],
        ("type", "numpy.ndarray", ""): [(9.0, 1, 8 * MB), (16.0, 7, 56 * MB)],
    }
    advice, action = analysis.advice_for("global", "module corpus_models._LIVE", None)
    held = Holder("global", "module corpus_models._LIVE", 0.0, 0.0, "", advice, action, chain=("module corpus_models", "._LIVE (list)"))
    v = judge(settled, series=series, chains={"numpy.ndarray": held, "corpus_models.TinyModel": held})
    assert [h.name for h in v.holders] == ["module corpus_models._LIVE"]
    assert v.cause == "module corpus_models._LIVE" and v.holders[0].chain[1] == "._LIVE (list)"
    assert "deque(maxlen=N)" in v.action


def test_a_leak_rss_does_not_show_yet_is_named_by_where_references_lead():
    # An lru_cache of 512 KiB tiles while freed pages absorb them: RSS flat, bytes growing.
    from st_memwatch.core.models import Holder

    settled = [300 * MB + (k % 2) * 4096 for k in range(24)]
    series = {("type", "bytes", ""): [(float(x), 100 + x, (10 + x) * 512 * 1024) for x in range(1, 25)]}
    advice, action = analysis.advice_for("lru_cache", "lru_cache corpus_tiles.render_tile", None)
    found = Holder("lru_cache", "lru_cache corpus_tiles.render_tile", 0.0, 0.0, "", advice, action, chain=("lru_cache corpus_tiles.render_tile", "(cache) (dict)", "bytes x24"))
    plain = judge(settled, series=series)
    assert plain.leak and plain.holders[0].name == "bytes", plain.reason
    v = judge(settled, series=series, chains={"bytes": found})
    assert v.leak and v.cause == "lru_cache corpus_tiles.render_tile", (v.reason, v.cause)
    assert "maxsize" in v.action


def test_a_leak_in_one_session_between_another_sessions_quiet_runs_is_found():
    # Two tabs click in turn: s2 keeps 2 MiB per click, s1 keeps nothing.
    settled, sessions, level = [], [], 200 * MB
    for i in range(24):
        leaky = i % 2 == 1 and i >= 6
        level += 2 * MB if leaky else 4096
        settled.append(level)
        sessions.append("s2" if i % 2 else "s1")
    series = {("session_state", "messages", "s2"): [(float(x), 1, max(0, (x - 6) // 2) * 2 * MB) for x in range(2, 25, 2)]}
    v = judge(settled, sessions=sessions, series=series)
    assert v.leak and v.bytes_per_run == pytest.approx(2 * MB, rel=0.25), v.reason
    assert v.cause == "st.session_state['messages'] in session s2", v.cause


def test_rises_the_monitors_own_work_explains_start_no_regime():
    # A big heap, as measured: the first censuses leave a MiB or so of freed pages each
    # (RSS grew by that much during the census after the run before); the app is quiet.
    # After the server's early runs (whose short rises must last anyway), so that they would alarm.
    rises = {17: 0.6, 18: 1.1, 19: 0.7, 20: 1.2, 23: 0.9}
    settled, level, own = [], 320 * MB, {}
    for x in range(1, 33):
        if x in rises:
            level += int(rises[x] * MB)
            own[float(x - 1)] = int(rises[x] * MB) + 4096
        settled.append(level)
    assert any(judge(settled[:n]).leak for n in range(3, 33))  # taken as the app's, they alarm
    for n in range(3, 33):
        assert not judge(settled[:n], own=own).leak, n
    # The same process then leaks 8 MiB a run: flagged as soon as without the footprint.
    for _ in range(3):
        settled.append(settled[-1] + 8 * MB)
    v = judge(settled, own=own)
    assert v.leak and v.bytes_per_run == pytest.approx(8 * MB, rel=0.25)


def test_a_rise_the_monitors_own_work_explains_does_not_keep_a_fixed_leak_alive():
    settled = leak_after_quiet(12, 10)
    level = settled[-1]
    settled += [level, level + 5 * MB, level + 5 * MB, level + 5 * MB, level + 5 * MB]  # a census's pages at the 2nd
    own = {float(len(settled) - 4): 5 * MB + 4096}  # measured during the work after the run before that rise
    assert judge(settled).leak  # taken as the app's, the rise restarts the flat stretch
    assert not judge(settled, own=own).leak


def test_a_bounded_cache_filling_up_is_a_forecast_not_a_leak():
    settled = leak_after_quiet(10, 8)
    points = tuple((float(x), max(0, x - 10), max(0, x - 10) * 8 * MB) for x in range(1, 19))
    series = {("cache", "features_bounded", ""): points}
    bounded = {"features_bounded": CacheUsage("features_bounded", "data", 8, 64 * MB, "pickled", max_entries=20)}
    v = judge(settled, series=series, caches=bounded)
    assert not v.leak and v.forecast == "cache features_bounded fills to ~160.0 MiB at max_entries=20, then stops"
    assert judge(settled, series=series, caches=bounded, limit=400 * MB).leak  # the projection crosses the limit
    unbounded = {"features_bounded": CacheUsage("features_bounded", "data", 8, 64 * MB, "pickled")}
    assert judge(settled, series=series, caches=unbounded).leak


def test_a_cache_that_trends_with_the_growing_bytes_is_named_though_its_own_steps_are_uneven():
    # RSS flat (freed pages reused), pickled bytes grow every run, the cache's readings every other run.
    settled = [300 * MB + (k % 2) * 4096 for k in range(14)]
    kib = 1024
    series = {
        ("type", "bytes", ""): [(float(x), 10 + x, x * 134 * kib) for x in range(1, 15)],
        ("cache", "filterdata", ""): [(float(x), x // 2, (x // 2) * 154 * kib) for x in range(1, 15)],
    }
    caches = {"filterdata": CacheUsage("filterdata", "data", 7, 7 * 154 * kib, "pickled")}
    v = judge(settled, series=series, caches=caches)
    assert v.leak and v.holders[0].kind == "cache" and v.holders[0].name == "filterdata", (v.reason, v.holders)
    assert "max_entries" in v.action
    alone = {("type", "bytes", ""): series[("type", "bytes", "")]}
    assert judge(settled, series=alone).holders[0].name == "bytes"


def test_what_a_visitor_costs_and_how_many_the_limit_fits():
    # Each new session's first run adds 75 MiB; the others add nothing.
    settled, sessions = [], []
    level = 300 * MB
    for i in range(16):
        new = i % 2 == 0
        level += 75 * MB if new else 0
        settled.append(level)
        sessions.append(f"s{i // 2 + 1}")
    roomy = judge(settled, limit=2 * GB, sessions=sessions, open_sessions=8)
    assert not roomy.leak and roomy.per_visitor_bytes == 75 * MB and roomy.visitors_fit == 23
    assert analysis.diagnosis(roomy, settled[-1], 2 * GB) == ()  # 8 open of ~23: nothing to say
    v = judge(settled, limit=GB, sessions=sessions, open_sessions=8)
    assert v.visitors_fit == (GB - (settled[-1] - 8 * 75 * MB)) // (75 * MB) == 9
    (box,) = analysis.diagnosis(v, settled[-1], GB)
    assert box.code == "per-visitor" and "~75.0 MiB per visitor" in box.message and "8 open" in box.message


def test_a_session_window_that_bounds_itself_is_a_forecast_not_a_leak():
    settled = leak_after_quiet(10, 6)
    key_points = tuple((float(x), 1, max(0, x - 10) * 8 * MB) for x in range(1, 17))
    series = {("session_state", "last_results", "s1"): key_points}
    assert judge(settled, series=series).leak
    v = judge(settled, series=series, bounded_keys={"last_results": 5})
    assert not v.leak and v.forecast == "st.session_state['last_results'] keeps at most 5 items, then stops"


def test_a_servers_warm_up_that_stops_is_not_a_leak_and_growth_that_lasts_is():
    """A fresh server's first clicks fill Streamlit's buffers and the allocator's arenas: ~1 MiB a run that stops.

    Growth that starts within ``Thresholds.early_runs`` and that no container names is a
    leak only once it lasts (``UNOWNED_STEPS`` growing steps) past those runs; the same
    growth after a quiet stretch is flagged at once (``test_a_leak_after_a_long_quiet_past...``).
    """
    warm = [300 * MB] * 2 + [300 * MB + i * 900 * 1024 for i in range(1, 6)]
    warm += [warm[-1]] * 10
    assert not any(judge(warm[:n]).leak for n in range(3, len(warm) + 1))
    lasting = [300 * MB] * 2 + [300 * MB + i * 900 * 1024 for i in range(1, 16)]
    flagged = next((n for n in range(3, len(lasting) + 1) if judge(lasting[:n]).leak), None)
    early_runs = analysis.Thresholds().early_runs
    assert flagged is not None and early_runs < flagged <= early_runs + 2, flagged  # once it outlasts the early runs
    late = [300 * MB] * 14 + [300 * MB + i * 900 * 1024 for i in range(1, 6)]
    flagged = next((n for n in range(15, len(late) + 1) if judge(late[:n]).leak), None)
    assert flagged is not None and flagged - 14 <= 4, flagged


def test_early_growth_the_allocators_free_memory_explains_is_retention_past_the_early_runs():
    """A cache bounded at 8 entries of 2 MiB, clicked from a fresh server: glibc's free memory grows
    with RSS from the first click (freed arrays and pickles kept for reuse; measured on a real
    server), and RSS climbed on past the early runs in one browser run. Without the free memory's
    series the same climb is a leak once it outlasts the early runs."""
    climb = [300 * MB] * 2 + [300 * MB + i * 2 * MB for i in range(1, 15)]
    free = [(float(x), 4 * MB + max(0, x - 2) * 3 * MB // 2) for x in range(1, len(climb) + 1)]
    assert not any(judge(climb[:n], free=free[:n]).leak for n in range(3, len(climb) + 1))
    assert "free memory" in judge(climb, free=free).reason
    assert judge(climb).leak


def test_a_window_that_filled_early_does_not_vouch_for_rss_that_creeps_on():
    """Lab lesson 3, good variant, in a real browser: a deque(maxlen=5) of ~2 MiB results fills in
    five clicks, RSS creeps on (the allocator), and three censuses inside the regime saw the heap
    grow, then stop. The heap that stopped does not make the climb a leak in the early runs."""
    climb = [300 * MB] * 2 + [300 * MB + i * 2 * MB for i in range(1, 7)]
    heap = [(2.0, 50 * MB), (5.0, 56 * MB), (8.0, 56 * MB)]
    assert not judge(climb, heap=heap).leak
    growing = [(2.0, 50 * MB), (5.0, 56 * MB), (8.0, 62 * MB)]
    assert judge(climb, heap=growing).leak  # a heap still growing with RSS vouches for it at once


def _window_then_retention(n_runs, maxlen=5, item=2 * MB):
    """Lab lesson 3's good variant on a real server: a deque(maxlen=5) of ~2 MiB arrays fills in
    five runs, then RSS climbs on at the same pace while glibc's free memory grows (evicted
    arrays kept for reuse in the arenas of the script's threads); censuses see the heap grow, then stop."""
    settled = [300 * MB] * 3 + [300 * MB + i * item for i in range(1, n_runs - 2)]
    key = tuple((float(x), min(max(0, x - 3), maxlen), min(max(0, x - 3), maxlen) * item) for x in range(1, n_runs + 1))
    free = [(float(x), 14 * MB + max(0, x - 3 - maxlen) * item) for x in range(1, n_runs + 1)]
    heap = [(float(x), 90 * MB + min(max(0, x - 3), maxlen) * item) for x in (3, 9, 17)]  # censuses are rare
    return settled, {("session_state", "lab_recent", "s1"): key}, free, heap


def test_a_window_and_the_free_memory_after_it_are_each_judged_by_their_bound():
    settled, series, free, heap = _window_then_retention(18)
    reasons = {}
    for n in range(9, 19):
        v = judge(settled[:n], series={k: p[:n] for k, p in series.items()}, free=free[:n],
                  heap=[h for h in heap if h[0] <= n], bounded_keys={"lab_recent": 5})
        assert not v.leak, (n, v.reason)
        reasons[n] = v.reason
    # Two censuses saw the window fill: the live heap grew with RSS, yet each owner stops at its bound.
    assert "owners that stop at a bound" in reasons[12] and "lab_recent" in reasons[12] and "free memory" in reasons[12]


def test_an_unbounded_place_is_a_leak_though_the_free_memory_grows_beside_it():
    settled, series, free, heap = _window_then_retention(18, maxlen=100)
    v = judge(settled, series=series, free=free, heap=heap)  # no bound read: a list that only grows
    assert v.leak and "lab_recent" in v.cause


def test_a_bounded_window_does_not_explain_growth_that_goes_on_after_it_filled():
    settled, series, _free, heap = _window_then_retention(18)
    flat_free = [(float(x), 14 * MB) for x in range(1, 19)]
    heap = [(x, b + max(0, x - 8) * 2 * MB) for x, b in heap]  # live objects go on growing
    v = judge(settled, series=series, free=flat_free, heap=heap, bounded_keys={"lab_recent": 5})
    assert v.leak


def test_a_place_found_by_following_a_sample_does_not_stand_against_the_bounds_that_explain_the_growth():
    """A bounded cache (8 entries of 2 MiB) on Streamlit 1.40 in a real browser: its pickled bytes grow
    as type ``bytes``, a sample of them was followed to a module's internal cache, and the allocator's
    free memory climbs after the cache is full. The followed place is where some of the bytes are,
    not a series that grows: the cache's bound and the free memory explain the growth."""
    from st_memwatch.core.models import Holder

    settled = [300 * MB] * 3 + [300 * MB + i * 2 * MB for i in range(1, 18)]
    n = len(settled)
    cache = tuple((float(x), min(max(0, x - 3), 8), min(max(0, x - 3), 8) * 2 * MB) for x in range(1, n + 1))
    # Censuses every third run see the bytes grow while the cache fills, then stop.
    kind_bytes = tuple((float(x), 100 + min(x, 11), 40 * MB + min(max(0, x - 3), 8) * 2 * MB) for x in range(3, n + 1, 3))
    free = [(float(x), 14 * MB + max(0, x - 11) * 2 * MB) for x in range(1, n + 1)]
    series = {("cache", "report", ""): cache, ("type", "bytes", ""): kind_bytes}
    caches = {"report": CacheUsage("report", "data", 8, 16 * MB, "pickled", max_entries=8)}
    chains = {"bytes": Holder("registry", "library registry _struct", 0.0, 0.0, "", "Bound it.", "Bound it")}
    v = judge(settled, series=series, caches=caches, free=free, chains=chains)
    assert not v.leak, v.reason
    unbounded = {"report": CacheUsage("report", "data", 8, 16 * MB, "pickled")}
    assert judge(settled, series=series, caches=unbounded, free=free, chains=chains).leak


def test_one_jump_of_free_memory_early_in_a_regime_explains_nothing():
    """An lru_cache that keeps 2 MiB a run (Streamlit 1.40 in a real browser): the first runs' freed
    temporaries sit in the allocator's free memory at the run's end, a jump of 8 MiB, then it stays
    flat. That jump is no trend: the leak is raised at the regime's usual time."""
    settled = [300 * MB] * 3 + [300 * MB + i * 2 * MB for i in range(1, 8)]
    free = [(float(x), 14 * MB + (8 * MB if x >= 4 else 0)) for x in range(1, len(settled) + 1)]
    for n in range(6, len(settled) + 1):
        v = judge(settled[:n], free=free[:n], heap=[(3.0, 80 * MB), (float(n), 80 * MB + (n - 3) * 2 * MB)])
        assert v.leak, (n, v.reason)

"""Trend, suspects and warnings on scripted series (no Streamlit, no clock)."""

from __future__ import annotations

import pytest

from st_memwatch.core import analysis
from st_memwatch.core.models import CacheUsage, RunRecord

MB = 1024 * 1024


def runs_from(series, dt=1.0):
    return [
        RunRecord(i + 1, "s", "full", "success", i * dt, 0.1, series[i - 1] if i else series[0], v, v, "hwm", False, "hooks")
        for i, v in enumerate(series)
    ]


def test_theil_sen_ignores_an_outlier():
    ys = [10, 20, 30, 1000, 50, 60, 70]
    assert analysis.theil_sen(range(7), ys) == pytest.approx(10)


def test_trend_runs_and_time_to_limit():
    rss = [100 * MB + i * MB for i in range(20)]
    trend = analysis.compute_trend(runs_from(rss, dt=4.0), limit_bytes=200 * MB, current=rss[-1])
    assert trend.bytes_per_run == pytest.approx(MB)
    assert trend.bytes_per_second == pytest.approx(MB / 4)
    assert trend.runs_to_limit == pytest.approx(81)
    assert trend.seconds_to_limit == pytest.approx(324)


def test_flat_series_has_no_time_to_limit_and_no_leak():
    rss = [100 * MB + (i % 3) * 1000 for i in range(20)]
    runs = runs_from(rss)
    trend = analysis.compute_trend(runs, 200 * MB, rss[-1])
    assert trend.runs_to_limit is None or trend.runs_to_limit > 1000
    assert analysis.rss_grows_steadily(runs)[0] is False


def test_one_big_step_is_not_steady_growth():
    rss = [100 * MB] * 5 + [400 * MB] * 15  # a model loaded once
    assert analysis.rss_grows_steadily(runs_from(rss))[0] is False


def test_steady_growth_is_a_leak_and_warns():
    rss = [100 * MB + i * 2 * MB for i in range(12)]
    runs = runs_from(rss)
    leak = analysis.rss_grows_steadily(runs)
    assert leak[0] and leak[1] == pytest.approx(2 * MB)
    warnings = analysis.build_warnings(rss[-1], 10_000 * MB, analysis.compute_trend(runs, 10_000 * MB, rss[-1]), leak, (), ())
    assert [w.code for w in warnings] == ["steady-growth"]


def test_usage_bands_and_limit_soon():
    runs = runs_from([800 * MB + i * 10 * MB for i in range(10)])
    trend = analysis.compute_trend(runs, 1000 * MB, 890 * MB)
    codes = [w.code for w in analysis.build_warnings(890 * MB, 1000 * MB, trend, (False, 0, 0), (), ())]
    assert codes == ["high-usage", "limit-soon"]
    codes = [w.code for w in analysis.build_warnings(950 * MB, 1000 * MB, None, (False, 0, 0), (), ())]
    assert codes == ["near-limit"]
    assert analysis.build_warnings(100 * MB, 1000 * MB, None, (False, 0, 0), (), ()) == ()


def test_suspects_rank_steady_growth_and_skip_bounded_fill():
    series = {
        ("cache", "load_rows"): [(i, min(i, 5), min(i, 5) * MB) for i in range(1, 31)],  # fills to max_entries=5
        ("type", "numpy.ndarray"): [(i, i, i * MB) for i in range(1, 31)],
        ("session_state", "history"): [(i, 1, i * 200_000) for i in range(1, 31)],
        ("type", "dict"): [(i, 100 + (i % 2), 5000) for i in range(1, 31)],
    }
    caches = {"load_rows": CacheUsage("load_rows", "data", 5, 5 * MB, "pickled", max_entries=5)}
    suspects = analysis.find_suspects(series, caches)
    names = [s.name for s in suspects]
    assert names[0] == "numpy.ndarray"
    assert names[1] == "history"
    leaking = [s.name for s in suspects if analysis.is_leaking(s)]
    assert "load_rows" not in leaking and "dict" not in leaking
    assert "Parquet" in suspects[0].advice
    assert "session_state" in suspects[1].advice


def test_unbounded_growing_cache_warns_with_the_fix():
    cache = CacheUsage("fetch", "data", 30, 30 * MB, "pickled", growing=True)
    ws = analysis.build_warnings(10 * MB, 1000 * MB, None, (False, 0, 0), (), [cache])
    assert ws[0].code == "unbounded-cache:fetch"
    assert "max_entries" in ws[0].fix and "ttl" in ws[0].fix


def test_time_to_limit_needs_a_minute_of_history():
    rss = [100 * MB + i * MB for i in range(20)]
    trend = analysis.compute_trend(runs_from(rss, dt=0.05), limit_bytes=200 * MB, current=rss[-1])
    assert trend.runs_to_limit == pytest.approx(81)
    assert trend.seconds_to_limit is None


def test_growth_that_stops_is_not_sustained():
    # a session window of maxlen=20 filling with 0.5 MB frames, then flat
    window = [(i, 1, min(i, 20) * 500_000) for i in range(1, 31)]
    leak = [(i, 1, i * 500_000) for i in range(1, 31)]
    th = analysis.Thresholds(warmup=2, window=30)
    suspects = {s.name: s for s in analysis.find_suspects({("session_state", "recent"): window, ("session_state", "history"): leak}, th=th)}
    assert analysis.is_leaking(suspects["history"], th)
    assert suspects["history"].growth_bytes_per_run == pytest.approx(500_000)
    assert "recent" not in suspects or not analysis.is_leaking(suspects["recent"], th)
    g = analysis.growth_after_warmup([p[0] for p in window], [p[2] for p in window], th)
    assert g.slope > 0 and g.recent_slope == 0 and g.sustained_slope == 0


def test_bounded_cache_at_max_entries_with_jittery_bytes_is_not_a_leak():
    # entries stay at max_entries=5; pickled sizes jitter up and down around 2.4 MB
    pts = [(i, min(i, 5), min(i, 5) * 480_000 + (i % 3) * 40_000) for i in range(1, 31)]
    th = analysis.Thresholds(warmup=6, window=30)
    suspects = analysis.find_suspects({("cache", "load"): pts}, th=th)
    assert not any(analysis.is_leaking(s, th) for s in suspects)


def test_own_types_are_never_suspects():
    grow = [(i, i, i * MB) for i in range(1, 31)]
    suspects = analysis.find_suspects({("type", "st_memwatch.core.models.RunRecord"): grow, ("type", "bytes"): grow})
    assert [s.name for s in suspects] == ["bytes"]


def test_a_holder_is_charged_with_what_its_instances_keep_alive():
    series = {
        ("type", "str"): [(i, 2000 * i, 650_000 * i) for i in range(1, 31)],
        ("type", "collections.deque"): [(i, i, 17_000 * i) for i in range(1, 31)],
        ("type", "tuple"): [(i, 40 * i, 120_000 * i) for i in range(1, 31)],
        ("type", "app.UILogHandler"): [(i, i, 56 * i) for i in range(1, 31)],
    }
    plain = [s.name for s in analysis.find_suspects(series)]
    assert plain.index("app.UILogHandler") == 3  # by its own bytes it ranks last
    suspects = analysis.find_suspects(series, held={"app.UILogHandler": 670_000})
    assert suspects[0].name == "app.UILogHandler"
    assert suspects[0].growth_bytes_per_run == pytest.approx(670_000)
    assert "handler" in suspects[0].advice and "once" in suspects[0].advice
    model = analysis.find_suspects({("type", "m.TinyModel"): [(i, i, 56 * i) for i in range(1, 31)]}, held={"m.TinyModel": 1.5 * MB})
    assert "cache_resource" in model[0].advice


def test_near_ties_go_to_the_cache_or_session_key_that_holds_the_bytes():
    series = {
        ("type", "bytes"): [(i, i, 480_000 * i) for i in range(1, 31)],
        ("cache", "load_snapshot"): [(i, i, 470_000 * i) for i in range(1, 31)],
        ("type", "numpy.ndarray"): [(i, i, 300_000 * i) for i in range(1, 31)],
    }
    assert [s.name for s in analysis.find_suspects(series)] == ["load_snapshot", "bytes", "numpy.ndarray"]
    # a cache well below the top is not lifted
    series[("cache", "load_snapshot")] = [(i, i, 100_000 * i) for i in range(1, 31)]
    assert [s.name for s in analysis.find_suspects(series)][0] == "bytes"


class _Holder:
    def __init__(self, shared: list[bytes]) -> None:
        self.buf = bytes(100_000)
        self.shared = shared


def test_measure_holders_charges_what_one_more_instance_adds():
    from st_memwatch.check import check_thresholds, measure_holders
    from st_memwatch.core.census import type_name

    shared = [bytes(1_000_000)]
    keep = [_Holder(shared) for _ in range(20)]
    name = type_name(_Holder)
    series = {("type", name): [(i, i, 56 * i) for i in range(1, 21)], ("type", "dict"): [(i, i, 300 * i) for i in range(1, 21)]}
    held = measure_holders(series, check_thresholds(20))
    assert set(held) == {name}  # builtin containers are not measured
    assert 100_000 <= held[name] < 150_000  # the shared 1 MB is not charged to every instance
    assert len(keep) == 20


def test_the_steady_growth_warning_quotes_the_trend_line_figure():
    from st_memwatch.core.models import Trend

    trend = Trend(n_runs=30, bytes_per_run=8 * 2**20, bytes_per_second=0.0, runs_to_limit=500.0, seconds_to_limit=None)
    warnings = analysis.build_warnings(100 * 2**20, 10 * 2**30, trend, (True, 2 * 2**20, 0.9), (), ())
    steady = next(w for w in warnings if w.code == "steady-growth")
    assert steady.message.startswith("Memory grows steadily: +8.0 MiB per run"), steady.message


def test_a_type_growing_with_an_unbounded_cache_is_sent_to_the_cache_fix():
    mb = 2**20
    series = {
        ("cache", "load"): tuple((float(x), x, x * mb) for x in range(1, 31)),
        ("type", "bytes"): tuple((float(x), 10 + x, 5000 + x * mb) for x in range(1, 31)),
        ("type", "numpy.ndarray"): tuple((float(x), 3, 4 * mb + x * 300 * 1024) for x in range(1, 31)),
    }
    caches = {"load": CacheUsage("load", "data", 30, 30 * mb, "pickled")}
    suspects = {s.name: s for s in analysis.find_suspects(series, caches)}
    assert suspects["load"].kind == "cache" and "max_entries" in suspects["load"].advice
    assert suspects["bytes"].advice.startswith("Most likely the contents of cache load"), suspects["bytes"].advice
    assert not suspects["numpy.ndarray"].advice.startswith("Most likely"), "a different rate is not the cache's content"


def test_python_objects_growing_while_rss_is_flat_still_warn_as_steady_growth():
    from st_memwatch.core.models import Suspect

    mb = 2**20
    arrays = Suspect("type", "numpy.ndarray", 8 * mb, 1.0, 1.0, 80 * mb, 10, "Load it once with @st.cache_resource.")
    lists = Suspect("type", "list", 96.0, 1.0, 1.0, 960, 10, "Register it once.")
    small = Suspect("type", "dict", 1024.0, 1.0, 1.0, 10_240, 10, "Nothing to do.")  # steady but under the bar
    flat_rss = (False, 0.0, 0.2)  # the allocator refills freed pages, so RSS has not moved yet
    warnings = analysis.build_warnings(100 * mb, 10_000 * mb, None, flat_rss, (arrays, lists, small), ())
    steady = next(w for w in warnings if w.code == "steady-growth")
    assert steady.message.startswith("Python objects grow steadily: +8.0 MiB per run"), steady.message
    assert "numpy.ndarray" in steady.cause and steady.fix == arrays.advice
    # Nothing that grows steadily enough: no warning from the heap alone.
    assert analysis.build_warnings(100 * mb, 10_000 * mb, None, flat_rss, (small,), ()) == ()


def test_two_censuses_name_the_cause_of_steady_growth_until_the_suspects_can():
    from st_memwatch.core.models import TypeGrowth

    mb = 2**20
    growth = (
        TypeGrowth("st_memwatch.core.runstore.RunStore", 1, 0, 10 * mb, 9 * mb),  # our own: never the cause
        TypeGrowth("numpy.ndarray", 40, 4, 320 * mb, 32 * mb),
        TypeGrowth("dict", 900, 3, 90_000, 300),
    )
    hint = analysis.growth_hint(growth, runs_between=4)
    assert hint is not None and hint.name == "numpy.ndarray" and hint.growth_bytes_per_run == 8 * mb
    assert hint.steady == 0.0 and not analysis.is_leaking(hint)  # a pointer, never a verdict
    assert analysis.growth_hint(growth, runs_between=0) is None
    assert analysis.growth_hint(growth[2:], runs_between=4) is None  # 75 B/run is no cause

    steady = (True, 8 * mb, 1.0)
    (w,) = analysis.build_warnings(200 * mb, 10_000 * mb, None, steady, (), (), hint=hint)
    assert w.cause == "type numpy.ndarray, +8.0 MiB/run between the last two censuses"
    assert w.action.startswith("Create numpy.ndarray objects once with @st.cache_resource")
    # Without steady growth, one census's jump may be a one-off load: no cause is named from it.
    (high,) = analysis.build_warnings(800 * mb, 1000 * mb, None, (False, 0.0, 0.0), (), (), hint=hint)
    assert high.code == "high-usage" and high.cause == ""


def test_a_leak_that_restarts_after_a_clear_gets_its_own_rate_within_a_few_runs():
    leak = [100 * MB + i * 8 * MB for i in range(14)]  # 14 leaky runs
    cleared = [100 * MB] * 4  # "Free the leaked arrays", then 4 cached runs
    again = [100 * MB + (i + 1) * 8 * MB for i in range(5)]  # the leak again
    runs = runs_from(leak + cleared + again)
    trend = analysis.compute_trend(runs, 10_000 * MB, again[-1])
    assert trend is not None and trend.n_runs == 9  # fitted since the drop, not across it
    assert trend.bytes_per_run > 5 * MB, trend
    assert analysis.rss_grows_steadily(runs)[0] is True
    # Across the drop, the old fit said ~1 MiB/run and no leak: the window mixed both.
    whole = analysis.theil_sen(range(23), leak + cleared + again)
    assert whole < 2 * MB


def test_growth_that_stopped_four_runs_ago_is_no_longer_a_leak():
    leak = [100 * MB + i * 8 * MB for i in range(14)]
    flat = [leak[-1] + k * 4096 for k in range(1, 5)]  # the fix is in: +4 KiB per run
    assert analysis.rss_grows_steadily(runs_from(leak + flat[:3]))[0] is True  # three flat runs may be a pause
    assert analysis.rss_grows_steadily(runs_from(leak + flat))[0] is False


def test_small_drops_do_not_reset_the_segment():
    # 3 MiB/run with the allocator handing back 8 MiB every fifth run: one leak, one segment.
    rss, level = [], 200 * MB
    for i in range(25):
        level += -8 * MB if i % 5 == 4 else 3 * MB
        rss.append(level)
    trend = analysis.compute_trend(runs_from(rss), 10_000 * MB, rss[-1])
    assert trend is not None and trend.n_runs == 23  # all but the two warm-up runs

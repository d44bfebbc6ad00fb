"""Fits, suspects and advice on scripted series (no Streamlit, no clock); the verdict is in test_judgement."""

from __future__ import annotations

import pytest

from st_memwatch.core import analysis
from st_memwatch.core.models import CacheUsage

MB = 1024 * 1024


def test_theil_sen_ignores_an_outlier():
    ys = [10, 20, 30, 1000, 50, 60, 70]
    assert analysis.theil_sen(range(7), ys) == pytest.approx(10)


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
    series = {("type", name, ""): [(i, i, 56 * i) for i in range(1, 21)], ("type", "dict", ""): [(i, i, 300 * i) for i in range(1, 21)]}
    held = measure_holders(series, check_thresholds(20))
    assert set(held) == {name}  # builtin containers are not measured
    assert 100_000 <= held[name] < 150_000  # the shared 1 MB is not charged to every instance
    assert len(keep) == 20


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



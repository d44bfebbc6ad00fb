"""Where the Monitor does its work: nothing slow on the script thread, all of it on the sampler's.

The sampler's ticks are driven by hand with a fake clock (``builders.tick``): a monitor
built with a sampler whose period is an hour believes a sampler runs (so run ends leave
their work to it), and no tick comes but the test's own.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from builders import FakeClock, FakeMark, NoMark, tick

from st_memwatch.core import owners, probes
from st_memwatch.core.background import ANALYSIS_MAX_WAIT_S, CENSUS_MAX_WAIT_S, REFIT_EVERY_S
from st_memwatch.core.models import CacheUsage
from st_memwatch.core.monitor import ALLOCATOR_EVERY_S, Monitor, Settings
from st_memwatch.core.series import NameSeries

HOUR = 3600.0


def _ticked_by_hand(clock: FakeClock, **settings) -> Monitor:
    """A monitor whose sampler thread is started but never ticks on its own (its period is an hour)."""
    return Monitor(Settings(sample_interval_s=HOUR, **settings), clock=clock, mark=FakeMark())


def _watched(monitor: Monitor) -> dict[str, list[str]]:
    """Record which thread runs the census, the cache read and the analysis."""
    seen: dict[str, list[str]] = {"census": [], "caches": [], "analyse": []}
    for name, attr in (("census", "_run_census"), ("caches", "_read_caches"), ("analyse", "_analyse")):
        original = getattr(monitor, attr)

        def wrapped(*args, _original=original, _name=name, **kwargs):
            seen[_name].append(threading.current_thread().name)
            return _original(*args, **kwargs)

        setattr(monitor, attr, wrapped)
    monitor.cache_reader = lambda budget: ([CacheUsage("load", "data", 1, 10, "pickled")], [])
    return seen


def test_the_sampler_thread_does_the_work_a_run_end_leaves():
    # The real thread, once: the other tests tick by hand. Waited for by an event, not a sleep.
    monitor = Monitor(Settings(sample_interval_s=0.02, throttle_min_interval_s=0.0, census_budget_s=30.0), mark=FakeMark())
    try:
        seen = _watched(monitor)
        analysed = threading.Event()
        analyse = monitor._analyse

        def analyse_and_tell(*args, **kwargs):
            analyse(*args, **kwargs)
            analysed.set()

        monitor._analyse = analyse_and_tell
        monitor.run_started("k", "s", "full")
        monitor.run_finished("k", "success")
        assert analysed.wait(60), "the sampler thread never did the owed work"
        # All of it on the sampler thread, none on the script's (whenever the thread got to it).
        assert set(seen["census"] + seen["caches"] + seen["analyse"]) == {"st_memwatch-sampler"}
        assert monitor.last_census is not None
        assert monitor.python_heap == sum(s.bytes for s in monitor.last_census.stats) > 1_000_000
    finally:
        monitor.close()


def test_run_end_leaves_census_sizes_and_analysis_to_the_next_tick():
    clock = FakeClock()
    monitor = _ticked_by_hand(clock, throttle_min_interval_s=0.0, census_budget_s=30.0)
    try:
        seen = _watched(monitor)
        monitor.run_started("k", "s", "full")
        clock.advance(0.5)
        monitor.run_finished("k", "success")
        assert seen == {"census": [], "caches": [], "analyse": []}, "nothing slow on the script thread"
        assert monitor.runs[-1].duration_s == 0.5
        tick(monitor, clock, 0.1)
        assert (len(seen["census"]), len(seen["caches"]), len(seen["analyse"])) == (1, 1, 1)
        assert monitor.last_census is not None
        assert monitor.python_heap == sum(s.bytes for s in monitor.last_census.stats) > 1_000_000
        assert monitor.caches[0].function == "load"
        tick(monitor, clock, 0.1)
        assert len(seen["analyse"]) == 1, "a tick with nothing owed does nothing"
    finally:
        monitor.close()


def test_a_busy_app_still_gets_its_analysis_while_another_run_is_active():
    clock = FakeClock()
    monitor = _ticked_by_hand(clock, throttle_min_interval_s=0.0)
    try:
        seen = _watched(monitor)
        monitor.run_started("other", "s2", "full")  # stays active until the end
        monitor.run_started("k", "s", "full")
        monitor.run_finished("k", "success")
        for _ in range(9):
            tick(monitor, clock, ANALYSIS_MAX_WAIT_S / 10)
        assert seen["census"] == [] and seen["analyse"] == [], "waits for a moment with no run active"
        tick(monitor, clock, ANALYSIS_MAX_WAIT_S / 10)
        assert len(seen["analyse"]) == 1, "but not for ever (ANALYSIS_MAX_WAIT_S)"
        assert seen["census"] == [] and seen["caches"] == [], "the census and sizes still wait for an idle moment"
        monitor.run_started("k2", "s", "full")
        monitor.run_finished("k2", "success")
        tick(monitor, clock, CENSUS_MAX_WAIT_S)
        assert len(seen["analyse"]) == 2 and len(seen["caches"]) == 1, "sizes wait CENSUS_MAX_WAIT_S at most"
        assert monitor.last_census is None and "interrupted by a script run" in monitor.census_note
        monitor.run_finished("other", "success")
        # The interrupted census charged its throttle (its CPU time / duty): an idle tick well after that takes it.
        tick(monitor, clock, 600.0)
        assert len(seen["analyse"]) == 3 and monitor.last_census is not None, "an idle tick takes the census"
    finally:
        monitor.close()


def test_flush_does_the_owed_work_at_once():
    clock = FakeClock()
    monitor = _ticked_by_hand(clock, throttle_min_interval_s=0.0)
    try:
        seen = _watched(monitor)
        monitor.run_started("k", "s", "full")
        monitor.run_finished("k", "success")
        monitor.flush()
        assert seen["analyse"] == [threading.current_thread().name]
        assert seen["census"] == [threading.current_thread().name]
        monitor.flush()
        tick(monitor, clock, 0.1)
        assert len(seen["analyse"]) == 1, "nothing owed twice"
    finally:
        monitor.close()


def test_without_a_sampler_everything_happens_at_the_run_end_in_order():
    monitor = Monitor(Settings(census_every_run=True), mark=FakeMark(), start_sampler=False)
    seen = _watched(monitor)
    for i in range(3):
        monitor.run_started(i, "s", "full")
        monitor.run_finished(i, "success")
    assert len(seen["census"]) == len(seen["caches"]) == len(seen["analyse"]) == 3
    assert monitor.caches[0].function == "load"


def test_series_ring_keeps_the_last_window_in_order():
    series = NameSeries(window=4)
    for i in range(1, 11):
        series.add("type", "list", i, i * 10, i * 100)
    points = series.points("type", "list")
    assert points == [(7.0, 70, 700), (8.0, 80, 800), (9.0, 90, 900), (10.0, 100, 1000)]
    series.add("type", "dict", 1, 1, 1)
    assert series.all_points()[("type", "dict", "")] == ((1.0, 1, 1),)
    series.prune("type", {"dict"})
    assert series.points("type", "list") == [] and series.nbytes() == 4 * 3 * np.dtype(np.int64).itemsize


def test_own_types_are_not_series_of_the_app():
    monitor = Monitor(Settings(census_every_run=True), mark=FakeMark(), start_sampler=False)
    monitor.run_started(1, "s", "full")
    monitor.run_finished(1, "success")
    names = {name for kind, name, _ in monitor._series.data if kind == "type"}
    assert names and not any(n.startswith("st_memwatch.") for n in names)
    assert "dict" in names


def test_the_sampler_hurries_only_while_it_alone_finds_a_run_peak():
    fallback = Monitor(Settings(), mark=NoMark(), start_sampler=False)
    assert not fallback._peaks_need_samples()
    fallback.run_started("k", "s", "full")
    assert fallback._peaks_need_samples(), "a run is active and no kernel mark: sample faster"
    fallback.run_finished("k", "success")
    assert not fallback._peaks_need_samples()
    exact = Monitor(Settings(), mark=FakeMark(), start_sampler=False)
    exact.run_started("k", "s", "full")
    assert not exact._peaks_need_samples(), "the kernel's mark is exact: no need"


def test_a_census_whose_listing_pause_exceeds_the_limit_is_spaced_out_with_a_note():
    clock = FakeClock()
    monitor = Monitor(Settings(census_pause_s=1e-9), clock=clock, mark=FakeMark(), start_sampler=False)
    assert monitor._run_census(1.0, background=True), "the first census learns the heap's size"
    clock.advance(30.0)
    assert not monitor._run_census(2.0, background=True)
    assert monitor.census_note.startswith("census spaced out: listing ~") and "limit 0 ms" in monitor.census_note
    clock.advance(31.0)
    assert monitor._run_census(3.0, background=True), "a minute later it runs again, and re-measures"
    assert "spaced out to one a minute" in monitor.census_note


def test_a_background_census_gives_way_to_a_script_run():
    monitor = Monitor(Settings(), mark=FakeMark(), start_sampler=False)
    monitor.run_started("k", "s", "full")
    assert not monitor._run_census(1.0, background=True)
    assert monitor.last_census is None and "interrupted by a script run" in monitor.census_note
    monitor.run_finished("k", "success")
    assert monitor._run_census(2.0, background=True) and monitor.last_census is not None


def test_snapshot_times_can_be_turned_into_unix_time():
    monitor = Monitor(Settings(), mark=FakeMark(), start_sampler=False)
    monitor.run_started("k", "s", "full")
    monitor.run_finished("k", "success")
    d = monitor.snapshot().to_dict()
    started = d["runs"][-1]["started_at"] + d["unix_offset_s"]
    assert abs(started - time.time()) < 60, "a run that just ended started within the last minute, in Unix time"


def test_census_growth_compares_like_with_like_and_counts_the_runs_between():
    from st_memwatch.core.models import CensusResult, TypeStat

    monitor = Monitor(Settings(), mark=FakeMark(), start_sampler=False)

    def result(ndarray_bytes: int, complete: bool) -> CensusResult:
        return CensusResult(0.0, 0.01, 10, (TypeStat("numpy.ndarray", 4, ndarray_bytes),), complete)

    monitor._record_census(result(100, True), 1.0)
    monitor._record_census(result(400, True), 4.0)
    assert [g.type_name for g in monitor.growth] == ["numpy.ndarray"] and monitor.growth_runs == 3.0
    # A partial (tracked-only) census after a full one would read every array as gone or new.
    monitor._record_census(result(0, False), 5.0)
    assert monitor.growth == () and monitor.growth_runs == 0.0
    monitor._record_census(result(0, False), 7.0)
    assert monitor.growth == () and monitor.growth_runs == 2.0  # compared, nothing grew


def test_sizes_read_during_a_run_are_filed_at_that_run_not_the_last_finished_one():
    # A lesson's readout reads session_state after the run appended to it: that reading
    # is the running run's, so the end-of-run reading must not look like a flat step.
    from st_memwatch.core.models import SessionUsage

    state: list[int] = []
    monitor = Monitor(Settings(throttle_min_interval_s=0.0), mark=FakeMark(), start_sampler=False)
    monitor.cache_reader = lambda budget: ([], [])
    monitor.session_reader = lambda session, budget: SessionUsage(session, 1, sum(state), 1, (("results", sum(state)),))
    for _ in range(4):
        monitor.run_started("k", "s1", "full")
        state.append(2**20)
        monitor.refresh_sizes("s1")  # mid-run, after this run's append
        monitor.run_finished("k", "success")
        monitor.refresh_sizes("s1")
    sizes = [b for _, _, b in monitor._series.points("session_state", "results", "s1")]
    assert sizes == [2**20, 2 * 2**20, 3 * 2**20, 4 * 2**20], sizes


def test_a_cache_sized_in_ever_longer_budgets_does_not_look_like_growth():
    # A big cache_resource measured within a budget reads a little more each time (a lower
    # bound); the verdict must not see that as a cache that grows.
    readings = iter([(1, 6, False), (1, 9, False), (1, 15, False), (1, 26, False), (1, 46, True), (2, 92, False)])

    def reader(budget):
        entries, mib, exact = next(readings)
        return [CacheUsage("catalogue", "resource", entries, mib * 2**20, "deep-size", exact)], []

    monitor = Monitor(Settings(throttle_min_interval_s=0.0), mark=FakeMark(), start_sampler=False)
    monitor.cache_reader = reader
    for x in range(1, 7):
        monitor._read_caches(float(x))
    points = monitor._series.points("cache", "catalogue")
    assert [(x, c, b // 2**20) for x, c, b in points] == [(5.0, 1, 46), (6.0, 2, 92)], points


def test_a_container_that_collects_the_type_names_the_growth_though_few_of_the_sample_are_its():
    from st_memwatch.core.holders import Holder
    from st_memwatch.core.monitor import _names_the_growth

    registry = Holder("global", "lab.modellib._registry", ("module lab.modellib", "._registry (list)", "numpy.ndarray x13"), 2, 8, "_registry", 13)
    this_run = Holder("global", "app.current", ("module app", ".current (list)", "numpy.ndarray x2"), 2, 8, "current", 2)
    most = Holder("global", "app.kept", ("module app", ".kept (list)", "numpy.ndarray x3"), 3, 8, "kept", 3)
    assert _names_the_growth(registry, ())
    assert not _names_the_growth(this_run, ())
    assert _names_the_growth(most, ())
    assert not _names_the_growth(Holder("global", "app.one", ("module app", "numpy.ndarray x40"), 1, 8, "one", 40), ())



def test_a_later_look_that_names_nothing_keeps_the_holder_an_earlier_one_found():
    """A sample of the newest objects can miss the place: the leak keeps its named holder; another place replaces it."""
    from st_memwatch.core.holders import Holder as Found

    search = Monitor(Settings(), rss=lambda: 100 * 2**20, start_sampler=False).search
    logger = Found("logging", "app.log", ("logger app.log", ".handlers (list)", "app.Handler x9"), 8, 8, "handlers", 9)
    search._file_chains([("app.Handler", logger)], 1.0)
    assert search.chains["app.Handler"].kind == "handlers"
    search._file_chains([], 2.0)  # a look that named nothing
    assert search.chains["app.Handler"].kind == "handlers"
    moved = Found("global", "app.kept", ("module app", ".kept (list)", "app.Handler x9"), 8, 8, "kept", 9)
    search._file_chains([("app.Handler", moved)], 3.0)
    assert search.chains["app.Handler"].kind == "global" and "app.kept" in search.chains["app.Handler"].name


def test_a_windowed_timeline_spreads_its_points_over_the_window_of_a_long_history():
    clock = FakeClock()
    monitor = Monitor(Settings(), clock=clock, mark=FakeMark(), start_sampler=False)
    for _ in range(3 * 3600):  # three hours of one reading a second
        monitor.history.add(clock.advance(1.0), 100 << 20)
    whole = monitor.snapshot(timeline_points=150).samples
    recent = monitor.snapshot(timeline_points=150, timeline_window_s=300.0).samples
    assert sum(s.t >= clock.now - 300 for s in whole) < 20  # spread over three hours: few in the last five minutes
    assert len(recent) >= 75 and all(s.t >= clock.now - 300 for s in recent)


def test_the_ledgers_history_is_in_a_snapshot_only_when_asked_for():
    clock = FakeClock()
    monitor = Monitor(Settings(), clock=clock, mark=FakeMark(), start_sampler=False)
    for i in range(5):
        monitor.run_started(("k", i), "s", "full")
        clock.advance(1.0)
        monitor.run_finished(("k", i), "success")
    monitor._read_ledger()
    detailed = monitor.snapshot(timeline_points=150)
    light = monitor.snapshot(timeline_points=150, ledger_history=False)
    assert detailed.ledger is not None and light.ledger is not None
    assert detailed.ledger["series"] and light.ledger["series"] == {} and light.ledger["per_run"] == {}


def test_runs_that_end_back_to_back_share_a_refit_and_the_last_one_is_still_paid():
    clock = FakeClock()
    monitor = _ticked_by_hand(clock, throttle_min_interval_s=0.0)
    try:
        seen = _watched(monitor)
        for i in range(20):  # a script rerunning itself: a run ends every 0.1 s, an idle tick after each
            monitor.run_started(i, "s", "full")
            monitor.run_finished(i, "success")
            tick(monitor, clock, 0.1)
        assert 2 <= len(seen["analyse"]) <= 20 * 0.1 / REFIT_EVERY_S + 1
        tick(monitor, clock, REFIT_EVERY_S)
        assert not monitor.owed.owed, "the last run's refit is paid once the spacing allows"
    finally:
        monitor.close()


def _censuses_over(monitor: Monitor, clock: FakeClock, level: list[int], step: int, runs: int) -> int:
    """Runs one a second with settled memory moving by ``step`` each; how many censuses ran (each costs 50 ms)."""
    taken = []

    def take(every_run, cancel):
        taken.append(clock.now)
        monitor._census.throttle.done(clock.now, 0.05)
        return None

    monitor._census.take = take
    for i in range(runs):
        monitor.run_started(("k", i), "s", "full")
        level[0] += step
        monitor.run_finished(("k", i), "success")
        tick(monitor, clock, 1.0)
    return len(taken)


def test_the_census_takes_a_fifth_of_its_share_while_settled_memory_holds_still():
    clock = FakeClock()
    level = [300 << 20]
    monitor = Monitor(Settings(sample_interval_s=HOUR), clock=clock, mark=FakeMark(), rss=lambda: level[0])
    try:
        _censuses_over(monitor, clock, level, 0, 10)  # warm-up: past the first runs' verdict
        quiet = _censuses_over(monitor, clock, level, 0, 30)
        moving = _censuses_over(monitor, clock, level, 4 << 20, 30)
        assert moving >= 25 and quiet <= 10, (quiet, moving)
    finally:
        monitor.close()


@pytest.mark.skipif(probes.c_allocator()[0] is None, reason="no reading of the C allocator on this platform")
def test_the_c_allocator_is_read_at_every_click_and_about_twice_a_second_when_runs_end_back_to_back():
    clock = FakeClock()
    monitor = _ticked_by_hand(clock)
    try:
        def native_points() -> int:
            return sum(len(p) for k, p in monitor.store.series.all_points().items() if k[:2] == ("native", owners.NATIVE_NAME))

        for i in range(10):  # a person: a run a second
            monitor.run_started(("p", i), "s", "full")
            monitor.run_finished(("p", i), "success")
            clock.advance(1.0)
        assert native_points() == 10
        for i in range(20):  # back to back: a run every 0.1 s
            monitor.run_started(("b", i), "s", "full")
            clock.advance(0.1)
            monitor.run_finished(("b", i), "success")
        assert 10 + 2 <= native_points() <= 10 + 2 * 0.1 / ALLOCATOR_EVERY_S * 10 + 1
    finally:
        monitor.close()

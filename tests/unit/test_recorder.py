"""Run bookkeeping with a fake clock, scripted RSS and a fake high-water mark."""

from __future__ import annotations

from st_memwatch.core.recorder import RunRecorder


class FakeMark:
    def __init__(self, state):
        self.state = state
        self.available = True

    def read(self):
        return self.state["hwm"]

    def reset(self):
        self.state["hwm"] = self.state["rss"]


def make(state, mark=True):
    clock = lambda: state["t"]  # noqa: E731
    rss = lambda: state["rss"]  # noqa: E731
    return RunRecorder(clock, rss, FakeMark(state) if mark else None)


def test_transient_spike_freed_before_the_end_is_the_peak():
    state = {"t": 0.0, "rss": 100, "hwm": 100}
    rec = make(state)
    rec.begin("a", "s1", "full")
    state["hwm"] = 100 + 64 * 2**20  # a 64 MB temporary came and went
    state["t"] = 0.5
    run = rec.end("a", "success")
    assert run is not None
    assert run.peak == 100 + 64 * 2**20
    assert run.delta == 0 and run.duration_s == 0.5 and run.peak_source == "hwm"


def test_overlapping_runs_share_the_mark_and_are_flagged():
    state = {"t": 0.0, "rss": 100, "hwm": 100}
    rec = make(state)
    rec.begin("a", "s1", "full")
    state["hwm"] = 500  # spike while only A runs
    rec.begin("b", "s2", "fragment")  # folds 500 into A, resets to rss
    state["rss"], state["hwm"] = 150, 300
    a = rec.end("a", "exception")
    b = rec.end("b", "success")
    assert a.peak == 500 and a.overlapped and a.outcome == "exception"
    assert b.peak == 300 and b.overlapped and b.kind == "fragment"
    assert a.run_id == 1 and b.run_id == 2


def test_without_mark_sampler_readings_set_the_peak():
    state = {"t": 0.0, "rss": 100}
    rec = make(state, mark=False)
    rec.begin("a", "s1", "full")
    rec.note_sample(900)
    rec.note_sample(400)
    run = rec.end("a", "success")
    assert run.peak == 900 and run.peak_source == "sampler"


def test_end_of_unknown_run_is_none():
    state = {"t": 0.0, "rss": 100, "hwm": 100}
    assert make(state).end("nope", "success") is None


def test_real_high_water_mark_catches_a_freed_64mb_temporary():
    import numpy as np

    from st_memwatch.core import probes

    mark = probes.HighWaterMark()
    if not mark.available:  # not Linux: the sampler path is tested above
        assert mark.reason
        return
    import time

    rec = RunRecorder(time.monotonic, probes.rss, mark)
    rec.begin("a", "s", "full")
    before = probes.rss()
    tmp = np.ones(64 * 2**20 // 8)  # touched pages: 64 MiB resident
    del tmp
    run = rec.end("a", "success")
    assert run.peak - before >= 60 * 2**20
    assert run.delta < 32 * 2**20


def test_oldest_active_and_outcome_counts() -> None:
    clock = [100.0]
    rss = [1000]
    rec = RunRecorder(lambda: clock[0], lambda: rss[0], None)
    assert rec.oldest_active() is None
    rec.begin("a", "s1", "full")
    clock[0] = 101.0
    rss[0] = 1500
    rec.begin("b", "s2", "full")
    assert rec.oldest_active() == (2, 100.0, 1000)
    rec.end("a", "success")
    assert rec.oldest_active() == (1, 101.0, 1500)
    rec.end("b", "exception")
    rec.begin("c", "s1", "full")
    rec.end("c", "success")
    rec.end("c", "success")  # already ended: not counted twice
    assert rec.oldest_active() is None
    assert rec.finished_by_outcome() == {"success": 2, "exception": 1}

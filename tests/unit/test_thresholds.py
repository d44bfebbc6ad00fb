"""Thresholds live in one place, and every reader honours them: changing one changes the verdict."""

from __future__ import annotations

import itertools

from st_memwatch.core import analysis, judgement, owners
from st_memwatch.core.models import RunRecord
from st_memwatch.core.monitor import Monitor, Settings

MB = 1024 * 1024
GB = 1024 * MB


def _runs(settled: list[int]) -> list[RunRecord]:
    return [
        RunRecord(
            run_id=i + 1, session="s1", kind="full", outcome="success", started_at=float(i), duration_s=0.1,
            rss_before=settled[i - 1] if i else v, rss_after=v, peak=v, peak_source="hwm", overlapped=False,
            measured_by="hooks", session_run=i + 1,
        )
        for i, v in enumerate(settled)
    ]


SLOW_LEAK = [300 * MB + k * 400 * 1024 for k in range(20)]  # 400 KiB a run


def test_the_smallest_growing_step_is_the_thresholds():
    assert judgement.judge(_runs(SLOW_LEAK), {}, {}, 10 * GB).leak
    strict = analysis.Thresholds(min_rss_bytes_per_run=MB)
    assert not judgement.judge(_runs(SLOW_LEAK), {}, {}, 10 * GB, th=strict).leak


def test_warm_up_is_the_thresholds():
    # A leak of six steps: judged after the default warm-up of two runs, not after a warm-up of fourteen (two steps left).
    settled = [300 * MB] * 10 + [300 * MB + k * 8 * MB for k in range(1, 7)]
    assert judgement.judge(_runs(settled), {}, {}, 10 * GB).leak
    late = analysis.Thresholds(process_warmup_runs=14)
    assert not judgement.judge(_runs(settled), {}, {}, 10 * GB, th=late).leak


def test_the_boxes_colours_are_the_thresholds():
    flat = judgement.judge(_runs([300 * MB] * 10), {}, {}, 10 * GB)
    assert analysis.diagnosis(flat, 300 * MB, 400 * MB)[0].code == "high-usage"  # 75 % of the limit
    assert analysis.diagnosis(flat, 300 * MB, 400 * MB, analysis.Thresholds(amber=0.8, red=0.95)) == ()
    (near,) = analysis.diagnosis(flat, 300 * MB, 400 * MB, analysis.Thresholds(amber=0.5, red=0.7))
    assert near.code == "near-limit" and near.level == "error"


def test_a_monitors_settings_reach_its_verdict():
    """``Settings(thresholds=...)`` is what the monitor judges with, not a copy taken at import."""

    def verdict_with(th: analysis.Thresholds) -> bool:
        levels = iter(SLOW_LEAK)
        level = [next(levels)]
        clock = itertools.count(0.0, 2.0).__next__
        monitor = Monitor(Settings(thresholds=th, census_budget_s=0.01), clock=lambda: float(clock()), rss=lambda: level[0],
                          start_sampler=False)
        try:
            for k, value in enumerate(SLOW_LEAK[1:]):
                monitor.run_started(k, "s1", "full")
                level[0] = value
                monitor.run_finished(k, "success")
            return bool(monitor.verdict and monitor.verdict.leak)
        finally:
            monitor.close()

    assert verdict_with(analysis.Thresholds())
    assert not verdict_with(analysis.Thresholds(min_rss_bytes_per_run=MB))


def test_every_kind_is_declared_once_and_an_unknown_kind_is_an_error():
    for key, kind in owners.KINDS.items():
        assert kind.key == key
        assert owners.label(key, "x")
        advice, action = owners.advice(key, "x")
        assert advice and action[:1].isupper()
    try:
        owners.label("nonsense", "x")
    except ValueError as exc:
        assert "nonsense" in str(exc) and "session_state" in str(exc)
    else:
        raise AssertionError("an undeclared kind was accepted")
    assert owners.from_search("library") == "registry" and owners.from_search("unknown") is None
    assert owners.specificity("type", measured_holdings=True) == owners.specificity("type") + 1

"""Exports: built at most once per few seconds per session, bounded, with ISO 8601 UTC times."""

from __future__ import annotations

import json
import time
from datetime import datetime

from builders import FakeClock, run_record

from st_memwatch.core.models import RunRecord
from st_memwatch.ui import export
from st_memwatch.ui.export import Exporter


def _run(i: int, t: float) -> RunRecord:
    return run_record(i, started_at=t, duration_s=0.01, rss_before=100 << 20, rss_after=101 << 20, peak=102 << 20)


def counting(monitor):
    calls = []
    original = monitor.snapshot

    def snapshot(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monitor.snapshot = snapshot
    return calls


def test_repeated_requests_within_the_interval_get_the_same_build(monitor):
    clock = FakeClock()
    monitor.runs.extend(_run(i, time.monotonic()) for i in range(1, 50))
    calls = counting(monitor)
    exporter = Exporter(monitor, "s-export-1", monitor.resolve_limit(None), clock=clock)
    first = exporter.json()
    for _ in range(100):
        assert exporter.json() is first
        exporter.csv()
    assert len(calls) == 1, "100 requests in the interval built the export more than once"
    exporter.discard()  # closing the details does not reset the rate limit
    assert exporter.json() is first and len(calls) == 1
    clock.now += export.MIN_INTERVAL_S
    assert exporter.json() is not first and len(calls) == 2
    other = Exporter(monitor, "s-export-2", monitor.resolve_limit(None), clock=clock)
    other.json()
    assert len(calls) == 3, "each session has its own export"


def test_exports_are_bounded_to_the_newest_runs_and_kept_for_a_few_sessions(monitor):
    monitor.settings.max_runs = export.EXPORT_RUNS + 500
    from st_memwatch.core.runstore import RunStore

    monitor.runs = RunStore(monitor.settings.max_runs)
    monitor.runs.extend(_run(i, time.monotonic()) for i in range(1, export.EXPORT_RUNS + 501))
    clock = FakeClock()
    data = json.loads(Exporter(monitor, "s-big", monitor.resolve_limit(None), clock=clock).json())
    assert len(data["runs"]) == export.EXPORT_RUNS
    assert data["runs"][-1]["run_id"] == export.EXPORT_RUNS + 500
    for i in range(export._MAX_PREPARED + 5):
        Exporter(monitor, f"s-many-{i}", monitor.resolve_limit(None), clock=clock).prepare()
    assert len(export._prepared) <= export._MAX_PREPARED


def test_iso_times_sit_beside_the_monotonic_ones(monitor):
    now = time.monotonic()
    monitor.runs.append(_run(1, now))
    exporter = Exporter(monitor, "s-iso", monitor.resolve_limit(None), clock=FakeClock())
    data = json.loads(exporter.json())
    wall = datetime.fromisoformat(data["runs"][0]["started_at_utc"].replace("Z", "+00:00")).timestamp()
    assert abs(wall - time.time()) < 60, (data["runs"][0], time.time())
    assert data["taken_at_utc"].endswith("Z")
    header, row = exporter.csv().splitlines()[:2]
    cells = dict(zip(header.split(","), row.split(","), strict=True))
    assert cells["started_at_utc"] == data["runs"][0]["started_at_utc"]

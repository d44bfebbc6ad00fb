"""The metrics text: names, units, fixed-word labels, values from a hand-made snapshot."""

from __future__ import annotations

import math
import re

import pytest

from st_memwatch.core.models import Finding, Limit, RunRecord, Snapshot, Trend
from st_memwatch.streamlit_bridge import metrics

MiB = 1024**2
SAMPLE_RE = re.compile(r'^(st_memwatch_[a-z_]+)(\{(?:[a-z_]+="[a-z]+",?)*\})? (-?[0-9.e+]+|\+Inf|NaN)$')


def snap(**over: object) -> Snapshot:
    run = RunRecord(
        run_id=7,
        session="secret-session-id-123",
        kind="full",
        outcome="success",
        started_at=100.0,
        duration_s=2.5,
        rss_before=100 * MiB,
        rss_after=130 * MiB,
        peak=400 * MiB,
        peak_source="hwm",
        overlapped=False,
        measured_by="hooks",
    )
    base: dict[str, object] = dict(
        taken_at=110.0,
        rss=300 * MiB,
        limit=Limit(1000 * MiB, "argument"),
        container=None,
        mode="hooks",
        peak_method="hwm",
        runs=(run,),
        samples=(),
        caches=(),
        session=None,
        growth=(),
        trend=Trend(10, 8 * MiB, 0.5 * MiB, 87.5, 1400.0, 120.0),
        warnings=(Finding("warning", "growth", "Memory grows steadily"),),
        leak=True,
        python_heap=80 * MiB,
        unix_offset_s=1_700_000_000.0,
    )
    base.update(over)
    return Snapshot(**base)  # type: ignore[arg-type]


def text(s: Snapshot, live: metrics.LiveRuns | None = None) -> str:
    live = live or metrics.LiveRuns(1, 104.0, 250 * MiB, {"success": 6, "exception": 1})
    return "\n".join(metrics.family_text(f) for f in metrics.build_families(s, live))


def values(body: str) -> dict[str, float]:
    out = {}
    for line in body.splitlines():
        if line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"not an OpenMetrics sample line with fixed-word labels: {line!r}"
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3).replace("+Inf", "inf"))
    return out


def test_required_gauges_and_values() -> None:
    v = values(text(snap()))
    assert v["st_memwatch_rss_bytes"] == 300 * MiB
    assert v["st_memwatch_limit_bytes"] == 1000 * MiB
    assert v["st_memwatch_python_heap_bytes"] == 80 * MiB
    assert v['st_memwatch_runs_total{outcome="success"}'] == 6
    assert v['st_memwatch_runs_total{outcome="exception"}'] == 1
    assert v['st_memwatch_runs_total{outcome="rerun"}'] == 0
    assert v["st_memwatch_run_peak_bytes"] == 400 * MiB
    assert v["st_memwatch_last_run_delta_bytes"] == 30 * MiB
    assert v["st_memwatch_last_run_duration_seconds"] == 2.5
    assert v["st_memwatch_last_run_end_timestamp_seconds"] == 1_700_000_102.5
    assert v["st_memwatch_last_run_id"] == 7
    assert v["st_memwatch_leak"] == 1
    assert v["st_memwatch_seconds_to_limit"] == 1400.0
    assert v["st_memwatch_runs_in_progress"] == 1
    assert v["st_memwatch_run_in_progress_seconds"] == 6.0
    assert v["st_memwatch_run_in_progress_delta_bytes"] == 50 * MiB
    assert v['st_memwatch_warnings{level="warning"}'] == 1
    assert "st_memwatch_container_usage_bytes" not in v  # no container: no figure rather than a 0


def test_headers_follow_openmetrics() -> None:
    body = text(snap())
    assert "# TYPE st_memwatch_runs counter" in body
    assert "# TYPE st_memwatch_rss_bytes gauge\n# UNIT st_memwatch_rss_bytes bytes\n# HELP st_memwatch_rss_bytes " in body
    for line in body.splitlines():
        if line.startswith("# UNIT "):
            _, _, name, unit = line.split(" ")
            assert name.endswith("_" + unit), line
    names = {f.name for f in metrics.build_families(snap(), metrics.LiveRuns(0, None, None, {}))}
    assert names <= set(metrics.FAMILY_NAMES)


def test_no_app_data_in_the_text() -> None:
    body = text(snap())
    assert "secret-session-id-123" not in body
    assert "Memory grows steadily" not in body


def test_seconds_to_limit_edges() -> None:
    far = values(text(snap(trend=None, leak=False)))
    assert math.isinf(far["st_memwatch_seconds_to_limit"])
    assert far["st_memwatch_leak"] == 0
    assert far["st_memwatch_growth_bytes_per_run"] == 0
    over = values(text(snap(rss=1200 * MiB)))
    assert over["st_memwatch_seconds_to_limit"] == 0


def test_idle_and_no_runs() -> None:
    v = values(text(snap(runs=()), metrics.LiveRuns(0, None, None, {})))
    assert v["st_memwatch_runs_in_progress"] == 0
    assert v["st_memwatch_run_in_progress_seconds"] == 0
    assert "st_memwatch_run_peak_bytes" not in v
    assert "st_memwatch_last_run_id" not in v


@pytest.mark.parametrize(("raw", "on", "problem"), [("", True, False), ("off", False, False), ("OFF", False, False), ("on", True, False), ("maybe", True, True)])
def test_env_switch(monkeypatch: pytest.MonkeyPatch, raw: str, on: bool, problem: bool) -> None:
    monkeypatch.setenv(metrics.ENV_VAR, raw)
    assert metrics.metrics_enabled() is on
    assert bool(metrics.env_problem()) is problem


def test_stat_adapters_render_the_same_lines() -> None:
    families = metrics.build_families(snap(), metrics.LiveRuns(0, None, None, {"success": 2}))
    block = metrics._Block(families).to_metric_str()
    modern = [metrics._Stat(f, labels, value).to_metric_str() for f in families for labels, value in f.samples]
    assert [line for line in block.splitlines() if not line.startswith("#")] == modern

"""The metrics text: names, units, fixed-word labels, values from a hand-made snapshot."""

from __future__ import annotations

import math
import re

import pytest

from st_memwatch.core.models import Finding, Limit, RunRecord, Snapshot, Trend
from st_memwatch.streamlit_bridge import metrics

MiB = 1024**2
SAMPLE_RE = re.compile(r'^(st_memwatch_[a-z_]+)(\{(?:[a-z_]+="[a-z_]+",?)*\})? (-?[0-9.e+]+|\+Inf|NaN)$')


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


@pytest.mark.parametrize(
    ("raw", "mode", "problem"),
    [("", "gated", False), ("off", "off", False), ("OFF", "off", False), ("on", "gated", False),
     ("public", "public", False), (" Public ", "public", False), ("maybe", "gated", True)],
)  # fmt: skip
def test_env_switch(monkeypatch: pytest.MonkeyPatch, raw: str, mode: str, problem: bool) -> None:
    monkeypatch.setenv(metrics.ENV_VAR, raw)
    assert metrics.metrics_mode() == mode
    assert metrics.metrics_enabled() is (mode != "off")
    assert bool(metrics.env_problem()) is problem


def xsrf(token: bytes, mask: bytes) -> str:
    """A cookie as Tornado and newer Streamlit write it: ``2|mask|masked token|time``."""
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(token))
    return f"2|{mask.hex()}|{masked.hex()}|1700000000"


def test_one_browser_has_one_key_however_its_cookie_is_masked() -> None:
    token = bytes(range(16))
    first, again = xsrf(token, b"\x01\x02\x03\x04"), xsrf(token, b"\xaa\xbb\xcc\xdd")
    assert first != again
    assert metrics.browser_key(first) == metrics.browser_key(again) == metrics.browser_key(f'"{first}"')
    assert metrics.browser_key(xsrf(bytes(16), b"\x01\x02\x03\x04")) != metrics.browser_key(first)
    for bad in (None, "", "2|zz|00|1", "2|01|00|1", "2|01020304||1"):
        assert metrics.browser_key(bad) is None, bad
    key = metrics.browser_key(first)
    assert key is not None and token.hex() not in key and first not in key  # a hash, not the cookie


def test_a_cookie_out_of_a_cookie_header() -> None:
    header = "a=1; _streamlit_xsrf=2|01|02|3; b=x=y"
    assert metrics.cookie_value(header, "_streamlit_xsrf") == "2|01|02|3"
    assert metrics.cookie_value(header, "b") == "x=y"
    assert metrics.cookie_value(header, "c") is None and metrics.cookie_value(None, "a") is None


def answer(provider: str, cookie: str | None) -> list[str]:
    """The family names a metrics request with this cookie would get (as the handler wrappers set it)."""
    token = metrics._request_key.set(metrics.browser_key(cookie))
    try:
        if provider == "modern":
            return sorted(metrics.ModernProvider().get_stats(None))
        return [line for b in metrics.LegacyProvider().get_stats() for line in b.to_metric_str().splitlines()]
    finally:
        metrics._request_key.reset(token)


@pytest.mark.parametrize("provider", ["modern", "legacy"])
def test_only_a_browser_whose_panel_is_shown_reads_the_figures_unless_they_are_public(
    monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    monkeypatch.delenv(metrics.ENV_VAR, raising=False)
    fixed = metrics.build_families(snap(), metrics.LiveRuns(0, None, None, {}))
    monkeypatch.setattr(metrics._source, "families", lambda: fixed)
    author, visitor = xsrf(b"author-browser!!", b"1234"), xsrf(b"visitor-browser!", b"5678")
    metrics.forget_viewers()
    try:
        metrics.note_viewer("s1", author, shown=True)
        metrics.note_viewer("s2", visitor, shown=False)
        assert answer(provider, author), "the author's gauge gets its figures"
        assert answer(provider, xsrf(b"author-browser!!", b"9999")), "also after the cookie was re-masked"
        assert answer(provider, visitor) == []
        assert answer(provider, None) == [], "a scraper without a cookie gets nothing by default"
        # Two tabs of one browser: one hidden does not close the other's figures.
        metrics.note_viewer("s3", author, shown=False)
        assert answer(provider, author)
        metrics.note_viewer("s1", author, shown=False)
        assert answer(provider, author) == [], "no shown session left for that browser"
        monkeypatch.setenv(metrics.ENV_VAR, "public")
        assert answer(provider, None) and answer(provider, visitor)
        monkeypatch.setenv(metrics.ENV_VAR, "off")
        metrics.note_viewer("s1", author, shown=True)
        assert answer(provider, author) == []
    finally:
        metrics.forget_viewers()


def test_the_gauge_is_told_when_its_polls_would_not_be_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_routed", type("E", (), {"is_set": lambda self: True})())
    cookie = xsrf(b"author-browser!!", b"1234")
    monkeypatch.delenv(metrics.ENV_VAR, raising=False)
    assert metrics.live_problem(cookie) == ""
    assert "XSRF" in metrics.live_problem(None)
    monkeypatch.setenv(metrics.ENV_VAR, "public")
    assert metrics.live_problem(None) == ""
    monkeypatch.setenv(metrics.ENV_VAR, "off")
    assert "off" in metrics.live_problem(cookie)


def test_stat_adapters_render_the_same_lines() -> None:
    families = metrics.build_families(snap(), metrics.LiveRuns(0, None, None, {"success": 2}))
    block = metrics._Block(families).to_metric_str()
    modern = [metrics._Stat(f, labels, value).to_metric_str() for f in families for labels, value in f.samples]
    assert [line for line in block.splitlines() if not line.startswith("#")] == modern


def test_one_sample_per_measured_owner_with_fixed_words() -> None:
    ledger = {"owners": {"python": 120 * MiB, "native": 90 * MiB, "allocator_free": 12 * MiB, "arrow": 0,
                         "file_backed": 60 * MiB, "unexplained": 8 * MiB}, "missing": ["arrow"]}
    v = values(text(snap(ledger=ledger)))
    assert v['st_memwatch_memory_owner_bytes{owner="native"}'] == 90 * MiB
    assert v['st_memwatch_memory_owner_bytes{owner="file_backed"}'] == 60 * MiB
    assert 'st_memwatch_memory_owner_bytes{owner="arrow"}' not in v  # not measurable here: no sample rather than a 0
    assert "st_memwatch_memory_owner_bytes" not in values(text(snap()))  # before the first reading: no family

"""What the gauge receives from Python: numbers and fixed words, never a session id; its small versioned message back."""

from __future__ import annotations

import json

from st_memwatch.core.models import Limit, RunRecord, Sample, Snapshot, Trend
from st_memwatch.ui import component

MiB = 1024**2
SESSION = "0b7c5e0e-secret-session"


def snap() -> Snapshot:
    runs = tuple(
        RunRecord(i, SESSION, "full", "success", 100.0 + 10 * i, 2.0, 100 * MiB, 110 * MiB, 150 * MiB, "hwm", False, "hooks")
        for i in range(1, 41)
    )
    return Snapshot(
        taken_at=600.0,
        rss=300 * MiB,
        limit=Limit(1000 * MiB, "cgroup-v2"),
        container=None,
        mode="hooks",
        peak_method="hwm",
        runs=runs,
        samples=(Sample(100.0, 90 * MiB), Sample(400.0, 200 * MiB), Sample(599.0, 300 * MiB)),
        caches=(),
        session=None,
        growth=(),
        trend=Trend(10, 1 * MiB, 0.1 * MiB, 700.0, 7000.0, 100.0),
        warnings=(),
        notes=("census spaced out",),
        unix_offset_s=1_700_000_000.0,
    )


def test_payload_is_numbers_and_fixed_words() -> None:
    data = component.payload(snap(), selected=None, live=True)
    text = json.dumps(data)
    assert SESSION not in text
    assert data["v"] == component.MESSAGE_VERSION
    assert data["metrics_url"] == "/_stcore/metrics"
    assert all(f.startswith("st_memwatch_") for f in data["families"])
    assert len(data["runs"]) == component.GAUGE_RUNS  # the latest runs only
    assert data["runs"][-1] == {"id": 40, "start": 1_700_000_500.0, "duration": 2.0, "delta": 10 * MiB, "peak": 150 * MiB, "outcome": "success"}
    # Only the last minutes of history go to the sparkline, in Unix time.
    assert data["samples"] == [[1_700_000_400.0, 200 * MiB], [1_700_000_599.0, 300 * MiB]]
    assert data["server_now"] == 1_700_000_600.0
    assert data["trend"] == {"per_run": 1 * MiB, "seconds_to_limit": 7000.0, "n_runs": 10}


def test_not_live_payload_has_no_url() -> None:
    data = component.payload(snap(), selected=None, live=False, not_live_reason="metrics are off")
    assert data["metrics_url"] is None and data["not_live_reason"] == "metrics are off"


def test_selection_message_is_versioned() -> None:
    assert component.parse_selection({"v": 1, "run": 12}) == 12
    for bad in (None, 12, {"run": 12}, {"v": 2, "run": 12}, {"v": 1, "run": "12"}, {"v": 1, "run": True}, {"v": 1, "run": -3}):
        assert component.parse_selection(bad) is None, bad


def test_run_details_for_a_selected_run() -> None:
    text = component.run_details_markdown(snap(), 40)
    assert text.startswith("**Run #40** (full, success): +10.0 MiB, peak 150.0 MiB")
    assert SESSION not in text
    assert "no longer in the recent history" in component.run_details_markdown(snap(), 999)


def test_bundle_is_present_for_this_streamlit() -> None:
    assert component.component_api() in ("v1", "v2")
    assert component.bundle_problem() == ""


def test_payload_carries_the_box_as_text() -> None:
    """The gauge draws the diagnosis box: the short message, cause and fix, as the native box has them."""
    from dataclasses import replace

    from st_memwatch.core.models import Finding

    assert component.payload(snap(), selected=None, live=True)["box"] is None
    w = Finding(
        "warning", "steady-growth", "Memory grows steadily: +7.6 MiB per run since run 8 (90% of recent runs grew).",
        "cache load_<b>rows</b>", "Bound it with @st.cache_data(max_entries=20) (see the docs).", "",
    )
    data = component.payload(replace(snap(), warnings=(w,)), selected=None, live=True)
    assert data["box"] == {
        "level": "warning",
        "leak": True,
        "title": "Memory grows steadily: +7.6 MiB per run since run 8.",
        "cause": "cache load_<b>rows</b>",  # text: the gauge writes it with textContent, never as HTML
        "fix": "Bound it with @st.cache_data(max_entries=20).",
    }
    assert SESSION not in json.dumps(data)

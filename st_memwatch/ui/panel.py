"""Turns a Snapshot into sidebar elements. No measuring happens here.

The always-visible part is one markdown element (numbers, bar, last run, trend)
plus warnings when there are any and one toggle: every extra element costs each
rerun. Everything heavier (timeline, tables, exports) is built only while the
author has the details toggle on — an expander would build it on every run.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from st_memwatch.core.limits import format_bytes
from st_memwatch.core.models import Snapshot, Warning

GREEN, AMBER, RED = "#21c354", "#ffa421", "#ff4b4b"
SOURCE_LABELS = {
    "argument": "set in panel(limit=...)",
    "environment": "from ST_MEMWATCH_LIMIT",
    "cgroup-v2": "container limit (cgroup v2)",
    "cgroup-v1": "container limit (cgroup v1)",
    "community-cloud": "Community Cloud ceiling",
    "total-ram": "total RAM (no container limit)",
}


def _color(share: float) -> str:
    return RED if share >= 0.9 else AMBER if share >= 0.7 else GREEN


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def summary_html(snap: Snapshot) -> str:
    """The light, always-visible block: usage vs limit, last run, trend, notes."""
    limit = snap.limit
    share = snap.rss / limit.bytes if limit.bytes else 0.0
    color = _color(share)
    width = min(100.0, share * 100)
    lines = [
        '<div class="st-memwatch" style="font-size:0.85rem;line-height:1.35">',
        f"<b>Memory</b> {html.escape(format_bytes(snap.rss))} of {html.escape(format_bytes(limit.bytes))} "
        f"(<b style='color:{color}'>{share:.0%}</b>)",
        f'<div style="background:rgba(128,128,128,.25);border-radius:3px;height:8px;margin:3px 0">'
        f'<div style="width:{width:.1f}%;background:{color};height:8px;border-radius:3px"></div></div>',
        f"<span style='opacity:.7'>limit: {html.escape(SOURCE_LABELS.get(limit.source, limit.source))}</span>",
    ]
    if snap.container is not None:
        lines.append(
            f"<br><span style='opacity:.7'>container usage (what the OOM killer counts): "
            f"{html.escape(format_bytes(snap.container.bytes))}</span>"
        )
    if snap.runs:
        last = snap.runs[-1]
        sign = "+" if last.delta >= 0 else ""
        lines.append(
            f"<br>Last run: <b>{sign}{html.escape(format_bytes(last.delta))}</b>, peak "
            f"{html.escape(format_bytes(last.peak))}, {last.duration_s * 1000:.0f} ms, {last.kind}, {last.outcome}"
        )
    if snap.trend is not None:
        t = snap.trend
        per_min = t.bytes_per_second * 60
        rate = f"{'+' if t.bytes_per_run >= 0 else ''}{html.escape(format_bytes(t.bytes_per_run))}/run"
        if t.span_s >= 60:
            rate += f", {'+' if per_min >= 0 else ''}{html.escape(format_bytes(per_min))}/min"
        eta = ""
        if t.bytes_per_run > 0 and t.runs_to_limit is not None:
            eta = f" · limit in ~{t.runs_to_limit:,.0f} runs"
            if t.seconds_to_limit is not None:
                eta += f" / {_duration(t.seconds_to_limit)}"
        lines.append(f"<br>Trend ({t.n_runs} runs): {rate}{eta}")
    if snap.mode != "hooks":
        lines.append("<br><span style='opacity:.7'>run hooks unavailable: measuring between panel calls</span>")
    for note in snap.notes[-3:]:
        lines.append(f"<br><span style='opacity:.7'>⚠ {html.escape(note)}</span>")
    lines.append("</div>")
    return "".join(lines)


def warning_text(w: Warning) -> str:
    parts = [w.message]
    if w.cause:
        parts.append(f"Likely cause: {w.cause}.")
    if w.fix:
        parts.append(f"Try: {w.fix}")
    return "  \n".join(parts)


def render_summary(st: Any, snap: Snapshot, new_warnings: Sequence[Warning], toast: bool) -> None:
    st.markdown(summary_html(snap), unsafe_allow_html=True)
    for w in snap.warnings[:3]:
        (st.error if w.level == "error" else st.warning)(warning_text(w))
    if toast and new_warnings:
        import streamlit

        w = new_warnings[0]
        streamlit.toast(f"Memory: {w.message}", icon="⚠️")


def _table(st: Any, rows: list[dict[str, Any]], empty: str) -> None:
    if rows:
        st.dataframe(rows, hide_index=True, use_container_width=True)
    else:
        st.caption(empty)


def render_details(st: Any, snap: Snapshot, json_data: str, csv_data: str) -> None:
    """The heavy part: only built while the details toggle is on."""
    from st_memwatch.ui.figures import timeline_figure

    st.plotly_chart(timeline_figure(snap), use_container_width=True)
    st.markdown("**Suspects** (grow steadily with runs)")
    _table(
        st,
        [
            {
                "what": f"{s.kind}: {s.name}",
                "per run": format_bytes(s.growth_bytes_per_run),
                "steady": f"{s.steady:.0%}",
                "fix": s.advice,
            }
            for s in snap.suspects
        ],
        "none yet",
    )
    st.markdown("**Growing object types** (last census)")
    _table(
        st,
        [
            {"type": g.type_name, "count": g.count, "Δ count": g.count_delta, "bytes": format_bytes(g.bytes), "Δ bytes": format_bytes(g.bytes_delta)}
            for g in snap.growth
        ],
        "no growth between the last two censuses",
    )
    st.caption(snap.census_note)
    st.markdown("**Caches**")
    _table(
        st,
        [
            {
                "function": c.function,
                "kind": f"cache_{c.kind}",
                "entries": c.entries,
                "size": format_bytes(c.bytes) + ("" if c.bytes_exact else "+"),
                "ttl": "" if c.ttl_s is None else f"{c.ttl_s:g} s",
                "max_entries": "" if c.max_entries is None else c.max_entries,
                "growing": "yes" if c.growing else "",
            }
            for c in snap.caches
        ],
        "no st.cache_data / st.cache_resource functions have run yet",
    )
    if snap.session is not None:
        s = snap.session
        sessions = "?" if s.active_sessions is None else s.active_sessions
        st.caption(
            f"session_state: {s.keys} keys, {format_bytes(s.bytes)} · active sessions: {sessions}"
            + (" · largest: " + ", ".join(f"{k} ({format_bytes(b)})" for k, b in s.largest_keys[:3]) if s.largest_keys else "")
        )
    st.markdown("**Runs** (latest 50)")
    _table(
        st,
        [
            {
                "run": r.run_id,
                "session": r.session[:8],
                "kind": r.kind,
                "outcome": r.outcome,
                "before": format_bytes(r.rss_before),
                "after": format_bytes(r.rss_after),
                "delta": format_bytes(r.delta),
                "peak": format_bytes(r.peak) + ("*" if r.overlapped else ""),
                "ms": round(r.duration_s * 1000, 1),
            }
            for r in reversed(snap.runs[-50:])
        ],
        "no runs recorded yet",
    )
    st.caption(f"peak from: {'kernel high-water mark' if snap.peak_method == 'hwm' else 'background sampler'}; * = other runs overlapped, peak is process-wide")
    c1, c2 = st.columns(2)
    c1.download_button("Record (JSON)", json_data, file_name="st_memwatch.json", mime="application/json")
    c2.download_button("Runs (CSV)", csv_data, file_name="st_memwatch_runs.csv", mime="text/csv")

"""Turns a Snapshot into sidebar elements. No measuring happens here.

The always-visible part is one markdown element (numbers, bar, last run, trend)
plus warnings when there are any and one toggle: every extra element costs each
rerun. Everything heavier (timeline, tables, exports) is built only while the
author has the details toggle on — an expander would build it on every run.

The details are three elements: the plotly timeline, one HTML block with every
table (a ``st.dataframe`` costs ~1.2 ms each and goes through Arrow, which rejects
columns of mixed types), and the export buttons. All sizes go through
``format_bytes``: binary units (KiB, MiB, GiB), the same on the timeline's axis.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from st_memwatch.core.analysis import is_leaking
from st_memwatch.core.judgement import holder_label
from st_memwatch.core.ledger import FILE_BACKED, OWNER_LABELS, OWNERS
from st_memwatch.core.limits import format_bytes
from st_memwatch.core.models import CacheUsage, Finding, Snapshot
from st_memwatch.streamlit_bridge.features import deferred_downloads, download_ignores_rerun, stretch
from st_memwatch.ui.figures import LEDGER_COLORS, LEDGER_STACK

if TYPE_CHECKING:
    from st_memwatch.ui.export import Exporter

GREEN, AMBER, RED = "#21c354", "#ffa421", "#ff4b4b"
SOURCE_LABELS = {
    "argument": "set in panel(limit=...)",
    "environment": "from ST_MEMWATCH_LIMIT",
    "cgroup-v2": "container limit (cgroup v2)",
    "cgroup-v1": "container limit (cgroup v1)",
    "community-cloud": "Community Cloud ceiling",
    "total-ram": "total RAM (no container limit)",
}
CGROUP_SOURCES = frozenset({"cgroup-v1", "cgroup-v2"})
LISTED_RUNS = 20  # the sidebar shows the latest runs; the exports hold all of them
EXPORT_BUTTON_KEY = "st_memwatch_prepare_export"
_GREY = "opacity:.7"
# Streamlit's table style is made for the main column; these tables live in the sidebar.
DETAILS_STYLE = (
    "<style>.st-memwatch-details{font-size:.8rem;line-height:1.35}"
    ".st-memwatch-details table{width:100%;font-size:.72rem;margin:.15rem 0 .4rem 0}"
    ".st-memwatch-details th,.st-memwatch-details td{padding:1px 4px;white-space:nowrap}"
    # Names break at dots and underscores (a <wbr> after each), and inside a word only when
    # one part alone is wider than the sidebar: "anywhere" let the table squeeze the name
    # column to a few letters ("features _bounde d").
    ".st-memwatch-details td:first-child{white-space:normal;overflow-wrap:break-word}"
    ".st-memwatch-details .scroll{max-height:16rem;overflow:auto}</style>"
)
OUTCOME_SHORT = {"success": "ok", "exception": "error", "rerun": "rerun", "stopped": "stopped", "running": "running"}


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


FAR_RUNS = 10_000
FAR_SECONDS = 7 * 24 * 3600


def _signed(n: float | None) -> str:
    if n is None:
        return "n/a"
    return ("+" if n >= 0 else "") + format_bytes(n)


def _e(value: object) -> str:
    return html.escape(str(value))


def summary_html(snap: Snapshot) -> str:
    """The light, always-visible block: usage vs limit, last run, trend, notes."""
    limit = snap.limit
    share = snap.rss / limit.bytes if limit.bytes else 0.0
    color = _color(share)
    width = min(100.0, share * 100)
    lines = [
        '<div class="st-memwatch" style="font-size:0.85rem;line-height:1.35">',
        f"<b>Memory</b> {_e(format_bytes(snap.rss))} of {_e(format_bytes(limit.bytes))} "
        f"(<b style='color:{color}'>{share:.0%}</b>)",
        f'<div style="background:rgba(128,128,128,.25);border-radius:3px;height:8px;margin:3px 0">'
        f'<div style="width:{width:.1f}%;background:{color};height:8px;border-radius:3px"></div></div>',
        f"<span style='{_GREY}'>limit: {_e(SOURCE_LABELS.get(limit.source, limit.source))}</span>",
    ]
    # Only inside a container with a memory limit (whatever limit the panel uses): without
    # one, the cgroup's usage (page cache included) reads like a second, larger RSS.
    if snap.container is not None and (limit.source in CGROUP_SOURCES or snap.container.limit is not None):
        lines.append(
            f"<br><span style='{_GREY}'>container usage (what the OOM killer counts): "
            f"{_e(format_bytes(snap.container.bytes))}</span>"
        )
    if snap.python_heap:
        # Beside RSS: when RSS stays up after a free but live objects fell, it is the
        # allocator keeping pages, not a leak.
        # Above RSS it puzzles: the census counts bytes allocated (np.zeros of 300 MB is
        # 300 MB), RSS only pages touched; say so rather than leave two figures that disagree.
        above = " (above RSS: allocated, not all touched yet)" if snap.python_heap > snap.rss else ""
        lines.append(
            f"<br><span style='{_GREY}'>live Python objects (last census): {_e(format_bytes(snap.python_heap))}{above}</span>"
        )
    if snap.runs:
        last = snap.runs[-1]
        lines.append(
            f"<br>Last run: <b>{_e(_signed(last.delta))}</b>, peak "
            f"{_e(format_bytes(last.peak))}, {last.duration_s * 1000:.0f} ms, {last.kind}, {last.outcome}"
        )
    if snap.trend is not None:
        t = snap.trend
        per_min = t.bytes_per_second * 60
        rate = f"{_e(_signed(t.bytes_per_run))}/run"
        if t.span_s >= 60:
            rate += f", {_e(_signed(per_min))}/min"
        eta = ""
        if t.bytes_per_run > 0 and t.runs_to_limit is not None:
            if t.runs_to_limit > FAR_RUNS and (t.seconds_to_limit is None or t.seconds_to_limit > FAR_SECONDS):
                eta = " · limit far away"  # "~24,517,648 runs / 8841 h" reads as noise
            else:
                eta = f" · limit in ~{t.runs_to_limit:,.0f} runs"
                if t.seconds_to_limit is not None:
                    eta += f" / {_duration(t.seconds_to_limit)}"
        lines.append(f"<br>Trend ({t.n_runs} runs): {rate}{eta}")
    if snap.mode != "hooks":
        lines.append(f"<br><span style='{_GREY}'>run hooks unavailable: measuring between panel calls</span>")
    for note in snap.notes[-3:]:
        lines.append(f"<br><span style='{_GREY}'>⚠ {_e(note)}</span>")
    lines.append("</div>")
    return "".join(lines)


def drop_asides(text: str) -> str:
    """``text`` without its parenthesised asides (" (...)", nested ones included).

    Parentheses not preceded by a space are kept: they are code, as in
    ``@st.cache_data(max_entries=...)``.
    """
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if depth == 0 and ch == " " and text.startswith(" (", i):
            depth, i = 1, i + 2
            continue
        if depth:
            depth += {"(": 1, ")": -1}.get(ch, 0)
        else:
            out.append(ch)
        i += 1
    if depth:  # unbalanced: leave the text as it was
        return text
    return "".join(out).replace(" .", ".").replace(" ,", ",").replace(" :", ":").strip()


def short_message(w: Finding) -> str:
    """The message without its parenthesised figures: one line that fits the sidebar.

    "Memory grows steadily: +7.6 MiB per run (90% of recent runs grew)." becomes
    "Memory grows steadily: +7.6 MiB per run." The full text is in the details.
    """
    return drop_asides(w.message.strip()) or w.message


def short_fix(w: Finding) -> str:
    """What to do, without asides: the box shows it, the details show the whole advice."""
    return drop_asides((w.action or w.fix).strip())


# Markdown (and Streamlit's own :color[...] / :emoji: directives) would read these in a
# key or function name of the user's app; escaped, they show as typed.
_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>#|~:$"})


def md_escape(text: str) -> str:
    """``text`` shown literally inside Streamlit markdown."""
    return text.translate(_MARKDOWN_SPECIAL)


def warning_text(w: Finding) -> str:
    """One short line, the measured cause when there is one, then the fix (markdown).

    The cause and the fix name keys and functions of the user's app: they are escaped.
    """
    fix = short_fix(w)
    cause = w.cause.strip()
    return (
        f"**{short_message(w)}**"
        + (f"  \nLikely cause: {md_escape(cause)}" if cause else "")
        + (f"  \nFix: {md_escape(fix)}" if fix else "")
    )


def toast_text(w: Finding) -> str:
    return short_message(w)


def render_summary(st: Any, snap: Snapshot, new_warnings: Sequence[Finding], toast: bool, *, headline: bool = True) -> None:
    """The always-visible part; ``headline=False`` leaves the figures and the box to the live gauge.

    The gauge carries the box (``component.box``): drawn here, it would hold the
    verdict as of the run's start until the next rerun, beside a gauge that already
    shows the verdict of the run's end. The toast stays here: it belongs to the run.
    """
    if headline:
        st.markdown(summary_html(snap), unsafe_allow_html=True)
        for w in snap.warnings[:1]:  # one box: the diagnosis carries the state, the rate, the cause and the fix
            (st.error if w.level == "error" else st.warning)(warning_text(w))
    if toast and new_warnings:
        import streamlit

        streamlit.toast(toast_text(new_warnings[0]), icon="⚠️")


# -- details ----------------------------------------------------------------------------
def breakable(name: object) -> str:
    """``name`` escaped, with a line-break opportunity after each dot and underscore.

    ``lab.modellib._registry`` then wraps as ``lab.modellib.`` / ``_registry`` at the
    sidebar's width, never inside a word.
    """
    return _e(name).replace(".", ".<wbr>").replace("_", "_<wbr>").replace("<wbr><wbr>", "<wbr>")


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()) -> str:
    """A compact HTML table; every cell is escaped here (names come from user code).

    The first column holds names: they break at dots and underscores, and the whole
    name is its tooltip.
    """
    align = [' style="text-align:right"' if i in right else "" for i in range(len(headers))]
    head = "".join(f"<th{a}>{_e(h)}</th>" for h, a in zip(headers, align, strict=True))
    body = "".join(
        f'<tr><td{align[0]} title="{_e(row[0])}">{breakable(row[0])}</td>'
        + "".join(f"<td{a}>{_e(c)}</td>" for c, a in zip(row[1:], align[1:], strict=True))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _bound(c: CacheUsage) -> str:
    parts = []
    if c.max_entries is not None:
        parts.append(f"max {c.max_entries}")
    if c.ttl_s is not None:
        parts.append(f"ttl {c.ttl_s:g} s")
    return ", ".join(parts) or "none"


def details_html(snap: Snapshot) -> str:
    """Warnings in full, suspects, growing types, caches, session_state and the latest runs: one block."""
    out = [DETAILS_STYLE, '<div class="st-memwatch-details">']
    grey = f"<div style='{_GREY};font-size:0.75rem'>"

    if snap.warnings:
        out.append("<b>Warnings</b><ul style='margin:0 0 .5rem 0;padding-left:1.1rem'>")
        for w in snap.warnings:
            cause = f" Likely cause: {_e(w.cause)}." if w.cause else ""
            # The box above shows the fix; repeat it only where the box shortened it.
            fix = f" Fix: {_e(w.fix)}" if w.fix and short_fix(w) != w.fix.strip() else ""
            out.append(f"<li>{_e(w.message)}{cause}{fix}</li>")
        out.append("</ul>")

    v = snap.verdict
    if v is not None and (v.leak or v.warming_up):
        out.append(f"<b>Verdict</b>: {_e(v.reason)}")
        if v.holders:
            out.append("<ul style='margin:0 0 .5rem 0;padding-left:1.1rem'>")
            for h in v.holders[:4]:
                chain = f"<br><span style='{_GREY}'>{_e(' → '.join(h.chain))}</span>" if h.chain else ""
                out.append(f"<li>{_e(holder_label(h))}: {_e(h.evidence)}{chain}</li>")
            out.append("</ul>")
        else:
            out.append("<br>")
    out.append("<b>Suspects</b> <span style='opacity:.7'>(grow steadily with runs)</span>")
    leaking = [x for x in snap.suspects if is_leaking(x)]
    others = [x for x in snap.suspects if not is_leaking(x)]
    if others:  # trends too small or too irregular to diagnose: named, without a fix
        note = ", ".join(f"{x.name} {_signed(x.growth_bytes_per_run)}/run" for x in others[:4])
        out.append(f"{grey}below the leak threshold: {_e(note)}</div>")
    if leaking:
        out.append(
            _table(
                ("what", "per run", "steady"),
                [(f"{x.name} ({x.kind})", _signed(x.growth_bytes_per_run), f"{x.steady:.0%}") for x in leaking],
                right=(1, 2),
            )
        )
        # The advice once per distinct text (most suspects of one kind share it), top suspect first.
        advice: dict[str, list[str]] = {}
        for x in leaking:
            advice.setdefault(x.advice, []).append(x.name)
        for text, names in advice.items():
            out.append(
                f"<details style='margin:.1rem 0'><summary style='{_GREY}'>fix for {_e(', '.join(names[:3]))}"
                f"{' …' if len(names) > 3 else ''}</summary>{_e(text)}</details>"
            )
    elif not others:
        out.append(f"{grey}none yet</div>")

    out.append("<b>Growing object types</b> <span style='opacity:.7'>(last census)</span>")
    if snap.growth:
        out.append(
            _table(
                ("type", "Δ count", "Δ size"),
                [(g.type_name, f"{g.count_delta:+,}", _signed(g.bytes_delta)) for g in snap.growth],
                right=(1, 2),
            )
        )
    else:
        out.append(f"{grey}no growth between the last two censuses</div>")
    if snap.census_note:
        out.append(f"{grey}{_e(snap.census_note)}</div>")

    out.extend(ledger_html(snap.ledger, grey))

    out.append("<b>Caches</b>")
    if snap.caches:
        out.append(
            _table(
                ("function", "entries", "size", "bound"),
                [
                    (
                        f"{c.function} ({c.kind})" + (" ↑" if c.growing else ""),
                        f"{c.entries:,}",
                        format_bytes(c.bytes) + ("" if c.bytes_exact or c.bytes is None else "+"),
                        _bound(c),
                    )
                    for c in snap.caches
                ],
                right=(1, 2),
            )
        )
        if any(c.growing for c in snap.caches):
            out.append(f"{grey}↑ = still growing</div>")
    else:
        out.append(f"{grey}no st.cache_data / st.cache_resource functions have run yet</div>")

    if snap.session is not None:
        s = snap.session
        sessions = "?" if s.active_sessions is None else s.active_sessions
        largest = ", ".join(f"{k} ({format_bytes(b)})" for k, b in s.largest_keys[:3])
        out.append(
            f"<div style='margin:.4rem 0'><b>session_state</b> (this session): {s.keys} keys, {_e(format_bytes(s.bytes))}"
            + (f" · largest: {_e(largest)}" if largest else "")
            + f" · active sessions: {_e(sessions)}"
            + (
                f" · all sessions measured ({snap.sessions.count}): {_e(format_bytes(snap.sessions.total_bytes))}, "
                f"largest {_e(format_bytes(snap.sessions.largest_bytes))}"
                if snap.sessions is not None and snap.sessions.count > 1
                else ""
            )
            + "</div>"
        )

    out.append(f"<b>Runs</b> (latest {LISTED_RUNS})")
    runs = snap.runs[-LISTED_RUNS:]
    if runs:
        rows = [
            (
                r.run_id,
                OUTCOME_SHORT.get(r.outcome, r.outcome) + ("" if r.kind == "full" else " ·frag"),
                _signed(r.delta),
                format_bytes(r.peak) + ("*" if r.overlapped else ""),
                f"{r.duration_s * 1000:.0f}",
            )
            for r in reversed(runs)
        ]
        out.append("<div class='scroll'>")
        out.append(_table(("run", "outcome", "Δ", "peak", "ms"), rows, right=(0, 2, 3, 4)))
        out.append("</div>")
        peak_from = "kernel high-water mark" if snap.peak_method == "hwm" else "background sampler"
        out.append(
            f"{grey}ok / error / rerun / stopped: how the run ended; ·frag = a fragment rerun; "
            f"peak from the {peak_from}; * = other runs overlapped, the peak is process-wide</div>"
        )
    else:
        out.append(f"{grey}no runs recorded yet</div>")
    out.append("</div>")
    return "".join(out)


def ledger_html(view: Mapping[str, Any] | None, grey: str) -> list[str]:
    """"Where the memory is": each owner's bytes now, its trend per run and its share of the process's memory."""
    if not view or not view.get("owners"):
        return []
    owned: Mapping[str, int] = view["owners"]
    missing = set(view.get("missing", ()))
    per_run: Mapping[str, float] = view.get("per_run", {})
    anonymous = sum(b for o, b in owned.items() if o != FILE_BACKED) or 1
    rows = []
    for owner in OWNERS:
        if owner not in owned or owner in missing:
            continue
        rate = per_run.get(owner)
        share = "" if owner == FILE_BACKED else f"{owned[owner] / anonymous:.0%}"
        rows.append((OWNER_LABELS[owner], format_bytes(owned[owner]), "" if rate is None else _signed(rate), share))
    out = ["<b>Where the memory is</b> <span style='opacity:.7'>(trend over the last runs)</span>"]
    if view.get("series"):  # the chart's key: its bands, bottom to top
        keys = [
            f"<span style='color:{LEDGER_COLORS[o]}'>■</span>&nbsp;{_e(OWNER_LABELS[o].split(' (')[0])}"
            for o in LEDGER_STACK if len(view["series"].get(o) or ()) >= 2 and o not in missing
        ]
        out.append(f"<div style='font-size:0.75rem'>{' · '.join(keys)}</div>")
    out.append(_table(("owner", "now", "per run", "share"), rows, right=(1, 2, 3)))
    if missing:
        words = ", ".join(OWNER_LABELS.get(m, m) for m in sorted(missing))
        out.append(f"{grey}not measurable on this platform: {_e(words)}</div>")
    return out


def render_exports(st: Any, exports: Exporter) -> None:
    """The two downloads, built only when wanted.

    Where ``st.download_button`` takes a callable, the record is built when the
    button is clicked (on Streamlit's own thread, not the script's). Elsewhere a
    "Prepare export" button builds it once; the downloads then offer that copy
    until the details are closed.
    """
    json_args = {"file_name": "st_memwatch.json", "mime": "application/json", **stretch("download_button")}
    csv_args = {"file_name": "st_memwatch_runs.csv", "mime": "text/csv", **stretch("download_button")}
    if deferred_downloads():
        if download_ignores_rerun():
            json_args["on_click"] = csv_args["on_click"] = "ignore"
        st.download_button("Record (JSON)", exports.json, **json_args)
        st.download_button("Runs (CSV)", exports.csv, **csv_args)
        return
    if st.button("Prepare export", key=EXPORT_BUTTON_KEY, help="Build the JSON record and the runs CSV now (again to refresh them)"):
        exports.prepare()
    ready = exports.prepared()
    if ready is None:
        return
    st.download_button("Record (JSON)", ready.json, **json_args)
    st.download_button("Runs (CSV)", ready.csv, **csv_args)
    st.caption(f"export as of {ready.label}")


def render_details(st: Any, snap: Snapshot, exports: Exporter) -> None:
    """The heavy part: only built while the details toggle is on."""
    from st_memwatch.ui.figures import chart_figure, ledger_figure

    st.plotly_chart(chart_figure(snap), **stretch("plotly_chart"))
    owners_over_time = ledger_figure(snap.ledger)
    if owners_over_time is not None:
        st.plotly_chart(owners_over_time, **stretch("plotly_chart"))
    st.markdown(details_html(snap), unsafe_allow_html=True)
    render_exports(st, exports)

"""The live gauge: one wrapper that hides which Streamlit component API draws it.

Streamlit's components v2 (``st.components.v2.component``, no iframe; in releases
since 1.51) mount the built ES module inline; older releases such as 1.40 get the
same gauge in a components v1 iframe (``declare_component``). Both bundles are
built from ``frontend/`` and shipped in ``frontend_build/``, so an install needs no
Node.js. ``ST_MEMWATCH_GAUGE_DEV`` (a Vite dev server's URL, e.g.
``http://localhost:5173``) is the one switch to the live sources, for the v1 iframe;
components v2 take their module inline, so there the built bundle is always used.

Python sends what it knows at each script run; the gauge then polls the app's own
``/_stcore/metrics`` for the live figures (see ``streamlit_bridge/metrics.py``).

The gauge also carries the diagnosis box, so that the box and the gauge tell one
story at one moment: the box drawn during a run holds the verdict as of that run's
start, and the polls say when the verdict changed at the run's end. The gauge then
shows the box the live figures call for (and none once the episode is over), with
the cause and the fix of the last render when the verdict is still of the same kind.
The endpoint is public, so it carries numbers only; the box's words (which may name
a function or key of the app, as the native box does) reach only the sessions the
gate lets see the panel, in this component's data. No session id is ever sent.
"""

from __future__ import annotations

import functools
import json
import os
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from st_memwatch.core.limits import format_bytes
from st_memwatch.core.models import Finding, RunRecord, Snapshot

BUILD_DIR = Path(__file__).resolve().parent / "frontend_build"
DEV_ENV = "ST_MEMWATCH_GAUGE_DEV"
NAME = "st_memwatch_gauge"
KEY = "st_memwatch_gauge"
MESSAGE_VERSION = 1
GAUGE_RUNS = 30  # run boundaries the sparkline can show (its window is a few minutes)
GAUGE_POINTS = 150  # history sent at a session's first render; the gauge's polls add the rest
SPARK_WINDOW_S = 300.0
# The families the gauge reads: asking for them alone spares the server Streamlit's
# costly cache_memory_bytes family (newer Streamlit honours ``?families=``).
LIVE_FAMILIES = (
    "rss_bytes",
    "limit_bytes",
    "leak",
    "seconds_to_limit",
    "growth_bytes_per_run",
    "runs_in_progress",
    "run_in_progress_seconds",
    "run_in_progress_delta_bytes",
    "last_run_id",
    "last_run_delta_bytes",
    "run_peak_bytes",
    "last_run_duration_seconds",
    "last_run_end_timestamp_seconds",
    "warnings",
)
Api = Literal["v2", "v1"]
_MAX_SESSIONS = 1000
_history_sent: OrderedDict[str, None] = OrderedDict()


@functools.cache
def component_api() -> Api | None:
    """Components v2 where this Streamlit has them, v1 before; None without either."""
    try:
        from streamlit.components import v2

        if callable(getattr(v2, "component", None)):
            return "v2"
    except ImportError:
        pass
    try:
        from streamlit.components.v1 import declare_component  # noqa: F401
    except ImportError:
        return None
    return "v1"


def bundle_problem() -> str:
    """Why the gauge cannot be drawn here ("" when it can): the panel then falls back, with this note."""
    return _bundle_problem(component_api(), os.environ.get(DEV_ENV, ""))


@functools.cache
def _bundle_problem(api: Api | None, dev: str) -> str:
    if api is None:
        return "gauge unavailable: this Streamlit has no custom components; showing the native panel"
    if dev and api == "v1":
        return ""
    needed = [BUILD_DIR / "v2" / "gauge.js"] if api == "v2" else [BUILD_DIR / "v1" / "index.html", BUILD_DIR / "v1" / "gauge.js"]
    missing = [p for p in needed if not p.is_file()]
    if missing:
        return f"gauge bundle missing ({missing[0].parent.name}/{missing[0].name}; build it with `make frontend`): showing the native panel"
    return ""


@functools.cache
def _mount(api: Api) -> Callable[..., Any]:
    dev = os.environ.get(DEV_ENV, "").rstrip("/")
    if api == "v2":
        from streamlit.components.v2 import component

        # Components v2 take the module inline: the built bundle, also in development
        # (rebuild with `make frontend` and restart the app).
        return component(NAME, js=(BUILD_DIR / "v2" / "gauge.js").read_text("utf-8"))  # type: ignore[no-any-return]
    from streamlit.components.v1 import declare_component

    if dev:
        return declare_component(NAME, url=f"{dev}/dev-v1.html")  # type: ignore[no-any-return]
    return declare_component(NAME, path=str(BUILD_DIR / "v1"))  # type: ignore[no-any-return]


def wants_history(session: str) -> bool:
    """Only a session's first render sends the sparkline's history; the mounted gauge keeps its own after that."""
    if session in _history_sent:
        return False
    _history_sent[session] = None
    while len(_history_sent) > _MAX_SESSIONS:
        _history_sent.popitem(last=False)
    return True


def metrics_url() -> str:
    """The app's own metrics endpoint as a path on the page's origin (base URL path included)."""
    try:
        from streamlit import config

        base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    except Exception:
        base = ""
    return f"/{base}/_stcore/metrics" if base else "/_stcore/metrics"


def _run(r: RunRecord, offset: float) -> dict[str, Any]:
    return {
        "id": r.run_id,
        "start": r.started_at + offset,
        "duration": r.duration_s,
        "delta": r.delta,
        "peak": r.peak,
        "outcome": r.outcome,
    }


def box(w: Finding | None) -> dict[str, Any] | None:
    """The diagnosis box as plain text (the gauge writes it as text, never as HTML or markdown)."""
    if w is None:
        return None
    from st_memwatch.ui.panel import short_fix, short_message

    return {
        "level": w.level,
        "leak": w.code == "steady-growth",
        "title": short_message(w),
        "cause": w.cause.strip(),
        "fix": short_fix(w),
    }


def payload(snap: Snapshot, selected: int | None, live: bool, not_live_reason: str = "") -> dict[str, Any]:
    """The data of one render: numbers, fixed words and the box, never a session id."""
    offset = snap.unix_offset_s
    now = snap.taken_at
    samples = [[s.t + offset, s.rss] for s in snap.samples if s.t >= now - SPARK_WINDOW_S]
    trend = snap.trend
    return {
        "v": MESSAGE_VERSION,
        "metrics_url": metrics_url() if live else None,
        "families": ["st_memwatch_" + f for f in LIVE_FAMILIES],
        "not_live_reason": not_live_reason,
        "server_now": now + offset,
        "rss": snap.rss,
        "limit": snap.limit.bytes,
        "limit_label": snap.limit.source,
        "trend": (
            {"per_run": trend.bytes_per_run, "seconds_to_limit": trend.seconds_to_limit, "n_runs": trend.n_runs}
            if trend is not None
            else None
        ),
        "leak": snap.leak,
        "samples": samples,
        "runs": [_run(r, offset) for r in snap.runs[-GAUGE_RUNS:]],
        "selected": selected,
        "notes": [n[:160] for n in snap.notes[-3:]],
        "box": box(snap.warnings[0] if snap.warnings else None),
    }


def parse_selection(value: object) -> int | None:
    """The run a click selected, from the gauge's message ``{"v": 1, "run": N}``; anything else is None."""
    if not isinstance(value, dict) or value.get("v") != MESSAGE_VERSION:
        return None
    run = value.get("run")
    return run if isinstance(run, int) and not isinstance(run, bool) and run > 0 else None


def _noop() -> None:
    """Components v2 keep a state value in the result only when it has an ``on_<name>_change`` callback."""


def render_gauge(snap: Snapshot, selected: int | None, live: bool, not_live_reason: str = "") -> int | None:
    """Draw the gauge here; return the run the author selected on it (None when none).

    ``selected`` marks a run from Python's side; None leaves the gauge's own choice
    (the gauge remembers its last click, and the component's value carries it here).
    """
    api = component_api()
    if api is None:
        raise RuntimeError("no component API")
    data = payload(snap, selected, live, not_live_reason)
    mount = _mount(api)
    # The mount commands draw into the surrounding ``with area:`` (sidebar or main) like st.* calls.
    if api == "v2":
        # As bytes: a dict would be probed key by key for data frames (most of the mount's cost).
        blob = json.dumps(data, separators=(",", ":")).encode()
        result = mount(key=KEY, data=blob, default={"selected": None}, on_selected_change=_noop)
        value = getattr(result, "selected", None)
    else:
        value = mount(data=data, key=KEY, default=None)
    return parse_selection(value)


def run_details_markdown(snap: Snapshot, run_id: int) -> str:
    """What the panel shows under the gauge for the run clicked on its sparkline."""
    run = next((r for r in reversed(snap.runs) if r.run_id == run_id), None)
    if run is None:
        return f"**Run #{run_id}**: no longer in the recent history."
    sign = "+" if run.delta >= 0 else ""
    parts = [
        f"**Run #{run.run_id}** ({run.kind}, {run.outcome}): {sign}{format_bytes(run.delta)}, "
        f"peak {format_bytes(run.peak)}{' (process-wide: runs overlapped)' if run.overlapped else ''}, "
        f"{run.duration_s:.1f} s"
    ]
    grew = [g for g in snap.growth if g.bytes_delta > 0][:3]
    if grew:
        parts.append(
            "What grew between the last two censuses: "
            + ", ".join(f"`{g.type_name.replace('`', '')}` +{format_bytes(g.bytes_delta)}" for g in grew)
        )
    return "  \n".join(parts)

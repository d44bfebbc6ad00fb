"""The timeline figure: memory over time, run boundaries, the limit as a line.

Only downsampled samples (maxima per slice, see ``SampleHistory.timeline``) and
the last runs are plotted, so the browser never receives every raw sample.

Cost matters here: the figure is rebuilt on every rerun while the details are
open. Plotly validates every property it is given, and each ``add_vline`` /
``add_hline`` revalidates the whole layout (8-15 ms each). So the figure is
built once from plain dicts: two traces, and all lines as one ``shapes`` list.
Validation is skipped because every value comes from this module.
"""

from __future__ import annotations

import functools
import html
from typing import Any

from st_memwatch.core.limits import format_bytes
from st_memwatch.core.models import Snapshot

MIB = 1024 * 1024
MAX_RUN_MARKS = 200  # run peaks plotted (the details view asks the snapshot for this many runs)
MAX_BOUNDARIES = 30  # run starts drawn as dotted lines; more would be a grey smear
LIMIT_SCALE = 3.0  # draw the limit line only when it is within this factor of the highest RSS shown
HEIGHT = 280
LIMIT_COLOR = "#ff4b4b"
BOUNDARY_COLOR = "rgba(128,128,128,0.45)"
SOURCE_SHORT = {
    "argument": "panel(limit=...)",
    "environment": "ST_MEMWATCH_LIMIT",
    "cgroup-v2": "container",
    "cgroup-v1": "container",
    "community-cloud": "Community Cloud",
    "total-ram": "total RAM",
}


def _time_unit(span_s: float) -> tuple[str, float]:
    """The x-axis unit for a window of ``span_s`` seconds: seconds, minutes or hours ago."""
    if span_s <= 600:
        return "s", 1.0
    if span_s <= 6 * 3600:
        return "min", 60.0
    return "h", 3600.0


def _rounded(values: list[float] | list[int], offset: float, scale: float, digits: int) -> list[float]:
    """``round((v - offset) / scale, digits)`` for every value, as plain floats."""
    import numpy as np

    return np.round((np.asarray(values, dtype=np.float64) - offset) / scale, digits).tolist()  # type: ignore[no-any-return]


def timeline_spec(snapshot: Snapshot) -> dict[str, Any]:
    """The figure as plain plotly data: ``{"data": [...], "layout": {...}}``.

    x is time relative to the snapshot (0 = now, in s, min or h), y is MiB, the
    unit ``format_bytes`` uses for the same figures elsewhere in the panel.
    """
    t0 = snapshot.taken_at
    samples = snapshot.samples
    runs = snapshot.runs[-MAX_RUN_MARKS:]
    first = min([s.t for s in samples[:1]] + [r.started_at for r in runs[:1]] + [t0])
    unit, scale = _time_unit(t0 - first)
    # Rounded in numpy: fewer digits to encode and hash, and no per-value round() calls.
    xs = _rounded([s.t for s in samples], t0, scale, 3)
    ys = _rounded([s.rss for s in samples], 0.0, MIB, 2)
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": xs,
            "y": ys,
            "mode": "lines",
            "name": "RSS",
            "line": {"width": 1.5, "color": "#1c83e1"},
            "hovertemplate": f"%{{x:.1f}} {unit}: %{{y:.1f}} MiB<extra>RSS</extra>",
        }
    ]
    shapes: list[dict[str, Any]] = []
    peaks = _rounded([r.peak for r in runs], 0.0, MIB, 2)
    if runs:
        deltas = _rounded([r.rss_after - r.rss_before for r in runs], 0.0, MIB, 2)
        data.append(
            {
                "type": "scatter",
                "x": _rounded([r.started_at + r.duration_s for r in runs], t0, scale, 3),
                "y": peaks,
                "mode": "markers",
                "name": "run peak",
                "marker": {"size": 6, "symbol": "triangle-up", "color": "#ffa421"},
                "customdata": [[r.run_id, r.outcome, d] for r, d in zip(runs, deltas, strict=True)],
                "hovertemplate": "run %{customdata[0]} (%{customdata[1]})<br>peak %{y:.1f} MiB"
                "<br>delta %{customdata[2]:+.2f} MiB<extra></extra>",
            }
        )
        shapes.extend(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": x,
                "x1": x,
                "y0": 0,
                "y1": 1,
                "line": {"width": 0.5, "dash": "dot", "color": BOUNDARY_COLOR},
                "layer": "below",
            }
            for x in _rounded([r.started_at for r in runs[-MAX_BOUNDARIES:]], t0, scale, 3)
        )
    top = max([*ys, *peaks, 1.0])
    limit_mib = snapshot.limit.bytes / MIB
    limit_text = f"limit {format_bytes(snapshot.limit.bytes)} ({SOURCE_SHORT.get(snapshot.limit.source, snapshot.limit.source)})"
    annotations: list[dict[str, Any]] = []  # the caption above the plot is added last
    if 0 < limit_mib <= top * LIMIT_SCALE:
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "yref": "y",
                "x0": 0,
                "x1": 1,
                "y0": limit_mib,
                "y1": limit_mib,
                "line": {"width": 1.5, "dash": "dash", "color": LIMIT_COLOR},
            }
        )
        annotations.append(
            {
                "xref": "paper",
                "yref": "y",
                "x": 0,
                "y": limit_mib,
                "xanchor": "left",
                "yanchor": "bottom",
                "text": limit_text,
                "showarrow": False,
                "font": {"size": 11, "color": LIMIT_COLOR},
            }
        )
        y_max = max(top, limit_mib) * 1.12
        subtitle = "run peaks ▲ · run starts ┊ · limit dashed"
    else:
        # A far-away limit (total RAM, say) would flatten the curve into the x axis: state it instead.
        y_max = top * 1.15
        subtitle = f"{limit_text}: far above, not drawn"
    annotations.append(
        {
            "xref": "paper",
            "yref": "paper",
            "x": 0,
            "y": 1,
            "xanchor": "left",
            "yanchor": "bottom",
            "align": "left",
            "yshift": 4,
            "text": f"<b>RSS</b>, MiB<br><span style='font-size:10px'>{html.escape(subtitle)}</span>",
            "showarrow": False,
            "font": {"size": 12},
        }
    )
    layout: dict[str, Any] = {
        "height": HEIGHT,
        "margin": {"l": 10, "r": 10, "t": 44, "b": 10},
        # automargin: the small margins grow to fit the tick labels; Streamlit 1.40's
        # chart theme does not turn it on, and "300" showed as "00".
        "xaxis": {"title": {"text": f"{unit} (0 = now)", "font": {"size": 11}}, "zeroline": False, "automargin": True},
        "yaxis": {"range": [0, y_max], "rangemode": "tozero", "zeroline": False, "automargin": True},
        "shapes": shapes,
        "annotations": annotations,
        "showlegend": False,
        "hovermode": "closest",
        # Upright along the right edge: lying along the top, the toolbar covered the
        # caption in a sidebar-wide chart.
        "modebar": {"orientation": "v"},
    }
    return {"data": data, "layout": layout}


def timeline_figure(snapshot: Snapshot) -> Any:
    """The timeline as a ``plotly.graph_objects.Figure``, built without per-property validation."""
    import plotly.graph_objects as go

    spec = timeline_spec(snapshot)
    return go.Figure(data=spec["data"], layout=spec["layout"], _validate=False)


def chart_figure(snapshot: Snapshot) -> Any:
    """The timeline for ``st.plotly_chart``: a Figure that hands over its prepared dict.

    ``st.plotly_chart`` reads a Figure through ``to_dict()`` alone (and validates
    a plain dict by building a Figure from it, the slow way). Building a real Figure
    costs ~1.2 ms and its ``to_dict()`` another ~1.7 ms, over half the details
    budget, so this one skips both: ``to_dict()`` returns the spec, and any other
    use turns it into a complete Figure first.
    """
    return _prebuilt_class()(timeline_spec(snapshot))


LEDGER_HEIGHT = 170
# Stacked bottom to top: what grows in a leak lies on the stable floor under it.
LEDGER_STACK = ("unexplained", "python", "arrow", "native", "allocator_free")
LEDGER_COLORS = {
    "unexplained": "rgba(150,150,150,0.55)",
    "python": "rgba(31,119,180,0.75)",
    "arrow": "rgba(148,103,189,0.75)",
    "native": "rgba(214,39,40,0.70)",
    "allocator_free": "rgba(255,164,33,0.65)",
}


def ledger_spec(view: dict[str, Any] | None) -> dict[str, Any] | None:
    """Where the memory was over the last runs, each owner a band stacked on the others (MiB by run).

    None without at least two readings. File-backed pages are left out: they sit beside
    the anonymous memory the other owners share, and a leak never grows them.
    """
    from st_memwatch.core.ledger import OWNER_LABELS

    series = (view or {}).get("series") or {}
    missing = set((view or {}).get("missing", ()))
    data = []
    for owner in LEDGER_STACK:
        points = series.get(owner) or []
        if len(points) < 2 or owner in missing:
            continue
        data.append({
            "type": "scatter",
            "x": [p[0] for p in points],
            "y": [round(p[1] / MIB, 2) for p in points],
            "name": OWNER_LABELS[owner].split(" (")[0],
            "stackgroup": "ledger",
            "mode": "lines",
            "line": {"width": 0.5, "color": LEDGER_COLORS[owner]},
            "fillcolor": LEDGER_COLORS[owner],
            "hovertemplate": "run %{x}: %{y:.1f} MiB<extra>%{fullData.name}</extra>",
        })
    if not data:
        return None
    layout = {
        "height": LEDGER_HEIGHT,
        "margin": {"l": 10, "r": 10, "t": 28, "b": 10},
        "title": {"text": "<b>Where the memory is</b>, MiB by run", "font": {"size": 12}, "x": 0, "xanchor": "left"},
        "yaxis": {"rangemode": "tozero", "zeroline": False, "automargin": True},
        "xaxis": {"title": {"text": "run", "font": {"size": 11}}, "zeroline": False, "automargin": True},
        "showlegend": False,  # at sidebar width a legend takes the chart's place: the table below carries the colours
        "hovermode": "x",
        "modebar": {"orientation": "v"},
    }
    return {"data": data, "layout": layout}


def ledger_figure(view: dict[str, Any] | None) -> Any | None:
    """The ledger's bands for ``st.plotly_chart`` (prepared like the timeline), or None with too few readings."""
    spec = ledger_spec(view)
    return None if spec is None else _prebuilt_class()(spec)


@functools.cache
def _prebuilt_class() -> type:
    import plotly.graph_objects as go

    class PrebuiltFigure(go.Figure):  # type: ignore[misc]
        def __init__(self, spec: dict[str, Any]) -> None:  # Figure.__init__ runs only when needed
            self.__dict__["_prebuilt_spec"] = spec

        def to_dict(self) -> dict[str, Any]:
            if "_prebuilt_full" in self.__dict__:
                return super().to_dict()  # type: ignore[no-any-return]
            return self.__dict__["_prebuilt_spec"]  # type: ignore[no-any-return]

        def __getattr__(self, name: str) -> Any:
            # Only reached for attributes Figure.__init__ would have set: build them once.
            if "_prebuilt_full" in self.__dict__ or name.startswith("_prebuilt"):
                raise AttributeError(name)
            self.__dict__["_prebuilt_full"] = True
            spec = self.__dict__["_prebuilt_spec"]
            go.Figure.__init__(self, data=spec["data"], layout=spec["layout"], _validate=False)
            return getattr(self, name)

    return PrebuiltFigure

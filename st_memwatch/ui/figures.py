"""The timeline figure: memory over time, run boundaries, the limit as a line.

Only downsampled samples (maxima per slice, see ``SampleHistory.timeline``) and
the last runs are plotted, so the browser never receives every raw sample.
"""

from __future__ import annotations

from typing import Any

from st_memwatch.core.models import Snapshot

MIB = 1024 * 1024
MAX_RUN_MARKS = 200


def timeline_figure(snapshot: Snapshot) -> Any:
    import plotly.graph_objects as go

    t0 = snapshot.taken_at
    xs = [s.t - t0 for s in snapshot.samples]
    ys = [s.rss / MIB for s in snapshot.samples]
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=xs, y=ys, mode="lines", name="RSS", line={"width": 1.5}))
    runs = snapshot.runs[-MAX_RUN_MARKS:]
    if runs:
        ends = [r.started_at + r.duration_s - t0 for r in runs]
        fig.add_trace(
            go.Scatter(
                x=ends,
                y=[r.peak / MIB for r in runs],
                mode="markers",
                name="run peak",
                marker={"size": 6, "symbol": "triangle-up"},
                customdata=[[r.run_id, r.outcome, r.delta / MIB] for r in runs],
                hovertemplate="run %{customdata[0]} (%{customdata[1]})<br>peak %{y:.1f} MiB"
                "<br>delta %{customdata[2]:+.2f} MiB<extra></extra>",
            )
        )
        for r in runs[-30:]:
            fig.add_vline(x=r.started_at - t0, line={"width": 0.5, "dash": "dot", "color": "gray"})
    fig.add_hline(
        y=snapshot.limit.bytes / MIB,
        line={"color": "red", "dash": "dash"},
        annotation_text=f"limit ({snapshot.limit.source})",
    )
    top = max([*ys, snapshot.limit.bytes / MIB * 0.2, 1.0])
    fig.update_layout(
        height=260,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis_title="seconds (0 = now)",
        yaxis_title="MiB",
        yaxis={"range": [0, max(top * 1.15, min(snapshot.limit.bytes / MIB * 1.05, top * 3))]},
        showlegend=False,
    )
    return fig

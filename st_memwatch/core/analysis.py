"""Growth fits, suspects, advice and the panel's one box, from recorded figures only.

The verdict itself (leak or not, onset, rate, holders) is ``judgement.judge``; this
module holds the fits it uses and the wording it is shown with.

Why Theil-Sen: one rerun that loads a file or a GC pass that frees a lot would
swing a least-squares fit; the median of pairwise slopes ignores up to ~29 % of
outliers. Why "steady": a leak grows in most steps, while a transient peak, a
cache filling to its bound, a model loaded once or a one-time import grow once
and stop, so the share of growing steps after warm-up separates them. Why the
recent half apart: a bound reached late in the window (a deque of 20 results, a
cache of 10 entries) still leaves most steps growing; only growth that also holds
in the most recent half of the window is called sustained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from st_memwatch.core import owners
from st_memwatch.core.limits import format_bytes
from st_memwatch.core.models import CacheUsage, Finding, Level, Suspect, SuspectKind, TypeGrowth, Verdict
from st_memwatch.core.schedule import CensusStatus

# A point of a per-run series: (run number, count, bytes).
Point = tuple[float, int, int]

SHORT_RUNS = 50
SHORT_SECONDS = 30 * 60
# A per-minute rate fitted over a burst of reruns says nothing about the next half hour.
MIN_SPAN_FOR_TIME_S = 60.0
MIN_STEADY = 0.6
MIN_LEAK_BYTES_PER_RUN = 64 * 1024
MIN_RSS_LEAK_BYTES_PER_RUN = 256 * 1024


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The knobs of the verdict, in one place: the judgement, the suspects and the box read them from here.

    ``Settings(thresholds=...)`` hands them to the monitor, ``check`` widens the
    suspects' warm-up and window to its runs.
    """

    warmup: int = 2  # a series' first points (imports, first fills) left out of the suspects' fit
    window: int = 30  # points of a series the suspects' fit looks at
    min_steady: float = MIN_STEADY
    min_suspect_bytes_per_run: float = MIN_LEAK_BYTES_PER_RUN  # a suspect or a holder grows at least this much
    min_rss_bytes_per_run: float = MIN_RSS_LEAK_BYTES_PER_RUN  # a step of settled memory this large grows
    process_warmup_runs: int = 2  # the process's first runs (imports, first cache fills) are never judged
    session_warmup_runs: int = 1  # nor a session's first runs (they build that session's objects)
    # A server's first runs also fill Streamlit's own buffers and the allocator's arenas, a few MiB
    # that stop: growth that starts by run early_onset_runs (no quiet stretch before it) and that
    # no container names is a leak only once it lasts past run early_runs.
    early_onset_runs: int = 6
    early_runs: int = 12
    amber: float = 0.70  # share of the limit at which usage is high
    red: float = 0.90  # share of the limit at which it is near


AMBER = Thresholds().amber  # the defaults, for renderers that colour a bar
RED = Thresholds().red


def theil_sen(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Median of pairwise slopes; 0.0 with fewer than two distinct x."""
    x = np.asarray(xs, dtype=np.float64)
    y = np.asarray(ys, dtype=np.float64)
    if len(x) < 2:
        return 0.0
    i, j = np.triu_indices(len(x), k=1)
    dx = x[j] - x[i]
    ok = dx != 0
    if not ok.any():
        return 0.0
    return float(np.median((y[j] - y[i])[ok] / dx[ok]))


def steady_share(values: Sequence[float]) -> float:
    """Share of steps in which the value went up."""
    if len(values) < 2:
        return 0.0
    v = np.asarray(values, dtype=np.float64)
    return float(np.mean(np.diff(v) > 0))


def advice_for(kind: str, name: str, cache: CacheUsage | None, holds: float | None = None) -> tuple[str, str]:
    """(the whole advice, its action alone as a sentence) for a suspect or a warning: the kind's own, from ``owners``."""
    return owners.advice(kind, name, cache, holds)


OWN_PREFIX = owners.OWN_PREFIX
# A cache or a session_state key names where the memory is held, a class with
# measured holdings names what holds it, a plain type only what it is made of.
# Among suspects within TIE of each other in bytes per run, the more specific wins
# (``owners.rank``; the verdict's holders use twice that width).
TIE = 0.15


@dataclass(frozen=True, slots=True)
class Growth:
    """How one per-run series grew after warm-up: over the window, and lately."""

    slope: float  # Theil-Sen over the window after warm-up
    share: float  # share of steps that went up over that window
    recent_slope: float  # the same over its recent half
    recent_share: float

    @property
    def sustained_slope(self) -> float:
        """The rate that still holds lately: a series that grew and then stopped has none."""
        return min(self.slope, self.recent_slope)

    @property
    def sustained_share(self) -> float:
        return min(self.share, self.recent_share)


def growth_after_warmup(xs: Sequence[float], ys: Sequence[float], th: Thresholds = Thresholds()) -> Growth | None:
    """Fit the series after warm-up, and its recent half apart.

    A cache filling to max_entries, a session window filling to its maxlen, a
    model or a module loaded once all grow first and then stay flat: the recent
    half shows no growth, so their sustained rate is ~0 whatever the whole window
    says. A leak grows in both halves.
    """
    x = list(xs)[-th.window :]
    y = list(ys)[-th.window :]
    if len(x) >= th.warmup + 4:  # warm-up (imports, first fills) is never judged when four points follow it
        x, y = x[th.warmup :], y[th.warmup :]
    if len(x) < 4:
        return None
    half = max(4, len(x) // 2)
    return Growth(
        slope=theil_sen(x, y),
        share=steady_share(y),
        recent_slope=theil_sen(x[-half:], y[-half:]),
        recent_share=steady_share(y[-half:]),
    )


def find_suspects(
    series: Mapping[tuple[SuspectKind, str], Sequence[Point]],
    caches: Mapping[str, CacheUsage] | None = None,
    th: Thresholds = Thresholds(),
    top: int = 5,
    held: Mapping[str, float] | None = None,
) -> tuple[Suspect, ...]:
    """Things whose bytes (or count) keep growing after warm-up, ranked by bytes per run.

    ``growth_bytes_per_run`` and ``steady`` are the sustained figures (the lower
    of the whole window's and its recent half's), so ``is_leaking`` judges only
    growth that has not stopped. ``held`` maps a type name to the bytes one
    instance was measured to keep alive (itself and what only it reaches); a type
    whose instances are added run after run is then charged with what they hold
    (count per run x bytes held each), so a handler that keeps a buffer, or a
    model object that keeps its weights, ranks beside the strings or arrays it
    holds instead of at its own few dozen bytes. Types defined in st_memwatch
    are skipped.
    """
    found: list[tuple[int, Suspect]] = []
    for (kind, name), points in series.items():
        if kind == "type" and name.startswith(OWN_PREFIX):
            continue
        pts = list(points)
        xs = [float(p[0]) for p in pts]
        counts = [float(p[1]) for p in pts]
        sizes = [float(p[2]) for p in pts]
        if len(pts) < 3 or (sizes[-1] <= sizes[0] and counts[-1] <= counts[0]):
            continue
        g_bytes = growth_after_warmup(xs, sizes, th)
        g_count = growth_after_warmup(xs, counts, th)
        if g_bytes is None or g_count is None:
            continue
        b_slope, share = g_bytes.sustained_slope, g_bytes.sustained_share
        c_slope = g_count.sustained_slope
        per_instance = (held or {}).get(name) if kind == "type" else None
        charged = False
        if per_instance and c_slope > 0 and c_slope * per_instance > b_slope:
            # Instances are added run after run: judge the count, charge what each holds.
            b_slope, share, charged = c_slope * per_instance, g_count.sustained_share, True
        elif c_slope > 0:
            share = max(share, g_count.sustained_share)
        if b_slope <= 0 and c_slope <= 0:
            continue
        cache = (caches or {}).get(name) if kind == "cache" else None
        advice, action = advice_for(kind, name, cache, per_instance if charged else None)
        found.append(
            (
                owners.specificity(kind, charged),
                Suspect(
                    kind=kind,
                    name=name,
                    growth_bytes_per_run=b_slope,
                    growth_count_per_run=c_slope,
                    steady=share,
                    bytes_now=int(sizes[-1]),
                    count_now=int(counts[-1]),
                    advice=advice,
                    action=action,
                ),
            )
        )
    ranked = owners.rank(
        found, lambda s: s.growth_bytes_per_run, TIE, group=lambda s: is_leaking(s, th), then=lambda s: s.growth_count_per_run
    )
    return _point_types_to_their_holder(tuple(ranked[:top]), th)


def _point_types_to_their_holder(suspects: tuple[Suspect, ...], th: Thresholds) -> tuple[Suspect, ...]:
    """A type that grows by about what a cache or session_state key above it grows is that holder's content.

    Its own advice ("create them once with st.cache_resource") would point away from the
    real fix; it is sent to the holder's instead.
    """
    holders = [s for s in suspects if s.kind != "type" and is_leaking(s, th)]
    if not holders:
        return suspects
    out = []
    for s in suspects:
        holder = next(
            (h for h in holders if s.kind == "type" and abs(s.growth_bytes_per_run - h.growth_bytes_per_run) <= 2 * TIE * h.growth_bytes_per_run),
            None,
        )
        if holder is not None:
            advice, action = owners.contents_advice(owners.label(holder.kind, holder.name), holder.action)
            s = replace(s, advice=advice, action=action)
        out.append(s)
    return tuple(out)


def is_leaking(suspect: Suspect, th: Thresholds = Thresholds()) -> bool:
    """Sustained growth after warm-up: steady enough, and enough bytes per run."""
    return suspect.steady >= th.min_steady and suspect.growth_bytes_per_run >= th.min_suspect_bytes_per_run


def growth_hint(growth: Sequence[TypeGrowth], runs_between: float, th: Thresholds = Thresholds()) -> Suspect | None:
    """The type that grew most between the last two censuses, as a provisional cause.

    A verdict on a type needs several censuses, and a live census is rare (it costs
    CPU, so it runs a few times a minute at most): for the first runs of a leak the
    RSS verdict comes first. The difference of two censuses already says where the
    bytes went; it names the cause until the suspects can (never a verdict).
    """
    if runs_between < 1:
        return None
    for g in growth:
        if g.type_name.startswith(OWN_PREFIX):
            continue
        per_run = g.bytes_delta / runs_between
        if per_run < th.min_suspect_bytes_per_run:
            return None  # ranked by bytes: nothing further down qualifies either
        advice, action = advice_for("type", g.type_name, None)
        return Suspect("type", g.type_name, per_run, g.count_delta / runs_between, 0.0, g.bytes, g.count, advice, action)
    return None


def diagnosis(verdict: Verdict | None, rss_now: int, limit_bytes: int, th: Thresholds = Thresholds()) -> tuple[Finding, ...]:
    """The panel's one box: the state (over the limit / limit soon / growing / high usage),
    one rate, the cause and the fix once. Empty when there is nothing to say.

    The box of a leak keeps the code ``steady-growth`` whatever its state, so that an
    episode that escalates toward the limit does not toast again.
    """
    share = rss_now / limit_bytes if limit_bytes else 0.0
    limit = format_bytes(limit_bytes)
    cause = verdict.cause if verdict is not None else ""
    fix = verdict.fix if verdict is not None else ""
    action = verdict.action if verdict is not None else ""
    if verdict is not None and verdict.leak:
        rate = f"+{format_bytes(verdict.bytes_per_run)} per run"
        since = f" since run {verdict.since_run}" if verdict.since_run is not None else ""
        runs_left, secs_left = verdict.runs_to_limit, verdict.seconds_to_limit
        soon = (runs_left is not None and runs_left < SHORT_RUNS) or (secs_left is not None and secs_left < SHORT_SECONDS)
        if share >= 1.0:
            message = f"Over the limit: {format_bytes(rss_now)} of {limit}, a container would already have ended this app; memory grows {rate}."
        elif soon:
            when = [f"~{runs_left:.0f} runs" for _ in [0] if runs_left is not None]
            if secs_left is not None:
                when.append(f"~{max(1.0, secs_left / 60):.0f} min")
            message = f"Limit in {' / '.join(when)}: memory grows {rate}{since} ({share:.0%} of {limit} now)."
        else:
            message = f"Memory grows steadily: {rate}{since}."
        level: Level = "error" if share >= th.red or soon else "warning"
        stage = 3 if share >= 1.0 else 2 if runs_left is not None and runs_left <= 5 else 1 if runs_left is not None and runs_left <= 25 else 0
        return (Finding(level, "steady-growth", message, cause, fix or "", action, stage),)
    visitors = _visitor_finding(verdict, share, th)
    if visitors is not None:
        return (visitors,)
    if share >= 1.0:
        return (Finding("error", "over-limit", f"Over the limit: {format_bytes(rss_now)} of {limit}, a container would already have ended this app.", "", "", ""),)
    if share >= th.red:
        return (Finding("error", "near-limit", f"Memory is at {share:.0%} of the limit ({limit}).", "", "", ""),)
    if share >= th.amber:
        return (Finding("warning", "high-usage", f"Memory is at {share:.0%} of the limit ({limit}).", "", "", ""),)
    return ()


VISITORS_WARN_SHARE = 0.8  # open sessions at this share of what the limit fits: warn


def _visitor_finding(verdict: Verdict | None, share: float, th: Thresholds) -> Finding | None:
    """A per-visitor cost the open sessions bring close to the limit: a capacity warning, not a leak."""
    if verdict is None or not verdict.visitors_fit or verdict.visitors_open is None:
        return None
    fit, opened = verdict.visitors_fit, verdict.visitors_open
    if opened < VISITORS_WARN_SHARE * fit and share < th.amber:
        return None
    each = format_bytes(verdict.per_visitor_bytes)
    message = f"~{each} per visitor: the limit fits ~{fit} at once; {opened} open."
    action = ("Share what every session loads with @st.cache_resource or @st.cache_data instead of keeping a "
              "copy in st.session_state, and keep per-visitor data small or on disk.")
    level: Level = "error" if opened >= fit or share >= th.red else "warning"
    return Finding(level, "per-visitor", message, f"each new session adds ~{each}", f"Each visitor's session costs ~{each}: {action[:1].lower()}{action[1:]}", action, 1 if level == "warning" else 2)


def census_note(status: CensusStatus) -> str:
    """The census line of the details: what the last census did, or why it did not run."""
    st = status
    if st.state == "none":
        return "no census yet"
    if st.state == "spaced-out":
        return (
            f"census spaced out: listing ~{st.tracked:,} objects holds the app for ~{st.pause_s * 1000:.0f} ms "
            f"(limit {st.pause_limit_s * 1000:.0f} ms), so at most one a minute; last one {st.since_s:.0f} s ago"
        )
    if st.state == "interrupted":
        return "census interrupted by a script run; it runs again in the next quiet moment"
    if st.state == "cut-short":
        return f"census cut short by its {st.cpu_s * 1000:.0f} ms budget before counting; will retry"
    if st.tracked_only:
        note = (
            f"full census too slow for ~{st.tracked:,} objects (~{st.cost_s * 1000:.0f} ms, "
            f"budget {st.budget_s * 1000:.0f} ms): counting gc-tracked objects only"
        )
    else:
        state = "complete" if st.complete else "partial (time budget reached)"
        note = f"census of {st.tracked:,} objects in {st.cpu_s * 1000:.0f} ms CPU, {state}"
    if st.spread:
        note += f"; spaced out to one a minute (listing pauses the app ~{st.pause_s * 1000:.0f} ms)"
    return note


"""Each owner judged by its bound: what a bounded owner fills to, what a visitor costs, when growth is near.

A cache with ``max_entries`` or ``ttl`` fills and stops; a visitor's session costs
what its first run added, times the visitors the limit fits; native memory has no
bound st_memwatch can read, so the type added a few times a run is charged with it;
growth that no owner explains is raised only when the limit is within the horizon.
The judgement reads these to tell a forecast from an alarm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from st_memwatch.core import analysis, owners
from st_memwatch.core.analysis import Point
from st_memwatch.core.limits import format_bytes
from st_memwatch.core.models import CacheUsage, RunRecord
from st_memwatch.core.regime import Regime, pairs_rate, regime_rate

# An alarm for growth no owner explains needs the limit within this horizon at its pace.
HORIZON_RUNS = 300
HORIZON_S = 3600.0
# A visitor that costs less than this is no capacity question.
MIN_VISITOR_BYTES = 4 * 2**20
# A type whose count grows by this many a run (at most) while native memory grows is
# charged native memory's rate over its count's: what each instance keeps outside Python.
NATIVE_OWNER_MAX_PER_RUN = 16.0
# Types that own nothing outside Python, however many a run adds: the interpreter's and the
# framework's own churn (imports, threads, weak references, Streamlit's messages, the fields
# of classes defined at run time).
_CHURNING_MODULES = (
    "builtins.", "typing.", "weakref.", "_thread.", "threading.", "asyncio.", "collections.", "_frozen_importlib",
    "importlib.", "_io.", "abc.", "functools.", "enum.", "inspect.", "ast.", "re.", "tornado.", "starlette.",
    "streamlit.", "google.protobuf.", "concurrent.", "dataclasses.",
)
SeriesKey = tuple[str, str, str]  # (kind, name, session alias): the key of a per-name series
# Owners with a bound (a cache's max_entries or ttl, a deque's maxlen) and the allocator's
# free memory, bounded too, explain a regime when together they added this share of its growth.
BOUNDED_SHARE = 0.75
# ... once the regime has this many steps: a run's freed temporaries land in the free memory at
# its end at once, a jump that says nothing about a trend in the first steps.
BOUNDED_MIN_STEPS = 5


def within_horizon(headroom: float, rate: float, regime: Regime) -> bool:
    """Does growth at ``rate`` reach the limit within the horizon (a few hundred runs, or about an hour)?"""
    if rate <= 0:
        return False
    if headroom / rate <= HORIZON_RUNS:
        return True
    return regime.bytes_per_second > 0 and regime.span_s >= analysis.MIN_SPAN_FOR_TIME_S and headroom / regime.bytes_per_second <= HORIZON_S


def cache_bound(cache: CacheUsage | None, rate: float, regime: Regime) -> tuple[float, str] | None:
    """(bytes the cache still adds before it stops, the forecast in words) for a bounded cache, else None."""
    if cache is None or not cache.bounded or not cache.bytes or cache.entries <= 0:
        return None
    each = cache.bytes / cache.entries
    name = f"cache {cache.function}"
    if cache.max_entries is not None:
        total = each * cache.max_entries
        return max(0.0, total - cache.bytes), f"{name} fills to ~{format_bytes(total)} at max_entries={cache.max_entries}, then stops"
    runs_per_s = (regime.steps - 1) / regime.span_s if regime.span_s > 0 else 0.0
    if cache.ttl_s is None or runs_per_s <= 0:
        return None
    extra = rate * runs_per_s * cache.ttl_s
    return extra, f"{name} holds what ttl={cache.ttl_s:g}s of runs add (~{format_bytes(cache.bytes + extra)}), then its oldest entries expire"


def visitors(
    runs: Sequence[RunRecord], limit_bytes: int, settled: int, open_sessions: int | None, th: analysis.Thresholds
) -> tuple[float, int | None, int | None]:
    """What a visitor costs: the median settled step of new sessions' first runs, and how many the limit fits."""
    done = [r for r in runs if r.outcome != "running"]
    firsts = [
        float(run.rss_after - prev.rss_after)
        for prev, run in zip(done, done[1:], strict=False)
        if run.session_run == 1 and run.run_id > th.process_warmup_runs
    ]
    if len(firsts) < 2:
        return 0.0, None, None
    each = float(np.median(firsts[-12:]))
    if each < MIN_VISITOR_BYTES:
        return max(each, 0.0), None, None
    base = max(0.0, settled - (open_sessions or 0) * each)
    return each, int(max(0.0, limit_bytes - base) // each), open_sessions


def native_owners(
    series: Mapping[SeriesKey, Sequence[Point]], regime: Regime, native_rate: float
) -> dict[str, tuple[float, float]]:
    """The type most likely to own growing native memory: added a few times a run, steadily.

    A Pillow image or a C library's handle is a small Python object whose bytes the
    allocator holds; the fewest added per run (at least one every other run) is charged
    native memory's rate over its count's. Builtins and the interpreter's own churn
    (str, dict, weakrefs, threads) own nothing outside Python.
    """
    if regime.onset_x is None:
        return {}
    best: tuple[str, float] | None = None
    for (kind, name, _session), points in series.items():
        if kind != "type" or "." not in name or name.startswith((owners.OWN_PREFIX, *_CHURNING_MODULES)):
            continue
        got = regime_rate(points, regime.onset_x, column=1)
        if got is None:
            continue
        per_run, share, steps = got
        if not 0.5 <= per_run <= NATIVE_OWNER_MAX_PER_RUN or (steps >= 3 and share < analysis.MIN_STEADY):
            continue
        if best is None or per_run < best[1]:
            best = (name, per_run)
    return {best[0]: (best[1], native_rate / best[1])} if best else {}


def has_bound(kind: str, name: str, caches: Mapping[str, CacheUsage], bounded_keys: Mapping[str, int]) -> bool:
    """Is this owner bounded by what it says of itself: a cache with max_entries or ttl, a deque with a maxlen?"""
    cache = caches.get(name) if kind == "cache" else None
    return (cache is not None and cache.bounded) or (kind == "session_state" and name in bounded_keys)


def _added(pairs: Sequence[tuple[float, float]], onset: float, starts_empty: bool) -> float:
    """What a series added over a regime: its last reading less the last before the regime's first step.

    A series that starts inside the regime started from nothing when ``starts_empty`` (a
    session_state key or a cache created then), else from its first reading.
    """
    if not pairs:
        return 0.0
    before = [b for x, b in pairs if x <= onset - 1]
    base = before[-1] if before else (0.0 if starts_empty else pairs[0][1])
    return max(0.0, float(pairs[-1][1]) - float(base))


def bounded_explanation(
    series: Mapping[SeriesKey, Sequence[Point]],
    regime: Regime,
    caches: Mapping[str, CacheUsage],
    bounded_keys: Mapping[str, int],
    free: Sequence[tuple[float, int]],
    limit_bytes: int,
) -> str:
    """Words for what explains the regime's growth when owners with a bound do; "" when they do not.

    A bounded cache or window that filled inside the regime, then the allocator's free
    memory that RSS keeps climbing with after it (evicted entries are freed chunks glibc
    keeps, in as many arenas as the script's threads used): each stops at its bound,
    so their sum is a forecast, not a leak, once it is most of what RSS added.
    """
    if regime.onset_x is None or not regime.growing or regime.steps < BOUNDED_MIN_STEPS:
        return ""
    onset = regime.onset_x
    grown = regime.bytes_per_run * (regime.last_x - (onset - 1))
    if grown <= 0:
        return ""
    parts: list[tuple[float, str]] = []
    still_to_fill = 0.0
    for (kind, name, _session), points in series.items():
        cache = caches.get(name) if kind == "cache" else None
        if has_bound(kind, name, caches, bounded_keys):
            added = _added([(p[0], p[2]) for p in points], onset, starts_empty=True)
            if added > 0:
                parts.append((added, owners.label(kind, name)))
                bound = cache_bound(cache, regime.bytes_per_run, regime) if cache is not None else None
                still_to_fill += bound[0] if bound is not None else 0.0
    if regime.settled + still_to_fill >= limit_bytes:
        return ""  # a bounded cache whose bound lies past the limit is an alarm, not a forecast
    # The free memory by its trend over the regime's readings, not its ends: the free memory read
    # at a run's end holds that run's freed temporaries, one jump early in the regime.
    kept_free = max(0.0, (pairs_rate(free, regime) or 0.0) * (regime.last_x - (onset - 1)))
    if kept_free > 0:
        parts.append((kept_free, "the allocator's free memory"))
    if sum(b for b, _ in parts) < BOUNDED_SHARE * grown:
        return ""
    parts.sort(key=lambda p: -p[0])
    return " and ".join(f"{label} +{format_bytes(b)}" for b, label in parts)

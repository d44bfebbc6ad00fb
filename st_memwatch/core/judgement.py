"""The one verdict: leak or not, since which run, at what rate, held by what, and the fix.

Every surface (the panel's box, the exports, ``check`` and its JSON, the pytest
helper, metrics, logs) reads this verdict; none judges on its own.

The verdict starts from the current regime of settled memory (``core.regime``):
that memory grows, since when and how fast. Its owners say whose it is and
whether it is an alarm (``core.bounds``): a holder Python can name, native memory
in use, memory the allocator keeps free, or nothing measured.

Why holders are judged over the regime: the RSS rate says *that* memory grows,
the series of caches, session_state keys and object types say *where*. A holder
explains the leak when it grew over the regime by a good share of the RSS rate.
The most specific one (a session_state key or a cache before the array type it
is made of) is named, with its fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from st_memwatch.core import analysis, bounds, owners
from st_memwatch.core.limits import format_bytes
from st_memwatch.core.models import CacheUsage, Holder, RunRecord, Suspect, Trend, Verdict
from st_memwatch.core.regime import (
    DEFAULT_THRESHOLDS,
    LEADING_NOISE,
    LOOKBACK_RUNS,
    Regime,
    eligible,
    find_regime,
    heap_rate,
    pairs_rate,
    regime_rate,
)

# A series point: (run number, count, bytes); a series key (kind, name, session alias) is bounds.SeriesKey.
SeriesKey = bounds.SeriesKey
Point = analysis.Point

# Thresholds (warm-up, the smallest growing step, the smallest holder) are analysis.Thresholds';
# what follows is the shape of the rules. The regime's own are in ``core.regime``, the owners'
# bounds in ``core.bounds``.
# A leak the RSS does not show (freed pages being reused) is called from a series that
# grows over the window, has this many points, and grew at its latest step, taken
# within the last FRESH_RUNS runs: one that stopped growing is not a leak any more.
SUSTAINED_MIN_POINTS = 8
FRESH_RUNS = 8
# A holder explains the leak when it grew by this share of the RSS rate, and at least
# Thresholds.min_suspect_bytes_per_run.
MIN_HOLDER_SHARE = 0.2
# Python's live bytes that grew by less than this share of RSS over the regime (with
# two complete censuses inside it) mean RSS is allocator retention, not live objects.
MIN_HEAP_SHARE = 0.25
HOLDER_OVER_TYPE = 0.5
# The allocator's free memory that grows by this share of RSS's rate explains it: freed
# memory kept for reuse (retention), which is bounded, not a leak.
MIN_FREE_SHARE = 0.5
# Growth no owner explains is a leak once it has lasted this many growing steps: sustained.
UNOWNED_STEPS = 6
GENERIC_FIX = (
    "Load models and big data once with @st.cache_resource, bound caches with ttl=/max_entries=, "
    "and keep large data on disk (Arrow/Parquet) or in a database."
)


def _holder_from_suspect(s: Suspect, rss_rate: float, session: str = "", evidence: str = "") -> Holder:
    share = s.growth_bytes_per_run / rss_rate if rss_rate > 0 else 0.0
    return Holder(
        kind=s.kind,
        name=s.name,
        bytes_per_run=s.growth_bytes_per_run,
        share=share,
        evidence=evidence,
        advice=s.advice,
        action=s.action,
        session=session,
    )


def _with_chain(holder: Holder, chains: Mapping[str, Holder] | None) -> Holder:
    """A type's holder as the place its objects are kept, when references were followed there.

    The place names what to fix; the type's growth stays its evidence.
    """
    chained = chains.get(holder.name) if chains and holder.kind == "type" else None
    if chained is None:
        return holder
    return replace(chained, bytes_per_run=holder.bytes_per_run, share=holder.share, evidence=f"{holder.name} {holder.evidence}",
                   followed=True)


def rank_holders(
    series: Mapping[SeriesKey, Sequence[Point]],
    regime: Regime,
    caches: Mapping[str, CacheUsage],
    held: Mapping[str, float] | None = None,
    chains: Mapping[str, Holder] | None = None,
    th: analysis.Thresholds = DEFAULT_THRESHOLDS,
    native_each: Mapping[str, tuple[float, float]] | None = None,
) -> tuple[Holder, ...]:
    """What holds the regime's growth, most specific first among near-equals.

    ``native_each``: types charged with native memory (``_native_owners``), as (count
    per run, bytes each keeps outside Python).
    """
    if regime.onset_x is None:
        return ()
    rss_rate = regime.bytes_per_run
    floor = max(th.min_suspect_bytes_per_run, MIN_HOLDER_SHARE * rss_rate)
    found: list[tuple[int, Holder]] = []
    for (kind, name, session), points in series.items():
        if kind == "type" and name.startswith(analysis.OWN_PREFIX):
            continue
        # A builtin type's bytes (str, bytes, dict) move with everything the app and the framework
        # do: one census against one before the onset does not date its growth to the onset.
        dated = not (kind == "type" and "." not in name)
        got = regime_rate(points, regime.onset_x, settled_rate=rss_rate if dated else None)
        if got is None:
            continue
        rate, share, steps = got
        each = (held or {}).get(name) if kind == "type" else None
        charged = (native_each or {}).get(name) if kind == "type" else None
        if charged is not None:
            each = charged[1]
        if each:
            counts = [p for p in points if p[0] >= regime.onset_x - 1]
            if len(counts) >= 2 and counts[-1][0] > counts[0][0]:
                per_run = (counts[-1][1] - counts[0][1]) / (counts[-1][0] - counts[0][0])
                rate = max(rate, per_run * each)
        if rate < floor or (steps >= 3 and share < analysis.MIN_STEADY):
            continue
        cache = caches.get(name) if kind == "cache" else None
        advice, action = analysis.advice_for(kind, name, cache, each)
        where = f" of session {session}" if session else ""
        evidence = f"grew {format_bytes(rate)}/run{where} over the last {steps} reading{'s' if steps != 1 else ''}"
        if charged is not None:
            evidence = f"+{charged[0]:.0f} a run, each keeping ~{format_bytes(charged[1])} outside Python"
        share_of_rss = rate / rss_rate if rss_rate > 0 else 0.0
        holder = _with_chain(Holder(kind, name, rate, share_of_rss, evidence, advice, action, session), chains)
        found.append((owners.specificity(holder.kind, measured_holdings=bool(each)), holder))
    return _ranked(found)


def _ranked(found: list[tuple[int, Holder]]) -> tuple[Holder, ...]:
    """By bytes per run; among near-equals (within analysis.TIE x 2) the more specific first.

    A leaf type (numpy.ndarray) that grows by about what a session_state key grows is
    that key's content: it is sent to the key's fix rather than named first.
    """
    tie = 2 * analysis.TIE
    out = owners.rank(found, lambda h: h.bytes_per_run, tie)
    # A place that grows by at least half what a bare type grows is where that type's bytes are
    # kept (the pickled bytes of a cache, the arrays of a session_state list): it is named first.
    for i in range(len(out)):
        if out[i].kind != "type":
            continue
        rate = out[i].bytes_per_run
        place = next((k for k in range(i + 1, len(out)) if _keeps_bytes_of_type(out[k].kind, out[k].bytes_per_run, rate)), None)
        if place is not None:
            out.insert(i, out.pop(place))
    # Native memory holds the buffers of Python objects too (numpy, Pillow pixels): any holder
    # Python can name that grows by at least half as much is what to fix, and comes first.
    natives = [h for h in out if h.kind == "native"]
    for h in natives:
        named_by_python = [k for k, o in enumerate(out) if o.kind != "native" and o.bytes_per_run >= HOLDER_OVER_TYPE * h.bytes_per_run]
        if named_by_python and out.index(h) < named_by_python[-1]:
            out.remove(h)
            out.insert(named_by_python[-1], h)
    specific = [h for h in out if h.kind not in ("type", "native")]
    result: list[Holder] = []
    named: set[tuple[str, str, str]] = set()
    for h in out:
        if (h.kind, h.name, h.session) in named:
            continue  # two growing types followed to one holder (a model's objects and its arrays)
        named.add((h.kind, h.name, h.session))
        match = next(
            (s for s in specific if h.kind == "type" and abs(h.bytes_per_run - s.bytes_per_run) <= tie * s.bytes_per_run),
            None,
        )
        if match is not None:
            advice, action = owners.contents_advice(holder_label(match), match.action)
            h = replace(h, advice=advice, action=action)
        result.append(h)
    return tuple(result)


def holder_label(h: Holder) -> str:
    """How a holder is named to people (``owners.label``): ``st.session_state['messages']``, ``cache load_frame``, ..."""
    return owners.label(h.kind, h.name)


def judge(
    runs: Sequence[RunRecord],
    series: Mapping[SeriesKey, Sequence[Point]],
    caches: Mapping[str, CacheUsage],
    limit_bytes: int,
    *,
    first_x: float = 1.0,
    heap: Sequence[tuple[float, int]] = (),
    held: Mapping[str, float] | None = None,
    chains: Mapping[str, Holder] | None = None,
    hint: Suspect | None = None,
    th: analysis.Thresholds = DEFAULT_THRESHOLDS,
    suspects: Sequence[Suspect] | None = None,
    own: Mapping[float, int] | None = None,
    free: Sequence[tuple[float, int]] = (),
    open_sessions: int | None = None,
    bounded_keys: Mapping[str, int] | None = None,
) -> Verdict:
    """The verdict from the recorded series; see the module docstring for the rules.

    ``heap`` holds (run number, live bytes) of complete censuses; ``held`` the bytes
    one instance of a type keeps alive (check measures it); ``chains`` a holder found
    by following references from a type's objects; ``hint`` the type that grew most
    between the last two censuses, the provisional cause while nothing else is named.
    The sustained series (``th``'s window) decide a leak the RSS does not show yet
    (freed pages being reused). ``own``: RSS growth during the monitor's own work, by run
    number (see ``find_regime``). ``free``: (run number, bytes the C allocator keeps free)
    at runs' ends; with the native series (kind "native") it says whose memory grows
    when Python objects do not. ``open_sessions``: sessions open now, for the per-visitor
    cost and how many visitors the limit fits. ``bounded_keys``: session_state keys whose
    value bounds itself (a deque's maxlen), which fill and stop.
    """
    in_use = {p[0]: p[2] for key, points in series.items() if key[0] == "native" for p in points}
    regime = find_regime(runs, first_x, own, th, in_use)
    holders: tuple[Holder, ...] = ()
    charged: dict[str, tuple[float, float]] = {}
    if regime.growing:
        holders = rank_holders(series, regime, caches, held, chains, th)
        if holders and holders[0].kind == "native":
            # Memory outside Python grows: a type added a few times a run is charged with it,
            # so the search can follow its objects to the place that keeps them.
            charged = bounds.native_owners(series, regime, holders[0].bytes_per_run)
            if charged:
                holders = rank_holders(series, regime, caches, held, chains, th, charged)
    leak, reason, rate = False, "no growth in the current regime", 0.0
    live_rate: float | None = None
    if regime.warming_up:
        reason = "warming up: the first runs of the process and of each session are not judged"
    if regime.growing:
        rate = regime.bytes_per_run
        since = f"since run {regime.onset_x:.0f}"
        live_rate = heap_rate(heap, regime)
        free_rate = pairs_rate(free, regime)
        headroom_now = limit_bytes - regime.settled
        named_by_python = any(h.kind not in ("type", "native") for h in holders)
        native_led = bool(holders) and (holders[0].kind == "native" or holders[0].name in charged)
        retention = free_rate is not None and free_rate >= MIN_FREE_SHARE * rate
        sustained_steps = regime.growing_steps >= UNOWNED_STEPS
        early = regime.onset_x is not None and regime.onset_x <= th.early_onset_runs
        if named_by_python:
            leak = True
            reason = f"memory grows {format_bytes(rate)}/run {since} ({regime.growing_steps} of {regime.steps} runs grew)"
        elif native_led:
            # Native memory has no bound st_memwatch can read: an alarm once it lasts, or sooner if the limit is near.
            leak = sustained_steps or bounds.within_horizon(headroom_now, rate, regime)
            reason = f"native memory outside Python objects grows {format_bytes(rate)}/run {since}"
            if not leak:
                reason += ": an alarm once it lasts or nears the limit"
        elif live_rate is not None and live_rate >= MIN_HEAP_SHARE * rate:
            leak = True  # Python's live bytes grow with it, measured by two complete censuses
            reason = f"memory grows {format_bytes(rate)}/run {since} ({regime.growing_steps} of {regime.steps} runs grew)"
        elif live_rate is None and not early:
            # An object type (no container named yet) or nothing, Python's heap not measured over
            # the regime, after a quiet start: a leak at once.
            leak = True
            reason = f"memory grows {format_bytes(rate)}/run {since} ({regime.growing_steps} of {regime.steps} runs grew)"
        elif live_rate is None and not retention and sustained_steps and regime.last_x > th.early_runs:
            # The same from the server's first runs: once it lasts past them (the warm-up of
            # Streamlit's buffers and the allocator's arenas stops before, and so does a bounded
            # cache or window, whose arrays or bytes are the type that grows until its own series
            # names it), unless the allocator's free memory explains it: a bounded cache's evicted
            # entries are freed memory glibc keeps, and RSS climbs on for a while after it is full.
            leak = True
            reason = f"memory grows {format_bytes(rate)}/run {since} ({regime.growing_steps} of {regime.steps} runs grew)"
        elif retention:
            reason = (f"RSS grows ({format_bytes(rate)}/run {since}) while the allocator's free memory grows by "
                      f"{format_bytes(free_rate or 0.0)}/run: freed memory kept for reuse (bounded), not a leak")
        elif sustained_steps and bounds.within_horizon(headroom_now, rate, regime):
            leak = True
            reason = (f"memory outside Python objects grows {format_bytes(rate)}/run {since}, and no measured "
                      "owner (Python objects, native memory in use, the allocator's free memory) explains it")
            advice, action = owners.advice("native", owners.NATIVE_NAME)
            holders = (Holder("native", owners.NATIVE_NAME, rate, 1.0, "no owner measured explains the growth", advice, action),)
        else:
            reason = (f"RSS grows ({format_bytes(rate)}/run {since}) but no owner does: growth with no owner "
                      "is a leak once it lasts and nears the limit")
    if suspects is None:
        suspects = suspects_for_details(series, caches, th, held)
    # Native memory is in RSS at once: the regime judges it, not the sustained rule for what RSS hides.
    sustained = tuple(
        s for s in suspects
        if s.kind != "native" and analysis.is_leaking(s, th) and _still_growing(series, s, regime.last_x, regime.last_growth_x, th)
    )
    if not leak and sustained:
        sustained = _place_first(sustained, suspects)
        top = sustained[0]
        leak, rate = True, top.growth_bytes_per_run
        reason = f"{top.kind} {top.name} grows {format_bytes(rate)}/run in {top.steady:.0%} of runs (RSS has not shown it yet)"
        holders = tuple(_with_chain(_holder_from_suspect(s, rate, evidence="sustained over the window"), chains) for s in sustained)
    if leak and not holders and hint is not None:
        holders = (_holder_from_suspect(hint, rate, evidence="grew most between the last two censuses"),)
    forecast = ""
    if leak and holders and holders[0].kind == "cache":
        bound = bounds.cache_bound(caches.get(holders[0].name), holders[0].bytes_per_run, regime)
        if bound is not None and regime.settled + bound[0] < limit_bytes:
            # A bounded cache filling up stops at its bound: a forecast, not an alarm, unless it reaches the limit.
            leak, forecast = False, bound[1]
            reason = f"{forecast}: a forecast, not a leak"
    if leak and holders and holders[0].kind == "session_state" and holders[0].name in (bounded_keys or {}):
        # A per-visitor window (a deque with a maxlen) fills and stops: a cost per visitor, not a leak.
        key = holders[0].name
        leak, forecast = False, f"st.session_state[{key!r}] keeps at most {(bounded_keys or {})[key]} items, then stops"
        reason = f"{forecast}: a forecast, not a leak"
    if leak and regime.growing and not _unbounded_place(holders, caches, bounded_keys or {}):
        explained = bounds.bounded_explanation(series, regime, caches, bounded_keys or {}, free, limit_bytes)
        if explained:
            # Each owner by its own bound: what filled to a bound, and the freed memory the allocator
            # keeps after it, stop by themselves; no place Python can name grows without one.
            leak, forecast = False, f"owners that stop at a bound explain the growth: {explained}"
            reason = f"RSS grows ({format_bytes(regime.bytes_per_run)}/run since run {regime.onset_x:.0f}), and {forecast}: a forecast, not a leak"
    headroom = max(0, limit_bytes - regime.settled)
    runs_left = headroom / rate if leak and rate > 0 else None
    secs_left = (
        headroom / regime.bytes_per_second
        if leak and regime.growing and regime.bytes_per_second > 0 and regime.span_s >= analysis.MIN_SPAN_FOR_TIME_S
        else None
    )
    visitor = bounds.visitors(runs, limit_bytes, regime.settled, open_sessions, th)
    named = holders[0] if holders else None
    cause = ""
    if named is not None:
        # No figure of its own: the box quotes one rate, the verdict's; the details show the holder's readings.
        cause = holder_label(named)
        if named.session:
            cause += f" in session {named.session}"
        if named.evidence.startswith("grew most between"):
            cause += ", which grew most between the last two censuses"
    return Verdict(
        leak=leak,
        reason=reason,
        bytes_per_run=rate,
        bytes_per_second=regime.bytes_per_second if leak and regime.growing else 0.0,
        since_run=int(regime.onset_x) if leak and regime.onset_x is not None else None,
        runs_in_regime=regime.steps if leak else 0,
        runs_to_limit=runs_left,
        seconds_to_limit=secs_left,
        holders=holders,
        cause=cause,
        fix=named.advice if named else (GENERIC_FIX if leak else ""),
        action=named.action if named else "",
        warming_up=regime.warming_up,
        settled=regime.settled,
        forecast=forecast,
        per_visitor_bytes=visitor[0],
        visitors_fit=visitor[1],
        visitors_open=visitor[2],
        python_bytes_per_run=live_rate,
    )


def _unbounded_place(holders: Sequence[Holder], caches: Mapping[str, CacheUsage], bounded_keys: Mapping[str, int]) -> bool:
    """Is a place Python can name among the holders, with no bound?

    Not a bare type, not native memory, and not a library's registry that was found only by
    following a sample of a type's objects: a sample of a bounded cache's pickled bytes has
    been followed into a standard-library module's internal cache. The app's own places
    found that way (a module global, a logger's handlers) stay evidence of a leak.
    """
    return any(
        h.kind not in ("type", "native")
        and not (h.followed and h.kind == "registry")
        and not bounds.has_bound(h.kind, h.name, caches, bounded_keys)
        for h in holders
    )


def _still_growing(
    series: Mapping[SeriesKey, Sequence[Point]], suspect: Suspect, last_x: float, rss_grew_at: float | None, th: analysis.Thresholds
) -> bool:
    """Enough points, and growth at the latest two steps, measured within the last FRESH_RUNS runs.

    A step grows when it adds at least LEADING_NOISE of what the suspect's rate predicts
    for it, in bytes for a suspect that grows by bytes (a few more small arrays of the
    framework's own are no step of an 8 MiB-a-run leak), else in count. When RSS grew
    and then went flat, the series must have grown since (between two readings taken
    after its last growing run): a census from the days of the leak does not keep it
    alive once RSS says it stopped.
    """
    points = max((p for (k, n, _), p in series.items() if k == suspect.kind and n == suspect.name), key=len, default=())
    if len(points) < SUSTAINED_MIN_POINTS:
        return False
    fresh = points[-1][0] >= last_x - FRESH_RUNS and (rss_grew_at is None or points[-2][0] > rss_grew_at)
    by_bytes = suspect.growth_bytes_per_run >= th.min_suspect_bytes_per_run
    rate = suspect.growth_bytes_per_run if by_bytes else suspect.growth_count_per_run
    column = 2 if by_bytes else 1

    def grew(a: Point, b: Point) -> bool:
        return b[column] - a[column] >= max(LEADING_NOISE * rate * (b[0] - a[0]), 1)

    return fresh and rate > 0 and grew(points[-3], points[-2]) and grew(points[-2], points[-1])


def _keeps_bytes_of_type(kind: str, rate: float, type_rate: float) -> bool:
    """A place (not a bare type) growing by at least ``HOLDER_OVER_TYPE`` of a bare type's rate keeps that type's bytes."""
    return kind != "type" and rate >= HOLDER_OVER_TYPE * type_rate


def _place_first(sustained: tuple[Suspect, ...], suspects: Sequence[Suspect]) -> tuple[Suspect, ...]:
    """A bare type first, and a place that trends up by at least half as much: the place is named.

    The rule ``_ranked`` applies to holders, for the sustained rule: a cache's pickled
    bytes can grow as ``bytes`` on every run while the cache's own series falls short
    of the steadiness bar (a reading missed or late on a loaded machine); the place is
    still where those bytes are, its fix is the one to give, and the widget-bound
    forecast reads it. Native memory is never put first here: the sustained rule is for
    what RSS does not show, and native memory is in RSS at once.
    """
    top = sustained[0]
    if top.kind != "type":
        return sustained
    place = next((s for s in suspects if s.kind != "native"
                  and _keeps_bytes_of_type(s.kind, s.growth_bytes_per_run, top.growth_bytes_per_run)), None)
    if place is None:
        return sustained
    return (place, *(s for s in sustained if s is not place))


def suspects_for_details(
    series: Mapping[SeriesKey, Sequence[Point]],
    caches: Mapping[str, CacheUsage],
    th: analysis.Thresholds = DEFAULT_THRESHOLDS,
    held: Mapping[str, float] | None = None,
) -> tuple[Suspect, ...]:
    """Everything that trends up over the window, leaking or not: the sustained rule ``check`` was tuned on.

    Several sessions' series of one session_state key: the longest speaks for the key.
    """
    flat: dict[tuple[str, str], Sequence[Point]] = {}
    for (kind, name, _session), points in series.items():
        if len(flat.get((kind, name), ())) < len(points):
            flat[(kind, name)] = points
    return analysis.find_suspects(flat, caches, th, held=held)


def trend_of(verdict: Verdict, runs: Sequence[RunRecord], first_x: float = 1.0, th: analysis.Thresholds = DEFAULT_THRESHOLDS) -> Trend | None:
    """The panel's trend line: the verdict's rate over its regime, or "flat" over the runs judged."""
    if verdict.warming_up:
        return None
    if verdict.leak:
        return Trend(max(verdict.runs_in_regime, 1), verdict.bytes_per_run, verdict.bytes_per_second,
                     verdict.runs_to_limit, verdict.seconds_to_limit, 0.0)
    judged = [r for r in runs[-LOOKBACK_RUNS:] if r.outcome != "running" and eligible(r, th)]
    span = (judged[-1].started_at - judged[0].started_at) if len(judged) > 1 else 0.0
    return Trend(len(judged), 0.0, 0.0, None, None, span)

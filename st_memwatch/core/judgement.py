"""The one verdict: leak or not, since which run, at what rate, held by what, and the fix.

Every surface (the panel's box, the exports, ``check`` and its JSON, the pytest
helper, metrics, logs) reads this verdict; none judges on its own.

Why a regime, not a window: a deployed app is quiet for hours before a leak
starts. A fit over the last N runs mixes that quiet past with the leak, so the
leak shows late and at a fraction of its rate, and lingers after it stops. The
verdict looks at the steps of settled memory (RSS at each run's end) and finds
the current regime: the latest stretch in which most steps grow. Its onset is
where that stretch starts, its rate is fitted over it alone, and four flat steps
end it.

Why warm-up is per process and per session: a process's first runs import
modules and fill caches, and a new session's first run builds that session's
objects. Those steps are not growth; they are left out of every regime.

Why holders are judged over the regime: the RSS rate says *that* memory grows,
the series of caches, session_state keys and object types say *where*. A holder
explains the leak when it grew over the regime by a good share of the RSS rate.
The most specific one (a session_state key or a cache before the array type it
is made of) is named, with its fix.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from st_memwatch.core import analysis, owners
from st_memwatch.core.limits import format_bytes
from st_memwatch.core.models import CacheUsage, Holder, RunRecord, Suspect, Trend, Verdict

# A series point: (run number, count, bytes); a series key: (kind, name, session alias).
SeriesKey = tuple[str, str, str]
Point = analysis.Point

# Thresholds (warm-up, the smallest growing step, the smallest holder) are analysis.Thresholds';
# what follows is the shape of the rules.
MIN_GROWING_STEPS = 3  # a regime needs this many growing steps before it is a leak
MIN_REGIME_SHARE = 0.7  # share of growing steps over the regime
STOPPED_STEPS = 4  # this many flat steps in a row end a regime
RESET_DROP_BYTES = 32 * 2**20  # a drop this large (something big was freed) ends one too
LEADING_NOISE = 0.5  # a step under this share of the latest growing steps' median does not grow
# A leak the RSS does not show (freed pages being reused) is called from a series that
# grows over the window, has this many points, and grew at its latest step, taken
# within the last FRESH_RUNS runs: one that stopped growing is not a leak any more.
SUSTAINED_MIN_POINTS = 8
FRESH_RUNS = 8
LOOKBACK_RUNS = 120  # the regime is searched for in the latest runs only
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
# A type whose count grows by this many a run (at most) while native memory grows is
# charged native memory's rate over its count's: what each instance keeps outside Python.
NATIVE_OWNER_MAX_PER_RUN = 16.0
# An alarm for growth no owner explains needs the limit within this horizon at its pace.
HORIZON_RUNS = 300
HORIZON_S = 3600.0
# A visitor that costs less than this is no capacity question.
MIN_VISITOR_BYTES = 4 * 2**20
_CHURNING_MODULES = ("builtins.", "typing.", "weakref.", "_thread.", "threading.", "asyncio.", "collections.")
DEFAULT_THRESHOLDS = analysis.Thresholds()
GENERIC_FIX = (
    "Load models and big data once with @st.cache_resource, bound caches with ttl=/max_entries=, "
    "and keep large data on disk (Arrow/Parquet) or in a database."
)


@dataclass(frozen=True, slots=True)
class Regime:
    """The current stretch of settled memory: growing or not, since which run, how fast."""

    growing: bool
    onset_x: float | None  # run number of the regime's first growing step
    last_x: float
    steps: int  # eligible steps in the regime
    growing_steps: int
    bytes_per_run: float
    bytes_per_second: float
    span_s: float
    warming_up: bool  # too few eligible steps yet to judge at all
    settled: int  # settled RSS at the last run
    last_growth_x: float | None = None  # the last growing run of a stretch RSS says has stopped


def _eligible(run: RunRecord, th: analysis.Thresholds) -> bool:
    """Is this run's step judged? Not the process's warm-up, not a session's first runs."""
    if run.run_id <= th.process_warmup_runs:
        return False
    return not (0 < run.session_run <= th.session_warmup_runs)


def find_regime(
    runs: Sequence[RunRecord], first_x: float = 1.0, own: Mapping[float, int] | None = None, th: analysis.Thresholds = DEFAULT_THRESHOLDS
) -> Regime:
    """The latest regime of the finished ``runs`` (in the order they ended; ``first_x`` is the first's number).

    A run's step (settled RSS after it, less after the run before it) is that run's doing
    when runs do not overlap. A rise that RSS's growth during st_memwatch's own work since
    the run before explains (``own``: bytes by the number of the run after which the work
    was done) neither starts a regime nor keeps a stopped one alive: a census or a sizing
    of a big heap leaves a MiB or two of freed pages behind, the monitor's footprint, not
    the app's growth. Otherwise steps count as measured, rate and share included (the app
    reuses those pages next, so taking them off would count them twice). When the process's
    steps do not grow steadily, each session's own steps are judged too: a leak in one
    visitor's session, interleaved with another visitor's quiet runs, grows in every run of
    its own session and in only some of the process's. Its rate is then per run of that session.
    """
    done = [(first_x + i, r) for i, r in enumerate(runs) if r.outcome != "running"][-LOOKBACK_RUNS:]
    settled = done[-1][1].rss_after if done else 0
    last_x = done[-1][0] if done else 0.0
    steps: list[tuple[float, float, float]] = []  # (x, step, end time) for eligible steps
    sessions: dict[str, list[tuple[float, float, float]]] = {}
    own = own or {}
    min_step = th.min_rss_bytes_per_run
    ours: set[float] = set()  # steps the monitor's own growth explains
    for (prev_x, prev), (x, run) in zip(done, done[1:], strict=False):
        if _eligible(run, th):
            step = (x, float(run.rss_after - prev.rss_after), run.started_at + run.duration_s)
            if _explained_by_own_work(step[1], own, prev_x, x, min_step):
                ours.add(x)
            steps.append(step)
            sessions.setdefault(run.session, []).append(step)
    whole = _regime_of(steps, last_x, settled, ours, min_step)
    if whole.growing or len(sessions) < 2:
        return whole
    for session_steps in sessions.values():
        mine = _regime_of(session_steps, last_x, settled, ours, min_step)
        if mine.growing:
            return replace(mine, last_growth_x=whole.last_growth_x)
    return whole


def _explained_by_own_work(step: float, own: Mapping[float, int], prev_x: float, x: float, min_step: float) -> bool:
    """Is this rise no larger (within ``min_step``) than what RSS grew during the monitor's own work since the run before?"""
    ours = sum(own.get(k, 0) for k in range(int(prev_x), int(x)))
    return ours > 0 and 0 < step <= ours + min_step


def _growing_steps(steps: Sequence[tuple[float, float, float]], ours: Collection[float], min_step: float) -> tuple[list[bool], list[bool]]:
    """Which steps grow, and which grow by the app's doing: the one test of growth the regime and its stop read.

    A step "grows" when it is at least ``min_step`` and a fair share of the latest growing
    steps: a quiet past's small rises (a lazy import, a first fill) then read as flat beside
    a leak's, so they neither start its regime nor dilute its rate. A rise the monitor's own
    work explains grows, but not by the app's doing: it cannot start or prolong a regime.
    """
    latest = [d for _, d, _ in steps if d >= min_step][-STOPPED_STEPS:]
    if not latest:
        return [False] * len(steps), [False] * len(steps)
    floor = max(min_step, LEADING_NOISE * float(np.median(latest)))
    grows = [d >= floor for _, d, _ in steps]
    return grows, [g and x not in ours for g, (x, _, _) in zip(grows, steps, strict=True)]


def _regime_of(
    steps: Sequence[tuple[float, float, float]], last_x: float, settled: int, ours: Collection[float], min_step: float
) -> Regime:
    """The latest regime of these steps (the process's, or one session's); ``ours``: the x of steps that cannot start one.

    A stretch that has stopped (flat lately, growing just before) is not growing; it keeps
    its last growing run (``last_growth_x``), after which any census evidence of growth
    must have been taken.
    """
    quiet = Regime(False, None, last_x, 0, 0, 0.0, 0.0, 0.0, len(steps) < 2, settled)
    if len(steps) < MIN_GROWING_STEPS:
        return quiet
    grows, app_grows = _growing_steps(steps, ours, min_step)
    if not any(grows):
        return quiet
    if len(grows) >= STOPPED_STEPS and not any(app_grows[-STOPPED_STEPS:]):
        recent = app_grows[-3 * STOPPED_STEPS :]
        stopped_after = len(recent) > STOPPED_STEPS and sum(recent) >= MIN_GROWING_STEPS
        last = next((x for (x, _, _), g in zip(reversed(steps), reversed(app_grows), strict=True) if g), None)
        return replace(quiet, last_growth_x=last if stopped_after else None)
    # The regime starts after the last quiet stretch (STOPPED_STEPS flat steps in a row) or
    # large drop (something big was freed); within it, at the earliest growing step from
    # which the share of growing steps to the end holds.
    start, flat = 0, 0
    for i in range(len(steps) - 1, -1, -1):
        if steps[i][1] <= -RESET_DROP_BYTES:
            start = i + 1
            break
        flat = 0 if app_grows[i] else flat + 1
        if flat >= STOPPED_STEPS:
            start = i + STOPPED_STEPS
            break
    onset, count = None, 0
    for i in range(len(steps) - 1, start - 1, -1):
        count += grows[i]
        if app_grows[i] and count / (len(steps) - i) >= MIN_REGIME_SHARE:
            onset = i
    if onset is None or count == 0:
        return quiet
    regime = steps[onset:]
    n_growing = sum(grows[onset:])
    # The rate is the regime's median step: its typical growth per run. A mean or a fit
    # is pulled by the odd large step (a list re-allocating, a census's temporaries) and,
    # while freed pages are being reused, by the flat steps between the growing ones.
    per_run = float(np.median([d for _, d, _ in regime]))
    span = regime[-1][2] - regime[0][2] if len(regime) > 1 else 0.0
    per_s = per_run * (len(regime) - 1) / span if span > 0 else 0.0
    growing = n_growing >= MIN_GROWING_STEPS and per_run >= min_step
    return Regime(growing, regime[0][0], last_x, len(regime), n_growing, per_run, per_s, span, False, settled)


def _regime_rate(points: Sequence[Point], onset_x: float, column: int = 2) -> tuple[float, float, int] | None:
    """(bytes per run, share of growing steps, steps) of one series over the regime (``column`` 1: its count).

    The base is the last point before the onset when there is one, so that a holder
    read only every few runs still has a growth to show from the first readings.
    """
    latest: dict[float, Point] = {}
    for p in points:  # a reading taken mid-run files at the last run's number: the newest per run counts
        latest[p[0]] = p
    points = list(latest.values())
    before = [p for p in points if p[0] < onset_x]
    inside = [p for p in points if p[0] >= onset_x]
    pts = ([before[-1]] if before else []) + inside
    if len(pts) < 2:
        return None
    xs = [p[0] for p in pts]
    ys = [float(p[column]) for p in pts]
    if xs[-1] <= xs[0]:
        return None
    rate = analysis.theil_sen(xs, ys) if len(pts) >= 4 else (ys[-1] - ys[0]) / (xs[-1] - xs[0])
    share = analysis.steady_share(ys)
    return rate, share, len(pts) - 1


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
    return replace(chained, bytes_per_run=holder.bytes_per_run, share=holder.share, evidence=f"{holder.name} {holder.evidence}")


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
        got = _regime_rate(points, regime.onset_x)
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
        place = next((k for k in range(i + 1, len(out)) if out[k].kind != "type" and out[k].bytes_per_run >= HOLDER_OVER_TYPE * rate), None)
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
    regime = find_regime(runs, first_x, own, th)
    holders: tuple[Holder, ...] = ()
    charged: dict[str, tuple[float, float]] = {}
    if regime.growing:
        holders = rank_holders(series, regime, caches, held, chains, th)
        if holders and holders[0].kind == "native":
            # Memory outside Python grows: a type added a few times a run is charged with it,
            # so the search can follow its objects to the place that keeps them.
            charged = _native_owners(series, regime, holders[0].bytes_per_run)
            if charged:
                holders = rank_holders(series, regime, caches, held, chains, th, charged)
    leak, reason, rate = False, "no growth in the current regime", 0.0
    if regime.warming_up:
        reason = "warming up: the first runs of the process and of each session are not judged"
    if regime.growing:
        rate = regime.bytes_per_run
        since = f"since run {regime.onset_x:.0f}"
        live_rate = heap_rate(heap, regime)
        free_rate = _pairs_rate(free, regime)
        headroom_now = limit_bytes - regime.settled
        named_by_python = any(h.kind not in ("type", "native") for h in holders)
        native_led = bool(holders) and (holders[0].kind == "native" or holders[0].name in charged)
        if named_by_python or (not native_led and (live_rate is None or live_rate >= MIN_HEAP_SHARE * rate)):
            leak = True
            reason = f"memory grows {format_bytes(rate)}/run {since} ({regime.growing_steps} of {regime.steps} runs grew)"
        elif native_led:
            # Native memory has no bound st_memwatch can read: an alarm once it lasts, or sooner if the limit is near.
            leak = regime.growing_steps >= UNOWNED_STEPS or _within_horizon(headroom_now, rate, regime)
            reason = f"native memory outside Python objects grows {format_bytes(rate)}/run {since}"
            if not leak:
                reason += ": an alarm once it lasts or nears the limit"
        elif free_rate is not None and free_rate >= MIN_FREE_SHARE * rate:
            reason = (f"RSS grows ({format_bytes(rate)}/run {since}) while the allocator's free memory grows by "
                      f"{format_bytes(free_rate)}/run: freed memory kept for reuse (bounded), not a leak")
        elif regime.growing_steps >= UNOWNED_STEPS and _within_horizon(headroom_now, rate, regime):
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
        top = sustained[0]
        leak, rate = True, top.growth_bytes_per_run
        reason = f"{top.kind} {top.name} grows {format_bytes(rate)}/run in {top.steady:.0%} of runs (RSS has not shown it yet)"
        holders = tuple(_with_chain(_holder_from_suspect(s, rate, evidence="sustained over the window"), chains) for s in sustained)
    if leak and not holders and hint is not None:
        holders = (_holder_from_suspect(hint, rate, evidence="grew most between the last two censuses"),)
    forecast = ""
    if leak and holders and holders[0].kind == "cache":
        bound = _cache_bound(caches.get(holders[0].name), holders[0].bytes_per_run, regime)
        if bound is not None and regime.settled + bound[0] < limit_bytes:
            # A bounded cache filling up stops at its bound: a forecast, not an alarm, unless it reaches the limit.
            leak, forecast = False, bound[1]
            reason = f"{forecast}: a forecast, not a leak"
    if leak and holders and holders[0].kind == "session_state" and holders[0].name in (bounded_keys or {}):
        # A per-visitor window (a deque with a maxlen) fills and stops: a cost per visitor, not a leak.
        key = holders[0].name
        leak, forecast = False, f"st.session_state[{key!r}] keeps at most {(bounded_keys or {})[key]} items, then stops"
        reason = f"{forecast}: a forecast, not a leak"
    headroom = max(0, limit_bytes - regime.settled)
    runs_left = headroom / rate if leak and rate > 0 else None
    secs_left = (
        headroom / regime.bytes_per_second
        if leak and regime.growing and regime.bytes_per_second > 0 and regime.span_s >= analysis.MIN_SPAN_FOR_TIME_S
        else None
    )
    visitor = _visitors(runs, limit_bytes, regime.settled, open_sessions, th)
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
    )


def _within_horizon(headroom: float, rate: float, regime: Regime) -> bool:
    """Does growth at ``rate`` reach the limit within the horizon (a few hundred runs, or about an hour)?"""
    if rate <= 0:
        return False
    if headroom / rate <= HORIZON_RUNS:
        return True
    return regime.bytes_per_second > 0 and regime.span_s >= analysis.MIN_SPAN_FOR_TIME_S and headroom / regime.bytes_per_second <= HORIZON_S


def _cache_bound(cache: CacheUsage | None, rate: float, regime: Regime) -> tuple[float, str] | None:
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


def _visitors(
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


def _native_owners(
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
        got = _regime_rate(points, regime.onset_x, column=1)
        if got is None:
            continue
        per_run, share, steps = got
        if not 0.5 <= per_run <= NATIVE_OWNER_MAX_PER_RUN or (steps >= 3 and share < analysis.MIN_STEADY):
            continue
        if best is None or per_run < best[1]:
            best = (name, per_run)
    return {best[0]: (best[1], native_rate / best[1])} if best else {}


def _pairs_rate(pairs: Sequence[tuple[float, int]], regime: Regime) -> float | None:
    """Bytes per run of a (run number, bytes) series over the regime, from the last reading before it on."""
    if regime.onset_x is None:
        return None
    inside = [(x, b) for x, b in pairs if x >= regime.onset_x - 1]
    if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
        return None
    xs, ys = [x for x, _ in inside], [float(b) for _, b in inside]
    return analysis.theil_sen(xs, ys) if len(xs) >= 4 else (ys[-1] - ys[0]) / (xs[-1] - xs[0])


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


def heap_rate(heap: Sequence[tuple[float, int]], regime: Regime) -> float | None:
    """Live Python bytes per run over the regime, from two or more complete censuses inside it.

    With four or more, the rate that still holds lately (the lower of the regime's and its
    recent half's): a window that filled early in the regime (a deque reaching its maxlen)
    and then stayed flat does not vouch for RSS that keeps creeping up.
    """
    if regime.onset_x is None:
        return None
    inside = [(x, b) for x, b in heap if x >= regime.onset_x - 1]
    if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
        return None
    if len(inside) < 4:
        return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])
    xs, ys = [x for x, _ in inside], [float(b) for _, b in inside]
    half = len(xs) // 2
    return min(analysis.theil_sen(xs, ys), analysis.theil_sen(xs[half:], ys[half:]))


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
    judged = [r for r in runs[-LOOKBACK_RUNS:] if r.outcome != "running" and _eligible(r, th)]
    span = (judged[-1].started_at - judged[0].started_at) if len(judged) > 1 else 0.0
    return Trend(len(judged), 0.0, 0.0, None, None, span)

"""The current regime of settled memory: growing or not, since which run, how fast; and rates over it.

Why a regime, not a window: a deployed app is quiet for hours before a leak
starts. A fit over the last N runs mixes that quiet past with the leak, so the
leak shows late and at a fraction of its rate, and lingers after it stops. The
steps of settled memory (RSS at each run's end) are read for the current regime:
the latest stretch in which most steps grow. Its onset is where that stretch
starts, its rate is its typical step, and four flat steps end it. One test of
growth (``_growing_steps``) decides both where a regime starts and whether it
stopped, so the two never disagree.

Why warm-up is per process and per session: a process's first runs import
modules and fill caches, and a new session's first run builds that session's
objects. Those steps are not growth; they are left out of every regime.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from st_memwatch.core import analysis
from st_memwatch.core.analysis import Point
from st_memwatch.core.models import RunRecord

MIN_GROWING_STEPS = 3  # a regime needs this many growing steps before it is a leak
MIN_REGIME_SHARE = 0.7  # share of growing steps over the regime
STOPPED_STEPS = 4  # this many flat steps in a row end a regime
RESET_DROP_BYTES = 32 * 2**20  # a drop this large (something big was freed) ends one too
LEADING_NOISE = 0.5  # a step under this share of the latest growing steps' median does not grow
LOOKBACK_RUNS = 120  # the regime is searched for in the latest runs only
DEFAULT_THRESHOLDS = analysis.Thresholds()


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


def eligible(run: RunRecord, th: analysis.Thresholds) -> bool:
    """Is this run's step judged? Not the process's warm-up, not a session's first runs."""
    if run.run_id <= th.process_warmup_runs:
        return False
    return not (0 < run.session_run <= th.session_warmup_runs)


def find_regime(
    runs: Sequence[RunRecord],
    first_x: float = 1.0,
    own: Mapping[float, int] | None = None,
    th: analysis.Thresholds = DEFAULT_THRESHOLDS,
    in_use: Mapping[float, int] | None = None,
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
    ``in_use``: the C allocator's bytes in use at each run's end, by run number. A step in
    which they grew by half the step or more is the app's allocation, whatever the monitor's
    work left behind: freed temporaries are free memory, never memory in use.
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
        if eligible(run, th):
            step = (x, float(run.rss_after - prev.rss_after), run.started_at + run.duration_s)
            if _explained_by_own_work(step[1], own, prev_x, x, min_step) and not _allocated(in_use, prev_x, x, step[1]):
                ours.add(x)
            steps.append(step)
            sessions.setdefault(run.session, []).append(step)
    whole = _regime_of(steps, last_x, settled, ours, min_step)
    if whole.growing:
        return whole
    for session_steps in sessions.values() if len(sessions) > 1 else ():
        mine = _regime_of(session_steps, last_x, settled, ours, min_step)
        if mine.growing:
            return replace(mine, last_growth_x=whole.last_growth_x)
    return whole


def _allocated(in_use: Mapping[float, int] | None, prev_x: float, x: float, step: float) -> bool:
    """Did the allocator's bytes in use grow by at least half of this step between the two runs' ends?"""
    if not in_use or prev_x not in in_use or x not in in_use:
        return False
    return in_use[x] - in_use[prev_x] >= 0.5 * step


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


# A holder's first reading in a regime is dated from the run before the onset only when what
# it added is no more than this many times what settled memory added meanwhile.
DATED_BASE_SLACK = 1.5


def regime_rate(
    points: Sequence[Point], onset_x: float, column: int = 2, settled_rate: float | None = None
) -> tuple[float, float, int] | None:
    """(bytes per run, share of growing steps, steps) of one series over the regime (``column`` 1: its count).

    From the last reading before the onset on, so that a holder read only every few runs
    still has a growth to show from its first reading in the regime. With ``settled_rate``
    (settled memory's bytes per run in the regime) and a single reading inside, that base
    counts as taken at the run before the onset (memory held still until then) when what
    the holder added is no more than settled memory added since: a census from before a
    quiet stretch then does not spread the first step over the quiet runs, while a series
    that grew more than memory did (freed pages reused, a reading that caught transients)
    keeps its own span. From the second reading inside on, each reading counts at its own
    run: the readings inside then carry the regime's growth, and a rate from two readings
    close together would swing with whatever each caught.
    """
    latest: dict[float, Point] = {}
    for p in points:  # a reading taken mid-run files at the last run's number: the newest per run counts
        latest[p[0]] = p
    points = list(latest.values())
    before = [p for p in points if p[0] < onset_x]
    inside = [p for p in points if p[0] >= onset_x]
    pts = ([before[-1]] if before else []) + inside
    xs = [p[0] for p in pts]
    if settled_rate is not None and before and len(inside) == 1:
        added = float(pts[1][column]) - float(pts[0][column])
        settled_added = settled_rate * (xs[1] - (onset_x - 1))
        if 0 < added <= DATED_BASE_SLACK * settled_added:
            xs[0] = max(xs[0], onset_x - 1)
    if len(pts) < 2:
        return None
    ys = [float(p[column]) for p in pts]
    if xs[-1] <= xs[0]:
        return None
    rate = analysis.theil_sen(xs, ys) if len(pts) >= 4 else (ys[-1] - ys[0]) / (xs[-1] - xs[0])
    share = analysis.steady_share(ys)
    return rate, share, len(pts) - 1


def pairs_rate(pairs: Sequence[tuple[float, int]], regime: Regime) -> float | None:
    """Bytes per run of a (run number, bytes) series over the regime, from the last reading before it on."""
    if regime.onset_x is None:
        return None
    inside = [(x, b) for x, b in pairs if x >= regime.onset_x - 1]
    if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
        return None
    xs, ys = [x for x, _ in inside], [float(b) for _, b in inside]
    return analysis.theil_sen(xs, ys) if len(xs) >= 4 else (ys[-1] - ys[0]) / (xs[-1] - xs[0])


def heap_rate(heap: Sequence[tuple[float, int]], regime: Regime) -> float | None:
    """Live Python bytes per run over the regime, from two or more complete censuses inside it.

    With three or more, the rate that still holds lately (the lower of the regime's and its
    recent part's): a window that filled early in the regime (a deque reaching its maxlen)
    and then stayed flat does not vouch for RSS that keeps creeping up.
    """
    if regime.onset_x is None:
        return None
    inside = [(x, b) for x, b in heap if x >= regime.onset_x - 1]
    if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
        return None
    if len(inside) < 4:
        # Two censuses: their slope; three: the lower of that and the last pair's, for the same reason.
        whole = (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])
        if len(inside) == 3 and inside[-1][0] > inside[1][0]:
            return min(whole, (inside[-1][1] - inside[1][1]) / (inside[-1][0] - inside[1][0]))
        return whole
    xs, ys = [x for x, _ in inside], [float(b) for _, b in inside]
    half = len(xs) // 2
    return min(analysis.theil_sen(xs, ys), analysis.theil_sen(xs[half:], ys[half:]))

"""When background work may run, and the census's own policy: spread out, tracked-only, given way.

The monitor stores what is recorded and judges it; this module decides when the
costly readings happen, so that watching an app never becomes its load. Each kind
of work has a ``Throttle``: it runs only while its cost stays under a share of the
elapsed time. The census has more rules than a throttle (``CensusScheduler``):

- listing the heap (``gc.get_objects()``) holds the interpreter lock and cannot be
  cut into chunks; when that pause would exceed its limit, the census runs at most
  once every ``spread_s`` (spread out, never skipped for good, and each census
  re-measures the pause, which a busy moment inflates);
- a heap too large to walk within the budget gets a census of gc-tracked objects
  only: comparable counts and bytes at a fraction of the cost;
- a census on the sampler thread stops the moment a script run starts.

What happened is kept as a ``CensusStatus`` (data); ``analysis.census_note`` words it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from st_memwatch.core import probes
from st_memwatch.core.models import CensusResult

CENSUS_SPREAD_S = 60.0  # a census whose listing pause exceeds the limit runs at most this often


@dataclass(slots=True)
class Throttle:
    """Lets a task run only while its cost stays under ``duty`` of elapsed time."""

    duty: float = 0.05
    min_interval_s: float = 1.0
    last_at: float = float("-inf")
    last_cost_s: float = 0.0

    def due(self, now: float) -> bool:
        wait = max(self.min_interval_s, self.last_cost_s / self.duty if self.duty > 0 else 0.0)
        return now - self.last_at >= wait

    def done(self, now: float, cost_s: float) -> None:
        self.last_at = now
        self.last_cost_s = cost_s


CensusState = Literal["none", "done", "spaced-out", "interrupted", "cut-short"]


@dataclass(frozen=True, slots=True)
class CensusStatus:
    """What the last census attempt did, as figures; ``analysis.census_note`` words it."""

    state: CensusState = "none"
    tracked: int = 0  # objects listed (done) or estimated (spaced out)
    cpu_s: float = 0.0
    complete: bool = True
    tracked_only: bool = False  # the heap was too big for a full census in the budget
    cost_s: float = 0.0  # estimated cost of a full census, when tracked_only
    budget_s: float = 0.0
    pause_s: float = 0.0  # estimated listing pause, when it exceeds the limit
    pause_limit_s: float = 0.0
    since_s: float = 0.0  # since the last census, when spaced out
    spread: bool = False  # this census ran, but such censuses run once a minute at most


class CensusScheduler:
    """Decides whether a census runs now, in which form, and runs it (see the module docstring)."""

    def __init__(self, clock: Callable[[], float], heap_blocks_now: Callable[[], int], budget_s: float, pause_limit_s: float,
                 duty: float, min_interval_s: float) -> None:
        self._clock = clock
        self._heap_blocks_now = heap_blocks_now
        self.budget_s = budget_s
        self.pause_limit_s = pause_limit_s
        self.throttle = Throttle(duty, min_interval_s)
        self.last_at = float("-inf")
        self._blocks_at = 0
        self._tracked_at = 0
        self.status = CensusStatus()

    def estimated_tracked(self) -> int | None:
        """Tracked objects now, scaled from the last census by the allocator's block count (far cheaper than listing them)."""
        if not self._blocks_at or not self._tracked_at:
            return None
        return int(self._tracked_at * max(self._heap_blocks_now(), 1) / self._blocks_at)

    def take(self, every_run: bool, cancel: Callable[[], bool] | None) -> CensusResult | None:
        """One census if the app can afford it now; None (with ``status`` saying why) when not."""
        from st_memwatch.core import census  # deferred: the census is only needed once runs happen

        if every_run:
            return self._taken(census.take_census(None), False, 0.0, False)
        budget = self.budget_s
        tracked = self.estimated_tracked()
        spread = False
        pause = 0.0
        if tracked is not None:
            pause = census.estimate_pause_s(tracked)
            if pause > self.pause_limit_s:
                since = self._clock() - self.last_at
                if since < CENSUS_SPREAD_S:
                    self.status = CensusStatus("spaced-out", tracked, pause_s=pause, pause_limit_s=self.pause_limit_s, since_s=since)
                    self.throttle.done(self._clock(), 0.0)
                    return None
                spread = True
        cost = census.estimate_cost_s(tracked) if tracked is not None else 0.0
        tracked_only = tracked is not None and cost > budget * 4
        result = census.take_census(budget, untracked=not tracked_only, cancel=cancel)
        if cancel is not None and cancel():
            self.throttle.done(self._clock(), result.cpu_s)
            self.status = CensusStatus("interrupted")
            return None
        return self._taken(result, tracked_only, cost, spread, pause)

    def _taken(self, result: CensusResult, tracked_only: bool, cost: float, spread: bool, pause: float = 0.0) -> CensusResult | None:
        self.throttle.done(self._clock(), result.cpu_s)
        if not result.stats:  # cut before it counted anything: the previous figures stand
            self.status = CensusStatus("cut-short", cpu_s=result.cpu_s)
            return None
        self.last_at = self._clock()
        self._blocks_at = probes.heap_blocks()
        self._tracked_at = result.tracked_objects
        self.status = CensusStatus(
            "done", result.tracked_objects, result.cpu_s, result.complete, tracked_only, cost, self.budget_s,
            pause, self.pause_limit_s, spread=spread,
        )
        return result

    def learn(self, result: CensusResult) -> None:
        """A census taken elsewhere (a test, a benchmark) is the new reference for the estimates."""
        self._taken(result, False, 0.0, False)

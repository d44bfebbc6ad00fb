"""Work a run's end owes, done later on the sampler thread: the scheduler of background work.

A run's end only files its record and marks the figures stale; the refit, the
census, the cache sizes and the holder search are owed. The sampler thread pays
the debt at its next tick, once for all the runs that ended meanwhile, and
preferably while no script is running (so it adds no time to any rerun and its
temporaries never count in a run's peak) — but not for ever: an app whose
sessions keep it busy still gets a refit within ``ANALYSIS_MAX_WAIT_S`` and
fresh readings within ``CENSUS_MAX_WAIT_S``. Runs that end back to back (a
script rerunning itself, many visitors) share a refit at most every
``REFIT_EVERY_S``: one sampler tick, so a verdict is never a run late at a
person's pace (a wider spacing saved CPU on a server rerunning back to back, but
made fast clicks read verdicts a run late).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

ANALYSIS_MAX_WAIT_S = 1.0
CENSUS_MAX_WAIT_S = 10.0
REFIT_EVERY_S = 0.1  # one sampler tick (the module docstring says why)


class OwedWork:
    """What the sampler thread owes since a run ended; ``work(x, heavy)`` pays it, one caller at a time."""

    def __init__(self, work: Callable[[float, bool], None]) -> None:
        self._work = work
        self._lock = threading.Lock()
        self._stale_since: float | None = None  # refits owed since
        self._heavy_since: float | None = None  # census / sizes owed since
        self._pending_x = 0.0
        self._paid_at = float("-inf")  # when a tick last paid

    @property
    def owed(self) -> bool:
        return self._stale_since is not None

    def owe(self, now: float, x: float) -> None:
        """A run numbered ``x`` ended at ``now``: its refit and readings are owed."""
        self._pending_x = x
        if self._stale_since is None:
            self._stale_since = now
        if self._heavy_since is None:
            self._heavy_since = now

    def tick(self, now: float, idle: bool) -> None:
        """On the sampler thread: pay what is owed when no script runs, or when it has waited long enough."""
        stale_since = self._stale_since
        if stale_since is None:
            return
        if now - stale_since < ANALYSIS_MAX_WAIT_S and (not idle or now - self._paid_at < REFIT_EVERY_S):
            return
        heavy_since = self._heavy_since if self._heavy_since is not None else now
        self._paid_at = now
        self._pay(heavy=idle or now - heavy_since >= CENSUS_MAX_WAIT_S, wait=False)

    def flush(self) -> None:
        """Pay everything now, waiting for the other thread if it is paying."""
        if self._stale_since is not None:
            self._pay(heavy=True, wait=True)

    def _pay(self, heavy: bool, wait: bool) -> None:
        if not self._lock.acquire(blocking=wait):
            return  # the other thread is doing it
        try:
            if self._stale_since is None:
                return
            self._stale_since = None
            if heavy:
                self._heavy_since = None
            self._work(self._pending_x, heavy)
        finally:
            self._lock.release()

"""The monitor's own footprint: what RSS grows by while st_memwatch itself works.

A census or a sizing of a big heap leaves a MiB or two of freed pages behind. That
rise is the monitor's, not the app's, so it must neither start nor prolong a leak
(``regime.find_regime`` reads it by run number). It is counted only while no
script but the one whose thread does the work is running, so that no app
allocation is ever taken for the monitor's.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class OwnFootprint:
    """RSS growth during the monitor's own work, filed by the run after which it was done (bounded)."""

    def __init__(self, rss: Callable[[], int], active_runs: Callable[[], int], current_run: Callable[[], float], keep: int) -> None:
        self._rss = rss
        self._active_runs = active_runs
        self._current_run = current_run
        self._keep = keep
        self._growth: OrderedDict[float, int] = OrderedDict()
        self._lock = threading.Lock()

    @contextmanager
    def measure(self, runs_allowed: int = 0) -> Iterator[None]:
        """File what RSS grows by during the work inside, when at most ``runs_allowed`` runs are active."""
        before = self._rss() if self._active_runs() <= runs_allowed else None
        try:
            yield
        finally:
            if before is not None and self._active_runs() <= runs_allowed:
                grew = self._rss() - before
                if grew > 0:
                    x = self._current_run()
                    with self._lock:
                        self._growth[x] = self._growth.get(x, 0) + grew
                        while len(self._growth) > self._keep:
                            self._growth.popitem(last=False)

    def by_run(self) -> dict[float, int]:
        """Bytes RSS grew during the monitor's work, by the number of the run after which it was done."""
        with self._lock:
            return dict(self._growth)

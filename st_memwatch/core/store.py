"""The store of series the judgement reads: per-name series, the Python heap by run, census growth.

The monitor files into it from the script thread (a run's end) and the sampler
thread (census, sizes, holder search); the judgement reads consistent copies
under its one lock. Everything here is numbers and names, in numpy rings where a
series grows with runs, so recording adds no objects of its own to the census it
records.
"""

from __future__ import annotations

import threading

from st_memwatch.core import owners, type_growth
from st_memwatch.core.analysis import Point
from st_memwatch.core.models import CensusResult, TypeGrowth
from st_memwatch.core.runstore import PairRing
from st_memwatch.core.series import NameSeries


class SeriesStore:
    """Per-name series, heap totals and the last census, behind one lock."""

    def __init__(self, window: int) -> None:
        self.lock = threading.RLock()
        self.series = NameSeries(window)
        self.dirty = False  # points filed since the last fit
        # Live bytes the census saw, per run: the Python-heap figure beside RSS, so
        # allocator retention (RSS up, live bytes flat) is not called a leak.
        self.heap_totals = PairRing(window * 4)
        # What the C allocator keeps free at runs' ends: retention, told apart from a leak.
        self.free_totals = PairRing(window * 4)
        # Where the memory is, by owner (``core.ledger``), each reading filed by run number.
        self.ledger: dict[str, PairRing] = {}
        self._ledger_window = window * 4
        self._ledger_x = float("-inf")
        self.last_census: CensusResult | None = None
        self.growth: tuple[TypeGrowth, ...] = ()
        self.growth_runs = 0.0  # runs between the two censuses ``growth`` compares
        self.python_heap: int | None = None
        self._census_x = 0.0

    def add(self, kind: str, name: str, x: float, count: int, size: int, session: str = "") -> None:
        """File one point of a series; the next fit sees it."""
        with self.lock:
            self.series.add(kind, name, x, count, size, session)
            self.dirty = True

    def record_census(self, result: CensusResult, x: float) -> bool:
        """File a census: per-type series, the Python-heap figure, and growth against the last comparable one."""
        if not result.stats:
            return False
        with self.lock:
            previous = self.last_census
            self.last_census = result
            if previous is not None and previous.complete == result.complete:
                # A full census against a partial one would report every array as new.
                self.growth = type_growth.diff(previous, result, top=10)
                self.growth_runs = x - self._census_x
            elif previous is not None:
                self.growth, self.growth_runs = (), 0.0
            self._census_x = x
            total = 0
            for stat in result.stats:
                total += stat.bytes
                if not stat.type_name.startswith(owners.OWN_PREFIX):
                    self.series.add("type", stat.type_name, x, stat.count, stat.bytes)
            if result.complete:  # partial censuses miss bytes: their totals are not comparable
                self.heap_totals.append((x, total))
            self.python_heap = total
            self.series.prune("type", {s.type_name for s in result.stats})
        return True

    def record_allocator(self, x: float, in_use: int | None, free: int | None) -> None:
        """File the C allocator's figures at a run's end: in use as the native series, free beside it."""
        with self.lock:
            if in_use is not None:
                self.series.add("native", owners.NATIVE_NAME, x, 0, in_use)
                self.dirty = True
            if free is not None:
                self.free_totals.append((x, free))

    def record_ledger(self, x: float, owners_bytes: dict[str, int]) -> None:
        """File one ledger reading (bytes by owner name) at run ``x``; a second reading at one run replaces the first."""
        with self.lock:
            if x == self._ledger_x:
                return  # one point per run: the first after its end
            self._ledger_x = x
            for owner, size in owners_bytes.items():
                ring = self.ledger.get(owner)
                if ring is None:
                    ring = self.ledger[owner] = PairRing(self._ledger_window)
                ring.append((x, size))

    def ledger_series(self) -> dict[str, list[tuple[float, int]]]:
        """Each owner's bytes by run number, oldest first."""
        with self.lock:
            return {owner: ring.pairs() for owner, ring in self.ledger.items()}

    def points(self) -> dict[tuple[str, str, str], tuple[Point, ...]]:
        """Every per-name series as (run number, count, bytes) points, keyed by (kind, name, session)."""
        with self.lock:
            return self.series.all_points()

    def heap(self) -> list[tuple[float, int]]:
        """Live Python bytes of each complete census, by run number."""
        with self.lock:
            return self.heap_totals.pairs()

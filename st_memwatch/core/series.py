"""Bounded per-name series: what each type, cache and session_state key measured, run by run.

The judgement reads these series; the monitor files into them. They are numpy
rings, not lists of tuples, so that recording adds no Python objects of its own to
the census it records, and a series costs the same whatever its length.
"""

from __future__ import annotations

import sys

import numpy as np

from st_memwatch.core.analysis import Point
from st_memwatch.core.models import SuspectKind


class NameSeries:
    """Bounded per-name series of (run number, count, bytes), one small int64 ring each.

    Keyed by (kind, name, session alias): a session_state key is a series per session,
    so one session's growing key is not drowned by another's. A ring costs a fraction
    of what tuples of boxed numbers would, and it adds no objects of its own
    to the census it records.
    """

    __slots__ = ("window", "data")

    def __init__(self, window: int) -> None:
        self.window = window
        self.data: dict[tuple[str, str, str], list] = {}  # key -> [ring (window, 3), appended]

    def add(self, kind: SuspectKind, name: str, x: float, count: int, size: int, session: str = "") -> None:
        entry = self.data.get((kind, name, session))
        if entry is None:
            entry = self.data[(kind, sys.intern(name), session)] = [np.zeros((self.window, 3), dtype=np.int64), 0]
        n = entry[1]
        if n and entry[0][(n - 1) % self.window][0] == int(x):
            entry[0][(n - 1) % self.window] = (int(x), count, size)  # read again in the same run: the newest counts
            return
        entry[0][n % self.window] = (int(x), count, size)
        entry[1] = n + 1

    def points(self, kind: SuspectKind, name: str, session: str = "") -> list[Point]:
        entry = self.data.get((kind, name, session))
        return [] if entry is None else self._ordered(entry)

    def _ordered(self, entry: list) -> list[Point]:
        ring, n = entry
        rows = ring[:n] if n <= self.window else np.roll(ring, -(n % self.window), axis=0)
        return [(float(x), int(c), int(b)) for x, c, b in rows.tolist()]

    def all_points(self) -> dict[tuple[str, str, str], tuple[Point, ...]]:
        return {key: tuple(self._ordered(entry)) for key, entry in self.data.items()}

    def prune(self, kind: SuspectKind, keep: set[str], session: str = "") -> None:
        for key in [k for k in self.data if k[0] == kind and k[2] == session and k[1] not in keep]:
            del self.data[key]

    def drop_session(self, session: str) -> None:
        for key in [k for k in self.data if k[2] == session]:
            del self.data[key]

    def nbytes(self) -> int:
        return sum(entry[0].nbytes for entry in self.data.values())

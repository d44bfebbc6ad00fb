"""The run history as columns in fixed numpy rings, not a deque of RunRecords.

Why: a RunRecord with its boxed numbers costs several times a row of columns, and every run would add
five ints, two floats and the record itself to the very heap the census watches,
so st_memwatch's own bookkeeping would show up as ``int`` and ``float`` growing
with runs. Columns cost a few dozen bytes per run and add no objects: records are built
on demand for the few runs a snapshot asks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, get_args

import numpy as np

from st_memwatch.core.models import MeasuredBy, PeakSource, RunKind, RunOutcome, RunRecord

_KINDS: tuple[RunKind, ...] = get_args(RunKind)
_OUTCOMES: tuple[RunOutcome, ...] = get_args(RunOutcome)
_PEAKS: tuple[PeakSource, ...] = get_args(PeakSource)
_MEASURED: tuple[MeasuredBy, ...] = get_args(MeasuredBy)
_INTS = ("run_id", "rss_before", "rss_after", "peak", "heap_blocks_after", "session_run")
_FLOATS = ("started_at", "duration_s")
_CODES = (("kind", _KINDS), ("outcome", _OUTCOMES), ("peak_source", _PEAKS), ("measured_by", _MEASURED))


class RunStore:
    """A bounded, oldest-first record of runs with the deque calls the monitor needs."""

    def __init__(self, maxlen: int) -> None:
        if maxlen < 1:
            raise ValueError(f"a run history needs room for at least 1 run, got {maxlen!r}")
        self.maxlen = maxlen
        self._ints = {name: np.zeros(maxlen, dtype=np.int64) for name in _INTS}
        self._floats = {name: np.zeros(maxlen, dtype=np.float64) for name in _FLOATS}
        self._codes = {name: np.zeros(maxlen, dtype=np.uint8) for name, _ in _CODES}
        self._overlapped = np.zeros(maxlen, dtype=np.bool_)
        self._sessions: list[str] = [""] * maxlen  # references to the bridge's interned ids
        self._start = 0
        self._len = 0

    def __len__(self) -> int:
        return self._len

    @property
    def nbytes(self) -> int:
        arrays: list[np.ndarray] = [*self._ints.values(), *self._floats.values(), *self._codes.values(), self._overlapped]
        return sum(int(a.nbytes) for a in arrays) + 8 * self.maxlen

    def append(self, record: RunRecord) -> None:
        if self._len == self.maxlen:
            slot = self._start
            self._start = (self._start + 1) % self.maxlen
        else:
            slot = (self._start + self._len) % self.maxlen
            self._len += 1
        for name, column in self._ints.items():
            column[slot] = getattr(record, name)
        for name, fcolumn in self._floats.items():
            fcolumn[slot] = getattr(record, name)
        for name, values in _CODES:
            self._codes[name][slot] = values.index(getattr(record, name))
        self._overlapped[slot] = record.overlapped
        self._sessions[slot] = record.session

    def extend(self, records: Iterable[RunRecord]) -> None:
        for record in records:
            self.append(record)

    def clear(self) -> None:
        self._start = self._len = 0
        self._sessions = [""] * self.maxlen

    def popleft(self) -> RunRecord:
        if not self._len:
            raise IndexError("pop from an empty run history")
        first = self.records(0, 1)[0]
        self._sessions[self._start] = ""
        self._start = (self._start + 1) % self.maxlen
        self._len -= 1
        return first

    def records(self, first: int = 0, last: int | None = None) -> tuple[RunRecord, ...]:
        """Runs ``first`` to ``last`` (oldest is 0), built as RunRecords now."""
        last = self._len if last is None else min(last, self._len)
        first = max(0, first)
        if first >= last:
            return ()
        if last - first <= 16:  # the panel's usual ask (the last run): plain item reads beat fancy indexing
            slot_list = [(self._start + i) % self.maxlen for i in range(first, last)]
            ints = {name: [column.item(s) for s in slot_list] for name, column in self._ints.items()}
            floats = {name: [column.item(s) for s in slot_list] for name, column in self._floats.items()}
            codes = {name: [values[self._codes[name].item(s)] for s in slot_list] for name, values in _CODES}
            overlapped = [self._overlapped.item(s) for s in slot_list]
        else:
            slots = (np.arange(first, last) + self._start) % self.maxlen
            slot_list = slots.tolist()
            ints = {name: column[slots].tolist() for name, column in self._ints.items()}
            floats = {name: column[slots].tolist() for name, column in self._floats.items()}
            codes = {name: [values[c] for c in self._codes[name][slots].tolist()] for name, values in _CODES}
            overlapped = self._overlapped[slots].tolist()
        sessions = [self._sessions[s] for s in slot_list]
        columns: dict[str, list[Any]] = {**ints, **floats, **codes, "overlapped": overlapped, "session": sessions}
        return tuple(map(RunRecord._make, zip(*(columns[name] for name in RunRecord._fields), strict=True)))

    def last(self, n: int) -> tuple[RunRecord, ...]:
        return self.records(max(0, self._len - n))

    def __iter__(self) -> Iterator[RunRecord]:
        return iter(self.records())

    def __getitem__(self, index: int) -> RunRecord:
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(f"run index {index} out of range (0..{self._len - 1})")
        return self.records(index, index + 1)[0]


class PairRing:
    """A bounded series of (x, value) pairs in two numpy columns (no objects per point)."""

    def __init__(self, maxlen: int) -> None:
        self.maxlen = maxlen
        self._x = np.zeros(maxlen, dtype=np.float64)
        self._v = np.zeros(maxlen, dtype=np.int64)
        self._n = 0

    def __len__(self) -> int:
        return min(self._n, self.maxlen)

    def append(self, pair: tuple[float, int]) -> None:
        slot = self._n % self.maxlen
        self._x[slot], self._v[slot] = pair
        self._n += 1

    def pairs(self) -> list[tuple[float, int]]:
        n = len(self)
        order = np.arange(self._n - n, self._n) % self.maxlen
        return list(zip(self._x[order].tolist(), self._v[order].tolist(), strict=True))

    def __iter__(self) -> Iterator[tuple[float, int]]:
        return iter(self.pairs())

    def __getitem__(self, index: int) -> tuple[float, int]:
        return self.pairs()[index]

"""Containers that gain elements from one look to the next: the holder when no type names one.

The census names a leak by the type that grows; in a heap too big to count within
its budget (a deployed app's reference data) it cannot, and the reference search
has no type to start from. What a leak always does is add to some long-lived list,
dict, set or deque. So while the verdict is a leak nobody is named for, the monitor
looks at the lengths of all gc-tracked containers now and then: one that grew at
the last looks, by elements that together weigh what RSS grows, is where the leak
is kept. The reference search then names it (``module app.kept``).

A look is one pass over ``gc.get_objects()`` with a ``len()`` per container, no
Python-level walk below them; between looks only ids, lengths and a type code are
kept, in numpy arrays. An id reused by a new container of another type is told by
the type code; one of the same type reads as a change of length: a candidate that
the reference search must still tie to a place in the code before it is named.
"""

from __future__ import annotations

import collections
import gc
import itertools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from st_memwatch.core.sizing import DeepSizer

MIN_LEN = 4  # shorter containers are never where a leak of many runs is kept
SAMPLE_ITEMS = 16  # newest elements sized to estimate what one element weighs
_TYPES: dict[type, int] = {list: 1, dict: 2, set: 3, collections.deque: 4, collections.OrderedDict: 5, collections.defaultdict: 6}


@dataclass(frozen=True, slots=True)
class Grown:
    """A container that grew at the last ``streak`` looks; ``obj`` only for the caller's search, never kept."""

    obj: object
    length: int
    added: int  # elements since the previous look
    bytes_each: float  # what one of its newest elements weighs (shallow, with array data)
    streak: int


def _weight(obj: object, *, shallow: bool = False, budget_s: float = 0.005) -> float:
    """What one of the container's newest elements weighs, on average: shallow, or with what it reaches."""
    t = type(obj)
    k = 4 if shallow else SAMPLE_ITEMS
    try:
        if t is list or t is collections.deque:
            items = list(itertools.islice(reversed(obj), k))  # type: ignore[call-overload]
        elif t in (dict, collections.OrderedDict, collections.defaultdict):
            items = list(itertools.islice(reversed(obj.values()), k))  # type: ignore[attr-defined]
        else:
            return 0.0  # a set has no newest
    except RuntimeError:  # changed by another thread meanwhile: weighed at the next look
        return 0.0
    if not items:
        return 0.0
    if shallow:
        return sum(sys.getsizeof(i) for i in items) / len(items)
    size, _ = DeepSizer().measure_many(items, budget_s)
    return size / len(items)


class ContainerWatch:
    """Lengths of the containers at the previous look, to tell which keep growing."""

    def __init__(self) -> None:
        self._ids = np.zeros(0, np.int64)
        self._lens = np.zeros(0, np.int64)
        self._codes = np.zeros(0, np.int8)
        self._streaks = np.zeros(0, np.int16)

    @property
    def has_baseline(self) -> bool:
        """Has a complete look been taken (so that the next one can tell what grew)?"""
        return len(self._ids) > 0

    def look(self, budget_s: float, skip: set[int], clock: Callable[[], float] = time.thread_time, top: int = 3) -> list[Grown]:
        """The ``top`` containers that grew since the last look, by what their new elements weigh.

        A look cut by ``budget_s`` (CPU seconds) returns nothing and keeps the last
        complete one: lengths from half a heap would make the other half look new.
        """
        deadline = clock() + budget_s
        objs = gc.get_objects()
        ids: list[int] = []
        lens: list[int] = []
        codes: list[int] = []
        where: list[int] = []
        types = _TYPES
        for i, obj in enumerate(objs):
            code = types.get(type(obj))
            if code is not None:
                n = len(obj)  # type: ignore[arg-type]
                if n >= MIN_LEN and id(obj) not in skip:
                    ids.append(id(obj))
                    lens.append(n)
                    codes.append(code)
                    where.append(i)
            if not i & 0xFFFF and clock() > deadline:
                objs.clear()
                return []
        new_ids = np.asarray(ids, np.int64)
        order = np.argsort(new_ids)
        new_ids = new_ids[order]
        new_lens = np.asarray(lens, np.int64)[order]
        new_codes = np.asarray(codes, np.int8)[order]
        new_where = np.asarray(where, np.int64)[order]
        streaks = np.zeros(len(new_ids), np.int16)
        if len(self._ids):
            at = np.searchsorted(self._ids, new_ids).clip(0, len(self._ids) - 1)
            same = (self._ids[at] == new_ids) & (self._codes[at] == new_codes)
            grew = same & (new_lens > self._lens[at])
            streaks[grew] = self._streaks[at][grew] + 1
            added = np.where(same, new_lens - self._lens[at], 0)
        else:
            added = np.zeros(len(new_ids), np.int64)
        # Ranked first by what their newest elements weigh shallowly (an array's getsizeof
        # includes its data), then the few heaviest by what those elements keep.
        grown = np.flatnonzero(streaks >= 1)
        heft = {k: int(added[k]) * _weight(objs[int(new_where[k])], shallow=True) for k in grown.tolist()}
        rough = sorted(heft, key=heft.__getitem__, reverse=True)
        out: list[Grown] = []
        for k in rough[: 2 * top]:
            obj = objs[int(new_where[k])]
            out.append(Grown(obj, int(new_lens[k]), int(added[k]), _weight(obj), int(streaks[k])))
        del objs
        self._ids, self._lens, self._codes, self._streaks = new_ids, new_lens, new_codes, streaks
        out.sort(key=lambda g: g.added * g.bytes_each, reverse=True)
        return out[:top]

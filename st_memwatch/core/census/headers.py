"""Object headers read in bulk: the refcount, type and size fields of many objects at once.

Why: a Python statement per object would cost more than the whole of
``objgraph.typestats()``. Where the layout checks pass (CPython 3.10+, 64-bit, with
the GIL), one ``int64`` numpy view spans the address space and every header field
the census needs is a numpy gather on it. Only headers of objects the census holds
a reference to are read (items of its own lists, or the lists themselves), so every
address read belongs to a live object, whatever other threads do meanwhile. Each
layout fact is checked on probe objects once per process; any surprise (another
interpreter, a free-threaded or 32-bit build, a new layout) leaves the census on the
portable road of one C-level call per object, which gives the same figures, slower.

Also here: ids read from an object array's pointer buffer (``IdReader``), and the
reference count that means "a single owner" (measured, never assumed).
"""

from __future__ import annotations

import ctypes
import gc
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Int64s = NDArray[np.int64]


@dataclass
class Layout:
    """The header facts checked on probes: what a reader needs besides the view."""

    single_rc: int = -1  # the refcount of an object found once, as the census reads it
    str_base: int = "".__sizeof__()
    # int digits: 1: |ob_size|, at least 1 (3.11); 2: ob_size >> 3, at least 1 (3.12+);
    # 3: |ob_size| (3.10); 0: ask int.__sizeof__
    int_mode: int = 0


class HeaderReader:
    """A view of the address space for one census, and the checked layout.

    Made afresh per census and dropped after it: nothing that walks the heap between
    censuses (another profiler, the next census) meets an array of 2**48 bytes.
    """

    def __init__(self, layout: Layout) -> None:
        raw = (ctypes.c_uint64 * (1 << 45)).from_address(8)
        #: ``words[(addr >> 3) - 1]`` holds the 8 bytes at ``addr``; no memory is touched until read.
        self.words: Int64s = np.frombuffer(memoryview(raw), np.int64)
        self.layout = layout
        self.single_rc = layout.single_rc
        self.str_base = layout.str_base

    @staticmethod
    def at(o: object) -> int:
        """The key of object ``o``: ``words[key]`` is its type word (at ``id(o) + 8``), so
        ``words[key - 1]`` is its refcount, ``words[key + 1]`` the word at +16 (ob_size,
        str length), ``words[key + 3]`` the word at +32 (list allocated, str state) and
        ``words[key - 3]`` the first word of its gc header."""
        return id(o) >> 3

    def items(self, lst: list[Any]) -> Int64s:
        """Key of each item of ``lst``; valid while ``lst`` is not changed."""
        n = len(lst)
        if not n:
            return np.zeros(0, np.int64)
        k = (int(self.words[self.at(lst) + 2]) >> 3) - 1  # ob_item, at +24
        keys: Int64s = self.words[k : k + n] >> 3
        return keys

    def int_sizes(self, raw: Int64s, basic: Int64s | int, item: Int64s | int) -> Int64s:
        """``int.__sizeof__`` from the ``ob_size`` words of ints, as the checked mode says."""
        mode = self.layout.int_mode
        if mode == 2:
            out: Int64s = basic + item * np.maximum(raw >> 3, 1)
            return out
        digits = np.abs(raw)
        out = basic + item * (digits if mode == 3 else np.maximum(digits, 1))
        return out

    def check(self) -> bool:
        """Verify every layout fact the census relies on, filling ``layout``; False on any surprise."""
        w = self.words
        probes: list[Any] = [1.5, "x", None, [1, 2], (3, 4), 10**30, b"b"]
        if self.items(probes).tolist() != [self.at(o) for o in probes]:
            return False
        if any(int(w[self.at(o)]) != id(type(o)) for o in probes):
            return False
        # A single owner, as seen through the census's own list of referents.
        owner = [float(time.perf_counter())]
        refs = gc.get_referents(owner)
        one = int(w[self.items(refs)[0] - 1])
        owner.append(refs[0])
        two = int(w[self.items(refs)[0] - 1])
        if two != one + 1:
            return False
        self.single_rc = self.layout.single_rc = one
        del owner, refs
        # gc tracking: the gc header's first word is zero exactly for untracked objects
        tracked: list[Any] = [[]]
        untracked: dict[str, int] = {}
        if not gc.is_tracked(tracked) or gc.is_tracked(untracked):
            return False
        if int(w[self.at(tracked) - 3]) == 0 or int(w[self.at(untracked) - 3]) != 0:
            return False
        # list.__sizeof__ reads ``allocated``
        for lst in ([], [1], list(range(100)), [*range(7), 8]):
            if list.__sizeof__(lst) != list.__basicsize__ + 8 * int(w[self.at(lst) + 3]):
                return False
        # object.__sizeof__ of a var-sized object reads ob_size
        for o in ((), (1, 2, 3), b"", b"abc" * 10):
            t = type(o)
            if object.__sizeof__(o) != t.__basicsize__ + t.__itemsize__ * int(w[self.at(o) + 1]):
                return False
        # str: compact + ASCII flags in ``state``, ``length`` next to the hash
        strs = ["", "a", "abc" * 40, "\xe9t\xe9", "\u20ac" * 3, "\U0001f600", "".join(["x", "y"])]
        for s in strs:
            state = int(w[self.at(s) + 3]) & 0xFFFFFFFF
            ascii_compact = state & 0x60 == 0x60
            if ascii_compact != s.isascii() or int(w[self.at(s) + 1]) != len(s):
                return False
            if ascii_compact and s.__sizeof__() != self.str_base + len(s):
                return False
        ints = [0, 1, -1, 2**30, -(2**31), 2**62, 10**40, -(10**80)]
        raw = np.array([int(w[self.at(i) + 1]) for i in ints], np.int64)
        want = [i.__sizeof__() for i in ints]
        for mode in (1, 2, 3):
            self.layout.int_mode = mode
            if (self.int_sizes(raw, int.__basicsize__, int.__itemsize__) == want).all():
                break
        else:
            self.layout.int_mode = 0
        return True


def _layout_here() -> Layout | None:
    """The checked layout, or None when a fact does not hold on this interpreter."""
    if (
        sys.implementation.name != "cpython"
        or sys.maxsize < 1 << 62
        or sys.byteorder != "little"
        or not hasattr(sys, "getrefcount")
        or getattr(sys, "_is_gil_enabled", lambda: True)() is False
    ):
        return None
    try:
        reader = HeaderReader(Layout())
        return reader.layout if reader.check() else None
    except Exception:  # noqa: BLE001 - an unusual build: take the portable road
        return None


class BulkHeaders:
    """Whether this process reads headers in bulk: checked once, given up for good on a surprise."""

    def __init__(self) -> None:
        self._layout: Layout | None = None
        self._checked = False
        self.force_calls = False  # tests set it to compare the two roads

    def reader(self) -> HeaderReader | None:
        """A reader for one census, or None for the portable road."""
        if self.force_calls:
            return None
        if not self._checked:
            self._layout, self._checked = _layout_here(), True
        return HeaderReader(self._layout) if self._layout is not None else None

    def possible(self) -> bool:
        """True where the layout checks pass (whatever ``force_calls`` says)."""
        if not self._checked:
            self._layout, self._checked = _layout_here(), True
        return self._layout is not None

    def in_use(self) -> bool:
        return self._checked and self._layout is not None and not self.force_calls

    def give_up(self) -> None:
        """Read headers no more in this process (an object lay beyond the view)."""
        self._layout, self._checked = None, True


#: The one switch of this process.
BULK = BulkHeaders()


class IdReader:
    """``id`` of each object in an object array, as uint64, without an int per object.

    ``map(id, ...)`` allocates an int per object; an object array's buffer holds the
    very pointers ``id`` returns, so it is read instead (checked against ``id`` on
    first use; any surprise falls back to ``map(id, ...)`` for good).
    """

    def __init__(self) -> None:
        self.from_buffer: bool | None = None  # None: not checked yet

    def __call__(self, arr: NDArray[np.object_]) -> NDArray[np.uint64]:
        n = len(arr)
        if self.from_buffer is not False and n:
            try:
                raw = (ctypes.c_char * (n * arr.itemsize)).from_address(arr.ctypes.data)
                out = np.frombuffer(memoryview(raw), np.uintp).astype(np.uint64)
                del raw
                if self.from_buffer is None:
                    self.from_buffer = int(out[0]) == id(arr[0]) and int(out[-1]) == id(arr[-1])
                if self.from_buffer:
                    return out
            except Exception:  # noqa: BLE001 - an unusual numpy or Python: take the slow road
                self.from_buffer = False
        return np.fromiter(map(id, arr), np.uint64, n)


#: Ids of an object array's items, for this process.
ids_of = IdReader()


def single_owner_refcount() -> int:
    """What ``getrefcount`` reports, read as the portable road reads it, for an object
    with exactly one owner; -1 if that cannot be told from two owners."""
    owner = [float(time.perf_counter())]  # a fresh float, owned by ``owner`` alone
    objs = gc.get_referents(owner)
    one = int(np.fromiter(map(sys.getrefcount, objs), np.int64, 1)[0])
    owner.append(objs[0])
    two = int(np.fromiter(map(sys.getrefcount, objs), np.int64, 1)[0])
    return one if two == one + 1 else -1

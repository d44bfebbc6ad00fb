"""Object-type census: how many live objects of each type, and the bytes behind them.

Why it is built this way:

* ``gc.get_objects()`` lists only gc-tracked containers, but an app's bytes
  mostly sit in objects the collector does not track (numpy arrays, bytes, str,
  numbers, dicts and tuples of atoms). Those are reached through
  ``gc.get_referents`` of the tracked containers, and on through the untracked
  containers among them; object-dtype numpy arrays are entered too, because numpy
  hides their items from the collector.
* No Python statement runs per object: that alone would cost more than the whole
  of ``objgraph.typestats()``. Where the layout checks pass (CPython 3.10+, 64-bit,
  with the GIL), the census reads object headers in bulk (``_Mem``): the items of
  its own lists (``gc.get_objects()``, ``gc.get_referents``) are read as pointers,
  and each object's type, reference count, gc-tracked bit and size field are
  numpy gathers on a view of the address space; type codes come from a
  direct-mapped table of type addresses. Only objects the census holds a
  reference to are read, so every address is a live object's. Elsewhere the same
  steps are C-level ``map``/``compress`` calls (one per object), with the same
  figures, about half as fast.
* De-duplication by ``id`` is the dearest step, so it is skipped for objects that
  can only be reached once: an untracked object whose reference count shows a
  single owner (the count that means so is measured on a probe, not assumed) is
  counted on the spot; only shared ones are sorted by id. Ids are read from an
  object array's pointer buffer, which holds exactly what ``id`` returns, without
  allocating an int per object.
* Sizes come from the type's own C-level ``__sizeof__`` plus the header that
  ``sys.getsizeof`` adds. Types whose instances all have one size are sized once;
  for tuple, bytes, int, list and ASCII str the size field is read from the header
  (each formula is checked against ``__sizeof__`` on probes first); the others are
  grouped by type and their ``__sizeof__`` summed per group. What
  ``sys.getsizeof`` adds to a class differs from class to class, so classes are
  sized by it. Python-level ``__sizeof__`` overrides are bypassed: pandas reports
  a deep size there, which would count column data twice and run arbitrary code. A numpy array that owns its buffer
  reports it in ``__sizeof__``, a view reports its header only; bases are visited
  through ``.base`` so that a base kept alive only by its views is counted, once.
  A foreign buffer under an array (``mmap``, ...) and the buffers of pyarrow
  objects (pandas' default string storage) are counted once per buffer.
* Work is cut into chunks so that no single C call holds the GIL long (the
  server thread keeps answering) and so that the time budget can stop the census
  between chunks; a census cut short says so (``complete=False``). What cannot be
  cut: ``gc.get_objects()`` itself, and ``gc.get_referents`` of one huge container
  (about as long as ``gc.get_objects()`` for a list of that many items).
* Tracked objects are all counted first (a few percent dearer than one pass, for
  cache misses): a census cut among the untracked objects then reports exactly
  what ``untracked=False`` would, figures that stay comparable from one census to
  the next, instead of an arbitrary part of the heap that makes counts jump.
* Automatic collection is paused meanwhile, never triggered: a collection could
  untrack a tuple already counted as tracked and make it count twice.
* Type keys are ``module.QualName`` (``builtins`` dropped), so the same class
  seen in two censuses, or redefined by a Streamlit rerun, lines up under one key.
* Cost, measured by ``benchmarks/bench_census.py`` (``benchmarks/CENSUS.md``): the
  floor of a full census is ``gc.get_objects()`` plus one ``gc.get_referents`` per
  tracked and per untracked container; on an app-like heap (5 references per
  tracked object) that floor alone is about 0.7x ``objgraph.typestats()``, and the
  full census with bytes costs about twice typestats (2.1x at 1M tracked objects).
  ``untracked=False`` gives the cheap census (tracked objects only, with their
  bytes, well under typestats) for callers that cannot afford the full one; it
  reports ``complete=False`` because figures are partial.
* Out of reach of any census: untracked objects held only by the local variables
  of a running function (a frame in progress is no object) and memory that C code
  holds without a Python object.
* ``estimate_cost_s`` uses the cost per tracked object this process paid in its
  last census of the same kind, even one cut short (heaps differ a lot in
  untracked objects per tracked one), seeded by the benchmark. Its input is the
  previous census's size: ``len(gc.get_objects())`` is the census's own floor and
  its longest pause, too dear to pay twice just to decide.
"""

from __future__ import annotations

import copy
import ctypes
import functools
import gc
import math
import sys
import threading
import time
import types
import weakref
from collections.abc import Callable, Iterable, Sequence
from itertools import compress, filterfalse
from operator import itemgetter
from typing import Any

from st_memwatch.core.models import CensusResult, TypeGrowth, TypeStat

__all__ = [
    "DEFAULT_BUDGET_S",
    "diff",
    "estimate_cost_s",
    "estimate_pause_s",
    "last_census_size",
    "take_census",
    "type_name",
]

#: A budget (seconds) for callers that must not stall the app; ``take_census`` has none.
DEFAULT_BUDGET_S = 0.5

_CHUNK = 4096  # tracked objects per step: each C call holds the GIL for about a millisecond
_PART = 16384  # untracked objects per step
_CONSOLIDATE = 1 << 20  # shared-object records kept before merging duplicates
_HAVE_GC = 1 << 14  # Py_TPFLAGS_HAVE_GC, stable since Python 2
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made at run time, with a gc header
_F_CONTAINER = 1  # untracked instances may still hold references (tuple, dict)
_F_NDARRAY = 2
_F_ARROW = 4
_F_CLASS = 8  # a class: has a gc header only if made at run time (tp_is_gc)
_F_MASK = 15  # the flag bits of a props entry (the size kind sits above them)
_BUFFER_REPORTING = (bytes, bytearray)  # their __sizeof__ includes the buffer
_FAST_CHUNK = 1 << 16  # tracked objects per step when headers are read in bulk
_FAST_PART = 1 << 16  # referents per step when headers are read in bulk
# How an instance's size is found when headers are read in bulk (``_Mem``).
_K_FIXED = 0  # one size for every instance
_K_OBJVAR = 1  # object.__sizeof__: basicsize + itemsize * ob_size
_K_LIST = 2  # list.__sizeof__: basicsize + 8 * allocated
_K_STR = 3  # compact ASCII str: ''.__sizeof__() + length; other str are asked
_K_INT = 4  # int: basicsize + itemsize * digits
_K_CALL = 5  # ask the type's C-level __sizeof__, one call per object
_FORCE_SLOW = False  # tests set it to compare the two roads
# Seconds per tracked object before this process has measured its own: full census,
# tracked objects only. Benchmark figures of a Streamlit + pandas + plotly heap on 2 slow
# cores (1.6e-6, 2.5e-7), divided by the speed-up that reading headers in bulk brought on
# bench_census.py's heap (1.9x, 2.2x).
_SEED_COST_S = {True: 8.5e-7, False: 1.15e-7}

_getsizeof = sys.getsizeof
_getrefcount = sys.getrefcount
_is_tracked = gc.is_tracked
_get_referents = gc.get_referents
_object_sizeof = object.__sizeof__
_C_SIZEOF_TYPES = (types.MethodDescriptorType, types.WrapperDescriptorType)
_GC_HEAD = _getsizeof([]) - [].__sizeof__()

# Seconds per tracked object that ``gc.get_objects()`` takes: the longest single pause of
# any census, which no budget can cut (benchmark figure before the first census).
_SEED_FLOOR_S = 7e-8
_last: dict[str, float] = {
    "full": _SEED_COST_S[True],
    "tracked_only": _SEED_COST_S[False],
    "floor": _SEED_FLOOR_S,
    "tracked": -1.0,
}
_fast_ids: list[bool | None] = [None]  # None: not checked yet
_mem_cache: list[Any] = []  # the header reader (or None where it cannot work), once checked
# id(class) -> (weak reference, sizer, fixed bytes, flags, size kind, name): what a census
# learnt of a class, for the next one; entries of dead classes are dropped now and then.
_type_cache: dict[int, tuple[Any, Callable[[Any], int] | None, int, int, int, str]] = {}
_type_cache_pruned_at = [0]
# One census at a time: two at once would only share the GIL, and the second would see
# automatic collection already paused and leave it paused.
_one_at_a_time = threading.Lock()


def type_name(t: type) -> str:
    """The census key of a type: ``module.QualName``, or the bare name for builtins."""
    mod = getattr(t, "__module__", None)
    qual = getattr(t, "__qualname__", None) or getattr(t, "__name__", "?")
    if not isinstance(qual, str):
        qual = str(qual)
    if not isinstance(mod, str) or not mod or mod == "builtins":
        return qual
    return f"{mod}.{qual}"


def _c_sizeof(t: type) -> tuple[Callable[[Any], int], bool]:
    """The nearest C-level ``__sizeof__`` on the MRO, and whether ``sys.getsizeof`` uses it too.

    The second item is False when a Python-level override was stepped over.
    """
    overridden = False
    for klass in t.__mro__:
        d = klass.__dict__.get("__sizeof__")
        if d is None:
            continue
        if isinstance(d, _C_SIZEOF_TYPES):
            return d, not overridden
        overridden = True
    return _object_sizeof, not overridden


def _addresses(np: Any, arr: Any) -> Any:
    """``id`` of each object in the object array ``arr``, as a uint64 array.

    ``map(id, ...)`` allocates an int per object; an object array's buffer holds the
    very pointers ``id`` returns, so it is read instead (checked against ``id`` on
    first use; any surprise falls back to ``map(id, ...)`` for good).
    """
    n = len(arr)
    if _fast_ids[0] is not False and n:
        try:
            raw = (ctypes.c_char * (n * arr.itemsize)).from_address(arr.ctypes.data)
            out = np.frombuffer(raw, np.uintp).astype(np.uint64)
            del raw
            if _fast_ids[0] is None:
                _fast_ids[0] = int(out[0]) == id(arr[0]) and int(out[-1]) == id(arr[-1])
            if _fast_ids[0]:
                return out
        except Exception:  # noqa: BLE001 - an unusual numpy or Python: take the slow road
            _fast_ids[0] = False
    return np.fromiter(map(id, arr), np.uint64, n)


def _single_owner_rc(np: Any) -> int:
    """What ``getrefcount`` reports, read as ``_Census.untracked`` reads it, for an
    object with exactly one owner; -1 if that cannot be told from two owners."""
    owner = [float(time.perf_counter())]  # a fresh float, owned by ``owner`` alone
    objs = _get_referents(owner)
    one = int(np.fromiter(map(_getrefcount, objs), np.int64, 1)[0])
    owner.append(objs[0])
    two = int(np.fromiter(map(_getrefcount, objs), np.int64, 1)[0])
    return one if two == one + 1 else -1


class _Mem:
    """Object headers read in bulk: the refcount, type, size fields of many objects at once.

    One ``int64`` numpy view spans the address space (no memory is touched until read):
    word ``(addr >> 3) - 1`` holds the 8 bytes at ``addr``. Only headers of objects the
    census holds a reference to are read (items of its own lists, or the lists themselves),
    so every address read belongs to a live object, whatever other threads do meanwhile.
    Each layout fact used is checked on probe objects first; any surprise (another
    interpreter, a free-threaded or 32-bit build, a new layout) leaves the census on the
    road of one C call per object, which gives the same figures, slower.
    """

    def __init__(self, np: Any) -> None:
        self.np = np
        self.words: Any = None
        self.single_rc = -1
        self.str_base = "".__sizeof__()
        # int digits: 1: |ob_size|, at least 1 (3.11); 2: ob_size >> 3, at least 1 (3.12+);
        # 3: |ob_size| (3.10); 0: ask int.__sizeof__
        self.int_mode = 0

    def open(self) -> None:
        raw = (ctypes.c_uint64 * (1 << 45)).from_address(8)
        self.words = self.np.frombuffer(raw, self.np.int64)

    def close(self) -> None:
        self.words = None

    def opened(self) -> _Mem:
        """A copy with the view made, for one census: the checked reader kept between
        censuses holds no view, so nothing that walks the heap (another profiler, the next
        census) meets an array of 2**48 bytes."""
        mem = copy.copy(self)
        mem.open()
        return mem

    def at(self, o: Any) -> int:
        """The key of object ``o``: ``words[key]`` is its type word (at ``id(o) + 8``), so
        ``words[key - 1]`` is its refcount, ``words[key + 1]`` the word at +16 (ob_size,
        str length), ``words[key + 3]`` the word at +32 (list allocated, str state) and
        ``words[key - 3]`` the first word of its gc header."""
        return id(o) >> 3

    def items(self, lst: list[Any]) -> Any:
        """Key of each item of ``lst``; valid while ``lst`` is not changed."""
        n = len(lst)
        if not n:
            return self.np.zeros(0, self.np.int64)
        k = (int(self.words[self.at(lst) + 2]) >> 3) - 1  # ob_item, at +24
        return self.words[k : k + n] >> 3

    @classmethod
    def create(cls, np: Any) -> _Mem | None:
        """A checked reader, or None when a layout fact does not hold here (checked once)."""
        if _FORCE_SLOW:
            return None
        if not _mem_cache:
            _mem_cache.append(cls._create(np))
        return _mem_cache[0]

    @classmethod
    def _create(cls, np: Any) -> _Mem | None:
        if (
            sys.implementation.name != "cpython"
            or sys.implementation.name != "cpython"
            or sys.maxsize < 1 << 62
            or sys.byteorder != "little"
            or not hasattr(sys, "getrefcount")
            or getattr(sys, "_is_gil_enabled", lambda: True)() is False
        ):
            return None
        mem = cls(np)
        try:
            mem.open()
            return mem if mem._check() else None
        except Exception:  # noqa: BLE001 - an unusual build: take the slow road
            return None
        finally:
            mem.close()

    def _check(self) -> bool:
        np, w = self.np, self.words
        probes: list[Any] = [1.5, "x", None, [1, 2], (3, 4), 10**30, b"b"]
        if self.items(probes).tolist() != [self.at(o) for o in probes]:
            return False
        if any(int(w[self.at(o)]) != id(type(o)) for o in probes):
            return False
        # A single owner, as seen through the census's own list of referents.
        owner = [float(time.perf_counter())]
        refs = _get_referents(owner)
        one = int(w[self.items(refs)[0] - 1])
        owner.append(refs[0])
        two = int(w[self.items(refs)[0] - 1])
        if two != one + 1:
            return False
        self.single_rc = one
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
        for mode in (1, 2, 3):
            self.int_mode = mode
            raw = np.array([int(w[self.at(i) + 1]) for i in ints], np.int64)
            if (self.int_sizes(raw, int.__basicsize__, int.__itemsize__) == [i.__sizeof__() for i in ints]).all():
                break
        else:
            self.int_mode = 0
        return True

    def int_sizes(self, raw: Any, basic: Any, item: Any) -> Any:
        np = self.np
        if self.int_mode == 2:
            return basic + item * np.maximum(raw >> 3, 1)
        digits = np.abs(raw)
        return basic + item * (digits if self.int_mode == 3 else np.maximum(digits, 1))


def _first_of_each(np: Any, ids: Any) -> Any:
    """Sorted indices that pick each distinct id once."""
    order = np.argsort(ids)
    ids = ids[order]
    first = np.empty(len(ids), bool)
    first[:1] = True
    np.not_equal(ids[1:], ids[:-1], out=first[1:])
    return np.sort(order[first])


def _pick(objs: Sequence[Any], at: list[int]) -> Sequence[Any]:
    """``objs[i] for i in at``, in C."""
    if len(at) > 1:
        return itemgetter(*at)(objs)  # type: ignore[no-any-return]
    return [objs[i] for i in at]


def _arrow_buffers(o: Any) -> Iterable[tuple[int, int]]:
    if hasattr(o, "address") and hasattr(o, "size") and not hasattr(o, "buffers"):
        yield int(o.address), int(o.size)  # a pyarrow.Buffer
    elif hasattr(o, "columns") and not hasattr(o, "buffers"):  # Table / RecordBatch
        for col in o.columns:
            yield from _arrow_buffers(col)
    elif hasattr(o, "chunks"):  # ChunkedArray
        for ch in o.chunks:
            yield from _arrow_buffers(ch)
    else:
        for buf in o.buffers():
            if buf is not None:
                yield int(buf.address), int(buf.size)


class _Types:
    """Per-call type table: code, size method, fixed bytes, flags, name.

    It lives for one census only: holding types across calls would keep classes,
    and through them modules, alive. Types are keyed by address, never hashed: a
    metaclass may define ``__eq__``/``__hash__`` of its own.
    """

    def __init__(self, np_mod: Any) -> None:
        self.np = np_mod
        self.types: list[type] = []  # keeps every registered type (and its address) alive
        self.code_at: dict[int, int] = {}  # id(type) -> code
        self.sizers: list[Callable[[Any], int] | None] = []  # None: all instances one size
        self.fixed: list[int] = []  # bytes every instance has on top of its sizer's figure
        self.flags: list[int] = []
        self.names: list[str] = []
        self._flags_arr: Any = np_mod.zeros(0, np_mod.uint8)
        self._var_arr: Any = np_mod.zeros(0, bool)
        # Type addresses, sorted, and their codes: each object's type code comes from a
        # vectorised binary search instead of a dict lookup per object.
        self._addr: Any = np_mod.zeros(0, np_mod.uint64)
        self._addr_codes: Any = np_mod.zeros(0, np_mod.int32)
        self.mem: _Mem | None = None  # set when headers are read in bulk
        self.kinds: list[int] = []
        self.basic: list[int] = []
        self.item: list[int] = []
        self._kind_arr: Any = np_mod.zeros(0, np_mod.uint8)
        self._basic_arr: Any = np_mod.zeros(0, np_mod.int64)
        self._item_arr: Any = np_mod.zeros(0, np_mod.int64)
        self._gc_arr: Any = np_mod.zeros(0, bool)
        self._props_arr: Any = np_mod.zeros(0, np_mod.uint8)
        # Type address -> code through a direct-mapped table on some address bits, chosen
        # so that known types do not collide; misses (new types) take the sorted search.
        self._h_shift = 4
        self._h_mask = 0
        self._h_key: Any = np_mod.full(1, -1, np_mod.int64)
        self._h_code: Any = np_mod.zeros(1, np_mod.int32)
        self._h_indexed = 0  # types entered in the table so far
        self.ndarray: type | None = getattr(np_mod, "ndarray", None)
        self.arrow: tuple[type, ...] = ()
        pa = sys.modules.get("pyarrow")  # never imported here: only counted if in use
        if pa is not None:
            names = ("Array", "ChunkedArray", "Table", "RecordBatch", "Buffer")
            found = (getattr(pa, n, None) for n in names)
            self.arrow = tuple(t for t in found if isinstance(t, type))

    def __len__(self) -> int:
        return len(self.names)

    def code(self, t: type) -> int:
        return self.code_at[id(t)]

    def flags_array(self) -> Any:
        if len(self._flags_arr) != len(self.flags):
            np = self.np
            self._flags_arr = np.array(self.flags, dtype=np.uint8)
            self._var_arr = np.array([s is not None for s in self.sizers], dtype=bool)
            self._kind_arr = np.array(self.kinds, dtype=np.uint8)
            self._basic_arr = np.array(self.basic, dtype=np.int64)
            self._item_arr = np.array(self.item, dtype=np.int64)
            self._gc_arr = (self._flags_arr & (_F_CONTAINER | _F_CLASS)) == _F_CONTAINER
            self._props_arr = self._flags_arr | (self._kind_arr << 4)
        return self._flags_arr

    def props_array(self) -> Any:
        """Per type code: flags (low 4 bits) and size kind (high 4 bits)."""
        self.flags_array()
        return self._props_arr

    def arrays(self) -> tuple[Any, Any, Any, Any, Any]:
        """flags, kinds, basicsize, itemsize, is-a-gc-type: one entry per type code."""
        self.flags_array()
        return self._flags_arr, self._kind_arr, self._basic_arr, self._item_arr, self._gc_arr

    def var_array(self) -> Any:
        self.flags_array()
        return self._var_arr

    def add(self, t: type, sample: Any) -> None:
        hit = _type_cache.get(id(t))
        if hit is not None and hit[0]() is t:
            self._append(t, *hit[1:])
            return
        sizer: Callable[[Any], int] | None
        sizer, same_as_getsizeof = _c_sizeof(t)
        fixed = _GC_HEAD if t.__flags__ & _HAVE_GC else 0
        if same_as_getsizeof:
            try:  # what sys.getsizeof adds on top of __sizeof__ (gc header, pre-header)
                fixed = max(_getsizeof(sample) - sizer(sample), 0)
            except Exception:  # noqa: BLE001 - a broken __sizeof__ must not stop the census
                pass
        if issubclass(t, type):
            # What sys.getsizeof adds to a class differs from one class to the next (a gc
            # header for classes made at run time; for all of them on some versions): ask it,
            # unless a metaclass overrides __sizeof__ in Python.
            sizer = _getsizeof if same_as_getsizeof else functools.partial(_class_size, sizer)
            fixed = 0
        elif sizer is _object_sizeof and not t.__itemsize__:
            try:  # one size for every instance: no call per object
                fixed += sizer(sample)
                sizer = None
            except Exception:  # noqa: BLE001
                pass
        flags = _F_CONTAINER if t.__flags__ & _HAVE_GC else 0
        if self.ndarray is not None and issubclass(t, self.ndarray):
            flags |= _F_NDARRAY
        if self.arrow and issubclass(t, self.arrow):
            flags |= _F_ARROW
        if issubclass(t, type):
            flags |= _F_CLASS
        kind = _K_CALL
        if sizer is None:
            kind = _K_FIXED
        elif sizer is _object_sizeof and t.__itemsize__:
            kind = _K_OBJVAR
        elif sizer is list.__sizeof__:
            kind = _K_LIST
        elif t is str:
            kind = _K_STR
        elif t is int and self.mem is not None and self.mem.int_mode:
            kind = _K_INT
        name = type_name(t)
        self._append(t, sizer, fixed, flags, kind, name)
        try:  # what was learnt of the class, kept without keeping the class alive
            _type_cache[id(t)] = (weakref.ref(t), sizer, fixed, flags, kind, name)
        except TypeError:
            pass

    def _append(self, t: type, sizer: Callable[[Any], int] | None, fixed: int, flags: int, kind: int, name: str) -> None:
        self.kinds.append(kind)
        self.basic.append(int(t.__basicsize__))
        self.item.append(int(t.__itemsize__))
        self.code_at[id(t)] = len(self.types)
        self.types.append(t)
        self.sizers.append(sizer)
        self.fixed.append(fixed)
        self.flags.append(flags)
        self.names.append(name)

    def codes(self, objs: Sequence[Any]) -> Any:
        """Code of each object's type; registers types not seen before."""
        np = self.np
        ts = np.fromiter(map(type, objs), object, len(objs))
        addr = _addresses(np, ts)
        if len(self._addr):
            at = np.searchsorted(self._addr, addr)
            np.minimum(at, len(self._addr) - 1, out=at)
            if (self._addr[at] == addr).all():
                return self._addr_codes[at]
        code_at = self.code_at
        for i in np.unique(addr, return_index=True)[1].tolist():
            if id(ts[i]) not in code_at:
                self.add(ts[i], objs[i])
        del ts
        self._index()
        return self._addr_codes[np.searchsorted(self._addr, addr)]

    def _index(self) -> None:
        """Rebuild the address lookups after types were added."""
        np = self.np
        all_addr = np.array([id(t) for t in self.types], np.uint64)
        order = np.argsort(all_addr)
        self._addr = all_addr[order]
        self._addr_codes = order.astype(np.int32)
        if self.mem is None:
            return
        addr = all_addr.astype(np.int64)
        if self._h_mask and len(addr) * 8 <= self._h_mask + 1:
            # Room left: add the new types to free slots; a new type whose slot is taken
            # takes the sorted search instead.
            new = addr[self._h_indexed :]
            slots = (new >> self._h_shift) & self._h_mask
            free = self._h_key[slots] == -1
            slots, first = np.unique(slots[free], return_index=True)
            self._h_key[slots] = new[free][first]
            self._h_code[slots] = (np.flatnonzero(free)[first] + self._h_indexed).astype(np.int32)
            self._h_indexed = len(addr)
            return
        bits = min(max(12, (len(addr) * 32 - 1).bit_length()), 20)
        mask = (1 << bits) - 1
        best = (len(addr) + 1, 4)
        for shift in range(3, 13):  # the bits that tell the known types apart best
            slots = (addr >> shift) & mask
            clashes = len(slots) - len(np.unique(slots))
            best = min(best, (clashes, shift))
            if not clashes:
                break
        self._h_shift, self._h_mask = best[1], mask
        slots = (addr >> best[1]) & mask
        self._h_key = np.full(1 << bits, -1, np.int64)
        self._h_code = np.zeros(1 << bits, np.int32)
        self._h_key[slots] = addr  # on a clash the last one wins; the others miss
        self._h_code[slots] = np.arange(len(addr), dtype=np.int32)
        self._h_indexed = len(addr)

    def codes_at(self, tp: Any, sample: Callable[[int], Any]) -> Any:
        """Code of each type address in ``tp``; ``sample(i)`` is an object of type ``tp[i]``,
        used to register types not seen before."""
        np = self.np
        h = tp >> self._h_shift
        h &= self._h_mask
        codes = self._h_code.take(h)
        miss = np.flatnonzero(self._h_key.take(h) != tp)
        if not len(miss):
            return codes
        mt = tp[miss].view(np.uint64)
        if len(self._addr):
            at = np.minimum(np.searchsorted(self._addr, mt), len(self._addr) - 1)
            found = self._addr[at] == mt
        else:
            at, found = np.zeros(len(mt), np.intp), np.zeros(len(mt), bool)
        if not found.all():
            code_at = self.code_at
            new = np.flatnonzero(~found)
            for i in np.unique(mt[new], return_index=True)[1].tolist():
                o = sample(int(miss[new[i]]))
                if id(type(o)) not in code_at:
                    self.add(type(o), o)
                del o
            self._index()
            at = np.minimum(np.searchsorted(self._addr, mt), len(self._addr) - 1)
        codes[miss] = self._addr_codes[at]
        return codes


class _Census:
    """One census in progress: per-type sums, shared-object records, work queues."""

    def __init__(self, np_mod: Any, deadline: float, cancel: Callable[[], bool] | None = None) -> None:
        self.cancel = cancel
        self.np = np_mod
        self.deadline = deadline
        self.t = _Types(np_mod)
        checked = _Mem.create(np_mod)
        self.mem = checked.opened() if checked is not None else None
        self.t.mem = self.mem
        self.count = np_mod.zeros(0, np_mod.int64)
        self.fbytes = np_mod.zeros(0, np_mod.int64)  # bytes found from headers, per code
        self.var_bytes: list[int] = []
        self.m_ids: list[Any] = []  # shared untracked objects: counted after de-duplication
        self.m_codes: list[Any] = []
        self.m_objs: list[Any] = []
        self.ext: dict[int, int] = {}  # code -> buffer bytes that __sizeof__ leaves out
        self.seen_special: set[int] = set()  # ids of shared containers / arrays queued
        self.seen_buffers: set[tuple[int, int]] = set()
        self.pending: list[Any] = []  # untracked containers whose referents are still to walk
        self.arrays: list[Any] = []  # numpy arrays whose bases / items are still to walk
        self.arrow_objs: list[Any] = []
        self.single_rc = self.mem.single_rc if self.mem is not None else _single_owner_rc(np_mod)
        self.complete = True

    def over_budget(self) -> bool:
        if time.thread_time() > self.deadline or (self.cancel is not None and self.cancel()):
            self.complete = False
        return not self.complete

    # -- counting --------------------------------------------------------------
    def remember_shared(self, ids: Any, codes: Any, objs: Sequence[Any], flags: Any) -> None:
        """Keep objects with several owners for de-duplication at the end; queue the special ones once."""
        self.m_ids.append(ids)
        self.m_codes.append(codes)
        self.m_objs.extend(objs)
        if flags.any():
            seen = self.seen_special
            for o in compress(objs, flags.astype(bool).tolist()):
                if id(o) not in seen:
                    seen.add(id(o))
                    self.queue_special(o)
        if len(self.m_objs) > _CONSOLIDATE:
            self.consolidate()

    def account(self, codes: Any, objs: Sequence[Any], only: Any = None) -> None:
        """Add objects (those where ``only`` is True, if given), each exactly once, to the
        per-type count and bytes."""
        np = self.np
        k = self.grow()
        self.count += np.bincount(codes if only is None else codes[only], minlength=k)
        var = self.t.var_array()[codes]
        if only is not None:
            var &= only
        if not var.any():
            return
        # Group the variable-size objects by type, then one C-level sum per group.
        at = np.flatnonzero(var)
        vcodes = codes[at]
        order = np.argsort(vcodes.astype(np.uint16) if k < 1 << 16 else vcodes, kind="stable")
        vcodes = vcodes[order]
        self.call_sizers(vcodes, _pick(objs, at[order].tolist()))

    def grow(self) -> int:
        """Make room for types registered since; returns the number of types."""
        np = self.np
        k = len(self.t)
        pad = k - len(self.count)
        if pad > 0:
            self.count = np.concatenate([self.count, np.zeros(pad, np.int64)])
            self.fbytes = np.concatenate([self.fbytes, np.zeros(pad, np.int64)])
            self.var_bytes.extend([0] * pad)
        return k

    def call_sizers(self, vcodes: Any, grouped: Sequence[Any]) -> None:
        """Add ``sizer(o)`` for objects ``grouped`` by their (sorted) codes ``vcodes``."""
        np = self.np
        starts = (np.flatnonzero(vcodes[1:] != vcodes[:-1]) + 1).tolist()
        edges = [0, *starts, len(vcodes)]
        sizers = self.t.sizers
        vb = self.var_bytes
        for c, a, b in zip(vcodes[[0, *starts]].tolist(), edges, edges[1:], strict=False):
            sizer = sizers[c]
            assert sizer is not None
            try:
                vb[c] += sum(map(sizer, grouped[a:b]))
            except Exception:  # noqa: BLE001 - one odd object must not cost its group
                vb[c] += sum(_safe_size(sizer, o) for o in grouped[a:b])

    def tracked(self, chunk: list[Any]) -> None:
        """Tracked objects: each is listed once by ``gc.get_objects()``."""
        codes = self.t.codes(chunk)
        self.account(codes, chunk)
        flags = self.t.flags_array()[codes] & (_F_NDARRAY | _F_ARROW)
        if flags.any():  # rare among tracked objects: ndarray subclasses, pyarrow objects
            for o in compress(chunk, flags.astype(bool).tolist()):
                self.queue_special(o)

    def untracked(self, objs: list[Any]) -> None:
        """Untracked objects, listed once per reference found; ``objs`` must be the only
        list holding them, since their reference counts are read first."""
        if self.mem is not None:
            self.untracked_fast(objs)
            return
        np = self.np
        n = len(objs)
        if not n:
            return
        single = np.fromiter(map(_getrefcount, objs), np.int64, n) == self.single_rc
        codes = self.t.codes(objs)
        flags = self.t.flags_array()[codes]
        if single.all():
            self.account(codes, objs)
        else:
            # A single owner means found exactly once. Shared ones are recorded by id,
            # one per chunk, and counted at the end once the duplicates are gone.
            shared = ~single
            mpos = np.flatnonzero(shared)
            marr = np.fromiter(compress(objs, shared.tolist()), object, len(mpos))
            ids = _addresses(np, marr)
            keep = _first_of_each(np, ids)
            mobjs = marr[keep].tolist()
            del marr
            self.remember_shared(ids[keep], codes[mpos[keep]], mobjs, flags[mpos[keep]])
            del mobjs
            self.account(codes, objs, single)
            flags[shared] = 0
        if flags.any():
            # Untracked tuples and dicts with one owner are common (records of atoms):
            # queue them wholesale; arrays and Arrow objects go one by one.
            plain = flags == _F_CONTAINER
            if plain.any():
                self.pending.extend(compress(objs, plain.tolist()))
                flags[plain] = 0
            if flags.any():
                for o in compress(objs, flags.astype(bool).tolist()):
                    self.queue_special(o)

    # -- headers read in bulk (``_Mem``) -----------------------------------------
    def account_fast(self, codes: Any, at: Any, objs: Sequence[Any], pos: Any, props: Any = None) -> None:
        """Count objects (each once) with their bytes: object ``i`` sits at word ``at[i]``
        and is ``objs[pos[i]]`` (``objs[i]`` if ``pos`` is None); ``props`` the types'
        ``props_array`` entries if known. Sizes come from header fields where a formula
        is checked."""
        np = self.np
        mem = self.mem
        assert mem is not None
        k = self.grow()
        self.count += np.bincount(codes, minlength=k)
        _, kinds, basic, item, _ = self.t.arrays()
        kk = kinds[codes] if props is None else props >> 4
        var = np.flatnonzero(kk)
        if not len(var):
            return
        w = mem.words
        kv = kk[var]
        call: list[Any] = []
        for kind in np.unique(kv).tolist():
            sel = var[kv == kind]
            if kind == _K_CALL:
                call.append(sel)
                continue
            c = codes[sel]
            a = at[sel]
            if kind == _K_OBJVAR:
                sz = basic[c] + item[c] * w.take(a + 1)
            elif kind == _K_LIST:
                sz = basic[c] + 8 * w.take(a + 3)
            elif kind == _K_INT:
                sz = mem.int_sizes(w.take(a + 1), basic[c], item[c])
            else:  # _K_STR: compact ASCII from the header, the others are asked
                ok = (w.take(a + 3) & 0x60) == 0x60
                if not ok.all():
                    call.append(sel[~ok])
                    c, a = c[ok], a[ok]
                sz = mem.str_base + w.take(a + 1)
            self.fbytes += np.bincount(c, weights=sz, minlength=k).astype(np.int64)
        if call:
            sel = np.concatenate(call) if len(call) > 1 else call[0]
            vcodes = codes[sel]
            order = np.argsort(vcodes, kind="stable")
            at_objs = sel[order] if pos is None else pos[sel[order]]
            self.call_sizers(vcodes[order], _pick(objs, at_objs.tolist()))

    def tracked_fast(self, objs: list[Any], at_all: Any, a: int, b: int) -> None:
        """Tracked objects ``objs[a:b]``, whose word indices are ``at_all[a:b]``."""
        np = self.np
        assert self.mem is not None
        at = at_all[a:b]
        codes = self.t.codes_at(self.mem.words.take(at), lambda i: objs[a + i])
        self.account_fast(codes, at, objs, np.arange(a, b))
        flags = self.t.arrays()[0][codes] & (_F_NDARRAY | _F_ARROW)
        if flags.any():  # rare among tracked objects: ndarray subclasses, pyarrow objects
            for i in np.flatnonzero(flags).tolist():
                self.queue_special(objs[a + i])

    def untracked_fast(self, objs: list[Any]) -> None:
        """``untracked`` with headers read in bulk: the same rules, the same figures."""
        np = self.np
        mem = self.mem
        assert mem is not None
        n = len(objs)
        if not n:
            return
        w = mem.words
        at = mem.items(objs)
        codes = self.t.codes_at(w.take(at), objs.__getitem__)
        props = self.t.props_array().take(codes)  # flags | size kind << 4
        pos: Any = None  # objs[pos[i]] is object i; None: objs[i]
        # Drop the tracked ones (counted as tracked objects): the gc header tells, but a
        # class has one only if made at run time, so classes are asked once each.
        chk = np.flatnonzero(props & _F_CONTAINER)
        if len(chk):
            cls = (props[chk] & _F_CLASS) != 0
            tracked = np.zeros(len(chk), bool)
            if cls.any():
                hdr = np.flatnonzero(~cls)
                tracked[hdr] = w.take(at[chk[hdr]] - 3) != 0
                ci = chk[cls]
                _, first, back = np.unique(at[ci], return_index=True, return_inverse=True)
                asked = [_is_tracked(objs[i]) for i in ci[first].tolist()]
                tracked[cls] = np.array(asked, bool)[back.reshape(-1)]
            else:
                tracked = w.take(at[chk] - 3) != 0
            if tracked.any():
                keep = np.ones(n, bool)
                keep[chk[tracked]] = False
                pos = np.flatnonzero(keep)
                if not len(pos):
                    return
                at, codes, props = at[pos], codes[pos], props[pos]
        single = w.take(at - 1) == mem.single_rc
        if single.all():
            self.account_fast(codes, at, objs, pos, props)
            fl = props & _F_MASK
        else:
            one = np.flatnonzero(single)
            shared = np.flatnonzero(~single)
            shared = shared[np.unique(at[shared], return_index=True)[1]]
            mobjs = _pick(objs, (shared if pos is None else pos[shared]).tolist())
            self.remember_shared(at[shared], codes[shared], mobjs, props[shared] & _F_MASK)
            del mobjs
            pos = one if pos is None else pos[one]
            props = props[one]
            self.account_fast(codes[one], at[one], objs, pos, props)
            fl = props & _F_MASK
        if fl.any():
            plain = np.flatnonzero((fl & (_F_CONTAINER | _F_NDARRAY | _F_ARROW)) == _F_CONTAINER)
            if len(plain):  # untracked tuples, dicts, static classes with one owner: walked wholesale
                self.pending.extend(_pick(objs, (plain if pos is None else pos[plain]).tolist()))
            special = np.flatnonzero((fl & (_F_NDARRAY | _F_ARROW)) != 0)
            for i in (special if pos is None else pos[special]).tolist():
                self.queue_special(objs[i])

    def queue_special(self, o: Any) -> None:
        f = self.t.flags[self.t.code(type(o))]
        if f & _F_NDARRAY:
            self.arrays.append(o)
        if f & _F_ARROW:
            self.arrow_objs.append(o)
        if f & _F_CONTAINER and not _is_tracked(o):
            self.pending.append(o)

    def consolidate(self) -> None:
        """Merge the shared-object records, dropping objects recorded twice."""
        np = self.np
        if not self.m_ids:
            return
        ids = np.concatenate(self.m_ids)
        keep = _first_of_each(np, ids)
        self.m_ids = [ids[keep]]
        self.m_codes = [np.concatenate(self.m_codes)[keep]]
        mask = np.zeros(len(ids), bool)
        mask[keep] = True
        objs, self.m_objs = self.m_objs, []
        for a in range(0, len(objs), _PART):  # in slices: no long hold of the GIL
            self.m_objs.extend(compress(objs[a : a + _PART], mask[a : a + _PART].tolist()))

    # -- walking on ------------------------------------------------------------
    def untracked_referents(self, refs: list[Any]) -> None:
        """Count the untracked objects among ``refs`` (emptied on the way), a slice at a time:
        one container can hold a million references."""
        if self.mem is not None:  # tracked ones are dropped from the headers
            self.untracked_in_parts(refs, _FAST_PART)
            return
        while refs:
            unt = list(filterfalse(_is_tracked, refs[-_PART * 4 :]))
            del refs[-_PART * 4 :]
            self.untracked_in_parts(unt)

    def untracked_in_parts(self, objs: list[Any], size: int = 0) -> None:
        """Feed ``untracked`` in parts, emptying ``objs`` so that no second list holds them."""
        size = size or (_FAST_PART if self.mem is not None else _PART)
        if len(objs) <= size:
            self.untracked(objs)
            objs.clear()
            return
        while objs:
            part = objs[-size:]
            del objs[-size:]
            self.untracked(part)
            del part

    def walk_pending(self) -> None:
        """Untracked containers hold only untracked objects: walk them to the bottom."""
        while self.pending:
            if self.over_budget():
                self.pending.clear()
                return
            batch = self.pending[-_PART:]
            del self.pending[-_PART:]
            refs = _get_referents(*batch)
            del batch
            self.untracked_referents(refs)

    def walk_arrays(self) -> None:
        """Visit bases kept alive only by views, and the items of object arrays."""
        ndarray = self.t.ndarray
        found: list[Any] = []
        while self.arrays and not self.over_budget():
            arrays, self.arrays = self.arrays, []
            for a in arrays:
                base = a.base
                if base is None:
                    if a.dtype.hasobject:  # numpy hides these references from gc
                        try:
                            flat = a.ravel(order="K")
                            for at in range(0, len(flat), _PART):
                                found.extend(filterfalse(_is_tracked, flat[at : at + _PART].tolist()))
                            del flat
                        except Exception:  # noqa: BLE001 - odd structured arrays: skip items
                            pass
                    elif not a.flags.owndata:  # memory numpy neither owns nor traces
                        self.add_buffer(a, (id(a), -1), int(a.nbytes))
                elif ndarray is not None and isinstance(base, ndarray):
                    if not _is_tracked(base):  # tracked bases are walked as tracked objects
                        found.append(base)  # counted once, however many views lead to it
                else:  # a foreign buffer: count the object, and its buffer if it does not
                    if not _is_tracked(base):
                        found.append(base)
                    if not isinstance(base, _BUFFER_REPORTING):
                        self.add_buffer(a, (id(base), -1), int(a.nbytes))
            a = base = None
            del arrays
            self.untracked_in_parts(found)
            self.walk_pending()

    def walk_arrow(self) -> None:
        """Arrow keeps its buffers in C++: count each buffer once, by address."""
        for o in self.arrow_objs:
            try:
                for addr, size in _arrow_buffers(o):
                    self.add_buffer(o, (addr, size), size)
            except Exception:  # noqa: BLE001 - an exotic Arrow object: its header only
                continue
        self.arrow_objs.clear()

    def add_buffer(self, owner: Any, key: tuple[int, int], nbytes: int) -> None:
        """Bytes an object's ``__sizeof__`` leaves out; ``key`` identifies the buffer."""
        if key in self.seen_buffers:
            return
        self.seen_buffers.add(key)
        code = self.t.code(type(owner))
        self.ext[code] = self.ext.get(code, 0) + nbytes

    # -- the end -----------------------------------------------------------------
    def finish_shared(self) -> None:
        """Count the shared untracked objects, now that each is recorded once."""
        self.consolidate()
        objs = self.m_objs
        step = _FAST_PART if self.mem is not None else _PART
        for a in range(0, len(objs), step):
            codes = self.m_codes[0][a : a + step]
            if self.mem is not None:
                self.account_fast(codes, self.m_ids[0][a : a + step], objs, self.np.arange(a, a + len(codes)))
            else:
                self.account(codes, objs[a : a + step])
        self.m_ids, self.m_codes, self.m_objs = [], [], []

    def save(self) -> tuple[Any, Any, list[int], dict[int, int]]:
        return self.count.copy(), self.fbytes.copy(), list(self.var_bytes), dict(self.ext)

    def restore(self, saved: tuple[Any, Any, list[int], dict[int, int]]) -> None:
        self.count, self.fbytes, self.var_bytes, self.ext = saved[0], saved[1], list(saved[2]), dict(saved[3])

    def drop_references(self) -> None:
        self.pending.clear()
        self.arrays.clear()
        self.arrow_objs.clear()
        self.m_objs.clear()

    def figures(self) -> dict[str, list[int]]:
        """Per type name: [count, bytes]; types sharing a name are merged."""
        out: dict[str, list[int]] = {}
        t = self.t
        self.grow()
        counts = self.count.tolist()
        fbytes = self.fbytes.tolist()
        for code, c in enumerate(counts):
            b = t.fixed[code] * c + self.var_bytes[code] + fbytes[code] + self.ext.get(code, 0)
            if c or b:
                acc = out.setdefault(t.names[code], [0, 0])
                acc[0] += c
                acc[1] += b
        return out


def _class_size(sizer: Callable[[Any], int], cls: Any) -> int:
    return int(sizer(cls)) + (_GC_HEAD if cls.__flags__ & _HEAPTYPE else 0)


def _safe_size(sizer: Callable[[Any], int], o: Any) -> int:
    try:
        return int(sizer(o))
    except Exception:  # noqa: BLE001
        return 0


def take_census(
    budget_s: float | None = None, *, untracked: bool = True, cancel: Callable[[], bool] | None = None
) -> CensusResult:
    """Count live objects and their shallow bytes per type, within ``budget_s`` seconds.

    ``budget_s=None`` means no limit. When the budget runs out the census stops
    between chunks and returns ``complete=False``: if every tracked object had been
    counted by then, with the figures of ``untracked=False``, otherwise with those
    of the tracked objects it reached. Do not compare it with a complete census.
    ``untracked=False`` counts gc-tracked objects only: several times cheaper, but
    blind to arrays, bytes, str and numbers; it is reported as incomplete too.
    ``cancel`` is asked between chunks too, like the budget: a monitor stops its
    census the moment a script run starts, rather than compete with it for the GIL.

    >>> result = take_census(budget_s=DEFAULT_BUDGET_S)
    >>> result.tracked_objects > 0
    True
    """
    import numpy as np  # a Streamlit dependency; used here as a fast array kit

    with _one_at_a_time:
        try:
            return _take_census(np, budget_s, untracked, cancel)
        except IndexError:
            if not _mem_cache or _mem_cache[0] is None:
                raise
            # An object beyond the 2**48 bytes the header view spans (5-level page
            # tables): read headers no more, and count again on the slow road, once the
            # failed census (held by the traceback until the handler ends) is gone.
            _mem_cache[:] = [None]
        return _take_census(np, budget_s, untracked, cancel)


def _take_census(np: Any, budget_s: float | None, untracked: bool, cancel: Callable[[], bool] | None = None) -> CensusResult:
    started = time.perf_counter()
    taken_at = time.time()
    # The budget is this thread's CPU time, not wall time: what the census costs the
    # process, whatever time other threads (the server, script runs) hold the GIL meanwhile.
    cpu_started = time.thread_time()
    deadline = math.inf if budget_s is None else cpu_started + max(budget_s, 0.0)
    was_enabled = gc.isenabled()
    gc.disable()
    reached = 0  # tracked objects whose referents were counted
    tracked_all = False
    try:
        objs = gc.get_objects()  # the list leaves itself out
        n = len(objs)
        # CPU time, like the budget: on a machine busy with other work every pause
        # stretches alike; what decides whether to space censuses out is the listing's own cost.
        floor_s = time.thread_time() - cpu_started
        census = _Census(np, deadline, cancel)
        # Tracked objects first: cheap, so even a census cut short has them all, and
        # its figures are those of ``untracked=False``, stable from one census to the next.
        if census.mem is not None:
            at_all = census.mem.items(objs)
            for a in range(0, n, _FAST_CHUNK):
                if census.over_budget():
                    break
                census.tracked_fast(objs, at_all, a, min(a + _FAST_CHUNK, n))
            del at_all
        else:
            for a in range(0, n, _CHUNK):
                if census.over_budget():
                    break
                census.tracked(objs[a : a + _CHUNK])
        census.walk_arrow()
        tracked_cpu = time.thread_time() - cpu_started
        tracked_all = census.complete
        if untracked and tracked_all:
            tracked_only = census.save()
            for a in range(0, n, _CHUNK):
                if census.over_budget():
                    break
                census.untracked_referents(_get_referents(*objs[a : a + _CHUNK]))
                reached = min(a + _CHUNK, n)
                if len(census.pending) >= _PART:
                    census.walk_pending()
            census.walk_pending()
            census.walk_arrays()
            census.walk_arrow()
            census.finish_shared()
            if not census.complete:  # a part of the untracked objects would only mislead
                census.restore(tracked_only)
        census.drop_references()
        while objs:  # in slices: freeing a million references at once is a long GIL hold
            del objs[-_CHUNK * 16 :]
        del objs
        figures = census.figures()
        complete = census.complete and untracked
        del census
    finally:
        if was_enabled:
            gc.enable()
    duration = time.perf_counter() - started
    cpu = time.thread_time() - cpu_started
    if not untracked and tracked_all and n:
        _last["tracked_only"] = cpu / n
    if complete and n:
        _last["full"] = cpu / n
    elif untracked and reached:  # cut short: extrapolate from the part walked
        _last["full"] = (tracked_cpu + (cpu - tracked_cpu) * n / reached) / n
    if len(_type_cache) > 2 * _type_cache_pruned_at[0] + 1000:  # classes die (reruns redefine them)
        for key in [k for k, v in _type_cache.items() if v[0]() is None]:
            del _type_cache[key]
        _type_cache_pruned_at[0] = len(_type_cache)
    if n >= 10_000:  # small heaps tell little about the cost per object
        _last["floor"] = floor_s / n
    _last["tracked"] = float(n)
    stats = tuple(
        TypeStat(name, c, b) for name, (c, b) in sorted(figures.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
    )
    return CensusResult(
        taken_at=taken_at,
        duration_s=duration,
        tracked_objects=n,
        stats=stats,
        complete=complete,
        cpu_s=cpu,
    )


def estimate_cost_s(n_tracked: int, *, untracked: bool = True) -> float:
    """Seconds a census of ``n_tracked`` tracked objects is expected to take here.

    It uses the cost per tracked object this process paid in its last census of the
    same kind (a benchmark figure before the first), so a caller can skip, space
    out, or fall back to ``untracked=False`` instead of starting a census that would
    not fit its budget and come back partial.

    >>> estimate_cost_s(0)
    0.0
    """
    return max(n_tracked, 0) * _last["full" if untracked else "tracked_only"]


def estimate_pause_s(n_tracked: int) -> float:
    """The longest single pause (GIL held) a census of ``n_tracked`` tracked objects is
    expected to cause here: ``gc.get_objects()``, one C call that no budget can cut. A
    caller whose pause limit is below it must skip the census, not shorten it. It is
    the listing's CPU time, so a moment of load elsewhere does not inflate it.

    >>> estimate_pause_s(0)
    0.0
    """
    return max(n_tracked, 0) * _last["floor"]


def last_census_size() -> int | None:
    """Tracked objects the last census in this process saw: the input for ``estimate_cost_s``."""
    n = int(_last["tracked"])
    return None if n < 0 else n


def diff(prev: CensusResult | None, cur: CensusResult, top: int = 10) -> tuple[TypeGrowth, ...]:
    """The types that grew most from ``prev`` to ``cur``: by bytes, then by count.

    Only types that grew (in bytes or in count) are listed; ties keep ``cur``'s
    order. Without ``prev`` every type counts as new.

    >>> a = CensusResult(0.0, 0.0, 1, (TypeStat("dict", 1, 64),))
    >>> b = CensusResult(1.0, 0.0, 2, (TypeStat("dict", 3, 192),))
    >>> diff(a, b)[0].bytes_delta
    128
    """
    before = prev.by_type() if prev is not None else {}
    grown: list[TypeGrowth] = []
    for s in cur.stats:
        p = before.get(s.type_name)
        dc = s.count - (p.count if p else 0)
        db = s.bytes - (p.bytes if p else 0)
        if dc > 0 or db > 0:
            grown.append(TypeGrowth(s.type_name, s.count, dc, s.bytes, db))
    grown.sort(key=lambda g: (-g.bytes_delta, -g.count_delta))
    return tuple(grown[: max(top, 0)])

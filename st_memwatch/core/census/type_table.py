"""The type table of one census: a code per type, and how its instances are sized.

Why it is built this way:

* Sizes come from the type's own C-level ``__sizeof__`` plus the header that
  ``sys.getsizeof`` adds. Types whose instances all have one size are sized once;
  for tuple, bytes, int, list and ASCII str the size field is read from the header
  (each formula is checked on probes by ``headers``); the others are grouped by type
  and their ``__sizeof__`` summed per group. What ``sys.getsizeof`` adds to a class
  differs from class to class, so classes are sized by it. Python-level
  ``__sizeof__`` overrides are bypassed: pandas reports a deep size there, which
  would count column data twice and run arbitrary code.
* The table lives for one census only: holding types across censuses would keep
  classes, and through them modules, alive. What was learnt of a class is kept in
  ``CLASS_MEMO`` behind a weak reference instead. Types are keyed by address, never
  hashed: a metaclass may define ``__eq__``/``__hash__`` of its own.
* Objects whose bytes live outside Python (Pillow images, torch tensors, a
  library's types given to ``register_sizer``) are flagged like Arrow objects and
  sized by their sizer (``core/sizers.py``) on top of their struct. Arrow objects
  keep the census's own count of their buffers by address, finer than any
  per-object figure. What was learnt of a class is forgotten when a sizer is
  registered, so a class sized before its sizer existed is learnt again.
* Type codes come from a vectorised lookup: a direct-mapped table on some bits of
  the type address (chosen so that known types do not collide) when headers are read
  in bulk, a sorted binary search otherwise and for misses.
"""

from __future__ import annotations

import functools
import sys
import types
import weakref
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from st_memwatch.core import sizers as _sizers
from st_memwatch.core.census.headers import HeaderReader, ids_of
from st_memwatch.core.census.naming import is_own_type, type_name

Sizer = Callable[[Any], int]
Codes = NDArray[np.int32]

HAVE_GC = 1 << 14  # Py_TPFLAGS_HAVE_GC, stable since Python 2
HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made at run time, with a gc header
# Flags of a type (the low 4 bits of a ``props_array`` entry; the size kind sits above them).
F_CONTAINER = 1  # untracked instances may still hold references (tuple, dict)
F_NDARRAY = 2
F_EXTERNAL = 4  # bytes outside the object: Arrow buffers, or a registered sizer's figure
F_CLASS = 8  # a class: has a gc header only if made at run time (tp_is_gc)
F_MASK = 15
# How an instance's size is found when headers are read in bulk.
K_FIXED = 0  # one size for every instance
K_OBJVAR = 1  # object.__sizeof__: basicsize + itemsize * ob_size
K_LIST = 2  # list.__sizeof__: basicsize + 8 * allocated
K_STR = 3  # compact ASCII str: ''.__sizeof__() + length; other str are asked
K_INT = 4  # int: basicsize + itemsize * digits
K_CALL = 5  # ask the type's C-level __sizeof__, one call per object

_getsizeof = sys.getsizeof
_object_sizeof = object.__sizeof__
_C_SIZEOF_TYPES = (types.MethodDescriptorType, types.WrapperDescriptorType)
GC_HEAD = _getsizeof([]) - [].__sizeof__()


class ClassFacts(NamedTuple):
    sizer: Sizer | None  # None: all instances one size
    fixed: int  # bytes every instance has on top of its sizer's figure
    flags: int
    kind: int
    name: str
    own: bool  # a class of st_memwatch itself: left out of the figures
    external: _sizers.Sizer | None = None  # counts bytes outside the object (not for Arrow)


class ClassMemo:
    """What censuses learnt of each class, kept without keeping the class alive."""

    def __init__(self) -> None:
        self._facts: dict[int, tuple[weakref.ref[type], ClassFacts]] = {}
        self._pruned_at = 0
        self._sizers_at = _sizers.generation()

    def sync(self) -> None:
        """Forget every class when a sizer was registered since: their facts may miss it."""
        now = _sizers.generation()
        if now != self._sizers_at:
            self._facts.clear()
            self._pruned_at = 0
            self._sizers_at = now

    def get(self, t: type) -> ClassFacts | None:
        hit = self._facts.get(id(t))
        return hit[1] if hit is not None and hit[0]() is t else None

    def put(self, t: type, facts: ClassFacts) -> None:
        try:
            self._facts[id(t)] = (weakref.ref(t), facts)
        except TypeError:  # a type that takes no weak reference: learnt anew each time
            pass

    def prune(self) -> None:
        """Drop entries of dead classes now and then (reruns redefine classes)."""
        if len(self._facts) > 2 * self._pruned_at + 1000:
            for key in [k for k, (ref, _) in self._facts.items() if ref() is None]:
                del self._facts[key]
            self._pruned_at = len(self._facts)

    def __len__(self) -> int:
        return len(self._facts)


CLASS_MEMO = ClassMemo()


def c_sizeof(t: type) -> tuple[Sizer, bool]:
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


def _class_size(sizer: Sizer, cls: Any) -> int:
    return int(sizer(cls)) + (GC_HEAD if cls.__flags__ & HEAPTYPE else 0)


class TypeTable:
    """Per-census type table: code, size method, fixed bytes, flags, name."""

    def __init__(self, mem: HeaderReader | None) -> None:
        self.mem = mem  # set when headers are read in bulk
        self.types: list[type] = []  # keeps every registered type (and its address) alive
        self.code_at: dict[int, int] = {}  # id(type) -> code
        self.sizers: list[Sizer | None] = []
        self.fixed: list[int] = []
        self.flags: list[int] = []
        self.names: list[str] = []
        self.own: list[bool] = []
        self.external: list[_sizers.Sizer | None] = []
        self.kinds: list[int] = []
        self.basic: list[int] = []
        self.item: list[int] = []
        self._arrays_for = -1  # number of types the arrays below were built for
        self._flags_arr: NDArray[np.uint8] = np.zeros(0, np.uint8)
        self._var_arr: NDArray[np.bool_] = np.zeros(0, bool)
        self._kind_arr: NDArray[np.uint8] = np.zeros(0, np.uint8)
        self._basic_arr: NDArray[np.int64] = np.zeros(0, np.int64)
        self._item_arr: NDArray[np.int64] = np.zeros(0, np.int64)
        self._props_arr: NDArray[np.uint8] = np.zeros(0, np.uint8)
        # Type addresses, sorted, and their codes.
        self._addr: NDArray[np.uint64] = np.zeros(0, np.uint64)
        self._addr_codes: Codes = np.zeros(0, np.int32)
        # Type address -> code through a direct-mapped table on some address bits.
        self._h_shift = 4
        self._h_mask = 0
        self._h_key: NDArray[np.int64] = np.full(1, -1, np.int64)
        self._h_code: Codes = np.zeros(1, np.int32)
        self._h_indexed = 0  # types entered in the table so far
        self.ndarray: type = np.ndarray
        self.arrow: tuple[type, ...] = ()
        pa = sys.modules.get("pyarrow")  # never imported here: only counted if in use
        if pa is not None:
            names = ("Array", "ChunkedArray", "Table", "RecordBatch", "Buffer")
            found = (getattr(pa, n, None) for n in names)
            self.arrow = tuple(t for t in found if isinstance(t, type))
        CLASS_MEMO.sync()
        self._builtin_sizers = _sizers.builtins()

    def __len__(self) -> int:
        return len(self.names)

    def code(self, t: type) -> int:
        return self.code_at[id(t)]

    def _build_arrays(self) -> None:
        if self._arrays_for == len(self.flags):
            return
        self._flags_arr = np.array(self.flags, dtype=np.uint8)
        self._var_arr = np.array([s is not None for s in self.sizers], dtype=bool)
        self._kind_arr = np.array(self.kinds, dtype=np.uint8)
        self._basic_arr = np.array(self.basic, dtype=np.int64)
        self._item_arr = np.array(self.item, dtype=np.int64)
        self._props_arr = (self._flags_arr | (self._kind_arr << 4)).astype(np.uint8, copy=False)
        self._arrays_for = len(self.flags)

    def flags_array(self) -> NDArray[np.uint8]:
        self._build_arrays()
        return self._flags_arr

    def props_array(self) -> NDArray[np.uint8]:
        """Per type code: flags (low 4 bits) and size kind (high 4 bits)."""
        self._build_arrays()
        return self._props_arr

    def size_arrays(self) -> tuple[NDArray[np.uint8], NDArray[np.int64], NDArray[np.int64]]:
        """kinds, basicsize, itemsize: one entry per type code."""
        self._build_arrays()
        return self._kind_arr, self._basic_arr, self._item_arr

    def var_array(self) -> NDArray[np.bool_]:
        """Per type code: True when instances are sized one call at a time (portable road)."""
        self._build_arrays()
        return self._var_arr

    def add(self, t: type, sample: Any) -> None:
        facts = CLASS_MEMO.get(t)
        if facts is None:
            facts = self._learn(t, sample)
            CLASS_MEMO.put(t, facts)
        self._append(t, facts)

    def _learn(self, t: type, sample: Any) -> ClassFacts:
        sizer: Sizer | None
        sizer, same_as_getsizeof = c_sizeof(t)
        fixed = GC_HEAD if t.__flags__ & HAVE_GC else 0
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
        flags = F_CONTAINER if t.__flags__ & HAVE_GC else 0
        if issubclass(t, self.ndarray):
            flags |= F_NDARRAY
        external = None
        if self.arrow and issubclass(t, self.arrow):
            flags |= F_EXTERNAL
        elif not issubclass(t, (self.ndarray, type)):
            found = _sizers.lookup(t, self._builtin_sizers)
            if found is not None and found.walks:
                external = found
                flags |= F_EXTERNAL
        if issubclass(t, type):
            flags |= F_CLASS
        kind = K_CALL
        if sizer is None:
            kind = K_FIXED
        elif sizer is _object_sizeof and t.__itemsize__:
            kind = K_OBJVAR
        elif sizer is list.__sizeof__:
            kind = K_LIST
        elif t is str:
            kind = K_STR
        elif t is int and self.mem is not None and self.mem.layout.int_mode:
            kind = K_INT
        return ClassFacts(sizer, fixed, flags, kind, type_name(t), is_own_type(t), external)

    def _append(self, t: type, f: ClassFacts) -> None:
        self.kinds.append(f.kind)
        self.basic.append(int(t.__basicsize__))
        self.item.append(int(t.__itemsize__))
        self.code_at[id(t)] = len(self.types)
        self.types.append(t)
        self.sizers.append(f.sizer)
        self.fixed.append(f.fixed)
        self.flags.append(f.flags)
        self.names.append(f.name)
        self.own.append(f.own)
        self.external.append(f.external)

    def codes(self, objs: Sequence[Any]) -> Codes:
        """Code of each object's type; registers types not seen before (portable road)."""
        ts = np.fromiter(map(type, objs), object, len(objs))
        addr = ids_of(ts)
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

    def codes_at(self, tp: NDArray[np.int64], sample: Callable[[int], Any]) -> Codes:
        """Code of each type address in ``tp`` (read from headers); ``sample(i)`` is an
        object of type ``tp[i]``, used to register types not seen before."""
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

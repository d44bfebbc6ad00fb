"""Bounded-time deep size of Python objects.

``deep_size`` walks an object graph with ``gc.get_referents`` and adds up
``sys.getsizeof`` of every object reached once (by ``id``), stopping when its time
budget runs out. It is an estimate of the memory an object keeps alive, meant for
cached values and ``st.session_state``, where a census of the whole heap would be
too coarse and a full walk could take seconds. The budget is the walking thread's
own CPU time: on a busy server, time spent waiting for the GIL would otherwise use
it up before anything is counted.

What is counted and what is not:

- every object reached is counted once, even when reached along several paths
  (``deep_size_many`` shares that bookkeeping across several roots);
- numpy arrays are opaque to ``gc``: an array counts its header, and its data
  buffer is counted once per underlying buffer, so several views of one base
  array count the base's ``nbytes`` a single time. Object-dtype arrays are
  walked element by element. numpy is never imported here: arrays are
  recognised only when numpy is already loaded;
- modules, classes, functions, methods, code objects and frames are neither
  counted nor entered: they belong to the program, not to the data, and
  entering them would sum up half of the interpreter;
- a class whose ``__sizeof__`` is written in Python counts its own struct only:
  such overrides usually report a deep figure already (pandas' DataFrame, Series
  and Index return ``memory_usage(deep=True)``, unbounded in time), which the walk
  would count a second time. ``__sizeof__`` written in C or Cython (numpy,
  pyarrow) reports memory that ``gc`` cannot see, and is kept;
- objects whose bytes live outside Python and that have a sizer
  (``core/sizers.py``: Pillow images, torch tensors, pyarrow arrays and tables, a
  library's types given to ``register_sizer``) add the sizer's figure, once per
  native buffer; pyarrow's ``__sizeof__`` is replaced by the struct plus
  ``get_total_buffer_size()``, which counts a buffer shared by two columns once;
- other C extension objects that hide their memory from both ``sys.getsizeof``
  and ``gc`` (some native handles, memory maps, GPU tensors) are undercounted.

The walk is iterative (no recursion limit) and checks the clock every few
hundred objects. Lists, tuples, dicts, sets, deques and object arrays are walked
lazily, element by element, so even a million-element container costs no more
than the budget; other containers are expanded with one ``gc.get_referents``
call, which for a huge one can overshoot the budget by that call's cost. When the
budget cuts the walk short, the partial sum is returned with ``False``; it is
False too when another thread resized a container while it was being walked.

Only object ids are kept between steps, and the walk holds references only while
it runs: nothing measured is retained after the call returns.
"""

from __future__ import annotations

import gc
import sys
import time
import types
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from st_memwatch.core import sizers as _sizers

__all__ = ["DeepSizer", "deep_size", "deep_size_many"]

# Neither counted nor entered: program structure, not data.
_SKIP_TYPES: tuple[type, ...] = (
    types.ModuleType,
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.CodeType,
    types.FrameType,
    types.TracebackType,
)

# How many objects to visit between two reads of the clock.
_CLOCK_EVERY = 256


def deep_size(
    obj: object,
    budget_s: float,
    *,
    clock: Callable[[], float] = time.thread_time,
) -> tuple[int, bool]:
    """Return ``(bytes, complete)``: the deep size of ``obj`` within ``budget_s`` seconds.

    ``complete`` is False when the budget ran out before the walk finished; the
    figure is then a lower bound.

    Example::

        >>> import numpy as np
        >>> size, complete = deep_size({"weights": np.zeros(1_000_000)}, budget_s=0.05)
        >>> size >= 8_000_000 and complete
        True
    """
    return DeepSizer(clock=clock).measure(obj, budget_s)


def deep_size_many(
    objs: Iterable[object],
    budget_s: float,
    *,
    clock: Callable[[], float] = time.thread_time,
) -> tuple[int, bool]:
    """Deep size of several roots together: an object shared by two roots counts once.

    The roots themselves are counted (a container holding them is not).

    Example::

        >>> shared = list(range(1000))
        >>> both, _ = deep_size_many([shared, shared], budget_s=0.05)
        >>> one, _ = deep_size(shared, budget_s=0.05)
        >>> both == one
        True
    """
    return DeepSizer(clock=clock).measure_many(objs, budget_s)


class DeepSizer:
    """Several bounded walks that share their bookkeeping.

    Each ``measure`` call gets its own budget and returns only the bytes it newly
    counted: an object already counted by an earlier call of the same sizer counts
    zero. That is how ``st.session_state`` is attributed key by key without
    counting a shared object twice. Holds object ids only, never objects, so use
    one sizer only while the roots it measured are alive (a freed object's id can
    be reused). Not thread-safe: one sizer per thread.

    Example::

        >>> sizer = DeepSizer()
        >>> data = bytearray(10_000)
        >>> sizer.measure({"a": data}, 0.05)[0] > 10_000
        True
        >>> sizer.measure({"b": data}, 0.05)[0] < 10_000
        True
    """

    __slots__ = ("_buffers", "_clock", "_external", "_seen")

    def __init__(self, *, clock: Callable[[], float] = time.thread_time) -> None:
        self._clock = clock
        self._seen: set[int] = set()
        self._buffers: set[int] = set()  # ids of arrays whose data buffer was counted
        self._external: set[int] = set()  # keys of native buffers a sizer counted

    def measure(self, obj: object, budget_s: float) -> tuple[int, bool]:
        """Bytes newly reachable from ``obj``, and whether the walk finished in time."""
        return self.measure_many((obj,), budget_s)

    def measure_many(self, objs: Iterable[object], budget_s: float) -> tuple[int, bool]:
        """Like ``measure`` for several roots at once."""
        clock = self._clock
        deadline = clock() + max(0.0, budget_s)
        seen = self._seen
        buffers = self._buffers
        total = 0
        np_ndarray = _ndarray_type()
        builtin = _sizers.builtins()
        # id(class) -> (class, its walking sizer or None): one lookup per class, not per object.
        sized: dict[int, tuple[type, _sizers.Sizer | None]] = {}
        # A stack of iterators rather than of objects: referent lists and the elements
        # of object arrays are consumed lazily, so an interrupted walk wasted no work.
        stack: list[Iterator[Any]] = [iter(objs)]
        countdown = _CLOCK_EVERY  # the first objects are always counted
        mutated: list[bool] = []  # set when a container changed size under the walk
        try:
            while stack:
                try:
                    obj = next(stack[-1])
                except StopIteration:
                    stack.pop()
                    continue
                oid = id(obj)
                if oid in seen:
                    continue
                if isinstance(obj, _SKIP_TYPES):
                    seen.add(oid)
                    continue
                countdown -= 1
                if countdown <= 0:
                    countdown = _CLOCK_EVERY
                    if clock() >= deadline:
                        return total, False
                seen.add(oid)
                if np_ndarray is not None and isinstance(obj, np_ndarray):
                    size, more = _array_size(obj, np_ndarray, buffers)
                    total += size
                    if more is not None:
                        stack.append(more)
                    continue
                cls = type(obj)
                hit = sized.get(id(cls))
                if hit is None:
                    found = _sizers.lookup(cls, builtin)
                    hit = sized[id(cls)] = (cls, found if found is not None and found.walks else None)
                sizer = hit[1]
                if sizer is None:
                    total += _shallow_size(obj, cls)
                else:
                    total += _struct_size(obj) if sizer.in_sizeof else _shallow_size(obj, cls)
                    key = _sizers.buffer_key(sizer, obj)
                    if key not in self._external:
                        self._external.add(key)
                        total += _sizers.call(sizer, obj)
                if cls is list or cls is tuple:
                    # Lazily: gc.get_referents copies a whole million-element list at once,
                    # which alone would blow a small budget.
                    if obj:
                        stack.append(iter(obj))
                    continue
                if cls is dict:
                    if obj:
                        stack.append(_dict_walk(obj, mutated))
                    continue
                if cls is set or cls is frozenset or cls is deque:
                    if obj:
                        stack.append(_guarded_walk(obj, mutated))
                    continue
                try:
                    referents = gc.get_referents(obj)
                except Exception:  # noqa: BLE001 - an exotic object must not end the walk
                    continue
                if referents:
                    stack.append(iter(referents))
        finally:
            # Drop the references the walk holds before returning, even when interrupted.
            stack.clear()
        return total, not mutated


def _dict_walk(d: dict[Any, Any], mutated: list[bool]) -> Iterator[Any]:
    """Keys and values of ``d``, lazily; stop (and say so) if another thread resizes it."""
    try:
        for key, value in d.items():
            yield key
            yield value
    except RuntimeError:  # "dictionary changed size during iteration"
        mutated.append(True)


def _guarded_walk(container: Iterable[Any], mutated: list[bool]) -> Iterator[Any]:
    try:
        yield from container
    except RuntimeError:  # "Set changed size during iteration", "deque mutated ..."
        mutated.append(True)


def _ndarray_type() -> type | None:
    np = sys.modules.get("numpy")
    nd = getattr(np, "ndarray", None) if np is not None else None
    return nd if isinstance(nd, type) else None


def _shallow_size(obj: object, cls: type) -> int:
    """``sys.getsizeof``, except for classes whose ``__sizeof__`` is written in Python.

    Such overrides usually report a deep figure already (pandas' DataFrame, Series
    and Index return ``memory_usage(deep=True)``, which is unbounded in time and which
    the walk would count a second time), so their instances count their own struct
    only. ``__sizeof__`` written in C or Cython (numpy, pyarrow) reports memory that
    ``gc`` cannot see and is kept.
    """
    if type(getattr(cls, "__sizeof__", None)) is types.FunctionType:
        try:
            return object.__sizeof__(obj)
        except Exception:  # noqa: BLE001
            return 0
    return _getsizeof(obj)


def _struct_size(obj: object) -> int:
    """The object's own struct (``object.__sizeof__``) and the gc header ``sys.getsizeof`` adds."""
    try:
        return object.__sizeof__(obj) + (_GC_HEAD if gc.is_tracked(obj) else 0)
    except Exception:  # noqa: BLE001
        return 0


_GC_HEAD = sys.getsizeof([]) - [].__sizeof__()


def _getsizeof(obj: object) -> int:
    try:
        return sys.getsizeof(obj)
    except Exception:  # noqa: BLE001 - a broken __sizeof__ must not end the walk
        return 0


def _array_size(arr: Any, nd: type, buffers: set[int]) -> tuple[int, Iterator[Any] | None]:
    """Header of ``arr`` plus its data buffer unless that buffer was already counted.

    Returns the bytes to add and, for what the walk must still visit (the elements of
    an object array, or a non-array object owning the buffer, e.g. ``bytes`` behind
    ``np.frombuffer``), an iterator to push.
    """
    try:
        owns = bool(arr.flags.owndata)
        header = _getsizeof(arr) - (int(arr.nbytes) if owns else 0)
        size = max(header, 0)
        more: Iterator[Any] | None = None
        if arr.dtype.hasobject:
            more = iter(arr.flat)
        # Find the array that owns the memory: the end of the chain of views.
        root = arr
        while isinstance(root.base, nd):
            root = root.base
        if root.flags.owndata or root.base is None:
            # The root owns its buffer (or wraps foreign memory we cannot see past):
            # count its nbytes once, keyed by the root's id.
            if id(root) not in buffers:
                buffers.add(id(root))
                size += int(root.nbytes)
            # Views keep the root alive; its header is small and counted when reached.
        else:
            # A buffer lent by another object (bytes, bytearray, mmap, ...): walk it
            # like any other object, so it is counted once by id.
            owner = iter((root.base,))
            more = owner if more is None else _chain(more, owner)
        return size, more
    except Exception:  # noqa: BLE001 - a numpy-like object with odd attributes
        return _getsizeof(arr), None


def _chain(*its: Iterator[Any]) -> Iterator[Any]:
    for it in its:
        yield from it

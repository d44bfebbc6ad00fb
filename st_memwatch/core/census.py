"""Object-type census: how many live objects of each type, and the bytes behind them.

Why it is built this way:

* ``gc.get_objects()`` lists only gc-tracked containers, but an app's bytes
  mostly sit in objects the collector does not track (numpy arrays, bytes, str,
  numbers, dicts and tuples of atoms). Those are reached through
  ``gc.get_referents`` of the tracked containers, and on through the untracked
  containers among them; object-dtype numpy arrays are entered too, because numpy
  hides their items from the collector.
* Every per-object step is a C-level ``map``/``compress`` over a chunk; grouping,
  de-duplication and type lookup are numpy array operations (numpy ships with
  every Streamlit app). A Python statement per object would cost more than the
  whole of ``objgraph.typestats()``.
* De-duplication by ``id`` is the dearest step, so it is skipped for objects that
  can only be reached once: an untracked object whose reference count shows a
  single owner (the count that means so is measured on a probe, not assumed) is
  counted on the spot; only shared ones are sorted by id. Ids are read from an
  object array's pointer buffer, which holds exactly what ``id`` returns, without
  allocating an int per object.
* Sizes come from the type's own C-level ``__sizeof__`` plus the header that
  ``sys.getsizeof`` adds. Types whose instances all have one size are sized once;
  the others are grouped by type and summed per group. Python-level ``__sizeof__``
  overrides are bypassed: pandas reports a deep size there, which would count
  column data twice and run arbitrary code. A numpy array that owns its buffer
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
* Reaching untracked objects costs about as much as ``objgraph.typestats()``
  does in all (one ``get_referents`` and one ``is_tracked`` per reference, several
  references per tracked object), so a full census cannot be cheaper than
  typestats on a heap rich in untracked objects. ``untracked=False`` gives the
  cheap census (tracked objects only, with their bytes) for callers that cannot
  afford the full one; it reports ``complete=False`` because figures are partial.
* ``estimate_cost_s`` uses the cost per tracked object this process paid in its
  last census of the same kind, even one cut short (heaps differ a lot in
  untracked objects per tracked one), seeded by the benchmark. Its input is the
  previous census's size: ``len(gc.get_objects())`` is the census's own floor and
  its longest pause, too dear to pay twice just to decide.
"""

from __future__ import annotations

import ctypes
import gc
import math
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable, Sequence
from itertools import compress, filterfalse
from operator import itemgetter
from typing import Any

from st_memwatch.core.models import CensusResult, TypeGrowth, TypeStat

__all__ = [
    "DEFAULT_BUDGET_S",
    "diff",
    "estimate_cost_s",
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
_F_CONTAINER = 1  # untracked instances may still hold references (tuple, dict)
_F_NDARRAY = 2
_F_ARROW = 4
_BUFFER_REPORTING = (bytes, bytearray)  # their __sizeof__ includes the buffer
# Seconds per tracked object before this process has measured its own (benchmark figures,
# Streamlit + pandas + plotly heap, 2 slow cores): full census, tracked objects only.
_SEED_COST_S = {True: 1.6e-6, False: 2.5e-7}

_getsizeof = sys.getsizeof
_getrefcount = sys.getrefcount
_is_tracked = gc.is_tracked
_get_referents = gc.get_referents
_object_sizeof = object.__sizeof__
_C_SIZEOF_TYPES = (types.MethodDescriptorType, types.WrapperDescriptorType)
_GC_HEAD = _getsizeof([]) - [].__sizeof__()

_last: dict[str, float] = {"full": _SEED_COST_S[True], "tracked_only": _SEED_COST_S[False], "tracked": -1.0}
_fast_ids: list[bool | None] = [None]  # None: not checked yet
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
        return self._flags_arr

    def var_array(self) -> Any:
        self.flags_array()
        return self._var_arr

    def add(self, t: type, sample: Any) -> None:
        sizer: Callable[[Any], int] | None
        sizer, same_as_getsizeof = _c_sizeof(t)
        fixed = _GC_HEAD if t.__flags__ & _HAVE_GC else 0
        if same_as_getsizeof:
            try:  # what sys.getsizeof adds on top of __sizeof__ (gc header, pre-header)
                fixed = max(_getsizeof(sample) - sizer(sample), 0)
            except Exception:  # noqa: BLE001 - a broken __sizeof__ must not stop the census
                pass
        if sizer is _object_sizeof and not t.__itemsize__:
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
        self.code_at[id(t)] = len(self.types)
        self.types.append(t)
        self.sizers.append(sizer)
        self.fixed.append(fixed)
        self.flags.append(flags)
        self.names.append(type_name(t))

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
        all_addr = _addresses(np, np.fromiter(self.types, object, len(self.types)))
        order = np.argsort(all_addr)
        self._addr = all_addr[order]
        self._addr_codes = order.astype(np.int32)
        return self._addr_codes[np.searchsorted(self._addr, addr)]


class _Census:
    """One census in progress: per-type sums, shared-object records, work queues."""

    def __init__(self, np_mod: Any, deadline: float) -> None:
        self.np = np_mod
        self.deadline = deadline
        self.t = _Types(np_mod)
        self.count = np_mod.zeros(0, np_mod.int64)
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
        self.single_rc = _single_owner_rc(np_mod)
        self.complete = True

    def over_budget(self) -> bool:
        if time.perf_counter() > self.deadline:
            self.complete = False
        return not self.complete

    # -- counting --------------------------------------------------------------
    def account(self, codes: Any, objs: Sequence[Any], only: Any = None) -> None:
        """Add objects (those where ``only`` is True, if given), each exactly once, to the
        per-type count and bytes."""
        np = self.np
        k = len(self.t)
        if k > len(self.count):
            self.count = np.concatenate([self.count, np.zeros(k - len(self.count), np.int64)])
            self.var_bytes.extend([0] * (k - len(self.var_bytes)))
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
        grouped = _pick(objs, at[order].tolist())
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
            mcodes = codes[mpos[keep]]
            self.m_ids.append(ids[keep])
            self.m_codes.append(mcodes)
            self.m_objs.extend(mobjs)
            mflags = flags[mpos[keep]]
            if mflags.any():
                seen = self.seen_special
                for o in compress(mobjs, mflags.astype(bool).tolist()):
                    if id(o) not in seen:
                        seen.add(id(o))
                        self.queue_special(o)
            del mobjs
            if len(self.m_objs) > _CONSOLIDATE:
                self.consolidate()
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
        while refs:
            unt = list(filterfalse(_is_tracked, refs[-_PART * 4 :]))
            del refs[-_PART * 4 :]
            self.untracked_in_parts(unt)

    def untracked_in_parts(self, objs: list[Any]) -> None:
        """Feed ``untracked`` in parts, emptying ``objs`` so that no second list holds them."""
        while objs:
            part = objs[-_PART:]
            del objs[-_PART:]
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
        for a in range(0, len(objs), _PART):
            self.account(self.m_codes[0][a : a + _PART], objs[a : a + _PART])
        self.m_ids, self.m_codes, self.m_objs = [], [], []

    def save(self) -> tuple[Any, list[int], dict[int, int]]:
        return self.count.copy(), list(self.var_bytes), dict(self.ext)

    def restore(self, saved: tuple[Any, list[int], dict[int, int]]) -> None:
        self.count, self.var_bytes, self.ext = saved[0], list(saved[1]), dict(saved[2])

    def drop_references(self) -> None:
        self.pending.clear()
        self.arrays.clear()
        self.arrow_objs.clear()
        self.m_objs.clear()

    def figures(self) -> dict[str, list[int]]:
        """Per type name: [count, bytes]; types sharing a name are merged."""
        out: dict[str, list[int]] = {}
        t = self.t
        counts = self.count.tolist()
        for code, c in enumerate(counts):
            b = t.fixed[code] * c + self.var_bytes[code] + self.ext.get(code, 0)
            if c or b:
                acc = out.setdefault(t.names[code], [0, 0])
                acc[0] += c
                acc[1] += b
        return out


def _safe_size(sizer: Callable[[Any], int], o: Any) -> int:
    try:
        return int(sizer(o))
    except Exception:  # noqa: BLE001
        return 0


def take_census(budget_s: float | None = None, *, untracked: bool = True) -> CensusResult:
    """Count live objects and their shallow bytes per type, within ``budget_s`` seconds.

    ``budget_s=None`` means no limit. When the budget runs out the census stops
    between chunks and returns ``complete=False``: if every tracked object had been
    counted by then, with the figures of ``untracked=False``, otherwise with those
    of the tracked objects it reached. Do not compare it with a complete census.
    ``untracked=False`` counts gc-tracked objects only: several times cheaper, but
    blind to arrays, bytes, str and numbers; it is reported as incomplete too.

    >>> result = take_census(budget_s=DEFAULT_BUDGET_S)
    >>> result.tracked_objects > 0
    True
    """
    import numpy as np  # a Streamlit dependency; used here as a fast array kit

    with _one_at_a_time:
        return _take_census(np, budget_s, untracked)


def _take_census(np: Any, budget_s: float | None, untracked: bool) -> CensusResult:
    started = time.perf_counter()
    taken_at = time.time()
    deadline = math.inf if budget_s is None else started + max(budget_s, 0.0)
    was_enabled = gc.isenabled()
    gc.disable()
    reached = 0  # tracked objects whose referents were counted
    tracked_all = False
    try:
        objs = gc.get_objects()  # the list leaves itself out
        n = len(objs)
        census = _Census(np, deadline)
        # Tracked objects first: cheap, so even a census cut short has them all, and
        # its figures are those of ``untracked=False``, stable from one census to the next.
        for a in range(0, n, _CHUNK):
            if census.over_budget():
                break
            census.tracked(objs[a : a + _CHUNK])
        census.walk_arrow()
        tracked_s = time.perf_counter() - started
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
    if not untracked and tracked_all and n:
        _last["tracked_only"] = duration / n
    if complete and n:
        _last["full"] = duration / n
    elif untracked and reached:  # cut short: extrapolate from the part walked
        _last["full"] = (tracked_s + (duration - tracked_s) * n / reached) / n
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

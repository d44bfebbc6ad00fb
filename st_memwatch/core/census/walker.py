"""The walk of one census: which objects are reached, and that each is counted once.

Why it is built this way:

* ``gc.get_objects()`` lists only gc-tracked containers, but an app's bytes mostly
  sit in objects the collector does not track (numpy arrays, bytes, str, numbers,
  dicts and tuples of atoms). Those are reached through ``gc.get_referents`` of the
  tracked containers, and on through the untracked containers among them;
  object-dtype numpy arrays are entered too, because numpy hides their items from
  the collector.
* De-duplication by ``id`` is the dearest step, so it is skipped for objects that
  can only be reached once: an untracked object whose reference count shows a single
  owner (the count that means so is measured on a probe, not assumed) is counted on
  the spot; only shared ones are recorded and sorted by id at the end.
* A numpy array that owns its buffer reports it in ``__sizeof__``, a view reports its
  header only; bases are visited through ``.base`` so that a base kept alive only by
  its views is counted, once. A foreign buffer under an array (``mmap``, ...) and the
  buffers of pyarrow objects (pandas' default string storage) are counted once per
  buffer; so are the native buffers of objects with a sizer (``core/sizers.py``:
  Pillow's pixels, torch's storages), by the key their sizer gives.
* Work comes in parts so that no single C call holds the GIL long and the budget
  (or ``cancel``) can stop the walk between parts; a stopped walk says so
  (``complete`` False).
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from itertools import compress, filterfalse
from typing import Any

import numpy as np
from numpy.typing import NDArray

from st_memwatch.core import sizers as _sizers
from st_memwatch.core.census.headers import HeaderReader, ids_of, single_owner_refcount
from st_memwatch.core.census.tally import Tally, pick
from st_memwatch.core.census.type_table import F_CLASS, F_CONTAINER, F_EXTERNAL, F_MASK, F_NDARRAY, Codes, TypeTable

PART = 16384  # untracked objects per step (portable road)
FAST_PART = 1 << 16  # referents per step when headers are read in bulk
CONSOLIDATE = 1 << 20  # shared-object records kept before merging duplicates
_BUFFER_REPORTING = (bytes, bytearray)  # their __sizeof__ includes the buffer

_getrefcount = sys.getrefcount
_is_tracked = gc.is_tracked
get_referents = gc.get_referents


def _first_of_each(ids: NDArray[Any]) -> NDArray[np.intp]:
    """Sorted indices that pick each distinct id once."""
    order = np.argsort(ids)
    ids = ids[order]
    first = np.empty(len(ids), bool)
    first[:1] = True
    np.not_equal(ids[1:], ids[:-1], out=first[1:])
    return np.sort(order[first])


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


class Walker:
    """One census in progress: the type table, the sums, shared-object records, work queues."""

    def __init__(self, mem: HeaderReader | None, deadline: float, cancel: Callable[[], bool] | None = None) -> None:
        self.cancel = cancel
        self.deadline = deadline  # in ``time.thread_time()`` seconds
        self.mem = mem
        self.t = TypeTable(mem)
        self.tally = Tally(self.t, mem)
        self.m_ids: list[NDArray[Any]] = []  # shared untracked objects: counted after de-duplication
        self.m_codes: list[Codes] = []
        self.m_objs: list[Any] = []
        self.seen_special: set[int] = set()  # ids of shared containers / arrays queued
        self.seen_buffers: set[tuple[int, int]] = set()
        self.pending: list[Any] = []  # untracked containers whose referents are still to walk
        self.arrays: list[Any] = []  # numpy arrays whose bases / items are still to walk
        self.external_objs: list[Any] = []
        self.single_rc = mem.single_rc if mem is not None else single_owner_refcount()
        self.complete = True

    def over_budget(self) -> bool:
        if time.thread_time() > self.deadline or (self.cancel is not None and self.cancel()):
            self.complete = False
        return not self.complete

    # -- tracked objects (each listed once by gc.get_objects()) ----------------------
    def tracked(self, chunk: list[Any]) -> None:
        """Portable road: count a chunk of tracked objects."""
        codes = self.t.codes(chunk)
        self.tally.account(codes, chunk)
        flags = self.t.flags_array()[codes] & (F_NDARRAY | F_EXTERNAL)
        if flags.any():  # rare among tracked objects: ndarray subclasses, pyarrow objects, sized ones
            for o in compress(chunk, flags.astype(bool).tolist()):
                self.queue_special(o)

    def tracked_fast(self, objs: list[Any], at_all: NDArray[np.int64], a: int, b: int) -> None:
        """Headers road: tracked objects ``objs[a:b]``, whose word indices are ``at_all[a:b]``."""
        assert self.mem is not None
        at = at_all[a:b]
        codes = self.t.codes_at(self.mem.words.take(at), lambda i: objs[a + i])
        self.tally.account_fast(codes, at, objs, np.arange(a, b))
        flags = self.t.flags_array()[codes] & (F_NDARRAY | F_EXTERNAL)
        if flags.any():  # rare among tracked objects: ndarray subclasses, pyarrow objects, sized ones
            for i in np.flatnonzero(flags).tolist():
                self.queue_special(objs[a + i])

    # -- untracked objects (listed once per reference found) -------------------------
    def untracked(self, objs: list[Any]) -> None:
        """Count untracked objects; ``objs`` must be the only list holding them, since
        their reference counts are read first."""
        if self.mem is not None:
            self.untracked_fast(objs)
            return
        n = len(objs)
        if not n:
            return
        single = np.fromiter(map(_getrefcount, objs), np.int64, n) == self.single_rc
        codes = self.t.codes(objs)
        flags = self.t.flags_array()[codes]
        if single.all():
            self.tally.account(codes, objs)
        else:
            # A single owner means found exactly once. Shared ones are recorded by id,
            # one per chunk, and counted at the end once the duplicates are gone.
            shared = ~single
            mpos = np.flatnonzero(shared)
            marr = np.fromiter(compress(objs, shared.tolist()), object, len(mpos))
            ids = ids_of(marr)
            keep = _first_of_each(ids)
            mobjs = marr[keep].tolist()
            del marr
            self.remember_shared(ids[keep], codes[mpos[keep]], mobjs, flags[mpos[keep]])
            del mobjs
            self.tally.account(codes, objs, single)
            flags[shared] = 0
        if flags.any():
            # Untracked tuples and dicts with one owner are common (records of atoms):
            # queue them wholesale; arrays and Arrow objects go one by one.
            plain = flags == F_CONTAINER
            if plain.any():
                self.pending.extend(compress(objs, plain.tolist()))
                flags[plain] = 0
            if flags.any():
                for o in compress(objs, flags.astype(bool).tolist()):
                    self.queue_special(o)

    def untracked_fast(self, objs: list[Any]) -> None:
        """``untracked`` with headers read in bulk: the same rules, the same figures."""
        mem = self.mem
        assert mem is not None
        n = len(objs)
        if not n:
            return
        w = mem.words
        at = mem.items(objs)
        codes = self.t.codes_at(w.take(at), objs.__getitem__)
        props = self.t.props_array().take(codes)  # flags | size kind << 4
        pos: NDArray[np.intp] | None = None  # objs[pos[i]] is object i; None: objs[i]
        # Drop the tracked ones (counted as tracked objects): the gc header tells, but a
        # class has one only if made at run time, so classes are asked once each.
        chk = np.flatnonzero(props & F_CONTAINER)
        if len(chk):
            cls = (props[chk] & F_CLASS) != 0
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
            self.tally.account_fast(codes, at, objs, pos, props)
        else:
            one = np.flatnonzero(single)
            shared = np.flatnonzero(~single)
            shared = shared[np.unique(at[shared], return_index=True)[1]]
            mobjs = pick(objs, (shared if pos is None else pos[shared]).tolist())
            self.remember_shared(at[shared], codes[shared], mobjs, props[shared] & F_MASK)
            del mobjs
            pos = one if pos is None else pos[one]
            props = props[one]
            self.tally.account_fast(codes[one], at[one], objs, pos, props)
        fl = props & F_MASK
        if fl.any():
            plain = np.flatnonzero((fl & (F_CONTAINER | F_NDARRAY | F_EXTERNAL)) == F_CONTAINER)
            if len(plain):  # untracked tuples, dicts, static classes with one owner: walked wholesale
                self.pending.extend(pick(objs, (plain if pos is None else pos[plain]).tolist()))
            special = np.flatnonzero((fl & (F_NDARRAY | F_EXTERNAL)) != 0)
            for i in (special if pos is None else pos[special]).tolist():
                self.queue_special(objs[i])

    def queue_special(self, o: Any) -> None:
        f = self.t.flags[self.t.code(type(o))]
        if f & F_NDARRAY:
            self.arrays.append(o)
        if f & F_EXTERNAL:
            self.external_objs.append(o)
        if f & F_CONTAINER and not _is_tracked(o):
            self.pending.append(o)

    # -- shared objects ----------------------------------------------------------------
    def remember_shared(self, ids: NDArray[Any], codes: Codes, objs: Sequence[Any], flags: NDArray[Any]) -> None:
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
        if len(self.m_objs) > CONSOLIDATE:
            self.consolidate()

    def consolidate(self) -> None:
        """Merge the shared-object records, dropping objects recorded twice."""
        if not self.m_ids:
            return
        ids = np.concatenate(self.m_ids)
        keep = _first_of_each(ids)
        self.m_ids = [ids[keep]]
        self.m_codes = [np.concatenate(self.m_codes)[keep]]
        mask = np.zeros(len(ids), bool)
        mask[keep] = True
        objs, self.m_objs = self.m_objs, []
        for a in range(0, len(objs), PART):  # in slices: no long hold of the GIL
            self.m_objs.extend(compress(objs[a : a + PART], mask[a : a + PART].tolist()))

    def finish_shared(self) -> None:
        """Count the shared untracked objects, now that each is recorded once."""
        self.consolidate()
        objs = self.m_objs
        step = FAST_PART if self.mem is not None else PART
        for a in range(0, len(objs), step):
            codes = self.m_codes[0][a : a + step]
            if self.mem is not None:
                self.tally.account_fast(codes, self.m_ids[0][a : a + step], objs, np.arange(a, a + len(codes)))
            else:
                self.tally.account(codes, objs[a : a + step])
        self.m_ids, self.m_codes, self.m_objs = [], [], []

    # -- walking on --------------------------------------------------------------------
    def untracked_referents(self, refs: list[Any]) -> None:
        """Count the untracked objects among ``refs`` (emptied on the way), a slice at a time:
        one container can hold a million references."""
        if self.mem is not None:  # tracked ones are dropped from the headers
            self.untracked_in_parts(refs, FAST_PART)
            return
        while refs:
            unt = list(filterfalse(_is_tracked, refs[-PART * 4 :]))
            del refs[-PART * 4 :]
            self.untracked_in_parts(unt)

    def untracked_in_parts(self, objs: list[Any], size: int = 0) -> None:
        """Feed ``untracked`` in parts, emptying ``objs`` so that no second list holds them."""
        size = size or (FAST_PART if self.mem is not None else PART)
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
            batch = self.pending[-PART:]
            del self.pending[-PART:]
            refs = get_referents(*batch)
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
                            for at in range(0, len(flat), PART):
                                found.extend(filterfalse(_is_tracked, flat[at : at + PART].tolist()))
                            del flat
                        except Exception:  # noqa: BLE001 - odd structured arrays: skip items
                            pass
                    elif not a.flags.owndata:  # memory numpy neither owns nor traces
                        self.add_buffer(a, (id(a), -1), int(a.nbytes))
                elif isinstance(base, ndarray):
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

    def walk_external(self) -> None:
        """Bytes outside the objects: Arrow's buffers (C++), each once by address; sizers' figures."""
        external = self.t.external
        code = self.t.code
        for o in self.external_objs:
            sizer = external[code(type(o))]
            if sizer is not None:
                n = _sizers.call(sizer, o)
                if n:
                    self.add_buffer(o, (_sizers.buffer_key(sizer, o), -3), n)
                continue
            try:
                for addr, size in _arrow_buffers(o):
                    self.add_buffer(o, (addr, size), size)
            except Exception:  # noqa: BLE001 - an exotic Arrow object: its header only
                continue
        self.external_objs.clear()

    def add_buffer(self, owner: Any, key: tuple[int, int], nbytes: int) -> None:
        """Bytes an object's ``__sizeof__`` leaves out; ``key`` identifies the buffer."""
        if key in self.seen_buffers:
            return
        self.seen_buffers.add(key)
        self.tally.add_buffer_bytes(self.t.code(type(owner)), nbytes)

    def drop_references(self) -> None:
        """Let go of every heap object the walk still holds."""
        self.pending.clear()
        self.arrays.clear()
        self.external_objs.clear()
        self.m_objs.clear()

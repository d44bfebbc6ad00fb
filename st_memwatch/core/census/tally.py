"""Per-type sums of one census: counts and bytes, added a batch of objects at a time.

Why: the walker decides which objects are counted (each exactly once); this module
only adds them up, so both roads (headers read in bulk, or one C call per object)
share one set of sums and one way to turn them into figures. No Python statement
runs per object: counts are ``bincount``s, sizes read from headers are gathers, and
the remaining ``__sizeof__`` calls are one C-level ``map`` per type.

Beside the sums, the tally keeps which of the bytes come from the C allocators
(``split``): objects above pymalloc's small-object limit are ``malloc``'ed (numpy
buffers, long lists, dicts and strings), so are the buffers a sizer reports; Arrow's
buffers come from Arrow's pool. The ledger takes these out of the allocators'
figures so that no byte is counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from st_memwatch.core.census.headers import HeaderReader
from st_memwatch.core.census.type_table import (
    F_EXTERNAL,
    F_NDARRAY,
    K_CALL,
    K_FIXED,
    K_INT,
    K_LIST,
    K_OBJVAR,
    Codes,
    Sizer,
    TypeTable,
)

Saved = tuple[NDArray[np.int64], NDArray[np.int64], list[int], dict[int, int], NDArray[np.int64], list[int]]
# pymalloc serves requests up to this many bytes; larger objects come from the C allocator.
SMALL_REQUEST = 512
# Groups at least this large are sized into an array: cheaper than a list once past the set-up.
_VECTOR_GROUP = 64


class Split(NamedTuple):
    """Bytes of a census's figures by where they live: glibc's malloc, Arrow's pool (the rest: pymalloc)."""

    total: int
    in_malloc: int
    in_arrow: int


def pick(objs: Sequence[Any], at: list[int]) -> Sequence[Any]:
    """``objs[i] for i in at``, in C."""
    if len(at) > 1:
        return itemgetter(*at)(objs)  # type: ignore[no-any-return]
    return [objs[i] for i in at]


def _safe_size(sizer: Sizer, o: Any) -> int:
    try:
        return int(sizer(o))
    except Exception:  # noqa: BLE001
        return 0


class Tally:
    """Counts and bytes per type code."""

    def __init__(self, table: TypeTable, mem: HeaderReader | None) -> None:
        self.t = table
        self.mem = mem
        self.count: NDArray[np.int64] = np.zeros(0, np.int64)
        self.fbytes: NDArray[np.int64] = np.zeros(0, np.int64)  # bytes found from headers
        self.var_bytes: list[int] = []  # bytes found by calling sizers
        self.ext: dict[int, int] = {}  # code -> buffer bytes that __sizeof__ leaves out
        self.big_f: NDArray[np.int64] = np.zeros(0, np.int64)  # of fbytes: objects above SMALL_REQUEST
        self.big_var: list[int] = []  # of var_bytes: objects above SMALL_REQUEST

    def grow(self) -> int:
        """Make room for types registered since; returns the number of types."""
        k = len(self.t)
        pad = k - len(self.count)
        if pad > 0:
            self.count = np.concatenate([self.count, np.zeros(pad, np.int64)])
            self.fbytes = np.concatenate([self.fbytes, np.zeros(pad, np.int64)])
            self.big_f = np.concatenate([self.big_f, np.zeros(pad, np.int64)])
            self.var_bytes.extend([0] * pad)
            self.big_var.extend([0] * pad)
        return k

    def add_buffer_bytes(self, code: int, nbytes: int) -> None:
        self.ext[code] = self.ext.get(code, 0) + nbytes

    def account(self, codes: Codes, objs: Sequence[Any], only: NDArray[np.bool_] | None = None) -> None:
        """Portable road: add objects (those where ``only`` is True, if given) to the sums."""
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
        self.call_sizers(vcodes, pick(objs, at[order].tolist()))

    def call_sizers(self, vcodes: Codes, grouped: Sequence[Any]) -> None:
        """Add ``sizer(o)`` for objects ``grouped`` by their (sorted) codes ``vcodes``."""
        starts = (np.flatnonzero(vcodes[1:] != vcodes[:-1]) + 1).tolist()
        edges = [0, *starts, len(vcodes)]
        sizers = self.t.sizers
        vb = self.var_bytes
        big = self.big_var
        above = SMALL_REQUEST.__lt__
        for c, a, b in zip(vcodes[[0, *starts]].tolist(), edges, edges[1:], strict=False):
            sizer = sizers[c]
            assert sizer is not None
            if b - a >= _VECTOR_GROUP:
                try:  # one C-level pass into an array, then vectorised sums
                    arr = np.fromiter(map(sizer, grouped[a:b]), np.int64, b - a)
                except Exception:  # noqa: BLE001 - one odd object must not cost its group
                    arr = np.fromiter((_safe_size(sizer, o) for o in grouped[a:b]), np.int64, b - a)
                vb[c] += int(arr.sum())
                large = arr[arr > SMALL_REQUEST]
                if len(large):
                    big[c] += int(large.sum())
                continue
            try:
                sizes = list(map(sizer, grouped[a:b]))
            except Exception:  # noqa: BLE001 - one odd object must not cost its group
                sizes = [_safe_size(sizer, o) for o in grouped[a:b]]
            vb[c] += sum(sizes)
            if max(sizes) > SMALL_REQUEST:
                big[c] += sum(filter(above, sizes))

    def account_fast(
        self,
        codes: Codes,
        at: NDArray[np.int64],
        objs: Sequence[Any],
        pos: NDArray[np.intp] | None,
        props: NDArray[np.uint8] | None = None,
    ) -> None:
        """Headers road: count objects (each once) with their bytes. Object ``i`` sits at
        word ``at[i]`` and is ``objs[pos[i]]`` (``objs[i]`` if ``pos`` is None); ``props``
        are the types' ``props_array`` entries if known. Sizes come from header fields
        where a formula is checked."""
        mem = self.mem
        assert mem is not None
        k = self.grow()
        self.count += np.bincount(codes, minlength=k)
        kinds, basic, item = self.t.size_arrays()
        kk = kinds[codes] if props is None else props >> 4
        var = np.flatnonzero(kk)
        if not len(var):
            return
        w = mem.words
        kv = kk[var]
        call: list[NDArray[np.intp]] = []
        for kind in np.unique(kv).tolist():
            sel = var[kv == kind]
            if kind == K_CALL:
                call.append(sel)
                continue
            c = codes[sel]
            a = at[sel]
            if kind == K_OBJVAR:
                sz = basic[c] + item[c] * w.take(a + 1)
            elif kind == K_LIST:
                sz = basic[c] + 8 * w.take(a + 3)
            elif kind == K_INT:
                sz = mem.int_sizes(w.take(a + 1), basic[c], item[c])
            else:  # K_STR: compact ASCII from the header, the others are asked
                ok = (w.take(a + 3) & 0x60) == 0x60
                if not ok.all():
                    call.append(sel[~ok])
                    c, a = c[ok], a[ok]
                sz = mem.str_base + w.take(a + 1)
            self.fbytes += np.bincount(c, weights=sz, minlength=k).astype(np.int64)
            large = sz > SMALL_REQUEST
            if large.any():
                self.big_f += np.bincount(c[large], weights=sz[large], minlength=k).astype(np.int64)
        if call:
            sel = np.concatenate(call) if len(call) > 1 else call[0]
            vcodes = codes[sel]
            order = np.argsort(vcodes, kind="stable")
            at_objs = sel[order] if pos is None else pos[sel[order]]
            self.call_sizers(vcodes[order], pick(objs, at_objs.tolist()))

    def save(self) -> Saved:
        return (
            self.count.copy(),
            self.fbytes.copy(),
            list(self.var_bytes),
            dict(self.ext),
            self.big_f.copy(),
            list(self.big_var),
        )

    def restore(self, saved: Saved) -> None:
        self.count, self.fbytes, self.var_bytes, self.ext = saved[0], saved[1], list(saved[2]), dict(saved[3])
        self.big_f, self.big_var = saved[4], list(saved[5])

    def split(self) -> Split:
        """The figures' bytes by allocator (st_memwatch's own objects left out, as in ``figures``).

        malloc: objects above pymalloc's limit and the buffers sizers report; Arrow: the
        buffers of Arrow objects. A foreign buffer under a numpy array (a memory map, a
        C library's block) is in neither: where it lives is not known here.
        """
        t = self.t
        self.grow()
        counts = self.count.tolist()
        fbytes = self.fbytes.tolist()
        big_f = self.big_f.tolist()
        total = in_malloc = in_arrow = 0
        for code, c in enumerate(counts):
            if t.own[code]:
                continue
            fixed = t.fixed[code]
            ext = self.ext.get(code, 0)
            total += fixed * c + self.var_bytes[code] + fbytes[code] + ext
            in_malloc += big_f[code] + self.big_var[code]
            if t.kinds[code] == K_FIXED and fixed > SMALL_REQUEST:
                in_malloc += fixed * c
            if ext:
                if t.external[code] is not None:
                    in_malloc += ext
                elif t.flags[code] & F_EXTERNAL and not t.flags[code] & F_NDARRAY:
                    in_arrow += ext
        return Split(total, in_malloc, in_arrow)

    def figures(self) -> dict[str, list[int]]:
        """Per type name: [count, bytes]; types sharing a name are merged, st_memwatch's own left out."""
        out: dict[str, list[int]] = {}
        t = self.t
        self.grow()
        counts = self.count.tolist()
        fbytes = self.fbytes.tolist()
        for code, c in enumerate(counts):
            if t.own[code]:
                continue
            b = t.fixed[code] * c + self.var_bytes[code] + fbytes[code] + self.ext.get(code, 0)
            if c or b:
                acc = out.setdefault(t.names[code], [0, 0])
                acc[0] += c
                acc[1] += b
        return out

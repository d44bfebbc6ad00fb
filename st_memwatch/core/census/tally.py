"""Per-type sums of one census: counts and bytes, added a batch of objects at a time.

Why: the walker decides which objects are counted (each exactly once); this module
only adds them up, so both roads (headers read in bulk, or one C call per object)
share one set of sums and one way to turn them into figures. No Python statement
runs per object: counts are ``bincount``s, sizes read from headers are gathers, and
the remaining ``__sizeof__`` calls are one C-level ``sum(map(...))`` per type.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from st_memwatch.core.census.headers import HeaderReader
from st_memwatch.core.census.type_table import K_CALL, K_INT, K_LIST, K_OBJVAR, Codes, Sizer, TypeTable

Saved = tuple[NDArray[np.int64], NDArray[np.int64], list[int], dict[int, int]]


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

    def grow(self) -> int:
        """Make room for types registered since; returns the number of types."""
        k = len(self.t)
        pad = k - len(self.count)
        if pad > 0:
            self.count = np.concatenate([self.count, np.zeros(pad, np.int64)])
            self.fbytes = np.concatenate([self.fbytes, np.zeros(pad, np.int64)])
            self.var_bytes.extend([0] * pad)
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
        for c, a, b in zip(vcodes[[0, *starts]].tolist(), edges, edges[1:], strict=False):
            sizer = sizers[c]
            assert sizer is not None
            try:
                vb[c] += sum(map(sizer, grouped[a:b]))
            except Exception:  # noqa: BLE001 - one odd object must not cost its group
                vb[c] += sum(_safe_size(sizer, o) for o in grouped[a:b])

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
        if call:
            sel = np.concatenate(call) if len(call) > 1 else call[0]
            vcodes = codes[sel]
            order = np.argsort(vcodes, kind="stable")
            at_objs = sel[order] if pos is None else pos[sel[order]]
            self.call_sizers(vcodes[order], pick(objs, at_objs.tolist()))

    def save(self) -> Saved:
        return self.count.copy(), self.fbytes.copy(), list(self.var_bytes), dict(self.ext)

    def restore(self, saved: Saved) -> None:
        self.count, self.fbytes, self.var_bytes, self.ext = saved[0], saved[1], list(saved[2]), dict(saved[3])

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

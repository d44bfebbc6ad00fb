"""Where the process's memory is: one reading that gives each part of it an owner.

Why: RSS that grows while the census of Python objects does not is either memory
the allocators keep free (retention, bounded) or memory a C library holds (a leak
the census cannot see). Only a reading of the allocators tells the two apart. A
reading names these owners, always by the same words (``OWNERS``):

* ``python``: the census's bytes of live Python objects, given by the caller (the
  census is far too dear to take here), buffers of sized objects included (numpy
  arrays, Arrow buffers, Pillow pixels through ``core/sizers.py``), plus the small
  blocks pymalloc has handed out beyond what the census sized (``python_unsized``:
  attribute values ``sys.getsizeof`` leaves out, the interpreter's own blocks, and
  objects made since the census). pymalloc's own statistics give that figure live;
* ``native``: bytes the C allocator has handed out that no sized Python object
  accounts for: C libraries, models, native sessions, images nobody sized;
* ``allocator_free``: bytes glibc and pymalloc keep free for reuse (retention). glibc lists free
  chunks whether or not their pages are still resident (``malloc_trim`` hands the
  pages back and keeps the chunks listed), so this owner gets at most what the
  other owners leave of the anonymous memory; the listed figure is ``free_listed``;
* ``arrow``: Arrow's memory pool (jemalloc or mimalloc on Linux wheels, outside
  glibc's figures) beyond the Arrow buffers the census reached;
* ``file_backed``: resident pages of shared libraries and memory-mapped files;
  beside the anonymous memory, not part of it;
* ``unexplained``: anonymous memory none of the above accounts for: thread stacks,
  pages of shared libraries written at load time (relocations), the interpreter's
  memory outside both allocators, other allocators' free lists (Arrow's jemalloc or
  mimalloc keeps freed pages). It is mostly a constant floor; what grows in it run
  after run has no owner yet.

Counting nothing twice: glibc's in-use figure holds every ``malloc`` of the
process, including the Python objects that are too big for pymalloc (numpy
buffers, long lists, dicts and strings, Pillow pixels once a sizer counts them),
which the census counts too. So the caller passes, beside the census total, the
part of it that lives in glibc's in-use figure (``python_in_native``) and the part
that lives in Arrow's pool (``python_in_arrow``), and the reading subtracts them:
``native = in_use - python_in_native`` and ``arrow = pool - python_in_arrow``. The
alternative, reporting the raw allocator figures and leaving Python's share
inside them, would make one numpy leak grow two owners at once and leave the
judgement to untangle it; subtracting here keeps the owners a partition, so
``python + native + allocator_free + arrow + unexplained == anonymous`` unless the
in-use owners alone exceed it (``python`` being ``python_objects + python_unsized``). When the pool's backend is glibc's malloc ("system"), Arrow's
bytes are inside the in-use figure as well and are taken out of ``native``.

A figure a platform cannot give (no ``heap_info`` on musl, no ``mallinfo2`` off
glibc 2.33+, no anonymous split off Linux, no census yet) is 0 and its owner is
listed in ``missing``, so the judgement can say what it could not see rather than
read a zero as "nothing there". Arrow's pool when pyarrow is not loaded is not
missing: nothing can be in it.

A reading costs a few system calls and C calls (one read of a kept-open /proc file,
psutil's ``heap_info``, ``mallinfo2`` and pymalloc's statistics through ctypes,
Arrow's pool counter): cheap enough for
every run end and every sampler tick (``benchmarks/bench_ledger.py`` measures it).
Figures taken a moment apart do not add up exactly, and a census is older than the
allocator figures: owners are clamped at zero rather than shown negative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from st_memwatch.core import probes

__all__ = [
    "ALLOCATOR_FREE",
    "ARROW",
    "ATTRIBUTED",
    "FILE_BACKED",
    "NATIVE",
    "OWNERS",
    "PYTHON",
    "UNEXPLAINED",
    "OWNER_LABELS",
    "LedgerReading",
    "ledger_view",
    "read_ledger",
]

PYTHON = "python"
NATIVE = "native"
ALLOCATOR_FREE = "allocator_free"
ARROW = "arrow"
FILE_BACKED = "file_backed"
UNEXPLAINED = "unexplained"
#: Every owner a reading names, in the order a renderer lists them.
OWNERS: tuple[str, ...] = (PYTHON, NATIVE, ALLOCATOR_FREE, ARROW, FILE_BACKED, UNEXPLAINED)
#: The owners that share the anonymous memory with ``unexplained``.
ATTRIBUTED: tuple[str, ...] = (PYTHON, NATIVE, ALLOCATOR_FREE, ARROW)


@dataclass(frozen=True, slots=True)
class LedgerReading:
    """One reading of where the memory is, in bytes. Plain numbers: cheap to keep as a series.

    ``rss``, ``anonymous``, ``file_backed``: the kernel's resident pages and their split.
    ``native_in_use``, ``free_listed``, ``arrow_pool``, ``pymalloc_in_use``, ``pymalloc_arenas``:
    the allocators' raw figures (pymalloc's are 0 where it is not in use).
    ``python_objects``: the census total the caller gave; ``python_in_native`` and
    ``python_in_arrow`` the parts of it that sit inside ``native_in_use`` and ``arrow_pool``.
    ``python_unsized``: pymalloc's blocks beyond the census's small objects (part of the python owner).
    ``native``, ``arrow``: what the allocators hold beyond the census's objects (the owners).
    ``allocator_free``: glibc's free chunks and pymalloc's free arena space, at most what the
    other owners leave resident.
    ``unexplained``: anonymous memory left once every other owner is taken out.
    ``missing``: names (from ``OWNERS``) of the owners this platform or moment cannot measure.

    Example::

        >>> r = read_ledger(None)
        >>> "python" in r.missing and r.python_objects == 0
        True
        >>> r.unexplained == max(0, r.anonymous - r.attributed)
        True
    """

    rss: int
    anonymous: int
    file_backed: int
    native_in_use: int
    free_listed: int
    arrow_pool: int
    python_objects: int
    python_in_native: int
    python_in_arrow: int
    pymalloc_in_use: int
    pymalloc_arenas: int
    python_unsized: int
    native: int
    arrow: int
    allocator_free: int
    unexplained: int
    missing: tuple[str, ...] = field(default=())

    def owners(self) -> dict[str, int]:
        """Bytes per owner name (``OWNERS``), each byte under one owner."""
        return {
            PYTHON: self.python_objects + self.python_unsized,
            NATIVE: self.native,
            ALLOCATOR_FREE: self.allocator_free,
            ARROW: self.arrow,
            FILE_BACKED: self.file_backed,
            UNEXPLAINED: self.unexplained,
        }

    @property
    def attributed(self) -> int:
        """Anonymous bytes with a named owner (python, native, allocator_free, arrow)."""
        return self.python_objects + self.python_unsized + self.native + self.allocator_free + self.arrow

    def attributed_share(self) -> float | None:
        """The share of anonymous memory with a named owner (at most 1), None without a split."""
        if self.anonymous <= 0:
            return None
        return min(1.0, self.attributed / self.anonymous)


def read_ledger(
    python_objects: int | None,
    *,
    python_in_native: int = 0,
    python_in_arrow: int = 0,
) -> LedgerReading:
    """Read the allocators and the kernel now; ``python_objects`` is the census total (None: no census yet).

    ``python_in_native`` / ``python_in_arrow`` are the parts of ``python_objects``
    whose bytes glibc's malloc / Arrow's pool hold (the census's split); they keep
    those bytes from being counted twice. Any negative or non-integer figure
    raises ValueError naming it.

    Example::

        >>> reading = read_ledger(50 * 2**20, python_in_native=30 * 2**20)
        >>> reading.python_objects
        52428800
        >>> set(reading.owners()) == set(OWNERS)
        True
    """
    python = _check("python_objects", 0 if python_objects is None else python_objects)
    in_native = _check("python_in_native", python_in_native)
    in_arrow = _check("python_in_arrow", python_in_arrow)
    missing: list[str] = [] if python_objects is not None else [PYTHON]

    split = probes.memory_split()
    if split is None:  # no kernel split here: all resident memory is taken as anonymous
        rss = probes.rss()
        anonymous, file_backed = rss, 0
        missing.append(FILE_BACKED)
    else:
        rss, anonymous, file_backed = split

    in_use, free = probes.c_allocator()
    if in_use is None:
        in_use = 0
        missing.append(NATIVE)
    if free is None:
        free = 0
        missing.append(ALLOCATOR_FREE)
    pool = probes.arrow_pool()
    if pool is None:
        pool_bytes, pool_in_malloc = 0, False
        missing.append(ARROW)
    else:
        pool_bytes, pool_in_malloc = pool

    small = probes.pymalloc()
    pym_in_use, pym_arenas = small if small is not None else (0, 0)
    # pymalloc's blocks beyond the census's small objects (those neither malloc'ed nor Arrow's).
    unsized = max(0, pym_in_use - max(0, python - in_native - in_arrow))

    arrow = max(0, pool_bytes - in_arrow)
    native = in_use - in_native - (pool_bytes if pool_in_malloc else 0)
    native = max(0, native) if in_use else 0
    rest = max(0, anonymous - python - unsized - native - arrow)
    retained = min(free + (pym_arenas - pym_in_use), rest)
    unexplained = rest - retained
    return LedgerReading(
        rss=rss,
        anonymous=anonymous,
        file_backed=file_backed,
        native_in_use=in_use,
        free_listed=free,
        arrow_pool=pool_bytes,
        python_objects=python,
        python_in_native=in_native,
        python_in_arrow=in_arrow,
        pymalloc_in_use=pym_in_use,
        pymalloc_arenas=pym_arenas,
        python_unsized=unsized,
        native=native,
        arrow=arrow,
        allocator_free=retained,
        unexplained=unexplained,
        missing=tuple(missing),
    )


def _check(name: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError(f"invalid {name} {value!r}: expected a non-negative int of bytes (or None for python_objects)")


# Each owner in words, for the details and the reports.
OWNER_LABELS: dict[str, str] = {
    PYTHON: "Python objects",
    NATIVE: "native memory in use (C libraries, images, models)",
    ALLOCATOR_FREE: "kept free by the allocators (retention)",
    ARROW: "Arrow's memory pool",
    UNEXPLAINED: "unexplained (stacks, other allocators)",
    FILE_BACKED: "file-backed (libraries, mapped files)",
}

# The details draw the ledger's last readings; a trend is the median slope over the last few.
SHOWN_READINGS = 120
TREND_READINGS = 12


def ledger_view(reading: LedgerReading | None, series: Mapping[str, Sequence[tuple[float, int]]]) -> dict[str, Any] | None:
    """The ledger as the snapshot carries it: the owners now, what is missing, each owner over time and its trend.

    ``series`` is the store's readings, one per run by run number. ``per_run`` is each
    owner's bytes per run over its last ``TREND_READINGS`` readings, as a median of
    pairwise slopes (Theil-Sen), so that one jump (a cache filled once) is no trend.
    """
    from st_memwatch.core.analysis import theil_sen  # numpy: loaded only when a view is built

    if reading is None:
        return None
    shown = {owner: [[x, b] for x, b in pairs[-SHOWN_READINGS:]] for owner, pairs in series.items() if pairs}
    per_run = {}
    for owner, pairs in series.items():
        last = list(pairs[-TREND_READINGS:])
        if len(last) >= 3:
            per_run[owner] = theil_sen([x for x, _ in last], [b for _, b in last])
    return {"owners": reading.owners(), "missing": list(reading.missing), "series": shown, "per_run": per_run}

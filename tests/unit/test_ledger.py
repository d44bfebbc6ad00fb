"""The ledger and its probes, driven by real allocations: libc's malloc through ctypes, Pillow images.

The figures are the process's own, so each check allows a margin of 1 MiB for what
the interpreter allocates meanwhile; the allocations are 8 MiB or more.
"""

from __future__ import annotations

import ctypes
import subprocess
import sys

import pytest

from st_memwatch.core import ledger, probes
from st_memwatch.core.ledger import OWNERS, read_ledger

MiB = 2**20
SLACK = MiB

glibc = probes.allocator_free() is not None
needs_heap_info = pytest.mark.skipif(probes.heap_in_use() is None, reason="psutil cannot read this C allocator")
needs_glibc = pytest.mark.skipif(not glibc, reason="mallinfo2 is glibc's (2.33 and later)")
needs_split = pytest.mark.skipif(probes.memory_split() is None, reason="no anonymous/file-backed split off Linux")


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free.restype = None
    return libc


def _malloc(libc: ctypes.CDLL, size: int) -> int:
    p = libc.malloc(size)
    assert p, "malloc failed"
    ctypes.memset(p, 0x5A, size)  # touch every page, as a C library filling its buffer does
    return int(p)


@needs_heap_info
def test_a_malloc_of_8_mib_raises_native_by_8_mib_and_its_free_lowers_it():
    libc = _libc()
    before = read_ledger(None)
    p = _malloc(libc, 8 * MiB)
    try:
        held = read_ledger(None)
    finally:
        libc.free(p)
    after = read_ledger(None)
    assert abs(held.native_in_use - before.native_in_use - 8 * MiB) < SLACK, (before, held)
    assert abs(held.native - before.native - 8 * MiB) < SLACK, (before, held)
    assert abs(after.native - before.native) < SLACK, (before, after)


@needs_heap_info
@needs_split
def test_touched_native_memory_is_attributed_not_unexplained():
    libc = _libc()
    before = read_ledger(None)
    p = _malloc(libc, 16 * MiB)
    try:
        held = read_ledger(None)
    finally:
        libc.free(p)
    # Whether the block takes new pages or reuses free ones glibc kept, named owners explain it.
    assert held.native - before.native > 15 * MiB, (before, held)
    assert held.unexplained - before.unexplained < SLACK, (before, held)


@needs_heap_info
@needs_glibc
def test_freed_small_chunks_move_from_native_to_allocator_free():
    """2 KiB chunks come from glibc's arenas; freed between survivors, glibc keeps them (retention)."""
    libc = _libc()
    chunks = [_malloc(libc, 2048) for _ in range(16_000)]  # ~31 MiB
    held = read_ledger(None)
    try:
        for i, p in enumerate(chunks):
            if i % 64:
                libc.free(p)
        freed = read_ledger(None)
    finally:
        for i, p in enumerate(chunks):
            if not i % 64:
                libc.free(p)
    released = 16_000 * 63 // 64 * 2048
    assert held.native - freed.native > 0.9 * released, (held, freed)
    assert freed.free_listed - held.free_listed > 0.9 * released, (held, freed)
    assert freed.allocator_free - held.allocator_free > 0.9 * released, (held, freed)


@needs_heap_info
@needs_glibc
@needs_split
def test_after_a_trim_the_free_chunks_claim_no_more_than_is_resident():
    libc = _libc()
    chunks = [_malloc(libc, 2048) for _ in range(16_000)]
    for i, p in enumerate(chunks):
        if i % 64:
            libc.free(p)
    try:
        assert probes.trim_allocator() == ""
        r = read_ledger(None)
    finally:
        for i, p in enumerate(chunks):
            if not i % 64:
                libc.free(p)
    assert r.allocator_free <= r.anonymous - r.python_unsized - r.native - r.arrow
    assert r.python_objects + r.python_unsized + r.native + r.arrow + r.allocator_free + r.unexplained == r.anonymous


@needs_heap_info
def test_python_bytes_inside_malloc_are_not_counted_twice():
    """The census's part in glibc's figure (numpy buffers, big objects) is taken out of ``native``."""
    r = read_ledger(3 * MiB, python_in_native=2 * MiB)
    assert r.python_objects == 3 * MiB and r.python_in_native == 2 * MiB
    pool_in_malloc = r.arrow_pool if (probes.arrow_pool() or probes.ArrowPool(0, False)).in_malloc else 0
    assert r.native == max(0, r.native_in_use - 2 * MiB - pool_in_malloc)


@needs_heap_info
def test_a_numpy_buffer_is_python_once_the_census_says_so():
    np = pytest.importorskip("numpy")
    before = read_ledger(0)
    buf = np.ones(8 * MiB, np.uint8)
    held = read_ledger(buf.nbytes, python_in_native=buf.nbytes)
    assert abs(held.native - before.native) < SLACK, (before, held)
    assert held.python_objects == 8 * MiB
    del buf


@needs_heap_info
def test_a_pillow_image_is_native_memory():
    image = pytest.importorskip("PIL.Image")
    before = read_ledger(None)
    im = image.new("RGB", (1024, 1024), (1, 2, 3))
    held = read_ledger(None)
    del im
    # Pillow keeps RGB pixels in 4 bytes each.
    assert abs(held.native - before.native - 4 * MiB) < SLACK, (before, held)


def test_arrow_pool_counts_only_when_pyarrow_is_loaded_and_is_never_imported():
    code = (
        "import sys\n"
        "from st_memwatch.core.ledger import read_ledger\n"
        "r = read_ledger(None)\n"
        "assert 'pyarrow' not in sys.modules, 'the ledger imported pyarrow'\n"
        "assert r.arrow_pool == 0 and 'arrow' not in r.missing, r\n"
        "import pyarrow as pa\n"
        "buf = pa.allocate_buffer(8 * 2**20)\n"
        "r = read_ledger(None)\n"
        "assert r.arrow_pool >= 8 * 2**20 and r.arrow >= 8 * 2**20, r\n"
        "r = read_ledger(None, python_in_arrow=8 * 2**20)\n"
        "assert r.arrow == r.arrow_pool - 8 * 2**20, r\n"
        "print('ok')\n"
    )
    pytest.importorskip("pyarrow")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stdout + out.stderr


def test_owners_are_the_fixed_words_and_partition_the_anonymous_memory():
    r = read_ledger(0)
    assert tuple(r.owners()) == OWNERS == ("python", "native", "allocator_free", "arrow", "file_backed", "unexplained")
    if r.attributed <= r.anonymous:
        assert r.attributed + r.unexplained == r.anonymous
    share = r.attributed_share()
    assert share is not None and 0 < share <= 1


def test_what_a_platform_cannot_measure_is_named_missing(monkeypatch):
    monkeypatch.setattr(probes, "c_allocator", lambda: (None, None))
    monkeypatch.setattr(probes, "memory_split", lambda: None)
    monkeypatch.setattr(probes, "arrow_pool", lambda: None)
    monkeypatch.setattr(probes, "pymalloc", lambda: None)
    r = ledger.read_ledger(None)
    assert r.missing == ("python", "file_backed", "native", "allocator_free", "arrow")
    assert (r.native, r.free_listed, r.allocator_free, r.arrow, r.file_backed, r.python_unsized) == (0,) * 6
    assert r.anonymous == r.rss > MiB and r.unexplained == r.rss


def test_a_reading_with_every_probe_has_nothing_missing_but_what_the_caller_left_out():
    r = read_ledger(None)
    expected = {"python"}
    expected |= {"native"} if probes.heap_in_use() is None else set()
    expected |= {"allocator_free"} if not glibc else set()
    expected |= {"file_backed"} if probes.memory_split() is None else set()
    assert set(r.missing) == expected
    assert read_ledger(5).missing == tuple(m for m in r.missing if m != "python")


@pytest.mark.parametrize("bad", [-1, 1.5, "1", True])
def test_bad_figures_are_a_clear_error(bad):
    with pytest.raises(ValueError, match=r"invalid python_objects .*expected a non-negative int"):
        read_ledger(bad)
    with pytest.raises(ValueError, match=r"invalid python_in_native .*expected a non-negative int"):
        read_ledger(0, python_in_native=bad)


def test_trim_uses_psutil_and_falls_back_to_glibc(monkeypatch):
    calls = []
    monkeypatch.setattr(probes.psutil, "heap_trim", lambda: calls.append(1), raising=False)
    assert probes.trim_allocator() == "" and calls == [1]
    monkeypatch.delattr(probes.psutil, "heap_trim")
    result = probes.trim_allocator()
    if glibc:
        assert result == ""
    else:
        assert "malloc_trim" in result, result


class _Point:
    def __init__(self, i: int) -> None:
        self.x, self.y, self.z = i, None, None


@pytest.mark.skipif(probes.pymalloc() is None, reason="pymalloc is not this interpreter's allocator")
def test_small_objects_are_python_even_where_getsizeof_leaves_bytes_out():
    """pymalloc's own figure holds what the census cannot size: since Python 3.11 an
    instance's attribute values sit beside it, outside ``sys.getsizeof``."""
    before = read_ledger(0)
    points = [_Point(i) for i in range(100_000)]
    sized = sum(map(sys.getsizeof, points)) + sum(sys.getsizeof(p.x) for p in points)
    census_small = before.python_objects + sized  # what a census would size: all of it small objects
    after = read_ledger(census_small)
    grown = after.pymalloc_in_use - before.pymalloc_in_use
    assert grown >= sized, (grown, sized)
    assert abs(after.python_unsized - before.python_unsized - (grown - sized)) < SLACK, (before, after)
    assert after.owners()["python"] == after.python_objects + after.python_unsized
    del points


def test_the_view_carries_each_owner_over_time_and_its_trend_per_run():
    """A native owner that grows 2 MiB a run and a Python owner flat but for one jump (a cache filled once)."""
    reading = ledger.read_ledger(50 * MiB)
    series = {
        "native": [(float(x), 100 * MiB + x * 2 * MiB) for x in range(1, 21)],
        "python": [(float(x), 60 * MiB + (30 * MiB if x >= 11 else 0)) for x in range(1, 21)],
        "arrow": [(1.0, 0)],
    }
    view = ledger.ledger_view(reading, series)
    assert view is not None and set(view) == {"owners", "missing", "series", "per_run"}
    assert view["owners"] == reading.owners()
    assert view["per_run"]["native"] == 2 * MiB
    assert view["per_run"]["python"] == 0  # one jump early among the last twelve readings is no trend
    assert "arrow" not in view["per_run"]  # too few readings to say
    assert view["series"]["native"][-1] == [20.0, 140 * MiB] and len(view["series"]["native"]) == 20
    long = {"native": [(float(x), x) for x in range(1000)]}
    assert len(ledger.ledger_view(reading, long)["series"]["native"]) == ledger.SHOWN_READINGS
    assert ledger.ledger_view(None, series) is None


@needs_heap_info
def test_one_allocator_reading_agrees_with_the_two_separate_probes():
    in_use, free = probes.c_allocator()
    assert in_use is not None and abs(in_use - probes.heap_in_use()) < 4 * MiB
    if glibc:
        assert free is not None and abs(free - probes.allocator_free()) < 4 * MiB
    else:
        assert free is None

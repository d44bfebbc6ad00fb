"""Readings of process memory: RSS, the kernel's RSS high-water mark, cgroup usage, allocators.

Why these and not ``memory_full_info()``: RSS from a reused ``psutil.Process`` is a
cheap read, while USS/PSS walk every mapping and cost more as the mappings grow, too
much for every run boundary. For a run's peak we use the kernel's own high-water mark (``VmHWM``),
which is exact and free, resetting it through ``/proc/self/clear_refs`` at run
boundaries; where that is not allowed, the sampler's readings stand in.

The allocator readings feed the ledger (``core/ledger.py``): psutil reads the C
allocator's in-use figure on every platform it supports; glibc's free-but-kept
figure needs ``mallinfo2`` itself (ctypes, glibc 2.33 and later only); Arrow's pool
is asked only when pyarrow is already loaded. Each returns None where it cannot be
read, so a caller can say which figure is missing instead of guessing it.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import psutil

from st_memwatch.core.models import ContainerUsage

_PROCESS = psutil.Process()
_STATUS = Path("/proc/self/status")
_STATM = Path("/proc/self/statm")
_CLEAR_REFS = Path("/proc/self/clear_refs")
CGROUP_ROOT = Path("/sys/fs/cgroup")
# cgroup v1 reports "no limit" as a huge page-aligned number; anything this large means none.
NO_LIMIT_THRESHOLD = 2**60


class _ProcFile:
    """A /proc file kept open and read with one ``pread``: several times cheaper than open and parse.

    Reopened after a fork, since the inherited descriptor would describe the parent.
    """

    def __init__(self, path: Path, flags: int = os.O_RDONLY) -> None:
        self._path = path
        self._flags = flags
        self._pid = -1
        self._fd = -1

    def fd(self) -> int:
        pid = os.getpid()
        if pid != self._pid:
            self._fd = os.open(self._path, self._flags)
            self._pid = pid
        return self._fd

    def read(self, size: int = 8192) -> bytes:
        return os.pread(self.fd(), size, 0)

    def write(self, data: bytes) -> None:
        os.write(self.fd(), data)


_statm = _ProcFile(_STATM)
try:
    _PAGE = os.sysconf("SC_PAGE_SIZE")
    _statm.read()
except (OSError, ValueError, AttributeError):  # not Linux: psutil's portable reading
    _statm_ok = False
else:
    _statm_ok = True


def rss() -> int:
    """Resident set size of this process, in bytes."""
    if _statm_ok:
        return int(_statm.read(256).split()[1]) * _PAGE
    return int(_PROCESS.memory_info().rss)


def total_ram() -> int:
    """Physical memory: psutil, else the C library's page count; raises when neither can tell."""
    try:
        return int(psutil.virtual_memory().total)
    except (OSError, RuntimeError, ValueError, psutil.Error) as exc:
        try:
            pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, AttributeError):
            raise exc from None
        if pages <= 0 or size <= 0:
            raise
        return int(pages * size)


def heap_blocks() -> int:
    """Blocks Python's allocator has handed out and not freed: alive-object pressure, not RSS."""
    return sys.getallocatedblocks()


class HighWaterMark:
    """The kernel's RSS high-water mark for this process, resettable (Linux only).

    ``available`` is decided once: reading ``VmHWM`` and writing ``5`` to
    ``clear_refs`` must both work, otherwise callers fall back to sampling.
    """

    def __init__(self, status: Path = _STATUS, clear_refs: Path = _CLEAR_REFS) -> None:
        self._status = _ProcFile(status)
        self._clear_refs = _ProcFile(clear_refs, os.O_WRONLY)
        self.available = False
        self.reason = ""
        try:
            self.read()
            self.reset()
            self.available = True
        except (OSError, ValueError) as exc:
            self.reason = f"kernel high-water mark unavailable ({type(exc).__name__}: {exc})"

    def read(self) -> int:
        text = self._status.read()
        at = text.find(b"VmHWM:")
        if at < 0:
            raise ValueError("no VmHWM line in /proc/self/status")
        return int(text[at + 6 : text.index(b"kB", at)]) * 1024

    def reset(self) -> None:
        """Set the mark back to the current RSS (one write to the file kept open)."""
        self._clear_refs.write(b"5")


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


@functools.lru_cache(maxsize=8)
def cgroup_dirs(root: Path = CGROUP_ROOT) -> tuple[Path | None, Path | None]:
    """The v2 and v1 memory cgroup directories of this process, when mounted (found once)."""
    v2 = root if (root / "memory.max").exists() or (root / "memory.current").exists() else None
    v1_dir = root / "memory"
    v1 = v1_dir if (v1_dir / "memory.limit_in_bytes").exists() else None
    return v2, v1


def cgroup_limit(root: Path = CGROUP_ROOT) -> tuple[int, str] | None:
    """The container's memory limit and its cgroup version, or None when unlimited."""
    v2, v1 = cgroup_dirs(root)
    if v2 is not None:
        value = _read_int(v2 / "memory.max")
        if value is not None and 0 < value < NO_LIMIT_THRESHOLD:
            return value, "v2"
    if v1 is not None:
        value = _read_int(v1 / "memory.limit_in_bytes")
        if value is not None and 0 < value < NO_LIMIT_THRESHOLD:
            return value, "v1"
    return None


def container_usage(root: Path = CGROUP_ROOT) -> ContainerUsage | None:
    """The cgroup's own usage figure (what the OOM killer compares with the limit)."""
    v2, v1 = cgroup_dirs(root)
    found = cgroup_limit(root)
    limit = found[0] if found is not None else None
    if v2 is not None:
        value = _read_int(v2 / "memory.current")
        if value is not None:
            return ContainerUsage(value, "v2", limit)
    if v1 is not None:
        value = _read_int(v1 / "memory.usage_in_bytes")
        if value is not None:
            return ContainerUsage(value, "v1", limit)
    return None


def trim_allocator() -> str:
    """Return freed heap memory to the OS (``psutil.heap_trim()``, glibc's ``malloc_trim(0)``); "" or why not.

    Python's allocator and glibc keep freed pages for reuse, so RSS can stay high
    after objects are gone; trimming hands back what is free. Process-wide. psutil
    calls the platform's own function (glibc, Windows, macOS); an older psutil
    falls back to glibc's ``malloc_trim`` through ctypes.
    """
    trim = getattr(psutil, "heap_trim", None)
    if trim is not None:
        try:
            trim()
        except (OSError, RuntimeError, psutil.Error) as exc:
            return f"heap_trim failed: {type(exc).__name__}: {exc}"
        return ""
    return _malloc_trim_ctypes()


def _malloc_trim_ctypes() -> str:
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return f"malloc_trim is glibc's (Linux); not available on {sys.platform}"
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError) as exc:
        return f"malloc_trim unavailable (not glibc?): {exc}"
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)
    return ""


# -- where the memory is: the ledger's readings ---------------------------------------


class MemorySplit(NamedTuple):
    """Resident memory split by what backs the pages, in bytes."""

    rss: int
    anonymous: int  # heap, stacks, allocator arenas: what a leak grows
    file_backed: int  # shared libraries, memory-mapped files, shared memory (tmpfs)


def memory_split() -> MemorySplit | None:
    """RSS split into anonymous and file-backed pages (Linux), or None where the kernel does not say.

    ``/proc/self/statm`` gives resident and "shared" (file-backed plus shared-memory
    pages) in one read of a kept-open file, the same kernel counters as ``RssAnon`` /
    ``RssFile`` in ``/proc/self/status``. ``/proc/self/smaps_rollup`` splits alike but
    walks every mapping on each read, far too dear for every run end and every tick.
    """
    if not _statm_ok:
        return None
    fields = _statm.read(256).split()
    resident = int(fields[1]) * _PAGE
    shared = min(int(fields[2]) * _PAGE, resident)
    return MemorySplit(resident, resident - shared, shared)


def heap_in_use() -> int | None:
    """Bytes the C allocator has handed out and not freed (``psutil.heap_info()``), or None.

    glibc's ``heap_used + mmap_used`` (``uordblks + hblkhd`` of ``mallinfo2``), and
    the Windows and macOS counterparts. It holds C libraries' memory, Pillow's pixels,
    numpy buffers and Python objects above pymalloc's small-object limit; pymalloc's
    arenas come from ``mmap`` directly and are not in it. None with a psutil older
    than 7.2 or on a platform psutil cannot read (musl).
    """
    info = getattr(psutil, "heap_info", None)
    if info is None:
        return None
    try:
        heap = info()
    except (OSError, RuntimeError, NotImplementedError, psutil.Error):
        return None
    return int(heap.heap_used) + int(heap.mmap_used)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()
    ]


@functools.lru_cache(maxsize=1)
def _mallinfo2() -> Callable[[], _Mallinfo2] | None:
    """glibc's ``mallinfo2`` (glibc 2.33 and later), found once; None elsewhere."""
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):  # not glibc, or no confstr (Windows)
        return None
    parts = version.split()[-1].split(".") if version.startswith("glibc") else []
    try:
        major, minor = int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return None
    if (major, minor) < (2, 33):
        return None
    try:
        fn = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    fn.argtypes = []
    fn.restype = _Mallinfo2
    return fn  # type: ignore[no-any-return]


def allocator_free() -> int | None:
    """Bytes glibc keeps free for reuse (``mallinfo2().fordblks``), or None where not glibc 2.33+.

    Retention, not a leak: freed chunks the allocator has not returned to the OS.
    psutil's ``heap_info`` leaves this figure out, hence the direct call.
    """
    fn = _mallinfo2()
    if fn is None:
        return None
    return int(fn().fordblks)


def c_allocator() -> tuple[int | None, int | None]:
    """The C allocator's bytes in use and kept free, from one reading where one call gives both.

    On glibc 2.33+ one ``mallinfo2`` (``uordblks + hblkhd``, ``fordblks``): it walks
    every arena, so reading it once instead of twice halves the cost in a big heap.
    Elsewhere ``heap_in_use()`` and ``allocator_free()`` each say what they can.
    """
    fn = _mallinfo2()
    if fn is None:
        return heap_in_use(), allocator_free()
    info = fn()
    return int(info.uordblks) + int(info.hblkhd), int(info.fordblks)


class ArrowPool(NamedTuple):
    """Arrow's default memory pool: bytes it has handed out, and whether they come from malloc."""

    allocated: int
    in_malloc: bool  # the "system" backend: these bytes are inside ``heap_in_use`` too


def arrow_pool() -> ArrowPool | None:
    """Arrow's default pool, only when pyarrow is already imported (it is never imported here).

    pyarrow's Linux wheels allocate through jemalloc or mimalloc, outside glibc's
    figures, so their bytes would otherwise be unexplained. ``ArrowPool(0, False)``
    when pyarrow is not loaded (nothing can be in its pool); None when it is loaded
    but cannot say.
    """
    pa = sys.modules.get("pyarrow")
    pool_of = getattr(pa, "default_memory_pool", None) if pa is not None else None
    if pool_of is None:  # not imported, or an import still under way in another thread
        return ArrowPool(0, False)
    try:
        pool = pool_of()
        return ArrowPool(int(pool.bytes_allocated()), str(pool.backend_name) == "system")
    except Exception:  # noqa: BLE001 - a broken or unusual pyarrow must not end a reading
        return None


class PymallocFigures(NamedTuple):
    """Python's small-object allocator: bytes in blocks handed out, and in its arenas altogether."""

    in_use: int
    arenas: int


@functools.lru_cache(maxsize=1)
def _pymalloc_stats() -> Callable[[], bytes | None] | None:
    """CPython's ``_PyObject_DebugMallocStats`` written into a memory stream, found once; None elsewhere.

    The function ``sys._debugmallocstats`` calls, given a ``FILE*`` of our own
    (``open_memstream``) so that nothing is written to the process's stderr.
    """
    try:
        libc = ctypes.CDLL(None)
        stats = ctypes.pythonapi._PyObject_DebugMallocStats
        open_memstream = libc.open_memstream
        fclose, free = libc.fclose, libc.free
    except (OSError, AttributeError):  # Windows, or an interpreter without it
        return None
    stats.argtypes, stats.restype = [ctypes.c_void_p], ctypes.c_int
    open_memstream.restype = ctypes.c_void_p
    open_memstream.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t)]
    fclose.argtypes, free.argtypes = [ctypes.c_void_p], [ctypes.c_void_p]

    def read() -> bytes | None:
        buf, size = ctypes.c_char_p(), ctypes.c_size_t()
        stream = open_memstream(ctypes.byref(buf), ctypes.byref(size))
        if not stream:
            return None
        try:
            written = stats(stream)
        finally:
            fclose(stream)  # sets buf and size
        try:
            return ctypes.string_at(buf, size.value) if written else None
        finally:
            free(ctypes.cast(buf, ctypes.c_void_p))

    return read


def pymalloc() -> PymallocFigures | None:
    """Bytes in pymalloc's allocated blocks and in its arenas, or None where pymalloc is not in use.

    Small Python objects (up to 512 bytes) live in pymalloc's arenas, outside the C
    allocator's figures. The census sizes the objects it reaches; this figure also
    holds what ``sys.getsizeof`` leaves out (instance attribute values kept beside
    the object) and the interpreter's own small blocks. The interpreter's own
    statistics, read into memory: a walk over the arenas, no allocation per object.
    """
    read = _pymalloc_stats()
    text = read() if read is not None else None
    if not text:
        return None
    at = text.find(b"# bytes in allocated blocks")
    total_at = text.find(b"\nTotal", at)
    if at < 0 or total_at < 0:
        return None
    try:
        in_use = int(text[at : text.index(b"\n", at)].split(b"=")[1].replace(b",", b""))
        arenas = int(text[total_at : text.index(b"\n", total_at + 1)].split(b"=")[1].replace(b",", b""))
    except (ValueError, IndexError):
        return None
    return PymallocFigures(in_use, max(arenas, in_use))

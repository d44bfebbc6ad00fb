"""What the native test apps share: a C library stand-in built on libc's malloc, kept across reruns.

A Streamlit script's own module is made anew on every rerun, so whatever must outlive
a run (a C library's internal state, a module-level registry, a pool) lives here, in
an imported module, as it would in a real extension. Every block is touched with
``memset`` so its pages are resident, as a library filling its buffers makes them.
"""

from __future__ import annotations

import ctypes
import os
import sys

MiB = 2**20

if sys.platform == "win32":  # pragma: no cover - the apps are for POSIX C libraries
    raise ImportError("the native test apps need a POSIX C library (malloc through ctypes.CDLL(None))")
_libc = ctypes.CDLL(None)
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]
_libc.free.restype = None
_libc.free.argtypes = [ctypes.c_void_p]


def scale() -> float:
    """``ST_MEMWATCH_NATIVE_SCALE`` (in (0, 1], default 1) shrinks every block, for quick runs."""
    raw = os.environ.get("ST_MEMWATCH_NATIVE_SCALE", "").strip()
    value = float(raw) if raw else 1.0
    if not 0 < value <= 1:
        raise ValueError(f"invalid ST_MEMWATCH_NATIVE_SCALE={raw!r}: expected a number greater than 0 and at most 1")
    return value


def size(nbytes: int) -> int:
    return max(64 * 1024, int(nbytes * scale()))


def malloc(nbytes: int) -> int:
    """A block from libc's malloc, every page touched; its address."""
    address = _libc.malloc(nbytes)
    if not address:
        raise MemoryError(f"malloc({nbytes}) failed")
    ctypes.memset(address, 0x5A, nbytes)
    return int(address)


def free(address: int) -> None:
    _libc.free(address)


# -- (a) a C library that keeps what every call builds (a native session or model per run)
_library_blocks: list[int] = []


def build_native_session(nbytes: int) -> int:
    """What a C library does when asked for a new session: allocate, and keep it internally."""
    address = malloc(nbytes)
    _library_blocks.append(address)
    return len(_library_blocks)


# -- (c) Python objects that own native buffers, kept in a module-level registry
class NativeHandle:
    """A Python object whose bytes live in a C block (as a native client or decoder's handle)."""

    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes
        self.address = malloc(nbytes)

    def __del__(self) -> None:
        free(self.address)


registry: dict[int, NativeHandle] = {}


# -- (d) a pool of native buffers that fills to its bound and stops
POOL_BOUND = 12
pool: list[int] = []


def fill_pool(per_run: int, nbytes: int) -> int:
    for _ in range(per_run):
        if len(pool) >= POOL_BOUND:
            break
        pool.append(malloc(nbytes))
    return len(pool)


def reset() -> None:
    """Free everything the apps keep (tests call it between apps)."""
    while _library_blocks:
        free(_library_blocks.pop())
    registry.clear()
    while pool:
        free(pool.pop())

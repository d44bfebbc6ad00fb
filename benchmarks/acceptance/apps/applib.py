"""What the acceptance apps keep between runs: an imported module lives as long as the process.

A Streamlit script is executed afresh on every rerun, so a list defined in the script
starts empty each time; the leaking apps keep their growth here, as a real app's
helper module or library would.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

import numpy as np

MiB = 2**20

_registry: list[np.ndarray] = []  # a "model library" that remembers every model it built
_seen_frames: list[Any] = []  # a module-level list that only grows
_pool: list[int] = []  # the bounded native pool: addresses of C buffers, at most POOL_BUFFERS

POOL_BUFFERS = 10
_libc: Any = None


def libc() -> Any:
    """The C library of this process (glibc's malloc and free), through ctypes."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None)
        _libc.malloc.restype = ctypes.c_void_p
        _libc.malloc.argtypes = [ctypes.c_size_t]
        _libc.free.argtypes = [ctypes.c_void_p]
        _libc.memset.restype = ctypes.c_void_p
        _libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    return _libc


def c_alloc(nbytes: int) -> int:
    """``nbytes`` from the C allocator, every page touched (so it is resident); returns the address."""
    lib = libc()
    address = lib.malloc(nbytes)
    if not address:
        raise MemoryError(nbytes)
    lib.memset(address, 1, nbytes)
    return int(address)


def c_free(address: int) -> None:
    libc().free(address)


def build_model(nbytes: int, seed: int = 0) -> np.ndarray:
    """Weights of ``nbytes``, registered with the "library" as many frameworks do."""
    weights = np.random.default_rng(seed).standard_normal(max(1, nbytes // 4), dtype=np.float32)
    _registry.append(weights)
    return weights


def pool_take(nbytes: int) -> int:
    """One more C buffer for the pool while it has fewer than POOL_BUFFERS; returns the pool's size."""
    if len(_pool) < POOL_BUFFERS:
        _pool.append(c_alloc(nbytes))
    return len(_pool)


@functools.cache
def render_tile(n: int) -> bytes:
    """A rendered "map tile" per key, cached without a bound."""
    return np.full(MiB // 4, n, dtype=np.float32).tobytes() * 2

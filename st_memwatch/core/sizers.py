"""Sizers for objects whose bytes live outside Python: Pillow images, torch tensors, a library's own types.

Why: ``sys.getsizeof`` of a Pillow image or a torch tensor is a small struct
whatever its pixels or storage, because those bytes sit in C blocks no Python
object reports. The census and ``deep_size`` ask this registry for such types, so
an image kept in ``st.session_state`` counts its pixels where it is held.

A sizer's figure is the bytes the object keeps outside Python's heap that neither
its own struct nor any object ``gc.get_referents`` reaches from it accounts for;
the walks add it to the object's struct once per buffer (``key``). Libraries are
sized only when already imported (looked up in ``sys.modules``), never imported
here. What each built-in sizer does, and why some are not added by the walks:

* Pillow (``PIL.Image.Image``): width x height x Pillow's storage bytes per pixel
  (4 for every multi-band mode: RGB is kept as RGBX), plus its line pointers; an
  image opened from a file and not loaded yet has no pixels and counts 0. Reading
  it never loads the image.
* torch (``torch.Tensor``): ``untyped_storage().nbytes()``, keyed by the storage's
  address, so views of one tensor count its storage once.
* pyarrow (``Array``, ``ChunkedArray``, ``Table``, ``RecordBatch``):
  ``get_total_buffer_size()``, which counts a buffer shared by two columns once.
  The census counts Arrow buffers one by one by address already (finer: a table and
  its column share them), so only ``deep_size`` uses this sizer, in place of
  pyarrow's ``__sizeof__``, which adds ``nbytes`` and counts shared buffers twice.
* pandas (``DataFrame``, ``Series``): ``memory_usage(deep=False)``. Their numpy
  blocks are objects the walks reach through ``gc.get_referents`` and count
  already, so adding this figure would count each column twice: the entry is
  ``walks=False``, for callers that ask about one object (``external_bytes``).

A sizer that raises, or returns anything but a non-negative int, counts 0: a
library's quirk must not stop a census.
"""

from __future__ import annotations

import functools
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["Sizer", "buffer_key", "builtins", "call", "external_bytes", "generation", "lookup", "register_sizer"]

SizeFn = Callable[[Any], int]


class Sizer(NamedTuple):
    """How to size one type's objects: ``fn(obj)`` bytes outside Python, counted once per ``key(obj)``.

    ``walks`` False: the bytes are reachable objects the walks count anyway (pandas'
    blocks), so only single-object questions use ``fn``. ``in_sizeof`` True: the
    type's ``__sizeof__`` already adds these bytes (pyarrow), so a walk that uses the
    sizer takes the bare struct instead.
    """

    fn: SizeFn
    key: SizeFn
    walks: bool = True
    name: str = ""
    in_sizeof: bool = False


# Pillow's storage bytes per pixel for single-band modes; every multi-band mode takes 4.
_PILLOW_SINGLE_BAND = {"1": 1, "L": 1, "P": 1, "I": 4, "F": 4}

_lock = threading.Lock()
_registered: dict[int, tuple[weakref.ref[type], Sizer]] = {}
_generation = 0


def register_sizer(cls: type, fn: Callable[[Any], int]) -> None:
    """Tell st_memwatch how many bytes instances of ``cls`` keep outside Python objects.

    ``fn(obj)`` returns the bytes ``obj`` holds in native memory (a C library's
    buffers, a GPU-less model's weights, a handle's arena) that neither
    ``sys.getsizeof(obj)`` nor the Python objects it references report. The census
    then counts them with the object (in its type's bytes, and in whatever holds it:
    a cache, ``st.session_state``); subclasses of ``cls`` are sized alike unless they
    have a sizer of their own. Registering ``cls`` again replaces its sizer. A sizer
    that raises or returns a bad figure counts 0. ``cls`` must be a class other than
    ``object`` and ``fn`` a callable, otherwise TypeError names what was given.

    Example::

        >>> import ctypes
        >>> import st_memwatch
        >>> libc = ctypes.CDLL(None)  # the C library, as a native extension would use it
        >>> libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
        >>> libc.free.argtypes = [ctypes.c_void_p]
        >>> class NativeBuffer:  # memory a C library allocated; Python holds only its address
        ...     def __init__(self, size):
        ...         self.size, self.address = size, libc.malloc(size)
        ...     def __del__(self):
        ...         libc.free(self.address)
        >>> st_memwatch.register_sizer(NativeBuffer, lambda buf: buf.size)
        >>> from st_memwatch.core.sizers import external_bytes
        >>> external_bytes(NativeBuffer(4096))
        4096
    """
    if not isinstance(cls, type) or cls is object:
        raise TypeError(f"register_sizer: invalid type {cls!r}: expected a class other than object, e.g. MyHandle")
    if not callable(fn):
        raise TypeError(
            f"register_sizer: invalid sizer {fn!r} for {cls.__qualname__}: "
            "expected a callable taking one instance and returning its bytes outside Python (an int)"
        )
    global _generation
    name = f"{cls.__module__}.{cls.__qualname__}"
    sizer = Sizer(fn, id, True, name)
    with _lock:
        key = id(cls)
        _registered[key] = (weakref.ref(cls, functools.partial(_forget, key)), sizer)
        _generation += 1


def _forget(key: int, _ref: object = None) -> None:
    with _lock:
        hit = _registered.get(key)
        if hit is not None and hit[0]() is None:
            del _registered[key]


def generation() -> int:
    """A number that changes whenever a sizer is registered (callers that memoise lookups compare it)."""
    return _generation


def lookup(t: type, builtin: dict[int, tuple[type, Sizer]] | None = None) -> Sizer | None:
    """The sizer for objects of type ``t`` (its own or its nearest base's), or None.

    Registered sizers first, then the built-in ones of libraries already imported
    (``builtins()``, which a caller looking up many types passes once).
    """
    try:
        mro = t.__mro__
    except AttributeError:
        return None
    if builtin is None:
        builtin = builtins()
    for klass in mro:
        hit = _registered.get(id(klass))
        if hit is not None and hit[0]() is klass:
            return hit[1]
        found = builtin.get(id(klass))
        if found is not None and found[0] is klass:
            return found[1]
    return None


def external_bytes(obj: object) -> int:
    """The bytes ``obj`` keeps outside Python objects according to its sizer; 0 without one."""
    sizer = lookup(type(obj))
    return 0 if sizer is None else call(sizer, obj)


def call(sizer: Sizer, obj: object) -> int:
    """``sizer.fn(obj)``, or 0 when it raises or gives anything but a non-negative int."""
    try:
        n = sizer.fn(obj)
    except Exception:  # noqa: BLE001 - a library's quirk must not stop a census
        return 0
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        return 0
    return n


def buffer_key(sizer: Sizer, obj: object) -> int:
    """What identifies ``obj``'s native buffer (its id unless the sizer knows better)."""
    try:
        return int(sizer.key(obj))
    except Exception:  # noqa: BLE001
        return id(obj)


# -- built-in sizers ---------------------------------------------------------------------


def builtins() -> dict[int, tuple[type, Sizer]]:
    """id(class) -> (class, sizer) for the libraries already imported; nothing is imported here."""
    found: dict[int, tuple[type, Sizer]] = {}
    modules = sys.modules

    def add(module: str, names: tuple[str, ...], sizer: Sizer) -> None:
        mod = modules.get(module)
        if mod is None:
            return
        for n in names:
            cls = getattr(mod, n, None)
            if isinstance(cls, type):
                found[id(cls)] = (cls, sizer)

    add("PIL.Image", ("Image",), _PILLOW)
    add("torch", ("Tensor",), _TORCH)
    add("pyarrow", ("Array", "ChunkedArray", "Table", "RecordBatch"), _ARROW)
    add("pandas", ("DataFrame", "Series"), _PANDAS)
    return found


def _pillow_bytes(im: Any) -> int:
    """Pixel bytes of a Pillow image, from its C core's size and mode; 0 while not loaded."""
    attrs = getattr(im, "__dict__", None) or {}
    core = attrs.get("_im", attrs.get("im"))  # Pillow 11+ keeps the core in ``_im``
    if core is None or not hasattr(core, "size"):  # not loaded yet, or a deferred error
        return 0
    width, height = core.size
    mode = str(core.mode)
    per_pixel = _PILLOW_SINGLE_BAND.get(mode)
    if per_pixel is None:
        per_pixel = 2 if mode.startswith("I;16") else 4
    return int(width) * int(height) * per_pixel + 8 * int(height)


def _pillow_key(im: Any) -> int:
    attrs = getattr(im, "__dict__", None) or {}
    return id(attrs.get("_im", attrs.get("im", im)))


def _torch_bytes(t: Any) -> int:
    if getattr(getattr(t, "device", None), "type", "cpu") != "cpu":
        return 0  # a GPU's or a meta tensor's storage is not this process's memory
    return int(t.untyped_storage().nbytes())


def _torch_key(t: Any) -> int:
    return int(t.untyped_storage().data_ptr()) or id(t)


def _arrow_bytes(o: Any) -> int:
    total = getattr(o, "get_total_buffer_size", None)
    return int(total() if total is not None else o.nbytes)


def _pandas_bytes(o: Any) -> int:
    usage = o.memory_usage(index=True, deep=False)
    return int(usage.sum() if hasattr(usage, "sum") else usage)


_PILLOW = Sizer(_pillow_bytes, _pillow_key, True, "PIL.Image.Image")
_TORCH = Sizer(_torch_bytes, _torch_key, True, "torch.Tensor")
_ARROW = Sizer(_arrow_bytes, id, True, "pyarrow", in_sizeof=True)
_PANDAS = Sizer(_pandas_bytes, id, False, "pandas")

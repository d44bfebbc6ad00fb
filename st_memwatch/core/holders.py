"""What keeps growing objects alive: class families sized, and a budgeted backref search.

Two questions the advice needs answered once a type is seen to grow:

- *How much does one more instance keep?* (``measure_holders``). A class defined
  in the script body is a new class object on every rerun, so instances are
  grouped by family, ``module.QualName``, the census key: every rerun's class
  counts as one, as the census already counts them.
- *What keeps them?* (``find_holder``). From a few of the growing objects, the
  referrers are followed up to a root that names a place in the code: a module
  global or class attribute, a library's registry, a logger's handler list, an
  ``lru_cache``, or a root the caller labels (a ``session_state`` dict, a cache's
  storage). The answer is names and type names only, never a value or a repr.

Why not ``objgraph.find_backref_chain``: it runs ``gc.collect()`` first and one
``gc.get_referrers`` per object visited, each a scan of the whole heap, with no
time limit (``benchmarks/bench_holders.py`` puts the two side by side). Here the
search goes one level at a time with a single ``gc.get_referrers`` call for the
whole level, from all the sampled objects at once, and stops when its CPU-time
budget would be overrun. That call's cost grows with the number of objects asked
about, so each level keeps only the few most promising ones.

Nothing found is retained: the result holds strings and ints only.
"""

from __future__ import annotations

import functools
import gc
import heapq
import logging
import sys
import sysconfig
import threading
import time
import types
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from st_memwatch.core import analysis
from st_memwatch.core.census import type_name

__all__ = [
    "HOLDERS_MAX",
    "Holder",
    "HolderKind",
    "class_families",
    "find_holder",
    "find_holder_of_type",
    "find_holders",
    "measure_holders",
    "sample_instances",
]

# Types whose instances are measured for what they hold: classes written in Python
# (a model, a handler, a frame), told by their instance __dict__ or __slots__.
# Builtin containers name no place in the code, and leaf types (str, bytes,
# arrays) hold nothing further.
HOLDER_MIN_COUNT_PER_RUN = 0.5
HOLDER_BUDGET_S = 0.5
HOLDERS_MAX = 8

SAMPLE_SIZE = 8  # objects the search starts from
SEARCH_BUDGET_S = 0.25  # CPU time of one search, sampling included
MAX_DEPTH = 10  # references between a sampled object and its root
LEVEL_MAX = 32  # objects asked about per level: one heap scan costs more per object asked about

HolderKind = Literal["session_state", "cache", "global", "class", "library", "logging", "lru_cache", "unknown"]
Label = tuple[str, str]  # (kind, name) the caller gives a root it knows

_HAVE_GC = 1 << 14  # Py_TPFLAGS_HAVE_GC: without it, instances are never in gc.get_objects()
# Containers that untrack themselves while they hold only atoms: found through their referrers too.
_LAZILY_TRACKED = (dict, tuple)
# Running code, not a place data is kept. A thread keeps what its target keeps (a script
# runner reaches its session's state), and the interpreter's registry of threads would be
# the root that reaches most: the search stops at a thread, as at a frame.
_SKIP = (types.FrameType, types.TracebackType, types.CodeType, threading.Thread)
_LRU_CACHE: type | None = getattr(functools, "_lru_cache_wrapper", None)


def _is(obj: object, cls: type | tuple[type, ...]) -> bool:
    """``isinstance`` by the real type only: a proxy's ``__class__`` property is never run."""
    return issubclass(type(obj), cls)


def _namespace(obj: object) -> Mapping[str, Any] | None:
    """The attribute dict of ``obj`` without running its ``__getattr__`` or a proxy's properties."""
    if _is(obj, type):
        return vars(obj)  # type: ignore[arg-type]
    try:
        ns = object.__getattribute__(obj, "__dict__")
    except Exception:
        return None
    return ns if type(ns) is dict else None


@dataclass(frozen=True, slots=True)
class Holder:
    """Where growing objects are kept, as names: safe to show, export and log.

    ``chain`` runs from the root down to the objects, one short step each:
    ``("module app.registry", "._kept (list)", "numpy.ndarray x12")``. ``held`` of
    the ``sampled`` objects the search started from are kept by this holder.
    ``key`` is the name under the root (the global, the attribute, the
    session_state key) when there is one. ``kept`` counts the objects of the
    sampled family that the last container of the chain holds directly (the
    "x12"): a container that collects many is what a leak looks like, even when
    few of the sample happened to be its.
    """

    kind: str
    name: str
    chain: tuple[str, ...]
    held: int
    sampled: int
    key: str | None = None
    kept: int = 0

    @property
    def label(self) -> str:
        """One phrase for the holder: "module app.registry._kept", "lru_cache app.load"."""
        if self.kind == "global":
            return f"{self.chain[0].split(' ', 1)[0]} {self.name}"
        if self.kind == "class":
            return f"class {self.name}"
        if self.kind == "library":
            return f"library registry {self.name}"
        if self.kind == "logging":
            return f"logging handlers of logger {self.name!r}"
        if self.kind == "session_state" and self.key is not None and self.key != self.name:
            return f"session_state {self.key!r} ({self.name})" if self.name else f"session_state {self.key!r}"
        if self.kind == "session_state":
            return f"session_state {self.name!r}"
        return f"{self.kind} {self.name}"


# ---------------------------------------------------------------- class families


def _measurable(t: type) -> bool:
    return t.__module__ != "builtins" and bool(t.__dictoffset__ or "__slots__" in vars(t))


def class_families(names: Collection[str]) -> dict[str, list[object]]:
    """Live instances of every Python class whose census name is in ``names``, by name.

    A class redefined on every rerun leaves one class object per rerun under the
    same ``module.QualName``: all of them are one family here. One pass over
    ``gc.get_objects()``; the caller drops the lists when done.
    """
    wanted = set(names)
    family: dict[type, str | None] = {}
    out: dict[str, list[object]] = {}
    for obj in gc.get_objects():
        t = type(obj)
        name = family.get(t, "")
        if name == "":
            n = type_name(t)
            name = family[t] = n if n in wanted and _measurable(t) else None
        if name is not None:
            out.setdefault(name, []).append(obj)
    return out


def measure_holders(series: Mapping[Any, Sequence[analysis.Point]], th: analysis.Thresholds) -> dict[str, float]:
    """Bytes each instance keeps alive, for Python classes whose instances keep being added.

    ``series`` is keyed by (kind, name) or (kind, name, session); only "type"
    series count. The candidates are the ``HOLDERS_MAX`` families whose counts
    grow fastest.
    Their instances are split in two halves and sized with one shared walk: the
    second half's newly reached bytes, per instance, is what one more instance
    adds. Whatever the instances share (a config, a common table) was already
    counted in the first half, so it is not charged to every one of them.
    """
    from st_memwatch.core.sizing import DeepSizer

    slopes: dict[str, float] = {}
    for key, pts in series.items():
        kind, name = key[0], key[1]
        if kind != "type" or name.startswith(analysis.OWN_PREFIX):
            continue
        g = analysis.growth_after_warmup([p[0] for p in pts], [float(p[1]) for p in pts], th)
        if g is not None and g.sustained_slope >= HOLDER_MIN_COUNT_PER_RUN and g.sustained_share >= th.min_steady:
            slopes[name] = max(g.sustained_slope, slopes.get(name, 0.0))
    if not slopes:
        return {}
    families = class_families(slopes)  # only Python classes: builtins never make the cut
    held: dict[str, float] = {}
    for name in sorted(families, key=lambda n: (-slopes[n], n))[:HOLDERS_MAX]:
        instances = families.pop(name)
        if len(instances) < 2:
            continue
        half = len(instances) // 2
        second = len(instances) - half
        sizer = DeepSizer()
        sizer.measure_many(instances[:half], HOLDER_BUDGET_S)
        added, complete = sizer.measure_many(instances[half:], HOLDER_BUDGET_S)
        del instances
        if complete:
            held[name] = added / second
    return held


# ---------------------------------------------------------------- sampling


def _resolve(name: str) -> type | None:
    """The type a census name stands for, if its module is loaded (never imports)."""
    mod, _, qual = name.rpartition(".")
    owner: Any = sys.modules.get(mod or "builtins")
    if owner is None and mod:
        for i in range(mod.count(".") + 1):  # a nested qualname: pkg.mod.Outer.Inner
            head, _, rest = mod.rpartition(".")
            owner, qual, mod = sys.modules.get(head), f"{rest}.{qual}", head
            if owner is not None or not head or i > 8:
                break
    for part in qual.split("."):  # read the namespaces: a module's __getattr__ could import
        ns = _namespace(owner)
        owner = ns.get(part) if ns is not None else None
    return owner if _is(owner, type) and type_name(owner) == name else None


def _size(obj: object) -> int:
    try:
        return sys.getsizeof(obj)
    except Exception:
        return 0


def sample_instances(
    name: str, k: int = SAMPLE_SIZE, *, budget_s: float = SEARCH_BUDGET_S, clock: Callable[[], float] = time.thread_time
) -> list[object]:
    """Up to ``k`` live objects of the family ``name``: half the newest, half the largest.

    A leak's objects are both recent (added every run) and, where bytes grow,
    large; the objects Streamlit and the libraries made at import are neither.
    Objects that ``gc`` does not track (str, bytes, numpy arrays, dicts of atoms)
    are found among the referents of the tracked ones, and of the untracked
    dicts and tuples those hold. Newest first means generation 0, then 1, then
    2, each from its end.
    """
    objs, _ = _sample(name, k, clock() + budget_s, clock)
    return objs


def _sample(
    name: str, k: int, deadline: float, clock: Callable[[], float], skip: Collection[int] = ()
) -> tuple[list[object], dict[int, object]]:
    """``sample_instances``, and for each object found inside an untracked dict or tuple, that container.

    ``gc.get_referrers`` cannot see an untracked container, so the search has to
    start from it too (the tracked object above it does see it).
    """
    if k <= 0:
        return [], {}
    cls = _resolve(name)
    through_referents = cls is not None and (not cls.__flags__ & _HAVE_GC or issubclass(cls, _LAZILY_TRACKED))
    family: dict[type, bool] = {}
    newest: list[object] = []
    seen: set[int] = set()
    largest: list[tuple[int, int, object]] = []  # min-heap of (size, order, obj)
    carrier_of: dict[int, object] = {}
    order = 0
    # Sizes only where sys.getsizeof is the C figure: a class's own __sizeof__ may walk
    # its whole contents (pandas' does), and instances of one class are alike anyway.
    n_newest = (k + 1) // 2 if through_referents else k

    def offer(obj: object, carrier: object) -> None:
        nonlocal order
        i = id(obj)
        if i in seen or i in skip:  # the caller's own bookkeeping (the monitor's numpy rings) is no sample
            return
        seen.add(i)
        if carrier is not None:
            carrier_of[i] = carrier
        if len(newest) < n_newest:
            newest.append(obj)
            return
        if not through_referents:
            return
        order += 1
        item = (_size(obj), -order, obj)
        if len(largest) < k // 2:
            heapq.heappush(largest, item)
        elif item[:2] > largest[0][:2]:
            heapq.heapreplace(largest, item)

    def matches(t: type) -> bool:
        m = family.get(t)
        if m is None:
            m = family[t] = type_name(t) == name
        return m

    untracked_containers = (dict, tuple)
    done = False
    for gen in (0, 1, 2):
        try:
            objs = gc.get_objects(gen)
        except (TypeError, ValueError):  # an interpreter without these generations: all at once
            if gen:
                break
            objs = gc.get_objects()
        objs.reverse()
        for start in range(0, len(objs), 4096):
            chunk = objs[start : start + 4096]
            for obj in chunk:
                if matches(type(obj)):
                    offer(obj, None)
            if through_referents:
                for ref in gc.get_referents(*chunk):
                    t = type(ref)
                    if t is cls:
                        offer(ref, None)
                    if t in untracked_containers and not gc.is_tracked(ref):
                        inner = gc.get_referents(ref)
                        while inner:
                            leaf = inner.pop()
                            if type(leaf) is cls:
                                offer(leaf, ref)
                            elif type(leaf) in untracked_containers and len(inner) < 10_000:
                                inner.extend(gc.get_referents(leaf))
            del chunk
            done = not through_referents and len(newest) >= n_newest  # the newest are all it takes
            if done or clock() > deadline:
                break
        del objs
        if done or clock() > deadline:
            break
    out = newest + [obj for _, _, obj in sorted(largest, key=lambda it: it[:2], reverse=True)]
    carriers = {id(o): carrier_of[id(o)] for o in out if id(o) in carrier_of}
    carrier_of.clear()
    return out, carriers


# ---------------------------------------------------------------- the search


def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {str(Path(paths[k]).resolve()) for k in ("purelib", "platlib", "stdlib", "platstdlib") if k in paths}
    return tuple(sorted(dirs))


_LIBRARY_DIRS = _library_dirs()


def _is_library(module_name: str) -> bool:
    """A module that belongs to an installed package or the standard library, not to the app."""
    if module_name.split(".")[0] in sys.builtin_module_names:
        return True
    m = sys.modules.get(module_name)
    f = (_namespace(m) or {}).get("__file__") if m is not None else None
    if type(f) is not str:
        return False
    try:
        path = str(Path(f).resolve())
    except (OSError, ValueError):
        return False
    return any(path.startswith(d + "/") or path.startswith(d + "\\") for d in _LIBRARY_DIRS) or "site-packages" in path or "dist-packages" in path


def _kind_of(obj: object, labels: Mapping[int, Label], module_dicts: Mapping[int, types.ModuleType]) -> tuple[str, str, object] | None:
    """(kind, name, owner) when ``obj`` is a root the advice can name, else None."""
    label = labels.get(id(obj))
    if label is not None:
        return label[0], label[1], obj
    module = module_dicts.get(id(obj))
    if module is None and _is(obj, types.ModuleType):
        module = cast(types.ModuleType, obj)
    if module is not None:
        mod = vars(module).get("__name__", "?")
        mod = mod if type(mod) is str else "?"
        return ("library" if _is_library(mod) else "global"), mod, module
    if _is(obj, type):
        mod = vars(obj).get("__module__", "?")  # type: ignore[arg-type]
        mod = mod if type(mod) is str else "?"
        return ("library" if _is_library(mod) else "class"), type_name(cast(type, obj)), obj
    if _is(obj, logging.Logger):
        logger_name = (_namespace(obj) or {}).get("name")
        return "logging", logger_name if type(logger_name) is str else "?", obj
    if _LRU_CACHE is not None and _is(obj, _LRU_CACHE):
        wrapped = _namespace(obj) or {}
        return "lru_cache", f"{wrapped.get('__module__', '?')}.{wrapped.get('__qualname__', '?')}", obj
    return None


def _current_frames() -> set[int]:
    out = set()
    f: types.FrameType | None = sys._getframe()
    while f is not None:
        out.add(id(f))
        f = f.f_back
    return out


@dataclass(slots=True)
class _Node:
    obj: object
    depth: int
    mask: int  # which sampled objects it keeps (bit i: sample i)
    child: object  # the next object down toward the samples (itself for a sample)


def _count(mask: int) -> int:
    return bin(mask).count("1")


def find_holder(
    objs: Iterable[object],
    labels: Mapping[int, Label] | None = None,
    budget_s: float = SEARCH_BUDGET_S,
    *,
    max_depth: int = MAX_DEPTH,
    ignore: Iterable[int] = (),
    carriers: Mapping[int, object] | None = None,
    clock: Callable[[], float] = time.thread_time,
) -> Holder | None:
    """The root that keeps most of ``objs`` alive, or None when none is found in time.

    Follows referrers level by level up to ``max_depth`` steps. Roots: a module's
    globals, a class's attributes (``kind`` "global", or "library" for an
    installed package or the standard library), a ``logging.Logger``, a
    ``functools.lru_cache``, and the objects in ``labels`` (``id(obj) -> (kind,
    name)``, e.g. a session_state dict as ``("session_state", "")``: an empty name
    is replaced by the key the objects are kept under). An object that nothing
    ``gc`` sees refers to (held from C) is an "unknown" root, ranked after the
    others. The search's own frames and containers, frames in general, and the
    ids in ``ignore`` are skipped: pass the id of a list made only to carry
    ``objs`` there (``objs`` itself may be the holder). CPU time stays within
    ``budget_s`` plus at most one level's heap scan. ``carriers`` maps the id of
    a sampled object to the untracked dict or tuple that holds it (see
    ``sample_instances``).

    Example::

        >>> import types, sys
        >>> mod = types.ModuleType("demo_registry"); sys.modules["demo_registry"] = mod
        >>> mod.kept = [bytearray(10) for _ in range(3)]
        >>> find_holder(mod.kept[:2], budget_s=1.0).name
        'demo_registry.kept'
        >>> del sys.modules["demo_registry"]
    """
    deadline = clock() + budget_s
    samples = list({id(o): o for o in objs}.values())[:62]  # a bit of a mask per object: keep it a small int
    labels = labels or {}
    nodes: dict[int, _Node] = {}
    level: list[object] = []
    roots: list[tuple[_Node, str, str, object]] = []
    skip = set(ignore)
    skip.update(_current_frames())
    carriers = carriers or {}
    for own in (samples, nodes, level, roots, skip, labels, carriers):
        skip.add(id(own))
    module_dicts: dict[int, types.ModuleType] = {}
    for m in list(sys.modules.values()):
        if _is(m, types.ModuleType):
            mod_name = vars(m).get("__name__")
            if type(mod_name) is str and (mod_name == "st_memwatch" or mod_name.startswith("st_memwatch.")):
                skip.add(id(vars(m)))  # our own bookkeeping is never the app's holder
            else:
                module_dicts[id(vars(m))] = m
    skip.add(id(module_dicts))
    for i, obj in enumerate(samples):
        if id(obj) not in nodes:
            nodes[id(obj)] = _Node(obj, 0, 1 << i, obj)
            level.append(obj)
        carrier = carriers.get(id(obj))
        if carrier is not None and id(carrier) not in nodes:
            start_node = nodes[id(carrier)] = _Node(carrier, 1, 1 << i, obj)
            root = _kind_of(carrier, labels, module_dicts)
            if root is not None:
                roots.append((start_node, *root))
            else:
                level.append(carrier)
        elif carrier is not None:
            nodes[id(carrier)].mask |= 1 << i
    if not samples or budget_s <= 0:
        return None
    everything = (1 << len(samples)) - 1
    scan_cost = 0.0
    depth = 0
    while level and depth < max_depth:
        start = clock()
        if start + scan_cost > deadline:
            break
        referrers = gc.get_referrers(*level)
        skip.add(id(referrers))
        scan_cost = clock() - start
        level_ids = {id(o) for o in level}
        referred: set[int] = set()
        depth += 1
        found: list[_Node] = []
        complete = True
        for ref in referrers:
            r = id(ref)
            if _is(ref, _Node) or (r in skip and not _is(ref, types.FrameType)):
                continue  # the search's own bookkeeping
            hit = level_ids.intersection(map(id, gc.get_referents(ref)))
            if not hit:
                continue
            referred |= hit
            if r in skip or _is(ref, _SKIP):  # a running function's local: kept, but by no place to name
                continue
            kids = [nodes[c] for c in hit]
            mask = 0
            for kid in kids:
                mask |= kid.mask
            node = nodes.get(r)
            if node is not None:  # reached again: it keeps these too
                node.mask |= mask
                continue
            best = max(kids, key=lambda n: _count(n.mask))
            node = nodes[r] = _Node(ref, best.depth + 1, mask, best.obj)
            root = _kind_of(ref, labels, module_dicts)
            if root is not None:
                roots.append((node, *root))
            else:
                found.append(node)
            if clock() > deadline:
                complete = False
                break
        skip.discard(id(referrers))  # the id may go to a new object once it is freed
        del referrers
        if complete:
            for i in level_ids - referred:
                top = nodes[i]
                if top.depth > 0 and i != id(objs):  # nothing gc sees refers to it (objs: the caller's own list)
                    roots.append((top, "unknown", type_name(type(top.obj)), top.obj))
        covered = 0
        for node, kind, _, _ in roots:
            if kind != "unknown":
                covered |= node.mask
        found.sort(key=lambda n: _count(n.mask), reverse=True)
        level[:] = [n.obj for n in found[:LEVEL_MAX]]
        del found
        if covered == everything or not complete:
            break
    level.clear()
    if not roots:
        nodes.clear()
        return None
    node, kind, name, owner = max(roots, key=lambda r: (_count(r[0].mask), r[1] != "unknown", -r[0].depth))
    chain, key, kept = _describe(node, kind, name, owner, nodes)
    if kind in ("global", "class", "library") and key is not None:
        name = f"{name}.{key}"
    elif kind == "session_state" and not name and key is not None:
        name = key
    result = Holder(kind=kind, name=name, chain=chain, held=_count(node.mask), sampled=len(samples), key=key, kept=kept)
    nodes.clear()
    roots.clear()
    return result


def find_holder_of_type(
    name: str,
    labels: Mapping[int, Label] | None = None,
    budget_s: float = SEARCH_BUDGET_S,
    *,
    sample: int = SAMPLE_SIZE,
    clock: Callable[[], float] = time.thread_time,
    skip: Collection[int] = (),
) -> Holder | None:
    """``find_holder`` from a sample of the live objects of the family ``name`` (a census name).

    Sampling and search share ``budget_s``; sampling takes at most half of it.
    """
    start = clock()
    objs, carriers = _sample(name, sample, start + budget_s / 2, clock, skip)
    if not objs:
        return None
    try:
        return find_holder(objs, labels, budget_s - (clock() - start), ignore=(id(objs),), carriers=carriers, clock=clock)
    finally:
        objs.clear()
        carriers.clear()


def find_holders(
    names: Sequence[str],
    labels: Mapping[int, Label] | None = None,
    budget_s: float = SEARCH_BUDGET_S,
    *,
    clock: Callable[[], float] = time.thread_time,
    skip: Collection[int] = (),
) -> dict[str, Holder]:
    """The holder of each family in ``names`` (most important first) that one is found for.

    ``budget_s`` is shared: each name gets an even share of what is left, so
    time a quick search did not use goes to the next ones.
    """
    deadline = clock() + budget_s
    out: dict[str, Holder] = {}
    for i, name in enumerate(names):
        left = deadline - clock()
        if left <= 0:
            break
        holder = find_holder_of_type(name, labels, left / (len(names) - i), clock=clock, skip=skip)
        if holder is not None:
            out[name] = holder
    return out


# ---------------------------------------------------------------- naming the chain


def _find_key(mapping: Mapping[Any, Any], child: object) -> object:
    """The key under which ``child`` sits in ``mapping`` (identity only, never ``==``)."""
    try:
        for k, v in (dict.items(mapping) if _is(mapping, dict) else mapping.items()):  # type: ignore[arg-type]
            if v is child:
                return k
    except Exception:  # changed size while read, or an exotic mapping
        return None
    return None


def _is_namespace_of(owner: object, d: object) -> bool:
    """``d`` is the attribute dict of ``owner`` (a module, a class or an instance)."""
    if type(d) is not dict:
        return False
    if _is(owner, type):
        ns = vars(owner)  # type: ignore[arg-type]
        try:
            return len(ns) == len(d) and all(k in ns and ns[k] is v for k, v in list(d.items())[:50])
        except RuntimeError:  # changed size while read (another thread defines an attribute)
            return False
    return _namespace(owner) is d


def _slots(t: type) -> Iterable[tuple[str, Any]]:
    for klass in t.__mro__:
        slots = vars(klass).get("__slots__", ())
        names = (slots,) if type(slots) is str else slots if type(slots) in (tuple, list) else ()
        for slot in names:
            descriptor = vars(klass).get(slot)
            if type(slot) is str and type(descriptor) is types.MemberDescriptorType:
                yield slot, descriptor


def _step(parent: object, child: object, show_keys: bool) -> tuple[str, str | None]:
    """How ``parent`` refers to ``child``: (".attr" / "['key']" / "[key]" / "[]", the name if one is shown)."""
    if _LRU_CACHE is not None and _is(parent, _LRU_CACHE):
        return "(cache)", None
    if _is(parent, dict):
        key = _find_key(cast(dict, parent), child)
        if type(key) is str and show_keys:
            return f"[{key!r}]", key
        return "[key]", None
    if _is(parent, (list, tuple, set, frozenset, deque)):
        return "[]", None
    if _is(parent, types.CellType):
        return "(closure cell)", None
    if _is(parent, types.FunctionType):
        return f"(in function {parent.__qualname__})", None  # type: ignore[attr-defined]
    ns = _namespace(parent)
    if ns is not None:
        key = _find_key(ns, child)
        if type(key) is str:
            return f".{key}", key
    for slot, descriptor in _slots(type(parent)):
        try:
            if descriptor.__get__(parent, type(parent)) is child:
                return f".{slot}", slot
        except AttributeError:
            continue
    return "->", None


def _describe(
    root: _Node, kind: str, name: str, owner: object, nodes: Mapping[int, _Node]
) -> tuple[tuple[str, ...], str | None, int]:
    """The chain of steps from the root to the sampled objects, the name under the root, and what its last container keeps."""
    path = [root]
    while path[-1].depth > 0 and len(path) <= len(nodes):
        path.append(nodes[id(path[-1].child)])
    objs: list[object] = [owner] + [n.obj for n in path]
    if objs[1] is owner:
        objs.pop(1)
    if kind in ("global", "class", "library"):
        head = f"{'class' if _is(owner, type) else 'module'} {name}"
    elif kind == "logging":
        head = f"logger {name!r}"
    elif kind == "unknown":
        head = f"{name} (its own holder is invisible to gc)"
    else:
        head = f"{kind} {name}" if name else kind
    chain = [head]
    key: str | None = None
    leaf = objs[-1]
    kept = 0
    i = 0
    while i < len(objs) - 1:
        parent, child = objs[i], objs[i + 1]
        if i + 2 < len(objs) and _is_namespace_of(parent, child):  # step through an attribute dict
            k = _find_key(cast(dict, child), objs[i + 2])
            step, here = (f".{k}", k) if type(k) is str else ("[key]", None)
            parent, child = child, objs[i + 2]
            i += 2
        else:
            step, here = _step(parent, child, show_keys=i == 0 and kind == "session_state")
            i += 1
        if len(chain) == 1:
            key = here
        if child is leaf:
            kept = _kept_by(parent, leaf)
            chain.append(f"{type_name(type(leaf))} x{kept}")
        else:
            chain.append(f"{step} ({type_name(type(child))})")
    return tuple(chain), key, kept


def _kept_by(parent: object, leaf: object) -> int:
    """How many objects of the leaf's family its container holds directly (the "x12" of a chain)."""
    family = type_name(type(leaf))
    same: dict[type, bool] = {type(leaf): True}
    n = 0
    for r in gc.get_referents(parent):
        t = type(r)
        m = same.get(t)
        if m is None:
            m = same[t] = type_name(t) == family
        n += m
    return max(n, 1)

"""How big each ``st.cache_data`` / ``st.cache_resource`` cache and ``st.session_state`` is.

Streamlit has no public API for this, so this module reads its internals, guarded
per version: every attribute is looked up with a default and every step is caught,
so a Streamlit release that moves them yields a short note, never an exception.

Notes, not exceptions
    Nothing here raises. ``read_caches`` returns ``(caches, notes)``; ``read_session``
    returns its ``SessionUsage | None`` and, since that model has no room for notes,
    appends them to the keyword-only ``notes`` list when one is passed. A note is one
    short, specific line, ready for the panel (``"size of cache 'load' unavailable on
    streamlit 1.70: no _mem_cache on DataCache"``); whatever could still be measured
    is returned as usual.

Where the figures come from
    - Registries: ``cache_data_api._data_caches`` and
      ``cache_resource_api._resource_caches``, each with ``_function_caches`` under
      ``_caches_lock``. Streamlit 1.40 maps function key -> cache; newer releases map
      session id (None for the global scope) -> function key -> cache, because
      caches can be scoped to a session. Both shapes are recognised per entry.
    - ``st.cache_data`` keeps its entries pickled in ``storage._mem_cache`` (under
      ``storage._mem_cache_lock``); ``bytes`` is the sum of those pickled lengths, the
      same figure Streamlit publishes as ``cache_memory_bytes``. Exact; the copies on
      disk of ``persist="disk"`` caches are not counted.
    - ``st.cache_resource`` keeps live objects in ``cache._mem_cache`` (under
      ``cache._mem_cache_lock``). Recent Streamlit (1.67 checked) publishes only
      entry counts for them, so ``bytes`` is a deep size (see ``st_memwatch.core.sizing``) of the
      stored entries (value plus the replay messages Streamlit keeps with it),
      bounded in time: ``bytes_exact`` is False when the budget cut it short.
    - Only live (unexpired) entries are counted: an expired entry that Streamlit has
      not reaped yet still holds memory until the cache's next write.

Reading without side effects
    Locks are held only to copy what is needed (pickled lengths, or references to
    the entries), never while deep-sizing. They are acquired with a timeout: a busy
    cache is reported in a note rather than stalling the app. ``len()`` is never
    called on Streamlit's TTL caches (in 1.67 it reaps expired entries and may run
    user ``on_release`` callbacks), nor does iteration reorder their LRU:
    Streamlit's own TTLCache offers a non-mutating ``values()`` snapshot, and
    cachetools' (1.40) is read through ``cachetools.Cache.__getitem__``. References
    to cached values are dropped before returning.

Names
    A cache is named by its function's qualified name (``load_model``; nested
    functions as ``outer.load_model``), split from Streamlit's ``module.qualname``
    display name. When two caches of one kind share that name, the module is
    prefixed (``pages.stats.load_model``); if that still collides (the function's
    source changed while the app ran, leaving the old cache behind), the first 8
    characters of Streamlit's function key are appended (``load_model@3fa2b1c9``).
    Session-scoped caches carry ``[session s3]``, the session's alias (never its id). Results are sorted by kind
    and name, so the same caches always get the same names.

Session state
    ``read_session`` counts the keys user code can read: Streamlit's
    ``filtered_state``, which includes keyed widgets under their user key and leaves
    out keyless widgets (``$$ID-...``) and Streamlit's own internal keys. Sizes are
    deep sizes, key by key in name order, with a shared seen-set: an object
    reachable from two keys is counted for the first only, so the key sizes add up
    to the total. An object also held by a cache (``st.session_state.m =
    load_model()``) counts here too: it is what the session keeps alive. ``SessionUsage`` has no exactness flag, so a total cut short by
    the budget is reported as a note.
"""

from __future__ import annotations

import collections
import contextlib
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from st_memwatch.core.models import CacheKind, CacheUsage, SessionUsage
from st_memwatch.core.sizing import DeepSizer

__all__ = ["read_caches", "read_session"]

# Longest wait for one of Streamlit's locks: a cache held longer is reported as busy.
LOCK_TIMEOUT_S = 0.1
# How many of the largest session_state keys to report.
LARGEST_KEYS = 5


class _Unavailable(Exception):
    """An internal moved or is busy; the message is the note's reason."""


@dataclass(slots=True)
class _Found:
    """A function cache found in a registry (a reference to Streamlit's cache object)."""

    kind: CacheKind
    key: str
    session_id: str | None
    cache: Any
    module: str = ""
    qualname: str = ""


# ---------------------------------------------------------------- public API


def read_caches(deep_size_budget_s: float = 0.02) -> tuple[list[CacheUsage], list[str]]:
    """Every ``st.cache_data`` and ``st.cache_resource`` function cache in the process.

    Returns ``(caches, notes)``: the caches sorted by kind and name, and short lines
    describing anything that could not be read (empty when all went well). Never
    raises.

    ``deep_size_budget_s`` bounds the total time spent deep-sizing
    ``st.cache_resource`` values in this call; each resource cache gets an equal share
    of what is left when its turn comes. Pickled ``st.cache_data`` sizes cost
    almost nothing and are not budgeted.

    Example::

        caches, notes = read_caches(0.02)
        for c in caches:
            print(c.kind, c.function, c.entries, c.bytes, c.ttl_s, c.max_entries)
        for line in notes:
            print("note:", line)
    """
    sink: list[str] = []
    out: list[CacheUsage] = []
    try:
        found: list[_Found] = []
        for kind in ("data", "resource"):
            try:
                found.extend(_registry_caches(kind))
            except Exception as exc:  # noqa: BLE001 - degrade, never break the app
                _note(sink, f"{_kind_label(kind)} sizes unavailable", exc)
        names = _names(found)
        resources_left = sum(1 for f in found if f.kind == "resource")
        deadline = time.perf_counter() + max(0.0, deep_size_budget_s)
        for f in found:
            try:
                if f.kind == "data":
                    out.append(_data_usage(f, names[id(f)], sink))
                else:
                    share = max(0.0, deadline - time.perf_counter()) / max(resources_left, 1)
                    resources_left -= 1
                    out.append(_resource_usage(f, names[id(f)], share, sink))
            except Exception as exc:  # noqa: BLE001
                _note(sink, f"size of cache {names[id(f)]!r} unavailable", exc)
                out.append(_usage(names[id(f)], f.kind, 0, None, "unknown", True, None, None))
        del found
    except Exception as exc:  # noqa: BLE001
        _note(sink, "cache sizes unavailable", exc)
    out.sort(key=lambda c: (c.kind, c.function))
    return out, _unique(sink)


def read_session(
    session_id: str | None = None,
    deep_size_budget_s: float = 0.02,
    *,
    notes: list[str] | None = None,
) -> SessionUsage | None:
    """Size of one session's ``st.session_state``, and how many sessions are live.

    With no ``session_id``, the session of the script run calling it; otherwise the
    live session with that id. Returns None when there is no such session (e.g.
    called outside a script run), with the reason in ``notes``. The total and the
    five largest keys (names only, never values) are measured within
    ``deep_size_budget_s``. ``active_sessions`` is None when the process has no
    server runtime (bare mode, ``AppTest``). Never raises.

    Example::

        usage = read_session()
        if usage is not None:
            print(usage.keys, usage.bytes, usage.largest_keys, usage.active_sessions)
    """
    sink: list[str] = []
    try:
        result = _read_session(session_id, deep_size_budget_s, sink)
    except Exception as exc:  # noqa: BLE001
        _note(sink, "session_state size unavailable", exc)
        result = None
    _emit(sink, notes)
    return result


# ---------------------------------------------------------------- registries


def _registry_caches(kind: CacheKind) -> list[_Found]:
    """The function caches of one kind, copied out under the registry's lock."""
    if kind == "data":
        from streamlit.runtime.caching import cache_data_api as api

        registry = getattr(api, "_data_caches", None)
    else:
        from streamlit.runtime.caching import cache_resource_api as api  # type: ignore[no-redef]

        registry = getattr(api, "_resource_caches", None)
    if registry is None:
        raise _Unavailable(f"no {'_data_caches' if kind == 'data' else '_resource_caches'} registry")
    if not hasattr(registry, "_function_caches"):
        raise _Unavailable(f"no _function_caches on {type(registry).__name__}")
    with _locked(getattr(registry, "_caches_lock", None), f"{kind} cache registry"):
        # Read the attribute inside the lock: clear_all() swaps in a new dict.
        items = list(registry._function_caches.items())
        found: list[_Found] = []
        for outer_key, value in items:
            if isinstance(value, dict):
                # Newer shape: session id (None = global scope) -> function key -> cache.
                found.extend(_Found(kind, str(k), outer_key, c) for k, c in value.items())
            else:
                # 1.40 shape: function key -> cache.
                found.append(_Found(kind, str(outer_key), None, value))
    for f in found:
        f.module, f.qualname = _split_display_name(str(getattr(f.cache, "display_name", "") or ""))
    return found


# ---------------------------------------------------------------- one cache


def _data_usage(f: _Found, name: str, sink: list[str]) -> CacheUsage:
    cache = f.cache
    ttl = _seconds(_first_attr(cache, ("fresh_ttl_seconds", "ttl_seconds")))
    max_entries = _count(getattr(cache, "max_entries", None))
    storage = getattr(cache, "storage", None)
    mem = getattr(storage, "_mem_cache", None)
    lengths: list[int] | None = None
    if mem is not None:
        with _locked(getattr(storage, "_mem_cache_lock", None), f"cache {name!r}"):
            lengths = [len(v) for v in _live_values(mem)]
    else:
        lengths = _lengths_from_stats(storage)
    if lengths is None:
        _note(sink, f"size of cache {name!r} unavailable", _Unavailable(f"no _mem_cache on {type(storage).__name__}"))
        return _usage(name, "data", 0, None, "unknown", True, ttl, max_entries)
    return _usage(name, "data", len(lengths), sum(lengths), "pickled", True, ttl, max_entries)


def _resource_usage(f: _Found, name: str, budget_s: float, sink: list[str]) -> CacheUsage:
    cache = f.cache
    ttl = _seconds(_first_attr(cache, ("fresh_ttl_seconds", "ttl_seconds")))
    max_entries = _count(getattr(cache, "max_entries", None))
    mem = getattr(cache, "_mem_cache", None)
    if mem is None:
        _note(sink, f"size of cache {name!r} unavailable", _Unavailable(f"no _mem_cache on {type(cache).__name__}"))
        return _usage(name, "resource", 0, None, "unknown", True, ttl, max_entries)
    with _locked(getattr(cache, "_mem_cache_lock", None), f"cache {name!r}"):
        entries = _live_values(mem)
    count = len(entries)
    key = (f.kind, f.key, f.session_id)
    carried = _unfinished.get(key)
    if carried is not None and carried[0] == count:
        budget_s = max(budget_s, carried[1])
    try:
        # Outside the lock: deep-sizing may take the whole budget.
        size, exact = DeepSizer().measure_many(entries, budget_s)
    except Exception as exc:  # noqa: BLE001 - a value that breaks introspection: its count still stands
        _note(sink, f"size of cache {name!r} unknown ({count:,} entries)", exc)
        return _usage(name, "resource", count, None, "unknown", True, ttl, max_entries)
    finally:
        del entries  # never keep cached values beyond the call
    if exact:
        _unfinished.pop(key, None)
    else:
        best = max(size, carried[2]) if carried is not None and carried[0] == count else size
        _carry(key, count, min(max(budget_s, 1e-3) * 2, MAX_CARRIED_BUDGET_S), best)
        size = best
    return _usage(name, "resource", count, size, "deep-size", exact, ttl, max_entries)


# A cache too big for one read's budget gets twice the budget at the next read, until its
# walk completes (at most MAX_CARRIED_BUDGET_S of CPU; the sizes throttle spaces such reads
# out), and keeps the largest lower bound seen meanwhile: "149 MiB" after a few ticks,
# not "1.2 MiB+" for ever. Keyed by cache; forgotten when its entry count changes.
MAX_CARRIED_BUDGET_S = 1.0
_MAX_CARRIED = 256
_unfinished: dict[tuple[str, str, str | None], tuple[int, float, int]] = {}


def _carry(key: tuple[str, str, str | None], count: int, budget_s: float, best: int) -> None:
    _unfinished.pop(key, None)
    _unfinished[key] = (count, budget_s, best)
    while len(_unfinished) > _MAX_CARRIED:
        _unfinished.pop(next(iter(_unfinished)))


def _live_values(mem: Any) -> list[Any]:
    """The unexpired values of a TTL cache, without reaping, callbacks or LRU moves."""
    if hasattr(mem, "_live_snapshot"):
        # Streamlit's own TTLCache: values() is a non-mutating snapshot of live entries.
        return list(mem.values())
    # Streamlit 1.40 uses cachetools; when it does, cachetools is already imported.
    cachetools = sys.modules.get("cachetools")
    base: Any = getattr(cachetools, "Cache", None)
    # cachetools' TTLCache: iteration skips expired keys without removing them; its
    # own __getitem__ would move the key in the LRU order, the base class's doesn't.
    getitem: Any = getattr(base, "__getitem__", None)
    if getitem is not None and isinstance(base, type) and issubclass(type(mem), base):
        return [getitem(mem, k) for k in list(mem)]
    # An unknown mapping: its values() is the best we have.
    return list(mem.values())


def _lengths_from_stats(storage: Any) -> list[int] | None:
    """Fallback for a storage without ``_mem_cache``: its published per-entry stats."""
    get_stats = getattr(storage, "get_stats", None)
    if get_stats is None:
        return None
    stats = get_stats()
    if isinstance(stats, dict):  # newer: family name -> list of CacheStat
        stats = [s for family in stats.values() for s in family]
    return [int(s.byte_length) for s in stats]


# ---------------------------------------------------------------- names


def _split_display_name(display: str) -> tuple[str, str]:
    """``"pkg.mod.Outer.load"`` -> ``("pkg.mod", "Outer.load")``.

    Streamlit joins ``__module__`` and ``__qualname__`` with a dot; the longest
    prefix that is a loaded module is taken as the module.
    """
    parts = display.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:i])
        if module in sys.modules or module == "__main__":
            return module, ".".join(parts[i:])
    if len(parts) > 1 and "<locals>" not in parts[:-1]:
        return ".".join(parts[:-1]), parts[-1]
    if "<locals>" in parts:
        i = parts.index("<locals>") - 1
        return ".".join(parts[:i]), ".".join(parts[i:])
    return "", display


def _names(found: list[_Found]) -> dict[int, str]:
    """Readable, unique (per kind), deterministic names, keyed by ``id`` of each record."""
    found.sort(key=lambda f: (f.kind, f.qualname, f.module, f.session_id or "", f.key))

    def short(f: _Found) -> str:
        return f.qualname.replace(".<locals>.", ".") or f.key[:8] or "?"

    def with_module(f: _Found) -> str:
        mod = "" if f.module in ("", "__main__") else f.module + "."
        return mod + short(f)

    levels: list[Callable[[_Found], str]] = [
        short,
        with_module,
        lambda f: f"{with_module(f)}@{f.key[:8]}",
    ]
    names: dict[int, str] = {}
    for f in found:
        suffix = f" [session {_alias(f.session_id)}]" if f.session_id is not None else ""
        for level in levels:
            name = level(f) + suffix
            clash = [
                g
                for g in found
                if g is not f and g.kind == f.kind and g.session_id == f.session_id and level(g) + suffix == name
            ]
            if not clash:
                break
        names[id(f)] = name
    # Levels chosen record by record can still meet (a method ``a.load`` in the app
    # script beside a function ``load`` in module ``a``): make the rest unique by key.
    taken: dict[tuple[str, str], int] = {}
    for f in found:
        slot = (f.kind, names[id(f)])
        taken[slot] = taken.get(slot, 0) + 1
    for f in found:
        if taken[(f.kind, names[id(f)])] > 1:
            names[id(f)] = f"{names[id(f)]}@{f.key[:8]}"
    return names


# ---------------------------------------------------------------- session state


def _read_session(session_id: str | None, budget_s: float, sink: list[str]) -> SessionUsage | None:
    state, sid = _find_session_state(session_id, sink)
    active = _active_sessions(sink)
    if state is None:
        return None
    user_state = _filtered_state(state)
    try:
        sizer = DeepSizer()
        deadline = time.perf_counter() + max(0.0, budget_s)
        sizes: list[tuple[str, int]] = []
        bounded: list[tuple[str, int]] = []
        exact = True
        keys = sorted(user_state, key=str)
        for i, key in enumerate(keys):
            share = max(0.0, deadline - time.perf_counter()) / (len(keys) - i)
            value = user_state[key]
            size, complete = sizer.measure(value, share)
            exact = exact and complete
            sizes.append((str(key), size))
            if type(value) is collections.deque and value.maxlen is not None:
                bounded.append((str(key), value.maxlen))
            del value
    finally:
        del user_state  # never keep session values beyond the call
    if not exact:
        sink.append(f"session_state size is a lower bound: the {budget_s * 1000:.0f} ms budget ran out")
    largest = tuple(sorted(sizes, key=lambda kv: (-kv[1], kv[0]))[:LARGEST_KEYS])
    return SessionUsage(
        session=_alias(sid),
        keys=len(sizes),
        bytes=sum(s for _, s in sizes),
        active_sessions=active,
        largest_keys=largest,
        bounded_keys=tuple(bounded),
    )


def _find_session_state(session_id: str | None, sink: list[str]) -> tuple[Any, str]:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is not None and (session_id is None or getattr(ctx, "session_id", None) == session_id):
        state = getattr(ctx, "session_state", None)
        if state is None:
            raise _Unavailable("no session_state on ScriptRunContext")
        return state, str(getattr(ctx, "session_id", "") or "")
    if session_id is None:
        sink.append("session_state size unavailable: not called from a script run")
        return None, ""
    mgr = _session_manager()
    if mgr is None:
        sink.append("session_state size unavailable: no server runtime in this process")
        return None, session_id
    info = None
    for getter in ("get_active_session_info", "get_session_info"):
        fn = getattr(mgr, getter, None)
        if fn is not None:
            info = fn(session_id)
            if info is not None:
                break
    session = getattr(info, "session", None)
    if session is None:
        sink.append(f"session_state size unavailable: no live session {_alias(session_id)}")
        return None, session_id
    state = getattr(session, "session_state", None)
    if state is None:
        raise _Unavailable("no session_state on AppSession")
    return state, session_id


def _filtered_state(state: Any) -> dict[str, Any]:
    """User-visible keys and values (a shallow copy), read under the state's own lock.

    A ``SafeSessionState`` (the one a script run sees) locks ``filtered_state``
    itself; another session's bare ``SessionState`` has no lock, so a concurrent
    change is retried a few times.
    """
    for _attempt in range(3):
        try:
            filtered = state.filtered_state
            return dict(filtered)
        except RuntimeError:  # "dictionary changed size during iteration"
            continue
    raise _Unavailable("session_state kept changing while it was read")


def _session_manager() -> Any:
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return None
    runtime = Runtime.instance()
    # AppTest installs a MagicMock(spec=Runtime): it passes isinstance() but is no
    # Runtime subclass, and it has no _session_mgr.
    if not issubclass(type(runtime), Runtime):
        return None
    mgr = getattr(runtime, "_session_mgr", None)
    if mgr is None:
        raise _Unavailable("no _session_mgr on Runtime")
    return mgr


def _active_sessions(sink: list[str]) -> int | None:
    try:
        mgr = _session_manager()
        if mgr is None:
            return None
        sessions = mgr.list_active_sessions()
        if not isinstance(sessions, list | tuple):
            raise _Unavailable(f"list_active_sessions() returned {type(sessions).__name__}")
        return len(sessions)
    except Exception as exc:  # noqa: BLE001
        _note(sink, "active session count unavailable", exc)
        return None


# ---------------------------------------------------------------- helpers


def _usage(
    name: str,
    kind: CacheKind,
    entries: int,
    size: int | None,
    method: Any,
    exact: bool,
    ttl: float | None,
    max_entries: int | None,
) -> CacheUsage:
    return CacheUsage(
        function=name,
        kind=kind,
        entries=entries,
        bytes=size,
        bytes_method=method,
        bytes_exact=exact,
        ttl_s=ttl,
        max_entries=max_entries,
    )


@contextlib.contextmanager
def _locked(lock: Any, what: str) -> Iterator[None]:
    """Hold one of Streamlit's locks, waiting at most ``LOCK_TIMEOUT_S``."""
    acquire = getattr(lock, "acquire", None)
    if acquire is None:
        yield
        return
    if not acquire(timeout=LOCK_TIMEOUT_S):
        raise _Unavailable(f"{what} busy for more than {LOCK_TIMEOUT_S * 1000:.0f} ms")
    try:
        yield
    finally:
        lock.release()


def _first_attr(obj: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        if hasattr(obj, name):
            return getattr(obj, name)
    return None


def _seconds(value: Any) -> float | None:
    """A TTL in seconds; None for "no TTL" (Streamlit uses None or infinity)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isinf(seconds) or math.isnan(seconds) else seconds


def _count(value: Any) -> int | None:
    """``max_entries``; None for unbounded (Streamlit uses None or infinity)."""
    seconds = _seconds(value)
    return None if seconds is None else int(seconds)


def _alias(session_id: object) -> str:
    """The session's alias: a real session id never leaves the bridge."""
    from st_memwatch.streamlit_bridge.aliases import session_alias

    return session_alias(session_id)


def _kind_label(kind: CacheKind) -> str:
    return "st.cache_data" if kind == "data" else "st.cache_resource"


def _streamlit_version() -> str:
    try:
        import streamlit

        return ".".join(str(streamlit.__version__).split(".")[:2])
    except Exception:  # noqa: BLE001
        return "?"


def _note(sink: list[str], what: str, exc: BaseException) -> None:
    reason = str(exc) if isinstance(exc, _Unavailable) else f"{type(exc).__name__}: {exc}"
    reason = reason.strip().splitlines()[0] if reason.strip() else type(exc).__name__
    if len(reason) > 120:
        reason = reason[:117] + "..."
    sink.append(f"{what} on streamlit {_streamlit_version()}: {reason}")


def _unique(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def _emit(sink: list[str], notes: list[str] | None) -> None:
    if notes is None:
        return
    for line in _unique(sink):
        if line not in notes:
            notes.append(line)

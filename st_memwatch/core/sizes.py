"""Cache and session_state sizes, read through the bridge's readers and filed as series.

The readers (injected by the bridge, so this module stays pure) measure each
``st.cache_data`` / ``st.cache_resource`` function's cache and a session's
``st.session_state`` within a time budget; this module files what they measured
into the store, so that a growing cache or key is a series the judgement reads
like any other holder. A reading cut short by its budget is a lower bound that
rises as each read gets more budget: filed as measured, it would look like growth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from st_memwatch.core import analysis
from st_memwatch.core.models import CacheUsage, SessionsUsage, SessionUsage
from st_memwatch.core.store import SeriesStore

CacheReader = Callable[[float], tuple[list[CacheUsage], list[str]]]
SessionReader = Callable[[str, float], SessionUsage | None]
SESSIONS_WITH_SERIES = 50  # sessions whose session_state keys keep a series (the latest ones)
SESSIONS_KEPT = 200
PER_ENTRY_KEPT = 64


class Sizes:
    """The latest cache and session sizes, and the filing of both into the store."""

    def __init__(self, store: SeriesStore, budget_s: float, note: Callable[[str], None]) -> None:
        self._store = store
        self._budget_s = budget_s
        self._note = note
        self.cache_reader: CacheReader | None = None
        self.session_reader: SessionReader | None = None
        self.caches: tuple[CacheUsage, ...] = ()
        self.sessions: dict[str, SessionUsage] = {}  # newest last
        self.active_sessions: int | None = None
        self._bytes_per_entry: dict[str, float] = {}  # cache function -> bytes per entry at its last exact reading

    def read_caches(self, x: float) -> bool:
        """Read every cache and file it at run ``x``; False without a reader."""
        if self.cache_reader is None:
            return False
        try:
            caches, problems = self.cache_reader(self._budget_s)
        except Exception as exc:  # the bridge guards itself; this is the last line
            caches, problems = [], [f"cache sizes unavailable: {type(exc).__name__}: {exc}"]
        for problem in problems:
            self._note(problem)
        store = self._store
        with store.lock:
            marked = []
            for cache in caches:
                size = self._comparable_bytes(cache)
                if size is not None:
                    store.series.add("cache", cache.function, x, cache.entries, size)
                entries = [p[1] for p in store.series.points("cache", cache.function)]
                growing = len(entries) >= 3 and analysis.steady_share(entries[-6:]) >= 0.5 and entries[-1] > entries[0]
                marked.append(replace(cache, growing=growing))
            store.series.prune("cache", {c.function for c in caches})
            self.caches = tuple(marked)
            store.dirty = True
        return True

    def _comparable_bytes(self, cache: CacheUsage) -> int | None:
        """The bytes to file for ``cache``: what it measured, or an estimate when the budget cut it short.

        A cut-short reading is filed as its entries times the bytes per entry of the last
        exact reading, or not at all.
        """
        if cache.bytes is not None and cache.bytes_exact:
            if cache.entries > 0:
                self._bytes_per_entry[cache.function] = cache.bytes / cache.entries
                while len(self._bytes_per_entry) > PER_ENTRY_KEPT:
                    self._bytes_per_entry.pop(next(iter(self._bytes_per_entry)))
            return cache.bytes
        each = self._bytes_per_entry.get(cache.function)
        return None if each is None else int(each * cache.entries)

    def read_session(self, session: str, x: float) -> bool:
        """Read ``session``'s state and file its largest keys at run ``x``; False without a reading."""
        if self.session_reader is None:
            return False
        try:
            usage = self.session_reader(session, self._budget_s)
        except Exception as exc:
            self._note(f"session_state size unavailable: {type(exc).__name__}: {exc}")
            return False
        if usage is None:
            return False
        store = self._store
        with store.lock:
            self.sessions.pop(session, None)
            self.sessions[session] = usage
            while len(self.sessions) > SESSIONS_KEPT:
                self.sessions.pop(next(iter(self.sessions)))
            if usage.active_sessions is not None:
                self.active_sessions = usage.active_sessions
            for key, size in usage.largest_keys:
                store.series.add("session_state", key, x, 1, size, session)
            store.series.prune("session_state", {k for k, _ in usage.largest_keys}, session)
            with_series = list(dict.fromkeys(k[2] for k in store.series.data if k[0] == "session_state"))
            live = set(list(self.sessions)[-SESSIONS_WITH_SERIES:])
            for old in with_series:
                if old not in live:
                    store.series.drop_session(old)
            store.dirty = True
        return True

    def everyone(self) -> SessionsUsage | None:
        """Every session's state as one aggregate (no session named); None before any reading."""
        with self._store.lock:
            usages = list(self.sessions.values())
        if not usages:
            return None
        return SessionsUsage(len(usages), sum(u.bytes or 0 for u in usages), max((u.bytes or 0 for u in usages), default=0))

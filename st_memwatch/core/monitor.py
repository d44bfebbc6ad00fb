"""The process-wide recorder: one sampler, bounded history, one verdict, snapshots on demand.

Why one object per process: Streamlit runs every session's script in its own
thread of one process, and memory is a process-wide figure. However many
sessions call ``panel()``, there is one sampler thread and one history; each
session reads its own view of it. Collectors that need Streamlit (cache and
session sizes) are injected by the bridge, so this module stays pure.

What it owns: the run records, the per-name series (``series.NameSeries``), and
the verdict ``judgement.judge`` draws from them, refitted when figures change so
that a snapshot only reads it and every tab reads the same. When the costly
readings run is ``schedule``'s business (throttles, the census's policy); their
wording is ``analysis``'s.

Nothing slow runs on the script thread. A run's end only files its record and
marks the figures stale; the sampler thread then runs the census, the cache sizes
and the holder search when due, and refits the verdict, while no script is
running (so it adds no time to any rerun and its temporaries never count in a
run's peak). ``check`` (``census_every_run``) and a monitor without a sampler do
all of it at the run's end instead, in order.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from st_memwatch.core import analysis, judgement, owners, probes, type_growth
from st_memwatch.core.containers import ContainerWatch
from st_memwatch.core.limits import ENV_VAR, resolve_limit
from st_memwatch.core.models import (
    CacheUsage,
    CensusResult,
    ContainerUsage,
    Holder,
    Limit,
    MeasuredBy,
    RunKind,
    RunOutcome,
    RunRecord,
    SessionsUsage,
    SessionUsage,
    Snapshot,
    Suspect,
    Trend,
    TypeGrowth,
    Verdict,
)
from st_memwatch.core.recorder import RunRecorder
from st_memwatch.core.runstore import PairRing, RunStore
from st_memwatch.core.sampler import SampleHistory, Sampler
from st_memwatch.core.schedule import CensusScheduler, Throttle
from st_memwatch.core.series import NameSeries

CacheReader = Callable[[float], tuple[list[CacheUsage], list[str]]]
SessionReader = Callable[[str, float], SessionUsage | None]
LIMIT_TTL_S = 30.0
# Background work waits for a moment with no script running, but not for ever:
# an app whose sessions keep it busy still gets fresh figures.
ANALYSIS_MAX_WAIT_S = 1.0
CENSUS_MAX_WAIT_S = 10.0
CONTAINER_EVERY_S = 1.0
SESSIONS_WITH_SERIES = 50  # sessions whose session_state keys keep a series (the latest ones)
HOLDER_SEARCH_EVERY_S = 30.0  # a type's holder, once found, is looked for again after this long
CHAINS_KEPT = 16
HOLDER_SEARCH_MAX_S = 2.0  # CPU of one live search at most, however big the heap
MIN_CONTAINER_SHARE = 0.5  # a growing container names a leak when its new elements weigh this share of RSS's growth
HOLDER_COLLECTS = 6  # a container that keeps this many of the growing type collects them


@dataclass(slots=True)
class Settings:
    """Tunables; defaults fit a live app, ``check`` turns throttling off."""

    sample_interval_s: float = 0.1
    max_runs: int = 10_000
    # The census runs between script runs, in chunks, and stops when a run starts:
    # its budget is total time; its longest single GIL hold is capped separately.
    census_budget_s: float = 0.5
    census_pause_s: float = 0.05
    # A leak's growing types are followed to what keeps them, between runs, in this much CPU time.
    holder_search_budget_s: float = 0.25
    census_every_run: bool = False  # also reads cache/session sizes after every run
    sizes_budget_s: float = 0.02
    series_window: int = 30
    throttle_duty: float = 0.05
    throttle_min_interval_s: float = 1.0
    # The verdict's thresholds for sustained growth; ``check`` widens warm-up and window to its runs.
    thresholds: analysis.Thresholds = field(default_factory=analysis.Thresholds)


def _arrays_of(owner: object, depth: int = 2) -> list[np.ndarray]:
    """The numpy arrays an object of ours holds in its attributes (and theirs, ``depth`` levels down)."""
    found: list[np.ndarray] = []
    values = list(getattr(owner, "__dict__", {}).values()) + [getattr(owner, n, None) for n in getattr(type(owner), "__slots__", ())]
    for v in values:
        if isinstance(v, np.ndarray):
            found.append(v)
        elif isinstance(v, dict):
            found.extend(x for x in v.values() if isinstance(x, np.ndarray))
        elif depth > 0 and type(v).__module__.startswith("st_memwatch."):
            found.extend(_arrays_of(v, depth - 1))
    return found


def _names_a_place(found: Any, named_elsewhere: tuple[str, ...]) -> bool:
    """A root in the app's code or a library, not one the framework's own readers name, nor ours."""
    if owners.from_search(found.kind) is None:
        return False
    if found.kind == "library" and any(str(found.name).startswith(p) for p in named_elsewhere):
        return False
    return not any(inner in step for step in found.chain for inner in (*named_elsewhere, analysis.OWN_PREFIX))


def _names_the_growth(found: Any, named_elsewhere: tuple[str, ...]) -> bool:
    """Is a holder the reference search found the place to fix?

    Not a root that names no place in the code ("unknown"); not Streamlit's own cache
    or session registries (the cache and session_state readers name those, with the
    function or key); and not one that keeps under a third of the sampled objects (the
    script's global that holds this run's object, while the rest are kept elsewhere) unless
    its container collects many of them: in a process with a long past, most of a sample
    are other code's objects of the same type, while the leak's list holds a dozen.
    """
    if not _names_a_place(found, named_elsewhere):
        return False  # through a session's state or a cache's storage: their readers name the key or function
    return found.held >= 2 and (3 * found.held >= found.sampled or found.kept >= HOLDER_COLLECTS)


_LIVE_MONITORS: weakref.WeakSet[Monitor] = weakref.WeakSet()


class Monitor:
    """Run hooks call ``run_started`` / ``run_finished``; renderers call ``snapshot``."""

    def __init__(
        self,
        settings: Settings | None = None,
        clock: Callable[[], float] = time.monotonic,
        rss: Callable[[], int] = probes.rss,
        mark: probes.HighWaterMark | None = None,
        start_sampler: bool = True,
    ) -> None:
        self.settings = settings or Settings()
        self._clock = clock
        self._rss = rss
        _LIVE_MONITORS.add(self)
        if mark is None and start_sampler:
            mark = probes.HighWaterMark()
        self.peak_note = "" if mark is None or mark.available else mark.reason
        self.history = SampleHistory()
        self._heap_blocks = 0
        self.recorder = RunRecorder(clock, rss, mark, self._heap_blocks_now)
        self.runs = RunStore(self.settings.max_runs)
        self.runs_total = 0
        self.mode: MeasuredBy = "hooks"
        self.notes: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.RLock()
        self._work_lock = threading.Lock()  # one catch-up at a time (sampler thread or flush)
        self._series = NameSeries(self.settings.series_window)
        self._series_dirty = False  # session_state points filed since the last fit
        # RSS growth during the monitor's own work, by the run after which it was done: a
        # rise it explains neither starts nor prolongs a leak (see judgement.find_regime).
        self._own_growth: OrderedDict[float, int] = OrderedDict()
        # A leak nothing names: containers that keep growing, and where each is kept (by id).
        self._containers = ContainerWatch()
        self._containers_x = 0.0
        self._containers_baseline_only = False  # the last look only took the first lengths
        self._container_labels: dict[int, tuple[str, str]] = {}
        self._census = CensusScheduler(
            clock, self._heap_blocks_now, self.settings.census_budget_s, self.settings.census_pause_s,
            self.settings.throttle_duty, self.settings.throttle_min_interval_s,
        )
        self._sizes_throttle = Throttle(self.settings.throttle_duty, self.settings.throttle_min_interval_s)
        self.last_census: CensusResult | None = None
        # Live bytes the census saw, per run: the Python-heap figure beside RSS, so
        # allocator retention (RSS up, live bytes flat) is not called a leak.
        self.heap_totals = PairRing(self.settings.series_window * 4)
        self.growth: tuple[TypeGrowth, ...] = ()
        self.growth_runs = 0.0  # runs between the two censuses ``growth`` compares
        self._census_x = 0.0
        self.caches: tuple[CacheUsage, ...] = ()
        self._bytes_per_entry: dict[str, float] = {}  # cache function -> bytes per entry at its last exact reading
        self.sessions: dict[str, SessionUsage] = {}
        self.seen_sessions: set[str] = set()
        self.cache_reader: CacheReader | None = None
        self.named_elsewhere: tuple[str, ...] = ()
        self.session_reader: SessionReader | None = None
        self.limit: Limit | None = None
        self._limit_cache: dict[tuple[str, str | None], tuple[float, Limit]] = {}
        self.trend: Trend | None = None
        self.verdict: Verdict | None = None
        self.suspects: tuple[Suspect, ...] = ()
        # What one instance of a type keeps alive (``check`` measures it), and holders found
        # by following references from a growing type's objects: both refine the verdict.
        self.held: dict[str, float] = {}
        self.chains: dict[str, Holder] = {}
        self._chains_at: dict[str, float] = {}
        self._search_throttle = Throttle(self.settings.throttle_duty, self.settings.throttle_min_interval_s)
        self.active_sessions: int | None = None
        self.python_heap: int | None = None
        self.container: ContainerUsage | None = None
        self._container_at = float("-inf")
        self.previous: dict[str, Any] | None = None  # set by the history, when one is kept
        # Work the sampler thread owes: refits since a run ended, at run number _pending_x.
        self._stale_since: float | None = None
        self._heavy_since: float | None = None  # census / cache sizes owed since (busy apps)
        self._pending_x = 0.0
        # session_state is read on the script thread at the run's end: every run while that
        # is cheap (a small state costs microseconds), less often as its cost grows.
        self._session_throttle = Throttle(self.settings.throttle_duty, 0.0)
        # Without the kernel's high-water mark, a run's peak is the sampler's maximum:
        # sample twice as often while a run is active, so a 100 ms spike is caught.
        self.sampler = Sampler(self._sample, self.settings.sample_interval_s, hurry=self._peaks_need_samples)
        if start_sampler:
            self.sampler.start()

    def _peaks_need_samples(self) -> bool:
        return self.recorder.peak_source == "sampler" and self.recorder.active_count() > 0

    def _heap_blocks_now(self) -> int:
        """The allocator's block count at the last tick (it costs ~45 µs, too dear for every run end)."""
        return self._heap_blocks if self.sampler.running else probes.heap_blocks()

    @property
    def _inline(self) -> bool:
        """Do the run-end work on the script thread: in ``check``, or with no sampler to hand it to."""
        return self.settings.census_every_run or not self.sampler.running

    # -- feeding -------------------------------------------------------------------
    def _sample(self) -> None:
        now = self._clock()
        value = self._rss()
        self.history.add(now, value)
        self.recorder.note_sample(value)
        self._heap_blocks = probes.heap_blocks()
        if now - self._container_at >= CONTAINER_EVERY_S:
            self._container_at = now
            self.container = probes.container_usage()
        if self._stale_since is not None:
            self._catch_up(now)

    def _catch_up(self, now: float) -> None:
        """On the sampler thread: refit, and census / sizes when due, preferably between runs."""
        stale_since = self._stale_since
        if stale_since is None:
            return
        idle = self.recorder.active_count() == 0
        waited = now - stale_since
        if not idle and waited < ANALYSIS_MAX_WAIT_S:
            return
        heavy_since = self._heavy_since if self._heavy_since is not None else now
        self._owed_work(heavy=idle or now - heavy_since >= CENSUS_MAX_WAIT_S)

    def flush(self) -> None:
        """Do now whatever the sampler thread still owes, so a snapshot is as of now."""
        if self._stale_since is not None:
            self._owed_work(heavy=True, wait=True)

    def _owed_work(self, heavy: bool, wait: bool = False) -> None:
        if not self._work_lock.acquire(blocking=wait):
            return  # the other thread is doing it
        try:
            if self._stale_since is None:
                return
            self._stale_since = None
            changed = False
            if heavy:
                self._heavy_since = None
                changed = self._run_due_work(self._pending_x, background=True)
            self._analyse_safely(series_changed=changed or self._series_dirty)
            if heavy and self.search_holders():
                self._analyse_safely(series_changed=False)
        finally:
            self._work_lock.release()

    # -- wiring (the bridge and the panel call these; they never write the fields) --------
    def connect_readers(self, cache_reader: CacheReader, session_reader: SessionReader, named_elsewhere: tuple[str, ...] = ()) -> None:
        """The cache and session_state readers of this Streamlit (the bridge's).

        ``named_elsewhere``: module prefixes of the framework's own state and cache storage; a
        reference search that ends there names nothing, since these readers name the key or function.
        """
        self.cache_reader = cache_reader
        self.session_reader = session_reader
        self.named_elsewhere = named_elsewhere

    @property
    def has_readers(self) -> bool:
        return self.cache_reader is not None

    def first_sight(self, session: str) -> bool:
        """True the first time ``session`` renders the panel (bounded: a returning one may count again)."""
        if session in self.seen_sessions:
            return False
        if len(self.seen_sessions) >= 1000:
            self.seen_sessions.clear()
        self.seen_sessions.add(session)
        return True

    def measure_between_calls(self, why: str) -> None:
        """No run hooks on this Streamlit: runs are measured between the panel's own calls."""
        self.mode = "panel-calls"
        self.note(why)

    def is_active(self, key: object) -> bool:
        return self.recorder.is_active(key)

    def active_run_id(self, session: str) -> tuple[int, int] | None:
        """The newest active run of ``session``, unique in the process."""
        return self.recorder.active_run_id(session)

    def note(self, text: str) -> None:
        """Keep a short, specific problem line for the panel (bounded, de-duplicated)."""
        with self._lock:
            self.notes[text] = None
            self.notes.move_to_end(text)
            while len(self.notes) > 8:
                self.notes.popitem(last=False)

    def run_started(self, key: object, session: str, kind: RunKind, measured_by: MeasuredBy = "hooks") -> None:
        self.recorder.begin(key, session, kind, measured_by)

    def run_finished(self, key: object, outcome: RunOutcome) -> RunRecord | None:
        record = self.recorder.end(key, outcome)
        if record is None:
            return None
        with self._lock:
            self.runs.append(record)
            self.runs_total += 1
            x = float(self.runs_total)
        self.history.add(record.started_at + record.duration_s, record.rss_after)
        if self._inline:
            changed = self._run_due_work(x, session=record.session)
            self._analyse_safely(series_changed=changed or self._series_dirty)
            if not self.settings.census_every_run and self.search_holders():  # check searches once, at its end
                self._analyse_safely(series_changed=False)
            return record
        # session_state is only reachable from the script thread everywhere (AppTest
        # has no session manager), so its size is read here, rarely and in a bounded time.
        now = self._clock()
        if self.session_reader is not None and self._session_throttle.due(now):
            t0 = time.perf_counter()
            with self._own_footprint():
                self._read_session(record.session, x)
            self._session_throttle.done(now, time.perf_counter() - t0)
        self._pending_x = x
        if self._stale_since is None:
            self._stale_since = now
        if self._heavy_since is None:
            self._heavy_since = now
        # No wake-up: the next regular tick (<= 0.1 s) does the work once for all the
        # runs that ended meanwhile, so back-to-back reruns pay for one refit, not one each.
        return record

    @contextmanager
    def _own_footprint(self, runs_allowed: int = 0) -> Iterator[None]:
        """Measure what RSS grows by during the work inside: the monitor's footprint, not the app's.

        Counted only while at most ``runs_allowed`` runs are active (the one on whose thread
        the work is done), so that no script's allocations are taken for the monitor's.
        """
        before = self._rss() if self.recorder.active_count() <= runs_allowed else None
        try:
            yield
        finally:
            if before is not None and self.recorder.active_count() <= runs_allowed:
                grew = self._rss() - before
                if grew > 0:
                    with self._lock:
                        x = float(self.runs_total)
                        self._own_growth[x] = self._own_growth.get(x, 0) + grew
                        while len(self._own_growth) > 2 * judgement.LOOKBACK_RUNS:
                            self._own_growth.popitem(last=False)

    def _analyse_safely(self, series_changed: bool) -> None:
        try:
            self._analyse(series_changed)
        except Exception as exc:
            self.note(f"analysis failed: {type(exc).__name__}: {exc}")

    def _analyse(self, series_changed: bool = True) -> None:
        """Judge the recorded series, so a snapshot only reads the verdict (and every tab reads the same)."""
        limit = self._current_limit()
        th = self.settings.thresholds
        with self._lock:
            recent = list(self.runs.last(judgement.LOOKBACK_RUNS))
            first_x = float(self.runs_total - len(recent) + 1)
            series = self._series.all_points()
            caches = {c.function: c for c in self.caches}
            heap = self.heap_totals.pairs()
            own = dict(self._own_growth)
            hint = analysis.growth_hint(self.growth, self.growth_runs, th)
            self._series_dirty = False
        suspects = self.suspects
        if series_changed:
            suspects = judgement.suspects_for_details(series, caches, th, self.held)
        verdict = judgement.judge(
            recent, series, caches, limit.bytes,
            first_x=first_x, heap=heap, held=self.held, chains=self.chains, hint=hint, th=th, suspects=suspects, own=own,
        )
        trend = judgement.trend_of(verdict, recent, first_x)
        with self._lock:
            self.verdict, self.trend, self.suspects = verdict, trend, suspects

    def _run_due_work(self, x: float, session: str | None = None, background: bool = False) -> bool:
        """Census and sizes (this ``session``'s too, when given) when due; failures become notes.

        Returns whether any per-name series got new points.
        """
        with self._own_footprint():
            return self._due_work(x, session, background)

    def _due_work(self, x: float, session: str | None, background: bool) -> bool:
        now = self._clock()
        changed = False
        if self.settings.census_every_run or self._census.throttle.due(now):
            try:
                changed |= self._run_census(x, background)
            except Exception as exc:
                self._census.throttle.done(now, 0.0)
                self.note(f"census failed: {type(exc).__name__}: {exc}")
        if self.settings.census_every_run or self._sizes_throttle.due(now):
            t0 = time.perf_counter()
            try:
                changed |= self._read_caches(x)
                if session is not None:
                    changed |= self._read_session(session, x)
            except Exception as exc:
                self.note(f"cache/session sizes failed: {type(exc).__name__}: {exc}")
            self._sizes_throttle.done(self._clock(), time.perf_counter() - t0)
        return changed

    def _run_census(self, x: float, background: bool = False) -> bool:
        """One census if the app can afford it (``schedule.CensusScheduler`` decides), filed at run ``x``."""
        cancel = (lambda: self.recorder.active_count() > 0) if background else None
        result = self._census.take(self.settings.census_every_run, cancel)
        return result is not None and self._record_census(result, x)

    @property
    def census_note(self) -> str:
        return analysis.census_note(self._census.status)

    @property
    def _census_throttle(self) -> Throttle:
        return self._census.throttle

    def _record_census(self, result: CensusResult, x: float) -> bool:
        """File a census: per-type series, the Python-heap figure, and growth against the last comparable one."""
        if not result.stats:
            return False
        if self._census.status.state != "done" or self._census.status.tracked != result.tracked_objects:
            self._census.learn(result)  # a census taken by the caller, not by the scheduler
        with self._lock:
            previous = self.last_census
            self.last_census = result
            if previous is not None and previous.complete == result.complete:
                # A full census against a partial one would report every array as new.
                self.growth = type_growth.diff(previous, result, top=10)
                self.growth_runs = x - self._census_x
            elif previous is not None:
                self.growth, self.growth_runs = (), 0.0
            self._census_x = x
            total = 0
            for stat in result.stats:
                total += stat.bytes
                if not stat.type_name.startswith(analysis.OWN_PREFIX):
                    self._series.add("type", stat.type_name, x, stat.count, stat.bytes)
            if result.complete:  # partial censuses miss bytes: their totals are not comparable
                self.heap_totals.append((x, total))
            self.python_heap = total
            self._series.prune("type", {s.type_name for s in result.stats})
        return True

    def _read_caches(self, x: float) -> bool:
        if self.cache_reader is None:
            return False
        try:
            caches, problems = self.cache_reader(self.settings.sizes_budget_s)
        except Exception as exc:  # the bridge guards itself; this is the last line
            caches, problems = [], [f"cache sizes unavailable: {type(exc).__name__}: {exc}"]
        for problem in problems:
            self.note(problem)
        with self._lock:
            marked = []
            for cache in caches:
                size = self._comparable_bytes(cache)
                if size is not None:
                    self._series.add("cache", cache.function, x, cache.entries, size)
                entries = [p[1] for p in self._series.points("cache", cache.function)]
                growing = len(entries) >= 3 and analysis.steady_share(entries[-6:]) >= 0.5 and entries[-1] > entries[0]
                marked.append(replace(cache, growing=growing))
            self._series.prune("cache", {c.function for c in caches})
            self.caches = tuple(marked)
        return True

    def _comparable_bytes(self, cache: CacheUsage) -> int | None:
        """The bytes to file for ``cache``: what it measured, or an estimate when the budget cut it short.

        A cut-short reading is a lower bound that rises as each read gets more budget, so
        filed as measured it looked like growth in a cache that never changed. It is filed
        as its entries times the bytes per entry of the last exact reading, or not at all.
        """
        if cache.bytes is not None and cache.bytes_exact:
            if cache.entries > 0:
                self._bytes_per_entry[cache.function] = cache.bytes / cache.entries
                while len(self._bytes_per_entry) > 4 * CHAINS_KEPT:
                    self._bytes_per_entry.pop(next(iter(self._bytes_per_entry)))
            return cache.bytes
        each = self._bytes_per_entry.get(cache.function)
        return None if each is None else int(each * cache.entries)

    def _read_session(self, session: str, x: float) -> bool:
        if self.session_reader is None:
            return False
        try:
            usage = self.session_reader(session, self.settings.sizes_budget_s)
        except Exception as exc:
            self.note(f"session_state size unavailable: {type(exc).__name__}: {exc}")
            return False
        if usage is None:
            return False
        with self._lock:
            self.sessions.pop(session, None)
            self.sessions[session] = usage  # newest last
            while len(self.sessions) > 200:
                self.sessions.pop(next(iter(self.sessions)))
            if usage.active_sessions is not None:
                self.active_sessions = usage.active_sessions
            for key, size in usage.largest_keys:
                self._series.add("session_state", key, x, 1, size, session)
            self._series.prune("session_state", {k for k, _ in usage.largest_keys}, session)
            with_series = list(dict.fromkeys(k[2] for k in self._series.data if k[0] == "session_state"))
            live = set(list(self.sessions)[-SESSIONS_WITH_SERIES:])
            for old in with_series:
                if old not in live:
                    self._series.drop_session(old)
            self._series_dirty = True
        return True

    def refresh_sizes(self, session: str, with_session: bool = True) -> None:
        """Read cache (and this session's) sizes now: first render, or an explicit snapshot.

        Read while a run of ``session`` is in progress, the sizes already hold that run's
        work: they are filed at the run in progress, which its own end-of-run reading then
        overwrites. Filed at the last finished run, they made the next run look flat.
        """
        t0 = time.perf_counter()
        x = float(self.runs_total + (1 if self.active_run_id(session) is not None else 0))
        try:
            with self._own_footprint(runs_allowed=1):
                self._read_caches(x)
                if with_session:
                    self._read_session(session, x)
        except Exception as exc:
            self.note(f"cache/session sizes failed: {type(exc).__name__}: {exc}")
        self._sizes_throttle.done(self._clock(), time.perf_counter() - t0)
        self._analyse_safely(series_changed=True)

    def search_holders(self, budget_s: float | None = None) -> bool:
        """Follow references from the leak's growing types to what keeps them; True when one was found.

        Between runs (the sampler thread), throttled like the census, and only while the
        verdict is a leak that a type explains: caches and session_state keys are named
        by their own sizes. ``check`` calls it once at the end with a larger budget.
        """
        verdict = self.verdict
        if verdict is None or not verdict.leak:
            return False
        now = self._clock()
        budget = budget_s or self._search_budget()
        if not verdict.holders and (budget_s is not None or self._search_throttle.due(now)):
            t0 = time.thread_time()
            found_any = self._watch_containers(verdict, budget)
            self._search_done(now, time.thread_time() - t0)
            return found_any
        names = [h.name for h in verdict.holders if h.kind == "type" and now - self._chains_at.get(h.name, -1e18) >= HOLDER_SEARCH_EVERY_S][:3]
        if not names or (budget_s is None and not self._search_throttle.due(now)):
            return False
        from st_memwatch.core import holders  # deferred: only a leak needs it

        t0 = time.thread_time()
        try:
            with self._own_footprint():
                found = holders.find_holders(names, None, budget, skip=self._own_arrays())
        except Exception as exc:
            self.note(f"holder search failed: {type(exc).__name__}: {exc}")
            found = {}
        if not any(_names_the_growth(h, self.named_elsewhere) for h in found.values()):
            # The sample missed the place (old containers of new objects lie deep in a long past's
            # heap): the containers that keep growing are looked at in the same tick.
            found_any = self._watch_containers(verdict, budget)
            self._search_done(now, time.thread_time() - t0)
            if found_any:
                return True
        else:
            self._search_throttle.done(now, time.thread_time() - t0)
        with self._lock:
            for name in names:
                self.chains.pop(name, None)
            for name, h in found.items():
                kind = owners.from_search(h.kind)
                if kind is None or not _names_the_growth(h, self.named_elsewhere):
                    continue
                label = (h.key or h.name) if kind == "session_state" else h.name if kind == "cache" else h.label
                advice, action = analysis.advice_for(kind, label, None)
                self.chains[name] = Holder(kind, label, 0.0, 0.0, "", advice, action, chain=tuple(h.chain))
                self._chains_at[name] = now  # found: looked for again only later; not found: when the throttle allows
            while len(self.chains) > CHAINS_KEPT:
                self.chains.pop(next(iter(self.chains)))
            while len(self._chains_at) > 4 * CHAINS_KEPT:
                self._chains_at.pop(next(iter(self._chains_at)))
        return bool(found)

    def _search_done(self, now: float, cost_s: float) -> None:
        """Charge the throttle; a look that only took the containers' first lengths is due again at once.

        Two looks name a growing container, and a leak should be named within a few runs,
        not a throttle period after the first look.
        """
        self._search_throttle.done(now, 0.0 if self._containers_baseline_only else cost_s)

    def _search_budget(self) -> float:
        """CPU for one search: the setting, or more in a heap whose census costs more (a sample must see all of it).

        The throttle keeps the share of time the same: a dearer search runs less often.
        """
        status = self._census.status
        return min(HOLDER_SEARCH_MAX_S, max(self.settings.holder_search_budget_s, 1.5 * max(status.cpu_s, status.cost_s)))

    def _watch_containers(self, verdict: Any, budget: float) -> bool:
        """A leak nothing names (a heap too big to count): file the containers that keep growing, by where they are kept.

        Each look files a point per growing container under the place the reference
        search names for it (``module app.kept``), with its length and its length times
        what its newest elements weigh; the judgement ranks these like any holder.
        """
        from st_memwatch.core import holders  # deferred: only a leak needs it

        found = False
        try:
            with self._own_footprint():
                x = float(self.runs_total)
                since = max(1.0, x - self._containers_x)
                had_baseline = self._containers.has_baseline
                grown = self._containers.look(budget, skip=set())
                self._containers_baseline_only = not had_baseline and self._containers.has_baseline
                self._containers_x = x
                for g in grown:
                    if g.added * g.bytes_each < MIN_CONTAINER_SHARE * verdict.bytes_per_run * since:
                        continue
                    label = self._container_labels.get(id(g.obj))
                    if label is None:
                        carrier = [g.obj]
                        h = holders.find_holder(carrier, None, budget / 2, ignore=(id(carrier),))
                        carrier.clear()
                        if h is None or not _names_a_place(h, self.named_elsewhere):
                            continue
                        label = (owners.from_search(h.kind) or "global", h.label)
                        self._container_labels[id(g.obj)] = label
                        while len(self._container_labels) > CHAINS_KEPT:
                            self._container_labels.pop(next(iter(self._container_labels)))
                    kind, name = label
                    with self._lock:
                        if not self._series.points(kind, name):
                            self._series.add(kind, name, self._containers_x - since, g.length - g.added, int((g.length - g.added) * g.bytes_each))
                        self._series.add(kind, name, x, g.length, int(g.length * g.bytes_each))
                        self._series_dirty = True
                    found = True
                del grown
        except Exception as exc:
            self.note(f"holder search failed: {type(exc).__name__}: {exc}")
        return found

    def _own_arrays(self) -> set[int]:
        """Ids of the numpy arrays every live monitor keeps: their rings are the newest arrays in many a process.

        Every monitor's, not this one's only: one replaced by ``stop()`` / a new ``panel()``
        lives on while a run hook still holds it.
        """
        ids: set[int] = set()
        for monitor in list(_LIVE_MONITORS):
            if "heap_totals" not in vars(monitor):
                continue  # still being built on another thread
            with monitor._lock:
                ids.update(id(entry[0]) for entry in monitor._series.data.values())
            for owner in (monitor.runs, monitor.heap_totals, monitor.history):
                ids.update(id(v) for v in _arrays_of(owner))
        return ids

    def set_holdings(self, held: dict[str, float]) -> None:
        """What one instance of each growing type keeps alive (measured by ``check``); refits the verdict."""
        with self._lock:
            self.held = dict(held)
        self._analyse_safely(series_changed=True)

    def series_points(self) -> dict[tuple[str, str, str], tuple[analysis.Point, ...]]:
        """Every per-name series as (run number, count, bytes) points, keyed by (kind, name, session)."""
        with self._lock:
            return self._series.all_points()

    def heap_series(self) -> list[tuple[float, int]]:
        """Live Python bytes of each complete census, by run number."""
        with self._lock:
            return self.heap_totals.pairs()

    # -- reading -------------------------------------------------------------------
    def resolve_limit(self, explicit: object = None) -> Limit:
        """Resolve (and remember) the limit; a bad explicit value raises ValueError.

        Reading the environment and cgroup files on every rerun would cost more than
        the rest of the panel, so a resolution is reused for ``LIMIT_TTL_S``.
        """
        limit = self._resolved(explicit)
        self.limit = limit
        return limit

    def _resolved(self, explicit: object) -> Limit:
        """``resolve_limit`` remembered per (argument, environment) for ``LIMIT_TTL_S``."""
        key = (repr(explicit), os.environ.get(ENV_VAR))
        now = self._clock()
        cached = self._limit_cache.get(key)
        if cached is not None and now - cached[0] < LIMIT_TTL_S:
            return cached[1]
        limit = resolve_limit(explicit)
        if len(self._limit_cache) >= 8:  # a panel's argument, the default: a handful at most
            self._limit_cache.clear()
        self._limit_cache[key] = (now, limit)
        return limit

    def _current_limit(self) -> Limit:
        """The limit the panel resolved, or the default order's answer, without remembering it.

        Only the panel's call sets the limit: a refit on the sampler thread that resolved
        and stored the default at the same moment would overwrite ``panel(limit=...)``.
        """
        return self.limit or self._resolved(None)

    def snapshot(
        self,
        session: str | None = None,
        limit: Limit | None = None,
        timeline_points: int = 600,
        max_runs: int | None = None,
    ) -> Snapshot:
        """Freeze what is known now; ``max_runs`` / ``timeline_points=0`` keep it light."""
        limit = limit or self._current_limit()
        rss_now = self._rss()
        if not self.sampler.running or self._container_at == float("-inf"):
            self._container_at = self._clock()
            self.container = probes.container_usage()
        with self._lock:
            runs = self.runs.records() if max_runs is None else self.runs.last(max_runs)
            caches = self.caches
            growth = self.growth
            census_note = self.census_note
            session_usage = self.sessions.get(session) if session else None
            notes = tuple(self.notes)
            trend, verdict, suspects = self.trend, self.verdict, self.suspects
            usages = list(self.sessions.values())
            active = self.active_sessions
        if session_usage is not None:
            session_usage = replace(session_usage, active_sessions=active)  # one count for every tab
        everyone = (
            SessionsUsage(len(usages), sum(u.bytes or 0 for u in usages), max((u.bytes or 0 for u in usages), default=0))
            if usages
            else None
        )
        warnings = analysis.diagnosis(verdict, rss_now, limit.bytes)
        extra = tuple(n for n in (self.peak_note, self.sampler.last_error) if n)
        return Snapshot(
            taken_at=self._clock(),
            rss=rss_now,
            limit=limit,
            container=self.container,
            mode=self.mode,
            peak_method=self.recorder.peak_source,
            runs=runs,
            samples=self.history.timeline(timeline_points) if timeline_points else (),
            caches=caches,
            session=session_usage,
            growth=growth,
            trend=trend,
            warnings=warnings,
            suspects=suspects,
            leak=verdict.leak if verdict is not None else False,
            notes=notes + extra + limit.notes,
            census_note=census_note,
            python_heap=self.python_heap,
            unix_offset_s=time.time() - self._clock() if self._clock is time.monotonic else 0.0,
            verdict=verdict,
            sessions=everyone,
            previous=self.previous,
        )

    def close(self) -> None:
        self.sampler.stop()

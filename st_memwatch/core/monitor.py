"""The process-wide recorder: one sampler, bounded history, one verdict, snapshots on demand.

Why one object per process: Streamlit runs every session's script in its own
thread of one process, and memory is a process-wide figure. However many
sessions call ``panel()``, there is one sampler thread and one history; each
session reads its own view of it. Collectors that need Streamlit (cache and
session sizes) are injected by the bridge, so this module stays pure.

What it owns: the run lifecycle, the wiring of its parts, the refit of the verdict
and the snapshot. Each other concern is a part of its own: the series the judgement
reads (``store``), cache and session sizes (``sizes``), the holder search with its
throttle and acceptance rules (``holder_search``), the monitor's own footprint
(``footprint``), and the work a run's end owes the sampler thread (``background``).
When the costly readings run is ``schedule``'s business; their wording is
``analysis``'s; the verdict is ``judgement``'s.

Nothing slow runs on the script thread. A run's end only files its record and
marks the figures stale; the sampler thread then runs the census, the cache sizes
and the holder search when due, and refits the verdict, while no script is
running. ``check`` (``census_every_run``) and a monitor without a sampler do all
of it at the run's end instead, in order.
"""

from __future__ import annotations

import os
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from st_memwatch.core import analysis, census, judgement, ledger, probes
from st_memwatch.core.background import OwedWork
from st_memwatch.core.footprint import OwnFootprint
from st_memwatch.core.holder_search import HolderSearch, arrays_of, names_the_growth
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
    Sample,
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
from st_memwatch.core.sizes import CacheReader, SessionReader, Sizes
from st_memwatch.core.store import SeriesStore

__all__ = ["CacheReader", "Monitor", "SessionReader", "Settings"]

LIMIT_TTL_S = 30.0
SESSION_READ_EVERY_S = 0.5  # a session's state is read at a run's end at most this often
SUSPECTS_EVERY_S = 2.0  # the details' suspects are refitted at most this often (live)
CONTAINER_EVERY_S = 1.0
_names_the_growth = names_the_growth  # the acceptance rule lives with the search


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
    # The verdict's thresholds; ``check`` widens warm-up and window to its runs.
    thresholds: analysis.Thresholds = field(default_factory=analysis.Thresholds)


_LIVE_MONITORS: weakref.WeakSet[Monitor] = weakref.WeakSet()
# While settled memory holds still (no step over the last QUIET_RUNS runs, no leak on), the
# census, what names a holder, takes this share of its duty: a healthy app pays a fifth; it
# is back at its full duty from the first run whose settled memory steps up.
QUIET_CENSUS_SHARE = 0.2
QUIET_RUNS = 4
ALLOCATOR_EVERY_S = 0.1


def _own_arrays() -> set[int]:
    """Ids of the numpy arrays every live monitor keeps: their rings are the newest arrays in many a process.

    Every monitor's, not one's only: one replaced by ``stop()`` / a new ``panel()``
    lives on while a run hook still holds it.
    """
    ids: set[int] = set()
    for monitor in list(_LIVE_MONITORS):
        store = vars(monitor).get("store")
        if store is None:
            continue  # still being built on another thread
        with store.lock:
            ids.update(id(entry[0]) for entry in store.series.data.values())
        for owner in (monitor.runs, store.heap_totals, monitor.history):
            ids.update(id(v) for v in arrays_of(owner))
    return ids


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
        st = self.settings
        self._clock = clock
        self._rss = rss
        if mark is None and start_sampler:
            mark = probes.HighWaterMark()
        self.peak_note = "" if mark is None or mark.available else mark.reason
        self.history = SampleHistory()
        self._heap_blocks = 0
        self.recorder = RunRecorder(clock, rss, mark, self._heap_blocks_now)
        self.runs = RunStore(st.max_runs)
        self.runs_total = 0
        self.mode: MeasuredBy = "hooks"
        self.notes: OrderedDict[str, None] = OrderedDict()
        self.store = SeriesStore(st.series_window)
        self.footprint = OwnFootprint(rss, self.recorder.active_count, lambda: float(self.runs_total), 2 * judgement.LOOKBACK_RUNS)
        self.sizes = Sizes(self.store, st.sizes_budget_s, self.note)
        self.search = HolderSearch(
            self.store, self.footprint, clock, Throttle(st.throttle_duty, st.throttle_min_interval_s),
            st.holder_search_budget_s, self.note, _own_arrays,
        )
        self._census = CensusScheduler(
            clock, self._heap_blocks_now, st.census_budget_s, st.census_pause_s, st.throttle_duty, st.throttle_min_interval_s,
        )
        self._sizes_throttle = Throttle(st.throttle_duty, st.throttle_min_interval_s)
        # session_state is read on the script thread at the run's end: every run while that
        # is cheap (a small state costs microseconds), less often as its cost grows.
        self._session_throttle = Throttle(st.throttle_duty, SESSION_READ_EVERY_S)
        # Fitting every series for the details' suspects is the dearest part of a refit: it runs
        # when its share of time allows; the verdict itself is judged at every refit.
        self._suspects_throttle = Throttle(st.throttle_duty, SUSPECTS_EVERY_S)
        self.owed = OwedWork(self._pay_owed)
        self.seen_sessions: set[str] = set()
        self.limit: Limit | None = None
        self._limit_cache: dict[tuple[str, str | None], tuple[float, Limit]] = {}
        self.trend: Trend | None = None
        self.verdict: Verdict | None = None
        self.suspects: tuple[Suspect, ...] = ()
        # What one instance of a type keeps alive (``check`` measures it): it refines the verdict.
        self.held: dict[str, float] = {}
        self.container: ContainerUsage | None = None
        self._container_at = float("-inf")
        self._allocator_at = float("-inf")
        self.ledger: ledger.LedgerReading | None = None
        self._split: census.Split | None = None
        self.previous: dict[str, Any] | None = None  # the previous process, from the history when one is kept
        _LIVE_MONITORS.add(self)
        # Without the kernel's high-water mark, a run's peak is the sampler's maximum:
        # sample twice as often while a run is active, so a 100 ms spike is caught.
        self.sampler = Sampler(self._sample, st.sample_interval_s, hurry=self._peaks_need_samples)
        if start_sampler:
            self.sampler.start()

    # -- the parts' figures, read where the panel, the exports and the tests read them ------------
    @property
    def _lock(self) -> Any:
        return self.store.lock

    @property
    def _series(self) -> NameSeries:
        return self.store.series

    @property
    def heap_totals(self) -> PairRing:
        return self.store.heap_totals

    @property
    def last_census(self) -> CensusResult | None:
        return self.store.last_census

    @property
    def growth(self) -> tuple[TypeGrowth, ...]:
        return self.store.growth

    @property
    def growth_runs(self) -> float:
        return self.store.growth_runs

    @property
    def python_heap(self) -> int | None:
        return self.store.python_heap

    @property
    def caches(self) -> tuple[CacheUsage, ...]:
        return self.sizes.caches

    @property
    def sessions(self) -> dict[str, SessionUsage]:
        return self.sizes.sessions

    @property
    def active_sessions(self) -> int | None:
        return self.sizes.active_sessions

    @property
    def cache_reader(self) -> CacheReader | None:
        return self.sizes.cache_reader

    @cache_reader.setter
    def cache_reader(self, reader: CacheReader | None) -> None:
        self.sizes.cache_reader = reader

    @property
    def session_reader(self) -> SessionReader | None:
        return self.sizes.session_reader

    @session_reader.setter
    def session_reader(self, reader: SessionReader | None) -> None:
        self.sizes.session_reader = reader

    @property
    def chains(self) -> dict[str, Holder]:
        return self.search.chains

    @property
    def named_elsewhere(self) -> tuple[str, ...]:
        return self.search.named_elsewhere

    @property
    def epoch(self) -> int:
        """Changes when the run history starts again (a new recorder): exports key their caches by it."""
        return self.recorder.epoch

    @property
    def peak_source(self) -> str:
        return self.recorder.peak_source

    def oldest_active_run(self) -> Any:
        """The recorder's oldest active run, for the metrics' "longest running" figure."""
        return self.recorder.oldest_active()

    def finished_by_outcome(self) -> Any:
        """Finished runs counted by outcome, for the metrics' counters."""
        return self.recorder.finished_by_outcome()

    def remember_previous(self, previous: dict[str, Any] | None) -> None:
        """The previous process of this app, as the history read it at start: shown in the snapshot."""
        self.previous = previous

    def _peaks_need_samples(self) -> bool:
        return self.recorder.peak_source == "sampler" and self.recorder.active_count() > 0

    def _heap_blocks_now(self) -> int:
        """The allocator's block count at the last tick (too dear to read at every run end)."""
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
            self._read_ledger()
        if self.owed.owed:
            self.owed.tick(now, idle=self.recorder.active_count() == 0)

    def _read_ledger(self) -> None:
        """Where the memory is now, each part with its owner (``core.ledger``); a failure is a note."""
        split = self._split
        try:
            if split is not None:
                reading = ledger.read_ledger(split.total, python_in_native=split.in_malloc, python_in_arrow=split.in_arrow)
            else:
                reading = ledger.read_ledger(self.store.python_heap)
        except Exception as exc:
            self.note(f"ledger unavailable: {type(exc).__name__}: {exc}")
            return
        self.ledger = reading
        self.store.record_ledger(float(self.runs_total), reading.owners())

    def flush(self) -> None:
        """Do now whatever the sampler thread still owes, so a snapshot is as of now (suspects included)."""
        self.owed.flush()
        if self.store.dirty:
            self._analyse_safely(series_changed=True, force=True)

    def _pay_owed(self, x: float, heavy: bool) -> None:
        """What a run's end owed: the ledger, the readings when ``heavy``, the refit always, then the holder search.

        The ledger is read here too (it is cheap) so that its series has a reading per
        run, not only one a second: a burst of reruns is where a trend per run is read.
        """
        self._read_ledger()
        changed = self._run_due_work(x, background=True) if heavy else False
        self._analyse_safely(series_changed=changed or self.store.dirty)
        if heavy and self.search_holders():
            self._analyse_safely(series_changed=False)

    # -- wiring (the bridge and the panel call these; they never write the fields) --------
    def connect_readers(self, cache_reader: CacheReader, session_reader: SessionReader, named_elsewhere: tuple[str, ...] = ()) -> None:
        """The cache and session_state readers of this Streamlit (the bridge's).

        ``named_elsewhere``: module prefixes of the framework's own state and cache storage; a
        reference search that ends there names nothing, since these readers name the key or function.
        """
        self.sizes.cache_reader = cache_reader
        self.sizes.session_reader = session_reader
        self.search.named_elsewhere = named_elsewhere

    @property
    def has_readers(self) -> bool:
        return self.sizes.cache_reader is not None

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
        with self.store.lock:
            self.notes[text] = None
            self.notes.move_to_end(text)
            while len(self.notes) > 8:
                self.notes.popitem(last=False)

    # -- the run lifecycle -------------------------------------------------------------
    def run_started(self, key: object, session: str, kind: RunKind, measured_by: MeasuredBy = "hooks") -> None:
        self.recorder.begin(key, session, kind, measured_by)

    def run_finished(self, key: object, outcome: RunOutcome) -> RunRecord | None:
        record = self.recorder.end(key, outcome)
        if record is None:
            return None
        with self.store.lock:
            self.runs.append(record)
            self.runs_total += 1
            x = float(self.runs_total)
        end = record.started_at + record.duration_s
        self.history.add(end, record.rss_after)
        # The C allocator at the run's end, beside its settled RSS: whose memory a step is. Its
        # reading walks every arena (each script thread gets one): runs that end back to back
        # file it at most once a sampler tick, a person's clicks at every run.
        if self._inline or end - self._allocator_at >= ALLOCATOR_EVERY_S:
            self._allocator_at = end
            self.store.record_allocator(x, *probes.c_allocator())
        if self._inline:
            changed = self._run_due_work(x, session=record.session)
            self._read_ledger()
            self._analyse_safely(series_changed=changed or self.store.dirty)
            if not self.settings.census_every_run and self.search_holders():  # check searches once, at its end
                self._analyse_safely(series_changed=False)
            return record
        # session_state is only reachable from the script thread everywhere (AppTest
        # has no session manager), so its size is read here, rarely and in a bounded time.
        now = self._clock()
        if self.sizes.session_reader is not None and self._session_throttle.due(now):
            t0 = time.perf_counter()
            with self.footprint.measure():
                self._read_session(record.session, x)
            self._session_throttle.done(now, time.perf_counter() - t0)
        # No wake-up: the next regular tick does the work once for all the runs that
        # ended meanwhile, so back-to-back reruns pay for one refit, not one each.
        self.owed.owe(now, x)
        return record

    # -- the refit ---------------------------------------------------------------------
    def _analyse_safely(self, series_changed: bool, force: bool = False) -> None:
        try:
            self._analyse(series_changed, force)
        except Exception as exc:
            self.note(f"analysis failed: {type(exc).__name__}: {exc}")

    def _analyse(self, series_changed: bool = True, force: bool = False) -> None:
        """Judge the recorded series, so a snapshot only reads the verdict (and every tab reads the same)."""
        limit = self._current_limit()
        th = self.settings.thresholds
        store = self.store
        with store.lock:
            recent = list(self.runs.last(judgement.LOOKBACK_RUNS))
            first_x = float(self.runs_total - len(recent) + 1)
            series = store.series.all_points()
            caches = {c.function: c for c in self.sizes.caches}
            heap = store.heap_totals.pairs()
            free = store.free_totals.pairs()
            hint = analysis.growth_hint(store.growth, store.growth_runs, th)
            chains = dict(self.search.chains)
            bounded_keys = dict(self.sizes.bounded_keys)
            store.dirty = False
        suspects = self.suspects
        now = self._clock()
        if series_changed and (force or self._inline or self._suspects_throttle.due(now)):
            t0 = time.thread_time()
            suspects = judgement.suspects_for_details(series, caches, th, self.held)
            self._suspects_throttle.done(now, time.thread_time() - t0)
        elif series_changed:
            store.dirty = True  # refitted at a later refit, when the throttle allows
        verdict = judgement.judge(
            recent, series, caches, limit.bytes,
            first_x=first_x, heap=heap, held=self.held, chains=chains, hint=hint, th=th, suspects=suspects,
            own=self.footprint.by_run(), free=free, open_sessions=self.sizes.active_sessions,
            bounded_keys=bounded_keys,
        )
        trend = judgement.trend_of(verdict, recent, first_x, th)
        with store.lock:
            self.verdict, self.trend, self.suspects = verdict, trend, suspects

    # -- readings due at a run's end or on the sampler thread --------------------------
    def _run_due_work(self, x: float, session: str | None = None, background: bool = False) -> bool:
        """Census and sizes (this ``session``'s too, when given) when due; failures become notes.

        Returns whether any per-name series got new points.
        """
        with self.footprint.measure():
            return self._due_work(x, session, background)

    def _due_work(self, x: float, session: str | None, background: bool) -> bool:
        now = self._clock()
        changed = False
        self._census.throttle.duty = self.settings.throttle_duty * (1.0 if self._memory_moves() else QUIET_CENSUS_SHARE)
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

    def _memory_moves(self) -> bool:
        """Is a leak on, the verdict still warming up, or did settled memory step up over the last runs?"""
        verdict = self.verdict
        if verdict is None or verdict.leak or verdict.warming_up:
            return True
        with self.store.lock:
            recent = list(self.runs.last(QUIET_RUNS + 1))
        if len(recent) <= QUIET_RUNS:
            return True
        step = self.settings.thresholds.min_rss_bytes_per_run
        return any(b.rss_after - a.rss_after >= step for a, b in zip(recent, recent[1:], strict=False))

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
        """File a census taken by the scheduler or by the caller (whose cost the scheduler then learns)."""
        if result.stats and (self._census.status.state != "done" or self._census.status.tracked != result.tracked_objects):
            self._census.learn(result)  # a census taken by the caller, not by the scheduler
        filed = self.store.record_census(result, x)
        if filed:
            # Which of the census's bytes the allocators hold too, so the ledger counts them once.
            self._split = census.split_of(result)
        return filed

    def _read_caches(self, x: float) -> bool:
        """Every cache's size, filed at run ``x`` (``Sizes``)."""
        return self.sizes.read_caches(x)

    def _read_session(self, session: str, x: float) -> bool:
        """``session``'s state size, filed at run ``x`` (``Sizes``)."""
        return self.sizes.read_session(session, x)

    def refresh_sizes(self, session: str, with_session: bool = True) -> None:
        """Read cache (and this session's) sizes now: first render, or an explicit snapshot.

        Read while a run of ``session`` is in progress, the sizes already hold that run's
        work: they are filed at the run in progress, which its own end-of-run reading then
        overwrites. Filed at the last finished run, they made the next run look flat.
        """
        t0 = time.perf_counter()
        x = float(self.runs_total + (1 if self.active_run_id(session) is not None else 0))
        try:
            with self.footprint.measure(runs_allowed=1):
                self._read_caches(x)
                if with_session:
                    self._read_session(session, x)
        except Exception as exc:
            self.note(f"cache/session sizes failed: {type(exc).__name__}: {exc}")
        self._sizes_throttle.done(self._clock(), time.perf_counter() - t0)
        if self._inline:
            self._analyse_safely(series_changed=True)
        else:  # the refit is owed to the sampler thread, like a run's end: no fit on a new session's first run
            self.owed.owe(self._clock(), float(self.runs_total))

    def search_holders(self, budget_s: float | None = None) -> bool:
        """Follow references from the leak's growing types to what keeps them; True when one was found.

        Between runs (the sampler thread), throttled, and only while the verdict is a leak
        that a type explains (``HolderSearch``). ``check`` calls it once at the end with a
        larger budget.
        """
        status = self._census.status
        budget = budget_s or self.search.budget(max(status.cpu_s, status.cost_s))
        return self.search.search(self.verdict, float(self.runs_total), budget, forced=budget_s is not None)

    def set_holdings(self, held: dict[str, float]) -> None:
        """What one instance of each growing type keeps alive (measured by ``check``); refits the verdict."""
        with self.store.lock:
            self.held = dict(held)
        self._analyse_safely(series_changed=True)

    def ledger_series(self) -> dict[str, list[tuple[float, int]]]:
        """Where the memory was, by owner (``core.ledger.OWNERS``): bytes by run number, oldest first."""
        return self.store.ledger_series()

    def series_points(self) -> dict[tuple[str, str, str], tuple[analysis.Point, ...]]:
        """Every per-name series as (run number, count, bytes) points, keyed by (kind, name, session)."""
        return self.store.points()

    def heap_series(self) -> list[tuple[float, int]]:
        """Live Python bytes of each complete census, by run number."""
        return self.store.heap()

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
        ledger_history: bool | None = None,
        timeline_window_s: float | None = None,
    ) -> Snapshot:
        """Freeze what is known now; ``max_runs`` / ``timeline_points=0`` keep it light.

        ``ledger_history`` (default: with a timeline) adds each owner's readings and trend,
        which only the details draw: the gauge's sparkline needs a timeline, not them.
        ``timeline_window_s`` spreads the timeline's points over that last stretch only.
        """
        if ledger_history is None:
            ledger_history = bool(timeline_points)
        limit = limit or self._current_limit()
        rss_now = self._rss()
        if not self.sampler.running or self._container_at == float("-inf"):
            self._container_at = self._clock()
            self.container = probes.container_usage()
            self._read_ledger()
        with self.store.lock:
            runs = self.runs.records() if max_runs is None else self.runs.last(max_runs)
            caches = self.sizes.caches
            growth = self.store.growth
            census_note = self.census_note
            session_usage = self.sizes.sessions.get(session) if session else None
            notes = tuple(self.notes)
            trend, verdict, suspects = self.trend, self.verdict, self.suspects
            active = self.sizes.active_sessions
        if session_usage is not None:
            session_usage = replace(session_usage, active_sessions=active)  # one count for every tab
        warnings = analysis.diagnosis(verdict, rss_now, limit.bytes, self.settings.thresholds)
        extra = tuple(n for n in (self.peak_note, self.sampler.last_error) if n)
        return Snapshot(
            taken_at=self._clock(),
            rss=rss_now,
            limit=limit,
            container=self.container,
            mode=self.mode,
            peak_method=self.recorder.peak_source,
            runs=runs,
            samples=self._timeline(timeline_points, timeline_window_s),
            caches=caches,
            session=session_usage,
            growth=growth,
            trend=trend,
            warnings=warnings,
            suspects=suspects,
            leak=verdict.leak if verdict is not None else False,
            notes=notes + extra + limit.notes,
            census_note=census_note,
            python_heap=self.store.python_heap,
            unix_offset_s=time.time() - self._clock() if self._clock is time.monotonic else 0.0,
            verdict=verdict,
            sessions=self.sizes.everyone(),
            previous=self.previous,
            ledger=ledger.ledger_view(self.ledger, self.store.ledger_series() if ledger_history else {}),
        )

    def _timeline(self, points: int, window_s: float | None) -> tuple[Sample, ...]:
        if not points:
            return ()
        return self.history.timeline(points, since=None if window_s is None else self._clock() - window_s)

    def close(self) -> None:
        self.sampler.stop()

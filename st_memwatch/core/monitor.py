"""The process-wide recorder: one sampler, bounded history, snapshots on demand.

Why one object per process: Streamlit runs every session's script in its own
thread of one process, and memory is a process-wide figure. However many
sessions call ``panel()``, there is one sampler thread and one history; each
session reads its own view of it. Collectors that need Streamlit (cache and
session sizes) are injected by the bridge, so this module stays pure.

Expensive work (a census, deep sizes) is throttled to a small share of wall time
(``Throttle``): it never runs on every rerun of a busy app, and the panel says
when a census was skipped.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from st_memwatch.core import analysis, probes
from st_memwatch.core.limits import ENV_VAR, resolve_limit
from st_memwatch.core.models import (
    CacheUsage,
    CensusResult,
    Limit,
    MeasuredBy,
    RunKind,
    RunOutcome,
    RunRecord,
    SessionUsage,
    Snapshot,
    Suspect,
    SuspectKind,
    Trend,
    TypeGrowth,
)
from st_memwatch.core.recorder import RunRecorder
from st_memwatch.core.sampler import SampleHistory, Sampler

CacheReader = Callable[[float], tuple[list[CacheUsage], list[str]]]
SessionReader = Callable[[str, float], SessionUsage | None]
LIMIT_TTL_S = 30.0


@dataclass(slots=True)
class Throttle:
    """Lets a task run only while its cost stays under ``duty`` of elapsed time."""

    duty: float = 0.05
    min_interval_s: float = 1.0
    last_at: float = float("-inf")
    last_cost_s: float = 0.0

    def due(self, now: float) -> bool:
        wait = max(self.min_interval_s, self.last_cost_s / self.duty if self.duty > 0 else 0.0)
        return now - self.last_at >= wait

    def done(self, now: float, cost_s: float) -> None:
        self.last_at = now
        self.last_cost_s = cost_s


@dataclass(slots=True)
class Settings:
    """Tunables; defaults fit a live app, ``check`` turns throttling off."""

    sample_interval_s: float = 0.1
    max_runs: int = 10_000
    census_budget_s: float = 0.05
    census_every_run: bool = False  # also reads cache/session sizes after every run
    sizes_budget_s: float = 0.02
    series_window: int = 30
    throttle_duty: float = 0.05
    throttle_min_interval_s: float = 1.0


@dataclass(slots=True)
class _Series:
    """Bounded per-name series of (run number, count, bytes) for suspects."""

    window: int
    data: dict[tuple[SuspectKind, str], deque[analysis.Point]] = field(default_factory=dict)

    def add(self, kind: SuspectKind, name: str, x: float, count: int, size: int) -> None:
        q = self.data.get((kind, name))
        if q is None:
            q = self.data[(kind, name)] = deque(maxlen=self.window)
        q.append((x, count, size))

    def prune(self, kind: SuspectKind, keep: set[str]) -> None:
        for key in [k for k in self.data if k[0] == kind and k[1] not in keep]:
            del self.data[key]


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
        if mark is None and start_sampler:
            mark = probes.HighWaterMark()
        self.peak_note = "" if mark is None or mark.available else mark.reason
        self.history = SampleHistory()
        self.recorder = RunRecorder(clock, rss, mark, probes.heap_blocks)
        self.runs: deque[RunRecord] = deque(maxlen=self.settings.max_runs)
        self.runs_total = 0
        self.mode: MeasuredBy = "hooks"
        self.notes: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.RLock()
        self._series = _Series(self.settings.series_window)
        self._census_throttle = Throttle(self.settings.throttle_duty, self.settings.throttle_min_interval_s)
        self._sizes_throttle = Throttle(self.settings.throttle_duty, self.settings.throttle_min_interval_s)
        self.last_census: CensusResult | None = None
        # Live bytes the census saw, per run: the Python-heap figure beside RSS, so
        # allocator retention (RSS up, live bytes flat) is not called a leak.
        self.heap_totals: deque[tuple[float, int]] = deque(maxlen=self.settings.series_window * 4)
        self.growth: tuple[TypeGrowth, ...] = ()
        self.census_note = "no census yet"
        self.caches: tuple[CacheUsage, ...] = ()
        self.sessions: dict[str, SessionUsage] = {}
        self.seen_sessions: set[str] = set()
        self.cache_reader: CacheReader | None = None
        self.session_reader: SessionReader | None = None
        self.limit: Limit | None = None
        self._limit_cache: tuple[tuple[str, str | None], float, Limit] | None = None
        self.trend: Trend | None = None
        self.rss_leak: tuple[bool, float, float] = (False, 0.0, 0.0)
        self.suspects: tuple[Suspect, ...] = ()
        self.sampler = Sampler(self._sample, self.settings.sample_interval_s)
        if start_sampler:
            self.sampler.start()

    # -- feeding -------------------------------------------------------------------
    def _sample(self) -> None:
        value = self._rss()
        self.history.add(self._clock(), value)
        self.recorder.note_sample(value)

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
        self._after_run(record.session, x)
        try:
            self._analyse()
        except Exception as exc:
            self.note(f"analysis failed: {type(exc).__name__}: {exc}")
        return record

    def _recent_runs(self) -> list[RunRecord]:
        with self._lock:
            n = len(self.runs)
            return [self.runs[i] for i in range(max(0, n - 2 * self.settings.series_window), n)]

    def _analyse(self, series_changed: bool = True) -> None:
        """Recompute trend and suspects when figures change, so a snapshot only reads them."""
        limit = self.limit or self.resolve_limit()
        recent = self._recent_runs()
        trend = analysis.compute_trend(recent, limit.bytes, recent[-1].rss_after if recent else self._rss(), self.settings.series_window)
        rss_leak = analysis.rss_grows_steadily(recent)
        suspects = self.suspects
        if series_changed:
            with self._lock:
                series = {k: tuple(v) for k, v in self._series.data.items()}
                caches = {c.function: c for c in self.caches}
            suspects = analysis.find_suspects(series, caches)
        with self._lock:
            self.trend, self.rss_leak, self.suspects = trend, rss_leak, suspects

    def _after_run(self, session: str, x: float) -> None:
        """Census and sizes when due; each failure becomes a note, never an exception."""
        now = self._clock()
        if self.settings.census_every_run or self._census_throttle.due(now):
            try:
                self._run_census(x)
            except Exception as exc:
                self._census_throttle.done(now, 0.0)
                self.note(f"census failed: {type(exc).__name__}: {exc}")
        if self.settings.census_every_run or self._sizes_throttle.due(now):
            t0 = time.perf_counter()
            try:
                self._read_sizes(session, x)
            except Exception as exc:
                self.note(f"cache/session sizes failed: {type(exc).__name__}: {exc}")
            self._sizes_throttle.done(self._clock(), time.perf_counter() - t0)

    def _run_census(self, x: float) -> None:
        from st_memwatch.core import census  # deferred: the census module is only needed once runs happen

        budget = None if self.settings.census_every_run else self.settings.census_budget_s
        if budget is not None and self.last_census is not None:
            estimate = census.estimate_cost_s(self.last_census.tracked_objects)
            if estimate > budget * 4:
                self.census_note = (
                    f"census skipped: ~{self.last_census.tracked_objects:,} objects would take "
                    f"~{estimate * 1000:.0f} ms (budget {budget * 1000:.0f} ms); spaced out instead"
                )
                self._census_throttle.done(self._clock(), estimate)
                return
        t0 = time.perf_counter()
        result = census.take_census(budget)
        cost = time.perf_counter() - t0
        self._census_throttle.done(self._clock(), cost)
        with self._lock:
            previous = self.last_census
            self.last_census = result
            if previous is not None:
                self.growth = census.diff(previous, result, top=10)
            total = 0
            for stat in result.stats:
                total += stat.bytes
                self._series.add("type", stat.type_name, x, stat.count, stat.bytes)
            self.heap_totals.append((x, total))
            self._series.prune("type", {s.type_name for s in result.stats})
            state = "complete" if result.complete else "partial (time budget reached)"
            self.census_note = f"census of {result.tracked_objects:,} objects in {cost * 1000:.0f} ms, {state}"

    def _read_sizes(self, session: str, x: float, with_session: bool = True) -> None:
        budget = self.settings.sizes_budget_s
        if self.cache_reader is not None:
            try:
                caches, problems = self.cache_reader(budget)
            except Exception as exc:  # the bridge guards itself; this is the last line
                caches, problems = [], [f"cache sizes unavailable: {type(exc).__name__}: {exc}"]
            for problem in problems:
                self.note(problem)
            with self._lock:
                marked = []
                for cache in caches:
                    self._series.add("cache", cache.function, x, cache.entries, cache.bytes or 0)
                    points = self._series.data[("cache", cache.function)]
                    entries = [p[1] for p in points]
                    growing = len(entries) >= 3 and analysis.steady_share(entries[-6:]) >= 0.5 and entries[-1] > entries[0]
                    marked.append(replace(cache, growing=growing))
                self._series.prune("cache", {c.function for c in caches})
                self.caches = tuple(marked)
        if with_session and self.session_reader is not None:
            try:
                usage = self.session_reader(session, budget)
            except Exception as exc:
                usage = None
                self.note(f"session_state size unavailable: {type(exc).__name__}: {exc}")
            if usage is not None:
                with self._lock:
                    self.sessions[session] = usage
                    while len(self.sessions) > 200:
                        self.sessions.pop(next(iter(self.sessions)))
                    for key, size in usage.largest_keys:
                        self._series.add("session_state", key, x, 1, size)

    def refresh_sizes(self, session: str, with_session: bool = True) -> None:
        """Read cache (and this session's) sizes now: first render, or an explicit snapshot."""
        t0 = time.perf_counter()
        try:
            self._read_sizes(session, float(self.runs_total), with_session)
        except Exception as exc:
            self.note(f"cache/session sizes failed: {type(exc).__name__}: {exc}")
        self._sizes_throttle.done(self._clock(), time.perf_counter() - t0)
        try:
            self._analyse()
        except Exception as exc:
            self.note(f"analysis failed: {type(exc).__name__}: {exc}")

    # -- reading -------------------------------------------------------------------
    def resolve_limit(self, explicit: object = None) -> Limit:
        """Resolve (and remember) the limit; a bad explicit value raises ValueError.

        Reading the environment and cgroup files on every rerun would cost more than
        the rest of the panel, so a resolution is reused for ``LIMIT_TTL_S``.
        """
        key = (repr(explicit), os.environ.get(ENV_VAR))
        now = self._clock()
        cached = self._limit_cache
        if cached is not None and cached[0] == key and now - cached[1] < LIMIT_TTL_S:
            self.limit = cached[2]
            return cached[2]
        limit = resolve_limit(explicit)
        self._limit_cache = (key, now, limit)
        self.limit = limit
        return limit

    def snapshot(
        self,
        session: str | None = None,
        limit: Limit | None = None,
        timeline_points: int = 600,
        max_runs: int | None = None,
    ) -> Snapshot:
        """Freeze what is known now; ``max_runs`` / ``timeline_points=0`` keep it light."""
        limit = limit or self.limit or self.resolve_limit()
        rss_now = self._rss()
        with self._lock:
            n = len(self.runs)
            first = 0 if max_runs is None else max(0, n - max_runs)
            runs = tuple(self.runs[i] for i in range(first, n)) if first else tuple(self.runs)
            caches = self.caches
            growth = self.growth
            census_note = self.census_note
            session_usage = self.sessions.get(session) if session else None
            notes = tuple(self.notes)
            trend, rss_leak, suspects = self.trend, self.rss_leak, self.suspects
        if trend is not None and trend.bytes_per_run > 0:
            # Re-anchor the time-to-limit on the reading taken now.
            headroom = max(0, limit.bytes - rss_now)
            trend = replace(
                trend,
                runs_to_limit=headroom / trend.bytes_per_run,
                seconds_to_limit=(
                    headroom / trend.bytes_per_second
                    if trend.bytes_per_second > 0 and trend.span_s >= analysis.MIN_SPAN_FOR_TIME_S
                    else None
                ),
            )
        leak = rss_leak[0] or any(analysis.is_leaking(s) for s in suspects)
        warnings = analysis.build_warnings(rss_now, limit.bytes, trend, rss_leak, suspects, caches)
        extra = tuple(n for n in (self.peak_note, self.sampler.last_error) if n)
        return Snapshot(
            taken_at=self._clock(),
            rss=rss_now,
            limit=limit,
            container=probes.container_usage(),
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
            leak=leak,
            notes=notes + extra + limit.notes,
            census_note=census_note,
        )

    def close(self) -> None:
        self.sampler.stop()

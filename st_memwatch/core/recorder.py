"""Run bookkeeping: which runs are active, and each run's before/after/peak.

Peaks come from the kernel's high-water mark when it can be reset. Runs of other
sessions can overlap, and the mark is process-wide, so at every boundary the mark
is first folded into *every* active run and only then reset: each run's peak is
exact as a process-wide figure, and runs that shared the process are flagged
``overlapped``. Without the mark, the sampler's maximum over the run stands in,
together with the readings at the boundaries (``note_sample``).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from st_memwatch.core.models import MeasuredBy, PeakSource, RunKind, RunOutcome, RunRecord

_recorders = itertools.count(1)
SESSIONS_KEPT = 1000


class _Mark(Protocol):
    """What the recorder needs of a high-water mark (see ``probes.HighWaterMark``)."""

    available: bool

    def read(self) -> int: ...

    def reset(self) -> None: ...


@dataclass(slots=True)
class _ActiveRun:
    run_id: int
    session: str
    kind: RunKind
    started_at: float
    rss_before: int
    peak: int
    measured_by: MeasuredBy
    overlapped: bool = False
    session_run: int = 0


class RunRecorder:
    """Thread-safe begin/end of runs; ``end`` returns the finished RunRecord."""

    def __init__(
        self,
        clock: Callable[[], float],
        rss: Callable[[], int],
        mark: _Mark | None,
        heap_blocks: Callable[[], int] = lambda: 0,
    ) -> None:
        self._clock = clock
        self._rss = rss
        self._mark = mark if mark is not None and mark.available else None
        self._heap_blocks = heap_blocks
        self._active: dict[object, _ActiveRun] = {}
        self._lock = threading.Lock()
        self._next_id = 1
        self._finished: dict[str, int] = {}  # finished runs per outcome, since this recorder began
        # Runs begun per session (bounded): a session's first runs are its warm-up.
        self._session_runs: dict[str, int] = {}
        self.epoch = next(_recorders)  # run ids restart with each recorder; this tells them apart

    @property
    def peak_source(self) -> PeakSource:
        return "hwm" if self._mark is not None else "sampler"

    def active_count(self) -> int:
        return len(self._active)

    def _fold_mark(self) -> None:
        """Credit the mark to every active run, then restart it from the current RSS."""
        if self._mark is None:
            return
        try:
            if not self._active:  # nobody to credit: restarting the mark is enough
                self._mark.reset()
                return
            hwm = self._mark.read()
            self._mark.reset()
        except OSError:
            self._mark = None  # the kernel stopped allowing it: fall back for good
            return
        for run in self._active.values():
            if hwm > run.peak:
                run.peak = hwm

    def begin(self, key: object, session: str, kind: RunKind, measured_by: MeasuredBy = "hooks") -> int:
        now = self._clock()
        rss = self._rss()
        with self._lock:
            self._fold_mark()
            run_id = self._next_id
            self._next_id += 1
            overlapped = bool(self._active)
            for other in self._active.values():
                other.overlapped = True
            nth = self._session_runs.pop(session, 0) + 1
            self._session_runs[session] = nth  # newest last: the oldest sessions are dropped first
            if len(self._session_runs) > SESSIONS_KEPT:
                del self._session_runs[next(iter(self._session_runs))]
            self._active[key] = _ActiveRun(run_id, session, kind, now, rss, rss, measured_by, overlapped, nth)
        return run_id

    def active_run_id(self, session: str) -> tuple[int, int] | None:
        """The newest active run of ``session`` as (recorder, run) numbers, unique in the process."""
        with self._lock:
            ids = [run.run_id for run in self._active.values() if run.session == session]
        return (self.epoch, max(ids)) if ids else None

    def oldest_active(self) -> tuple[int, float, int] | None:
        """(active runs, start time and RSS before of the oldest one), or None when no run is active.

        For live readers (metrics, the gauge): "run in progress, 12 s, +310 MiB so far".
        """
        with self._lock:
            if not self._active:
                return None
            oldest = min(self._active.values(), key=lambda run: run.started_at)
            return len(self._active), oldest.started_at, oldest.rss_before

    def finished_by_outcome(self) -> dict[str, int]:
        """How many runs ended with each outcome (a counter: it never goes down)."""
        with self._lock:
            return dict(self._finished)

    def is_active(self, key: object) -> bool:
        return key in self._active

    def end(self, key: object, outcome: RunOutcome) -> RunRecord | None:
        now = self._clock()
        rss = self._rss()
        with self._lock:
            self._fold_mark()
            run = self._active.pop(key, None)
            if run is not None:
                self._finished[outcome] = self._finished.get(outcome, 0) + 1
        if run is None:
            return None
        peak = max(run.peak, rss)
        source: PeakSource = "hwm" if self._mark is not None else "sampler"
        return RunRecord(
            run_id=run.run_id,
            session=run.session,
            kind=run.kind,
            outcome=outcome,
            started_at=run.started_at,
            duration_s=max(0.0, now - run.started_at),
            rss_before=run.rss_before,
            rss_after=rss,
            peak=peak,
            peak_source=source,
            overlapped=run.overlapped,
            measured_by=run.measured_by,
            heap_blocks_after=self._heap_blocks(),
            session_run=run.session_run,
        )

    def note_sample(self, rss: int) -> None:
        """Credit a sampler reading to the active runs (the fallback when no mark exists)."""
        if self._mark is not None:
            return
        with self._lock:
            for run in self._active.values():
                if rss > run.peak:
                    run.peak = rss

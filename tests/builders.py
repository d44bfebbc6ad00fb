"""Builders for the data and fakes tests share: records, snapshots, clocks, high-water marks.

Every builder takes keyword arguments with plain defaults, so a test names only what it
is about, and a field added to a model is one edit here instead of one per test.

Importable as ``builders`` from every test folder: ``tests/conftest.py`` keeps ``tests/`` on
``sys.path`` (the folders are not packages).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from st_memwatch.core.models import (
    CacheUsage,
    ContainerUsage,
    Finding,
    Holder,
    Limit,
    MeasuredBy,
    PeakSource,
    RunKind,
    RunOutcome,
    RunRecord,
    Sample,
    SessionsUsage,
    SessionUsage,
    Snapshot,
    Suspect,
    Trend,
    TypeGrowth,
    Verdict,
)

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


def run_record(
    run_id: int = 1,
    *,
    session: str = "s1",
    kind: RunKind = "full",
    outcome: RunOutcome = "success",
    started_at: float = 0.0,
    duration_s: float = 0.1,
    rss_before: int = 100 * MiB,
    rss_after: int | None = None,
    peak: int | None = None,
    peak_source: PeakSource = "hwm",
    overlapped: bool = False,
    measured_by: MeasuredBy = "hooks",
    heap_blocks_after: int = 0,
    session_run: int = 0,
) -> RunRecord:
    """One finished run; ``rss_after`` defaults to ``rss_before``, ``peak`` to the higher of the two."""
    after = rss_before if rss_after is None else rss_after
    return RunRecord(
        run_id=run_id,
        session=session,
        kind=kind,
        outcome=outcome,
        started_at=started_at,
        duration_s=duration_s,
        rss_before=rss_before,
        rss_after=after,
        peak=max(rss_before, after) if peak is None else peak,
        peak_source=peak_source,
        overlapped=overlapped,
        measured_by=measured_by,
        heap_blocks_after=heap_blocks_after,
        session_run=session_run,
    )


def settled_runs(settled: Sequence[int], *, dt: float = 1.0, sessions: Sequence[str] | None = None) -> list[RunRecord]:
    """Finished runs, one every ``dt`` seconds, whose settled RSS (at each run's end) is ``settled``.

    Each run starts where the one before settled; ``sessions`` names each run's session
    (default "s1"), and ``session_run`` counts the runs of each session from 1.
    """
    out: list[RunRecord] = []
    per_session: dict[str, int] = {}
    for i, v in enumerate(settled):
        s = sessions[i] if sessions else "s1"
        per_session[s] = per_session.get(s, 0) + 1
        before = settled[i - 1] if i else v
        out.append(
            run_record(
                i + 1, session=s, started_at=i * dt, rss_before=before, rss_after=v, peak=v, session_run=per_session[s]
            )
        )
    return out


def snapshot(**fields: Any) -> Snapshot:
    """A Snapshot of an idle app at 100 MiB of a 1 GiB limit; any field can be given."""
    base: dict[str, Any] = {
        "taken_at": 0.0,
        "rss": 100 * MiB,
        "limit": Limit(GiB, "argument"),
        "container": None,
        "mode": "hooks",
        "peak_method": "hwm",
        "runs": (),
        "samples": (),
        "caches": (),
        "session": None,
        "growth": (),
        "trend": None,
        "warnings": (),
    }
    base.update(fields)
    return Snapshot(**base)


def leaking_snapshot(runs: int = 12, *, step: int = 8 * MiB, start: float = 1000.0) -> Snapshot:
    """A snapshot in which every field is filled: an app that keeps 8 MiB a run in session_state.

    Each nested dataclass and NamedTuple appears at least once, with values that differ
    from their defaults, so a serialiser that drops or mangles one is caught.
    """
    settled = [300 * MiB + i * step for i in range(runs)]
    records = tuple(
        r._replace(started_at=start + r.started_at, duration_s=0.25, peak=r.rss_after + 32 * MiB, heap_blocks_after=1000 + i)
        for i, r in enumerate(settled_runs(settled, dt=2.0))
    )
    last = settled[-1]
    holder = Holder(
        kind="session_state",
        name="blobs",
        bytes_per_run=float(step),
        share=0.97,
        evidence="st.session_state['blobs'] grew 8.0 MiB/run in 9 of 10 runs",
        advice="st.session_state['blobs'] keeps every upload. Keep a bounded window: collections.deque(maxlen=N).",
        action="Keep a bounded window: collections.deque(maxlen=N).",
        session="s1",
        chain=("st.session_state['blobs'] (list)", "numpy.ndarray x12"),
    )
    verdict = Verdict(
        leak=True,
        reason="settled RSS grew 8.0 MiB/run over 10 runs",
        bytes_per_run=float(step),
        bytes_per_second=step / 2.0,
        since_run=2,
        runs_in_regime=runs - 1,
        runs_to_limit=(2 * GiB - last) / step,
        seconds_to_limit=(2 * GiB - last) / step * 2.0,
        holders=(holder,),
        cause="st.session_state['blobs'] in session s1",
        fix=holder.advice,
        action=holder.action,
        warming_up=False,
        settled=last,
        forecast="cache load_frame fills to ~40.0 MiB at max_entries=20, then stops",
        per_visitor_bytes=float(12 * MiB),
        visitors_fit=60,
        visitors_open=3,
        python_bytes_per_run=float(step),
    )
    finding = Finding(
        level="error",
        code="steady-growth",
        message="Limit in ~200 runs: memory grows +8.0 MiB per run.",
        cause="st.session_state['blobs'] in session s1",
        fix=holder.advice,
        action=holder.action,
        stage=1,
    )
    return snapshot(
        taken_at=start + 2.0 * runs,
        rss=last + 4 * MiB,
        limit=Limit(2 * GiB, "cgroup-v2", "/sys/fs/cgroup/memory.max", ("a note on the limit",)),
        container=ContainerUsage(last + 40 * MiB, "v2", 2 * GiB),
        mode="hooks",
        peak_method="hwm",
        runs=records,
        samples=tuple(Sample(start + 0.5 * k, 300 * MiB + k * MiB) for k in range(8)),
        caches=(
            CacheUsage("load_frame", "data", 5, 12 * MiB, "pickled", True, None, 5, False),
            CacheUsage("model", "resource", 1, 300 * MiB, "deep-size", False, 3600.0, None, True),
        ),
        session=SessionUsage("s1", 3, runs * step, 2, (("blobs", runs * step), ("note", 120)), (("recent", 5),)),
        growth=(TypeGrowth("numpy.ndarray", 12, 1, runs * step, step),),
        trend=Trend(10, float(step), step / 2.0, (2 * GiB - last) / step, (2 * GiB - last) / step * 2.0, 20.0),
        warnings=(finding,),
        suspects=(
            Suspect("session_state", "blobs", float(step), 1.0, 0.9, runs * step, 1, holder.advice, holder.action),
        ),
        leak=True,
        notes=("census spaced out: listing ~80 ms, limit 50 ms",),
        census_note="census 1.2 s ago",
        python_heap=runs * step + 40 * MiB,
        unix_offset_s=1_765_000_000.0,
        verdict=verdict,
        sessions=SessionsUsage(2, runs * step + 2 * MiB, runs * step),
        previous={
            "pid": 4242,
            "started_unix": 1_764_990_000.0,
            "ended_unix": 1_764_999_000.0,
            "ended": "abruptly",
            "rss": 2 * GiB - 10 * MiB,
            "limit": 2 * GiB,
            "runs_total": 240,
            "runs": [],
            "samples": [[1_764_998_999.0, 2 * GiB - 10 * MiB]],
            "episodes": [],
        },
        ledger={
            "owners": {"python": 120 * MiB, "native": 90 * MiB, "allocator_free": 12 * MiB, "arrow": 0,
                       "file_backed": 60 * MiB, "unexplained": 8 * MiB},
            "missing": ["arrow"],
        },
    )


class FakeClock:
    """A monotonic clock that moves only when a test moves it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class FakeMark:
    """The kernel's high-water mark, scripted: ``read`` gives ``peak``; ``reset`` sets it to ``rss()``.

    Without ``rss`` a reset leaves ``peak`` as it is (a mark that reads a fixed figure).
    """

    available = True
    reason = ""

    def __init__(self, peak: int = 100, rss: Callable[[], int] | None = None) -> None:
        self.peak = peak
        self.resets = 0
        self._rss = rss

    def read(self) -> int:
        return self.peak

    def reset(self) -> None:
        self.resets += 1
        if self._rss is not None:
            self.peak = self._rss()


class NoMark:
    """A platform without the mark (no ``clear_refs``): the sampler must find run peaks."""

    available = False

    def __init__(self, reason: str = "no clear_refs here") -> None:
        self.reason = reason

    def read(self) -> int:
        raise OSError("unavailable")

    def reset(self) -> None:
        raise OSError("unavailable")


def tick(monitor: Any, clock: FakeClock | None = None, seconds: float = 0.0) -> None:
    """One tick of the monitor's sampler, on the caller's thread, after moving ``clock`` on by ``seconds``.

    The sampler thread runs exactly this: a test that ticks by hand needs no sleep.
    """
    if clock is not None:
        clock.advance(seconds)
    monitor._sample()

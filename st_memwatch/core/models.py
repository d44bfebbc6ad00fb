"""Plain, frozen data that flows from the probes to every renderer.

Nothing here holds a reference to a user object: only numbers, names and short
strings, so a Snapshot can be kept, exported or compared without pinning memory.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, NamedTuple

RunKind = Literal["full", "fragment"]
RunOutcome = Literal["success", "exception", "rerun", "stopped", "running"]
PeakSource = Literal["hwm", "sampler", "none"]
MeasuredBy = Literal["hooks", "panel-calls"]
CacheKind = Literal["data", "resource"]
Level = Literal["info", "warning", "error"]


class Sample(NamedTuple):
    """One reading of process memory at time ``t`` (seconds, monotonic clock).

    A NamedTuple, like RunRecord: snapshots build hundreds of them per render, and
    a tuple is built ~4x faster than a frozen dataclass.
    """

    t: float
    rss: int


class RunRecord(NamedTuple):
    """What one script run (a rerun, or a fragment rerun) did to memory.

    ``peak`` is the highest RSS seen while the run was active; when other runs
    overlapped it (``overlapped``), the figure is process-wide, not this run's alone.
    ``heap_blocks_after`` is the number of blocks Python's allocator has handed out
    (read by the sampler, at most 0.1 s before the run ended), so growth of RSS that
    Python has already freed (allocator retention) can be told apart from objects
    that are still alive.
    """

    run_id: int
    session: str
    kind: RunKind
    outcome: RunOutcome
    started_at: float
    duration_s: float
    rss_before: int
    rss_after: int
    peak: int
    peak_source: PeakSource
    overlapped: bool
    measured_by: MeasuredBy
    heap_blocks_after: int = 0
    session_run: int = 0  # this run's number within its session (1 = its first run); 0 = unknown

    @property
    def delta(self) -> int:
        return self.rss_after - self.rss_before

    def to_dict(self) -> dict[str, Any]:
        out = self._asdict()
        out["delta"] = self.rss_after - self.rss_before
        return out


@dataclass(frozen=True, slots=True)
class Limit:
    """The memory ceiling that will end the app, and where that figure came from."""

    bytes: int
    source: Literal["argument", "environment", "cgroup-v2", "cgroup-v1", "community-cloud", "total-ram"]
    detail: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContainerUsage:
    """The cgroup's own usage figure: what the OOM killer counts (page cache included)."""

    bytes: int
    version: Literal["v1", "v2"]
    limit: int | None = None  # the cgroup's own memory limit; None when it has none


@dataclass(frozen=True, slots=True)
class TypeStat:
    """Per-type figures from one census: live object count and shallow bytes."""

    type_name: str
    count: int
    bytes: int


@dataclass(frozen=True, slots=True)
class TypeGrowth:
    """How one type changed between two censuses."""

    type_name: str
    count: int
    count_delta: int
    bytes: int
    bytes_delta: int


@dataclass(frozen=True, slots=True)
class CensusResult:
    """One census of the heap; ``complete`` is False when the time budget cut it short."""

    taken_at: float
    duration_s: float
    tracked_objects: int
    stats: tuple[TypeStat, ...]
    complete: bool = True
    cpu_s: float = 0.0  # the census thread's CPU time: its cost, apart from waits for the GIL

    def by_type(self) -> dict[str, TypeStat]:
        return {s.type_name: s for s in self.stats}


@dataclass(frozen=True, slots=True)
class CacheUsage:
    """One ``st.cache_data`` / ``st.cache_resource`` function's cache.

    ``bytes`` is None when it could not be measured; ``bytes_exact`` is False when
    the figure is a bounded-time estimate (deep size cut off by its budget).
    """

    function: str
    kind: CacheKind
    entries: int
    bytes: int | None
    bytes_method: Literal["pickled", "deep-size", "unknown"]
    bytes_exact: bool = True
    ttl_s: float | None = None
    max_entries: int | None = None
    growing: bool = False

    @property
    def bounded(self) -> bool:
        return self.ttl_s is not None or self.max_entries is not None


@dataclass(frozen=True, slots=True)
class SessionUsage:
    """This session's ``st.session_state`` size, and how many sessions are live."""

    session: str
    keys: int
    bytes: int | None
    active_sessions: int | None
    largest_keys: tuple[tuple[str, int], ...] = ()
    # Keys whose value bounds itself (a deque with a maxlen), with that bound: they fill and stop.
    bounded_keys: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Trend:
    """A robust (Theil-Sen) fit over recent runs' settled memory."""

    n_runs: int
    bytes_per_run: float
    bytes_per_second: float
    runs_to_limit: float | None
    seconds_to_limit: float | None
    span_s: float = 0.0


# A key of ``owners.KINDS``: the one vocabulary of what holds memory, declared there.
SuspectKind = str


@dataclass(frozen=True, slots=True)
class Suspect:
    """Something whose count or bytes grow steadily with runs, with the fix to try.

    ``steady`` is the share of recent steps (after warm-up) in which it grew; a
    verdict of leak needs it high, so one big transient or a cache that fills to
    its bound and stops is never called a leak.
    """

    kind: SuspectKind
    name: str
    growth_bytes_per_run: float
    growth_count_per_run: float
    steady: float
    bytes_now: int
    count_now: int
    advice: str  # what was seen, then what to do
    action: str = ""  # the what-to-do part alone, for a one-line fix


@dataclass(frozen=True, slots=True)
class Finding:
    """What the panel's box shows the author: what is wrong, the measured cause, the fix to try.

    Serialised under the key ``warnings`` (``level``, ``code``, ``message``, ``cause``, ``fix``, ``action``).
    """

    level: Level
    code: str
    message: str
    cause: str = ""  # in a few words: "type numpy.ndarray, +7.6 MiB/run"
    fix: str = ""  # the whole advice
    action: str = ""  # the what-to-do part of ``fix`` alone, when it has one
    # How close the limit is: 0 growing, 1 within ~25 runs, 2 within ~5, 3 over. An episode
    # keeps its code as it escalates; a higher stage is news worth a toast.
    stage: int = 0


HolderKind = str  # a key of ``owners.KINDS``


@dataclass(frozen=True, slots=True)
class Holder:
    """What keeps a leak's memory alive, with the evidence and the fix for that holder.

    ``session`` is the short per-process alias of the session whose state holds it
    ("" for process-wide holders); ``chain`` the references from the holder to the
    growing objects, as names and type names only. ``followed``: the place was found
    by following references from a growing type's objects (a sample of them), not
    by a series of its own.
    """

    kind: HolderKind
    name: str
    bytes_per_run: float
    share: float  # of the verdict's rate it accounts for
    evidence: str
    advice: str
    action: str
    session: str = ""
    chain: tuple[str, ...] = ()
    followed: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    """The one judgement every surface shows: leak or not, since when, how fast, held by what."""

    leak: bool
    reason: str
    bytes_per_run: float
    bytes_per_second: float
    since_run: int | None
    runs_in_regime: int
    runs_to_limit: float | None
    seconds_to_limit: float | None
    holders: tuple[Holder, ...]
    cause: str
    fix: str
    action: str
    warming_up: bool = False
    settled: int = 0  # settled RSS (at the last run's end) the forecast starts from
    # An owner that grows toward a bound it will stop at (a cache's max_entries or ttl): a
    # forecast shown in the details, not an alarm, unless it reaches the limit.
    forecast: str = ""
    # What one more visitor costs (the settled step of a session's first run), how many
    # the limit fits at that cost, and how many are open: a per-visitor cost, not a leak.
    per_visitor_bytes: float = 0.0
    visitors_fit: int | None = None
    visitors_open: int | None = None
    # Live Python bytes per run over the regime, as the verdict read them (None: not judged).
    python_bytes_per_run: float | None = None


@dataclass(frozen=True, slots=True)
class SessionsUsage:
    """Every session's session_state as one aggregate: no other session is named."""

    count: int
    total_bytes: int
    largest_bytes: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the panel shows, frozen at one moment."""

    taken_at: float
    rss: int
    limit: Limit
    container: ContainerUsage | None
    mode: MeasuredBy
    peak_method: PeakSource
    runs: tuple[RunRecord, ...]
    samples: tuple[Sample, ...]
    caches: tuple[CacheUsage, ...]
    session: SessionUsage | None
    growth: tuple[TypeGrowth, ...]
    trend: Trend | None
    warnings: tuple[Finding, ...]
    suspects: tuple[Suspect, ...] = ()
    leak: bool = False
    notes: tuple[str, ...] = field(default=())
    census_note: str = ""
    # Live bytes the last census found: the Python-heap figure beside RSS, so that
    # RSS kept by the allocator after a free is told apart from objects still alive.
    python_heap: int | None = None
    # Times here (taken_at, runs' started_at, samples' t) are monotonic seconds; add this
    # to one to get Unix time, to line it up with logs.
    unix_offset_s: float = 0.0
    verdict: Verdict | None = None
    sessions: SessionsUsage | None = None  # all sessions together, this one included
    # The previous process of this app, read from the history file at start: its runs,
    # samples and how it ended ("cleanly" / "abruptly"); None without history.
    previous: dict[str, Any] | None = None
    # Where the process's memory is, by owner (``core.ledger.ledger_view``): {"owners": {name: bytes},
    # "missing": [names this platform cannot measure], "series": {name: [[run, bytes], ...]},
    # "per_run": {name: bytes per run}} (series and trends only in a snapshot with a timeline);
    # None before the first reading.
    ledger: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable data (numbers, names and short strings); ``core.snapshot_io`` reads it back."""
        return _plain({
            "taken_at": self.taken_at,
            "rss": self.rss,
            "limit": asdict(self.limit),
            "container": asdict(self.container) if self.container else None,
            "mode": self.mode,
            "peak_method": self.peak_method,
            "runs": [r.to_dict() for r in self.runs],
            "samples": [[s.t, s.rss] for s in self.samples],
            "caches": [asdict(c) | {"bounded": c.bounded} for c in self.caches],
            "session": asdict(self.session) if self.session else None,
            "growth": [asdict(g) for g in self.growth],
            "trend": asdict(self.trend) if self.trend else None,
            "warnings": [asdict(w) for w in self.warnings],
            "suspects": [asdict(x) for x in self.suspects],
            "leak": self.leak,
            "notes": list(self.notes),
            "census_note": self.census_note,
            "python_heap": self.python_heap,
            "unix_offset_s": self.unix_offset_s,
            "verdict": asdict(self.verdict) if self.verdict else None,
            "sessions": asdict(self.sessions) if self.sessions else None,
            "previous": self.previous,
            "ledger": self.ledger,
        })


def _plain(value: Any) -> Any:
    """Tuples become lists, so ``to_dict()`` equals its own JSON round trip."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value

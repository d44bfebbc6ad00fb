"""The whole record as JSON, the runs as CSV: renderers of a Snapshot, nothing more.

Both are built only when someone asks for them (see ``Exporter``): at 1,000 runs
they cost tens of ms, at 10,000 runs ten times that, far too much for every rerun.
``json.dumps`` runs without ``indent`` so that the C encoder does the work, and the
CSV is written from tuples.

Exports are a way to exhaust the server (each one is megabytes and CPU), so a
session's export is built at most once per ``MIN_INTERVAL_S`` (a repeated request
gets the same text), one build at a time in the process, from at most the runs
and samples the monitor keeps. They are only offered behind the gate. Times are
monotonic seconds, as everywhere in st_memwatch, with ISO 8601 UTC beside them
(``taken_at_utc``, each run's ``started_at_utc``) to line them up with logs.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from st_memwatch.core.models import Limit, RunRecord, Snapshot

if TYPE_CHECKING:
    from st_memwatch.core.monitor import Monitor

RUN_COLUMNS = (
    "run_id",
    "session",
    "kind",
    "outcome",
    "started_at",
    "started_at_utc",
    "duration_s",
    "rss_before",
    "rss_after",
    "delta",
    "peak",
    "peak_source",
    "overlapped",
    "measured_by",
    "heap_blocks_after",
)
_RECORD_COLUMNS = tuple(c for c in RUN_COLUMNS if c != "started_at_utc")
_run_row = attrgetter(*_RECORD_COLUMNS)
_UTC_AT = RUN_COLUMNS.index("started_at_utc")
# Every sample the monitor keeps (its two rings hold at most ~23,000), not the 600-point timeline.
EXPORT_SAMPLES = 25_000
EXPORT_RUNS = 10_000  # the monitor's default run history; a bigger one is exported by its newest runs
MIN_INTERVAL_S = 5.0
_MAX_PREPARED = 8  # sessions whose built export is kept


def iso_utc(t: float, unix_offset_s: float) -> str:
    """A monotonic time as ISO 8601 UTC, to the millisecond ("2026-12-01T22:45:17.123Z")."""
    moment = datetime.fromtimestamp(t + unix_offset_s, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_json(snapshot: Snapshot) -> str:
    data: dict[str, Any] = snapshot.to_dict()
    offset = snapshot.unix_offset_s
    data["taken_at_utc"] = iso_utc(snapshot.taken_at, offset)
    for run in data["runs"]:
        run["started_at_utc"] = iso_utc(run["started_at"], offset)
    return json.dumps(data, separators=(",", ":"))


def _csv_row(record: RunRecord, offset: float) -> list[Any]:
    row = list(_run_row(record))
    row.insert(_UTC_AT, iso_utc(record.started_at, offset))
    return row


def runs_to_csv(snapshot: Snapshot) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(RUN_COLUMNS)
    offset = snapshot.unix_offset_s
    writer.writerows(_csv_row(r, offset) for r in snapshot.runs)
    return buf.getvalue()


@dataclass(frozen=True)
class Prepared:
    json: str
    csv: str
    label: str
    built_at: float = 0.0


# Built exports by (monitor, session): the rate limit's memory. ``_offered`` are the
# sessions whose "Prepare export" copy is on offer (until their details close).
_prepared: OrderedDict[tuple[int, str], Prepared] = OrderedDict()
_offered: set[tuple[int, str]] = set()
_prepared_lock = threading.Lock()
_build_lock = threading.Lock()  # one export built at a time in the whole process


class Exporter:
    """The downloads of one session's panel: the full record, taken when asked for.

    ``json`` and ``csv`` share one build (the same snapshot), reused for
    ``MIN_INTERVAL_S``; they may run on a thread other than the script's.
    ``prepare`` builds it for Streamlit versions that need the data up front.
    """

    def __init__(self, monitor: Monitor, session: str, limit: Limit, clock: Any = time.monotonic) -> None:
        self.monitor, self.session, self.limit = monitor, session, limit
        self._clock = clock
        self._key = (monitor.epoch, session)

    def record(self) -> Snapshot:
        return self.monitor.snapshot(self.session, self.limit, timeline_points=EXPORT_SAMPLES, max_runs=EXPORT_RUNS)

    def built(self) -> Prepared:
        """This session's export, built now unless one younger than ``MIN_INTERVAL_S`` exists."""
        with _build_lock:
            with _prepared_lock:
                ready = _prepared.get(self._key)
            now = self._clock()
            if ready is not None and now - ready.built_at < MIN_INTERVAL_S:
                return ready
            snap = self.record()
            label = f"{time.strftime('%H:%M:%S')}, {len(snap.runs):,} runs"
            ready = Prepared(to_json(snap), runs_to_csv(snap), label, now)
            with _prepared_lock:
                _prepared.pop(self._key, None)
                _prepared[self._key] = ready
                while len(_prepared) > _MAX_PREPARED:
                    gone, _ = _prepared.popitem(last=False)
                    _offered.discard(gone)
            return ready

    def json(self) -> str:
        return self.built().json

    def csv(self) -> str:
        return self.built().csv

    def prepare(self) -> None:
        self.built()
        with _prepared_lock:
            _offered.add(self._key)

    def prepared(self) -> Prepared | None:
        """The copy "Prepare export" made for this session, while its details stay open."""
        with _prepared_lock:
            return _prepared.get(self._key) if self._key in _offered else None

    def discard(self) -> None:
        """Details closed: stop offering the copy; a build younger than the interval is kept (the rate limit)."""
        with _prepared_lock:
            _offered.discard(self._key)
            ready = _prepared.get(self._key)
            if ready is not None and self._clock() - ready.built_at >= MIN_INTERVAL_S:
                del _prepared[self._key]

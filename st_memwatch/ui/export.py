"""The whole record as JSON, the runs as CSV: renderers of a Snapshot, nothing more.

Both are built only when someone asks for them (see ``Exporter``): at 1,000 runs
they cost tens of ms, at 10,000 runs ten times that, far too much for every rerun.
``json.dumps`` runs without ``indent`` so that the C encoder does the work, and the
CSV is written from tuples.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING

from st_memwatch.core.models import Limit, Snapshot

if TYPE_CHECKING:
    from st_memwatch.core.monitor import Monitor

RUN_COLUMNS = (
    "run_id",
    "session",
    "kind",
    "outcome",
    "started_at",
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
_run_row = attrgetter(*RUN_COLUMNS)
# Every sample the monitor keeps (its rings hold about 23,000 after a day), not the 600-point timeline.
EXPORT_SAMPLES = 1_000_000
_MAX_PREPARED = 8  # sessions whose prepared export is kept (only where downloads cannot be deferred)


def to_json(snapshot: Snapshot) -> str:
    return json.dumps(snapshot.to_dict(), separators=(",", ":"))


def runs_to_csv(snapshot: Snapshot) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(RUN_COLUMNS)
    writer.writerows(map(_run_row, snapshot.runs))
    return buf.getvalue()


@dataclass(frozen=True)
class Prepared:
    json: str
    csv: str
    label: str


_prepared: OrderedDict[str, Prepared] = OrderedDict()
_prepared_lock = threading.Lock()


class Exporter:
    """The downloads of one session's panel: the full record, taken when asked for.

    ``json`` and ``csv`` take a fresh snapshot with every run and every kept
    sample; they may run on a thread other than the script's. ``prepare`` keeps
    one copy per session for Streamlit versions that need the data up front.
    """

    def __init__(self, monitor: Monitor, session: str, limit: Limit) -> None:
        self.monitor, self.session, self.limit = monitor, session, limit

    def record(self) -> Snapshot:
        return self.monitor.snapshot(self.session, self.limit, timeline_points=EXPORT_SAMPLES, max_runs=None)

    def json(self) -> str:
        return to_json(self.record())

    def csv(self) -> str:
        return runs_to_csv(self.record())

    def prepare(self) -> None:
        snap = self.record()
        label = f"{time.strftime('%H:%M:%S')}, {len(snap.runs):,} runs"
        ready = Prepared(to_json(snap), runs_to_csv(snap), label)
        with _prepared_lock:
            _prepared.pop(self.session, None)
            _prepared[self.session] = ready
            while len(_prepared) > _MAX_PREPARED:
                _prepared.popitem(last=False)

    def prepared(self) -> Prepared | None:
        with _prepared_lock:
            return _prepared.get(self.session)

    def discard(self) -> None:
        with _prepared_lock:
            _prepared.pop(self.session, None)

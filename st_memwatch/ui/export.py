"""The whole record as JSON, the runs as CSV: renderers of a Snapshot, nothing more."""

from __future__ import annotations

import csv
import io
import json

from st_memwatch.core.models import Snapshot

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


def to_json(snapshot: Snapshot) -> str:
    return json.dumps(snapshot.to_dict(), indent=1)


def runs_to_csv(snapshot: Snapshot) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=RUN_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for run in snapshot.runs:
        writer.writerow(run.to_dict())
    return buf.getvalue()

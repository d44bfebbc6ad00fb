"""A Snapshot comes back from its plain data (and from a JSON export) equal, field for field."""

from __future__ import annotations

import dataclasses
import json

import pytest
from builders import leaking_snapshot, run_record, snapshot

from st_memwatch.core.models import Sample, Snapshot
from st_memwatch.core.snapshot_io import SnapshotFormatError, snapshot_from_dict
from st_memwatch.ui.export import to_json


def test_the_rich_snapshot_sets_every_field():
    # Guards the round trip below: a field left at its default would round-trip by luck.
    s = leaking_snapshot()
    for f in dataclasses.fields(Snapshot):
        value = getattr(s, f.name)
        assert value not in (None, (), "", 0, 0.0, False), f.name
        if f.default is not dataclasses.MISSING:
            assert value != f.default, f.name
    for nested in (s.limit, s.container, s.caches[0], s.caches[1], s.session, s.growth[0], s.trend, s.warnings[0],
                   s.suspects[0], s.verdict, s.verdict.holders[0], s.sessions):  # type: ignore[union-attr]
        unset = [f.name for f in dataclasses.fields(nested) if getattr(nested, f.name) in (None, (), "")]
        assert unset in ([], ["ttl_s"], ["max_entries"]), (type(nested).__name__, unset)
    assert s.runs[0].session_run and s.runs[0].heap_blocks_after and isinstance(s.samples[0], Sample)


def test_a_snapshot_round_trips_through_its_dict_and_json():
    s = leaking_snapshot()
    back = snapshot_from_dict(s.to_dict())
    assert back == s
    assert repr(back) == repr(s), "same types too (floats stay floats, tuples stay tuples)"
    assert snapshot_from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert isinstance(back.runs[0], type(s.runs[0])) and isinstance(back.samples[0], Sample)
    assert back.verdict is not None and back.verdict.holders[0].chain == s.verdict.holders[0].chain  # type: ignore[union-attr]


def test_a_json_export_reads_back_as_the_snapshot_it_was_made_from():
    s = leaking_snapshot()
    data = json.loads(to_json(s))
    assert "taken_at_utc" in data and "started_at_utc" in data["runs"][0]  # what the export adds is skipped
    assert snapshot_from_dict(data) == s


def test_an_older_export_without_the_newer_fields_takes_their_defaults():
    s = snapshot(runs=(run_record(1, rss_after=120 << 20),))
    data = s.to_dict()
    for key in ("verdict", "sessions", "previous", "python_heap", "suspects"):
        del data[key]
    del data["runs"][0]["session_run"]
    back = snapshot_from_dict(data)
    assert back == s and back.runs[0].session_run == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("rss"), "snapshot: missing 'rss'"),
        (lambda d: d["runs"][0].update(rss_before="a lot"), "snapshot.runs[0].rss_before: expected a number"),
        (lambda d: d["limit"].update(bytes=1.5), "snapshot.limit.bytes: expected a whole number"),
        (lambda d: d.update(samples=[[1.0, 2, 3]]), "snapshot.samples[0]: expected at most 2 items"),
        (lambda d: d.update(runs={}), "snapshot.runs: expected a list"),
        (lambda d: d.update(limit=None), "snapshot.limit: null"),
        (lambda d: d["runs"][0].update(overlapped="no"), "snapshot.runs[0].overlapped: expected true or false"),
    ],
)
def test_data_that_is_not_a_snapshot_is_refused_naming_the_field(change, message):
    data = leaking_snapshot().to_dict()
    change(data)
    with pytest.raises(SnapshotFormatError) as err:
        snapshot_from_dict(data)
    assert str(err.value).startswith(message), str(err.value)


def test_a_list_is_not_a_snapshot():
    with pytest.raises(SnapshotFormatError, match="a snapshot is a JSON object, got list"):
        snapshot_from_dict([])  # type: ignore[arg-type]

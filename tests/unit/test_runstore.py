"""The columnar run history gives back exactly the records it was given, oldest first."""

from __future__ import annotations

import tracemalloc

import pytest
from builders import run_record

from st_memwatch.core.models import RunRecord
from st_memwatch.core.runstore import PairRing, RunStore


def _record(i: int, session: str = "s") -> RunRecord:
    return run_record(
        i, session=session, kind="fragment" if i % 2 else "full",
        outcome=("success", "exception", "rerun", "stopped")[i % 4], started_at=i * 1.5, duration_s=0.25,
        rss_before=100 * i, rss_after=100 * i + 7, peak=100 * i + 50, peak_source="hwm" if i % 3 else "sampler",
        overlapped=bool(i % 5 == 0), measured_by="panel-calls" if i == 3 else "hooks", heap_blocks_after=i * 11,
        session_run=i % 7,
    )


def test_records_round_trip_and_the_oldest_fall_out():
    store = RunStore(maxlen=5)
    records = [_record(i, f"session-{i % 2}") for i in range(1, 9)]
    store.extend(records)
    assert len(store) == 5
    assert list(store) == records[-5:]
    assert store.last(2) == tuple(records[-2:])
    assert store[0] == records[3] and store[-1] == records[-1]
    assert store.records(1, 3) == tuple(records[4:6])


def test_popleft_and_clear():
    store = RunStore(maxlen=3)
    store.extend(_record(i) for i in range(1, 4))
    assert store.popleft() == _record(1)
    assert len(store) == 2 and list(store) == [_record(2), _record(3)]
    store.append(_record(4))
    store.append(_record(5))
    assert list(store) == [_record(3), _record(4), _record(5)]
    store.clear()
    assert len(store) == 0 and list(store) == [] and store.last(5) == ()
    with pytest.raises(IndexError):
        store.popleft()


def test_a_bad_size_names_the_value():
    with pytest.raises(ValueError, match="0"):
        RunStore(0)


def test_appending_runs_allocates_nothing_that_stays():
    store = RunStore(maxlen=1000)
    records = [_record(i, "one-session") for i in range(1, 401)]
    store.extend(records[:200])
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        store.extend(records[200:])
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # A deque of the records would keep ~1.6 KB of block pointers for 200 runs, and a
    # record with its boxed numbers ~390 bytes each: the columns were allocated up front.
    assert kept < 512, kept


def test_pair_ring_keeps_the_last_pairs_in_order():
    ring = PairRing(3)
    for i in range(5):
        ring.append((float(i), i * 10))
    assert ring.pairs() == [(2.0, 20), (3.0, 30), (4.0, 40)] and len(ring) == 3
    assert [b for _, b in ring] == [20, 30, 40]

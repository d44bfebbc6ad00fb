"""The census counts what is alive, once, with the bytes sys.getsizeof would give."""

from __future__ import annotations

import gc
import math
import os
import subprocess
import sys
import weakref
from collections import OrderedDict
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from st_memwatch.core.census import (
    estimate_cost_s,
    estimate_pause_s,
    last_census_size,
    split_of,
    take_census,
    type_name,
)
from st_memwatch.core.census import take as take_mod
from st_memwatch.core.census import walker as walker_mod
from st_memwatch.core.census.cost import COST
from st_memwatch.core.census.headers import BULK, HeaderReader
from st_memwatch.core.census.walker import Walker
from st_memwatch.core.models import CensusResult, TypeGrowth, TypeStat
from st_memwatch.core.type_growth import diff

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_garbage_left_by_earlier_tests() -> None:
    """A census does not collect (by design). Cyclic garbage from an earlier test would
    be collected by an automatic gc between a test's two censuses and show as a drop."""
    gc.collect()


def growth_of(before: CensusResult, after: CensusResult) -> dict[str, TypeGrowth]:
    return {g.type_name: g for g in diff(before, after, top=1_000_000)}


def stat(result: CensusResult, name: str) -> TypeStat:
    return result.by_type().get(name, TypeStat(name, 0, 0))


def delta(before: CensusResult, after: CensusResult, name: str) -> tuple[int, int]:
    a, b = stat(before, name), stat(after, name)
    return b.count - a.count, b.bytes - a.bytes


# -- type names ------------------------------------------------------------------


class Outer:
    class Inner:
        pass


def test_type_names_are_qualified_except_builtins() -> None:
    assert type_name(dict) == "dict"
    assert type_name(np.ndarray) == "numpy.ndarray"
    assert type_name(OrderedDict) == "collections.OrderedDict"
    assert type_name(Outer.Inner) == f"{__name__}.Outer.Inner"

    class Local:
        pass

    assert type_name(Local) == f"{__name__}.{Local.__qualname__}"
    assert "<locals>" in type_name(Local)


# -- counting ----------------------------------------------------------------------


def test_new_instances_of_a_local_class_show_in_diff() -> None:
    class Probe:
        def __init__(self, i: int) -> None:
            self.i = i

    before = take_census()
    keep = [Probe(i) for i in range(5000)]
    after = take_census()
    g = growth_of(before, after)[type_name(Probe)]
    assert (g.count, g.count_delta) == (5000, 5000)
    assert g.bytes_delta == 5000 * sys.getsizeof(keep[0])
    del keep


def test_untracked_objects_are_counted_once_with_getsizeof_bytes() -> None:
    singles = [Decimal(i) / 7 for i in range(3000)]  # one owner each
    shared = [Decimal(-i) / 3 for i in range(500)]
    before = take_census()
    # 3000 single-owner objects, 500 shared by many lists spread over the heap
    holders: list[Any] = [list(singles)]
    holders += [[shared[i % 500], shared[(i * 7) % 500]] for i in range(20_000)]
    del singles[:], shared[:]
    after = take_census()
    count, nbytes = delta(before, after, "decimal.Decimal")
    assert count == 0  # the same objects, only their holders changed
    assert nbytes == 0
    expected = {id(d): sys.getsizeof(d) for h in holders for d in h}
    holders.clear()
    gone = take_census()
    count, nbytes = delta(gone, after, "decimal.Decimal")
    assert count == len(expected) == 3500
    assert nbytes == sum(expected.values())


def test_numpy_arrays_held_in_a_list_show_their_buffers() -> None:
    before = take_census()
    arrays = [np.ones(125_000) for _ in range(10)]  # 1 MB each
    after = take_census()
    g = growth_of(before, after)["numpy.ndarray"]
    assert g.count_delta == 10
    assert g.bytes_delta >= 10 * 1_000_000
    assert stat(after, "numpy.ndarray").bytes >= 10 * 1_000_000
    del arrays


@pytest.mark.parametrize("keep_base", [True, False])
def test_views_of_one_base_do_not_double_count(keep_base: bool) -> None:
    before = take_census()
    base = np.zeros(1_000_000)  # 8 MB
    holder: list[Any] = [base[i:] for i in range(20)] + [base[::2], base.reshape(1000, 1000)]
    if keep_base:
        holder.append(base)
    del base  # otherwise only the views' .base keeps it alive
    after = take_census()
    count, nbytes = delta(before, after, "numpy.ndarray")
    assert count == 23  # 22 views and the base, found through .base when not held
    assert 8_000_000 <= nbytes < 8_000_000 + 23 * 1024
    del holder


def test_bytes_in_a_dict_of_atoms_are_found() -> None:
    before = take_census()
    payload = {"blob": b"x" * 3_000_000, "n": 1}
    assert not gc.is_tracked(payload)  # invisible to gc.get_objects()
    holder = [payload]
    del payload
    after = take_census()
    count, nbytes = delta(before, after, "bytes")
    assert count >= 1
    assert nbytes >= 3_000_000
    del holder


def test_bytes_deep_in_untracked_containers_are_found() -> None:
    inner = tuple([b"z" * 2_000_000, "a"])
    gc.collect()  # lets the collector untrack the tuple of atoms
    holder = [{"t": inner, "n": 1}]  # a dict holding only untracked objects stays untracked
    del inner
    assert not gc.is_tracked(holder[0]) and not gc.is_tracked(holder[0]["t"])
    before = take_census()
    blob = holder.pop()
    after_pop = take_census()
    holder.append(blob)
    del blob
    after = take_census()
    assert delta(after_pop, after, "bytes")[1] >= 2_000_000
    assert abs(delta(before, after, "bytes")[1]) < 1_000_000  # same state, same figure


def test_a_shared_buffer_is_counted_once() -> None:
    before = take_census()
    blob = b"s" * 1_000_000
    holders = [[blob] for _ in range(100)]
    del blob
    after = take_census()
    count, nbytes = delta(before, after, "bytes")
    assert 1_000_000 <= nbytes < 1_100_000
    del holders


@pytest.mark.parametrize("small_steps", [False, True])
def test_a_shared_untracked_container_is_walked_once(monkeypatch: pytest.MonkeyPatch, small_steps: bool) -> None:
    if small_steps:  # many chunks and many walks: sharing across steps must still count once
        monkeypatch.setattr(take_mod, "CHUNK", 256)
        monkeypatch.setattr(walker_mod, "PART", 256)
    shared = tuple([Decimal(1) / 7, "x"])
    singles = [tuple([Decimal(i) / 3, "y"]) for i in range(2000)]
    gc.collect()  # lets the collector untrack the tuples of atoms
    assert not gc.is_tracked(shared) and not gc.is_tracked(singles[0])
    before = take_census()
    holders = [[shared, singles[i % 2000]] for i in range(20_000)]  # spread over the heap
    del shared, singles
    after = take_census()
    assert delta(before, after, "decimal.Decimal")[0] == 0  # the same objects, held elsewhere
    holders.clear()
    gone = take_census()
    assert delta(gone, after, "decimal.Decimal")[0] == 2001
    del holders


def test_items_of_object_arrays_are_counted_once() -> None:
    before = take_census()
    arr = np.array([Decimal(i) / 3 for i in range(3000)], dtype=object)
    holder = [arr, arr[::2], arr[1:], arr.reshape(30, 100).T]
    del arr
    after = take_census()
    assert delta(before, after, "decimal.Decimal")[0] == 3000
    del holder


def test_an_array_over_a_bytes_buffer_counts_the_buffer_once() -> None:
    before = take_census()
    buf = b"q" * 4_000_000
    holder = [np.frombuffer(buf, np.uint8), np.frombuffer(buf, np.uint8)[10:]]
    del buf
    after = take_census()
    arr_bytes = delta(before, after, "numpy.ndarray")[1]
    bytes_bytes = delta(before, after, "bytes")[1]
    assert arr_bytes < 4096  # headers only
    assert 4_000_000 <= bytes_bytes < 4_100_000
    del holder


def test_pandas_frames_report_their_arrays_not_a_deep_size() -> None:
    pd = pytest.importorskip("pandas")
    before = take_census()
    df = pd.DataFrame({"x": np.arange(1_000_000, dtype=np.float64)})
    after = take_census()
    growth = growth_of(before, after)
    assert growth["numpy.ndarray"].bytes_delta >= 8_000_000
    assert growth[type_name(type(df))].bytes_delta < 10_000
    assert sum(g.bytes_delta for g in growth.values()) < 12_000_000  # not counted twice
    del df


def test_arrow_buffers_are_counted_once() -> None:
    pa = pytest.importorskip("pyarrow")
    before = take_census()
    arr = pa.array([f"{i:0>100}" for i in range(20_000)])  # ~2 MB of string data
    holder = [arr, arr.slice(0, 100), pa.chunked_array([arr])]
    data_size = arr.buffers()[2].size
    del arr
    after = take_census()
    total = sum(g.bytes_delta for n, g in growth_of(before, after).items() if n.startswith("pyarrow."))
    assert data_size <= total < 2 * data_size
    del holder


def test_python_level_sizeof_is_not_called() -> None:
    class Deep:
        calls = 0

        def __sizeof__(self) -> int:
            Deep.calls += 1
            return 10**9

    keep = [Deep() for _ in range(10)]
    result = take_census()
    assert Deep.calls == 0
    assert 0 < stat(result, type_name(Deep)).bytes < 10_000
    del keep


def test_types_that_cannot_be_hashed_are_counted() -> None:
    class Meta(type):
        def __eq__(cls, other: object) -> bool:
            return False

        __hash__ = None  # type: ignore[assignment]

    class Odd(metaclass=Meta):
        pass

    keep = [Odd() for _ in range(100)]
    assert stat(take_census(), type_name(Odd)).count == 100
    del keep


def test_the_census_own_list_of_objects_is_left_out() -> None:
    before = take_census()
    after = take_census()
    # gc.get_objects() returns a list of 8 bytes per object; it must not show up.
    assert delta(before, after, "list")[1] < 8 * before.tracked_objects // 4


# -- against an independent reference ------------------------------------------------


def reference_census(names: set[str]) -> dict[str, tuple[int, int]]:
    """What the census should report for ``names``, found the slow, obvious way.

    Every gc-tracked object, plus every untracked object reachable from one through
    ``gc.get_referents`` and on through untracked objects, numpy bases and the items of
    object arrays; each object once (by id), sized by ``sys.getsizeof``.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        tracked = gc.get_objects()
        seen: dict[int, Any] = {}
        stack: list[Any] = []
        for o in tracked:
            stack.extend(gc.get_referents(o))
            if isinstance(o, np.ndarray):
                stack.append(o.base)
        while stack:
            o = stack.pop()
            if o is None or gc.is_tracked(o) or id(o) in seen:
                if o is None:
                    seen.setdefault(id(o), o)
                continue
            seen[id(o)] = o
            stack.extend(gc.get_referents(o))
            if isinstance(o, np.ndarray):
                stack.append(o.base)
                if o.base is None and o.dtype.hasobject:
                    stack.extend(o.ravel().tolist())
        out: dict[str, tuple[int, int]] = {}
        for o in [*tracked, *seen.values()]:
            name = type_name(type(o))
            if name in names:
                c, b = out.get(name, (0, 0))
                out[name] = (c + 1, b + sys.getsizeof(o))
        return out
    finally:
        del tracked, seen, stack
        if was:
            gc.enable()


class Rec:
    def __init__(self, i: int) -> None:
        self.i = i
        self.blob = bytes([i % 251]) * (100 + i)
        self.name = f"rec-{i}-" + "x" * (i % 50)
        self.price = i / 7


@pytest.fixture(params=["headers", "calls"])
def road(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both roads: headers read in bulk (where the layout checks pass) and one call per object."""
    if request.param == "calls":
        monkeypatch.setattr(BULK, "force_calls", True)
    elif not BULK.possible():
        pytest.skip("object headers cannot be read in bulk on this interpreter")
    return str(request.param)


def test_counts_and_bytes_match_an_independent_reference(road: str) -> None:
    take_census()  # numpy makes a few arrays of its own on first use of some functions
    arrays = [np.ones(1000 + 17 * i) for i in range(50)]  # known nbytes, one owner each
    base = np.arange(100_000, dtype=np.int64)  # 800 kB, held only through its views
    views = [base[i::7] for i in range(5)]
    del base
    shared_blob = b"s" * 10_000
    blobs = [b"%d-" % i * 50 for i in range(2000)]
    holders = [[shared_blob, blobs[i % 2000], arrays[i % 50]] for i in range(5000)]
    records = [Rec(i) for i in range(3000)]
    payload = {"t": tuple(blobs[:10]), "n": 1}  # an untracked dict holding an untracked tuple
    decimals = np.array([Decimal(i) / 3 for i in range(500)], dtype=object)
    # Untracked objects held by a running function's locals alone are out of reach of any
    # census (a frame in progress is no object), so these two are put in a list.
    reachable = [payload, decimals]
    names = {"numpy.ndarray", "bytes", type_name(Rec), "decimal.Decimal"}
    result = take_census()
    expected = reference_census(names)
    for name in names:
        got = stat(result, name)
        assert (got.count, got.bytes) == expected[name], name
    # and against figures known without any walk
    assert stat(result, "numpy.ndarray").bytes >= sum(a.nbytes for a in arrays) + 800_000
    assert stat(result, "bytes").bytes >= sum(map(sys.getsizeof, blobs)) + 10_000 + sum(
        sys.getsizeof(r.blob) for r in records
    )
    assert stat(result, "decimal.Decimal").count >= 500
    del arrays, views, holders, records, payload, decimals, reachable


def test_str_int_float_tuple_bytes_match_known_sizes(road: str) -> None:
    """Atoms sized from their headers must agree with sys.getsizeof, ASCII or not."""
    gc.collect()  # garbage of earlier tests must not be freed between the two censuses
    take_census()
    before = take_census()
    ascii_strs = [f"a{i:07d}" * 25 for i in range(4000)]  # 200 chars each
    wide_strs = [f"\u00e9\u20ac{i:06d}" * 20 for i in range(3000)]  # latin-1 + BMP
    astral = [f"\U0001f600{i:05d}" * 10 for i in range(1000)]
    ints = [10**20 + i for i in range(5000)] + [-(2**70) - i for i in range(2000)]
    floats = [i + 0.5 for i in range(6000)]
    tuples = [tuple(range(i % 12)) for i in range(3000)]
    gc.collect()  # tuples of atoms become untracked
    holder = [ascii_strs, wide_strs, astral, ints, floats, tuples]
    after = take_census()
    expect: dict[str, list[Any]] = {
        "str": ascii_strs + wide_strs + astral,
        "int": ints,
        "float": floats,
    }
    for name, objs in expect.items():
        count, nbytes = delta(before, after, name)
        want = sum(map(sys.getsizeof, objs))
        assert len(objs) <= count < len(objs) + 1000, name  # + names held by census results
        # + the names census results hold (exact sizes: test_sizes_per_object_equal_getsizeof_exactly)
        assert want <= nbytes < want + (150_000 if name == "str" else 40_000), name
    count, nbytes = delta(before, after, "tuple")
    distinct = {id(t): t for t in tuples}  # () is one object
    assert len(distinct) - 5 <= count < len(distinct) + 100
    assert abs(nbytes - sum(map(sys.getsizeof, distinct.values()))) < 10_000
    del holder


def test_sizes_per_object_equal_getsizeof_exactly(road: str) -> None:
    """The census's accounting of a list of untracked objects, without the heap around it:
    counts and bytes must equal sys.getsizeof summed over the distinct objects."""
    objs: list[Any] = ["", "a", "ab" * 300, "\u00e9t\u00e9" * 50, "\u20ac" * 99, "\U0001f600" * 7]
    objs += [f"k{i}" * (i % 40) for i in range(3000)]
    objs += [0, 1, -1, 255, 2**30, 2**62, -(2**64), 10**100] + [10**12 + i for i in range(2000)]
    objs += [i / 3 for i in range(2000)] + [b"", b"x" * 1000] + [b"%d" % i for i in range(500)]
    objs += [(), (1, "a"), tuple(range(50))] + [Decimal(i) / 7 for i in range(100)] + [None, True, 1.5]
    objs += [int, str, type_name.__class__, Rec]  # classes, made at run time or not
    owner = list(objs)  # the census reads a single owner besides its own list as "found once"
    objs += objs[::3]  # many objects listed twice: counted once
    expected: dict[str, list[int]] = {}
    for o in {id(o): o for o in objs if not gc.is_tracked(o)}.values():
        e = expected.setdefault(type_name(type(o)), [0, 0])
        e[0] += 1
        e[1] += sys.getsizeof(o)
    c = Walker(BULK.reader(), math.inf)
    c.untracked_referents(objs)  # drops the tracked ones (Rec, a fresh tuple), empties objs
    c.finish_shared()
    got = c.tally.figures()
    c.drop_references()
    assert got == expected
    del owner


def test_an_address_beyond_the_header_view_falls_back_to_the_slow_road(monkeypatch: pytest.MonkeyPatch) -> None:
    if not BULK.possible():
        pytest.skip("object headers cannot be read in bulk on this interpreter")

    def beyond(self: Any, lst: list[Any]) -> Any:
        raise IndexError("index 2**46 is out of bounds")

    holder = [np.ones(1000), b"z" * 5000]
    take_census()  # numpy makes a few arrays of its own on first use of some functions
    expected = take_census()
    monkeypatch.setattr(HeaderReader, "items", beyond)
    monkeypatch.setattr(BULK, "_layout", BULK._layout)  # undone after the test: headers again
    got = take_census()
    assert not BULK.in_use() and BULK.reader() is None  # the portable road from now on
    assert got.complete
    for name in ("numpy.ndarray", "bytes", "function"):
        assert stat(got, name) == stat(expected, name), name
    del holder


def test_both_roads_give_the_same_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    if not BULK.possible():
        pytest.skip("object headers cannot be read in bulk on this interpreter")
    keep: list[Any] = [{"k": f"v{i}", "n": i * 1.5, "b": b"%d" % i} for i in range(20_000)]
    keep += [np.zeros(100 + i) for i in range(100)]
    with monkeypatch.context() as m:  # first uses of numpy functions make objects: warm both roads
        m.setattr(BULK, "force_calls", True)
        take_census()
    header_reads: list[int] = []
    real_items = HeaderReader.items

    def counted(self: HeaderReader, lst: list[Any]) -> Any:
        header_reads.append(len(lst))
        return real_items(self, lst)

    monkeypatch.setattr(HeaderReader, "items", counted)
    fast = take_census()
    assert header_reads, "the headers road did not read headers: the comparison would be of one road with itself"
    header_reads.clear()
    monkeypatch.setattr(BULK, "force_calls", True)
    slow = take_census()
    assert header_reads == []
    for name in ("dict", "bytes", "numpy.ndarray", "function", "type"):
        assert stat(fast, name) == stat(slow, name), name
    for name in ("str", "int", "float", "list"):  # the first census's own result is alive during the second
        a, b = stat(fast, name), stat(slow, name)
        assert abs(a.count - b.count) < 2000 and abs(a.bytes - b.bytes) < 200_000, name
    del keep


# -- where the bytes live (for the ledger) -------------------------------------------


@pytest.mark.parametrize("road", ["headers", "calls"])
def test_the_split_puts_big_objects_in_malloc_and_small_ones_out(monkeypatch: pytest.MonkeyPatch, road: str) -> None:
    if road == "headers" and not BULK.possible():
        pytest.skip("object headers cannot be read in bulk on this interpreter")
    monkeypatch.setattr(BULK, "force_calls", road == "calls")
    take_census()  # warm: first uses of numpy functions make objects
    first = take_census()
    before = split_of(first)
    assert before is not None and before.total == sum(t.bytes for t in first.stats)
    big = [bytes([i % 251]) * 4000 for i in range(2500)]  # ~10 MB above pymalloc's limit
    small = [b"%d" % i for i in range(100_000)]  # ~3.5 MB below it
    array = np.ones(8 * 2**20, np.uint8)
    holder = [array]  # a function's locals are out of a census's reach; a list is not
    second = take_census()
    after = split_of(second)
    assert after is not None and split_of(first) is None  # only the latest census is kept
    # The lists' item arrays are above the limit too.
    big_bytes = sum(map(sys.getsizeof, big)) + sys.getsizeof(array) + sys.getsizeof(big) + sys.getsizeof(small)
    small_bytes = sum(map(sys.getsizeof, small))
    assert abs((after.in_malloc - before.in_malloc) - big_bytes) < 256 * 1024, (before, after)
    assert after.total - before.total >= big_bytes + small_bytes - 256 * 1024
    assert after.in_arrow == before.in_arrow
    del big, small, array, holder


def test_the_split_puts_arrow_buffers_in_arrows_pool() -> None:
    pa = pytest.importorskip("pyarrow")
    pa.array(range(10), type=pa.int64())  # its first use imports more of pyarrow (and pandas)
    take_census()
    before = split_of(take_census())
    keep = pa.array(range(2**20), type=pa.int64())  # built by Arrow, in its pool
    after = split_of(take_census())
    assert before is not None and after is not None
    assert after.in_arrow - before.in_arrow == 8 * 2**20
    assert abs(after.in_malloc - before.in_malloc) < 2**20
    del keep


# -- hygiene ---------------------------------------------------------------------


def test_no_reference_to_heap_objects_survives() -> None:
    class Probe:
        pass

    probe, arr = Probe(), np.ones(1000)
    probe_ref, arr_ref, type_ref = weakref.ref(probe), weakref.ref(arr), weakref.ref(Probe)
    holder: list[Any] = [probe, arr]
    del probe, arr
    result = take_census()
    assert stat(result, type_name(Probe)).count == 1
    del holder
    assert probe_ref() is None
    assert arr_ref() is None
    del Probe
    gc.collect()  # a class sits in reference cycles of its own
    assert type_ref() is None
    for s in result.stats:
        assert type(s.type_name) is str and type(s.count) is int and type(s.bytes) is int


@pytest.mark.parametrize("enabled", [True, False])
def test_never_collects_and_restores_automatic_collection(monkeypatch: pytest.MonkeyPatch, enabled: bool) -> None:
    def forbidden(*_: object) -> int:
        raise AssertionError("the census must not collect")

    monkeypatch.setattr(gc, "collect", forbidden)
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        take_census()
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_automatic_collection_is_paused_while_counting(monkeypatch: pytest.MonkeyPatch) -> None:
    # A collection mid-census could untrack a tuple already counted as tracked.
    seen: list[bool] = []
    real = gc.get_referents

    def spy(*objs: object) -> list[object]:
        seen.append(gc.isenabled())
        return real(*objs)

    monkeypatch.setattr(take_mod, "get_referents", spy)
    monkeypatch.setattr(walker_mod, "get_referents", spy)
    was = gc.isenabled()
    gc.enable()
    try:
        take_census()
    finally:
        (gc.enable if was else gc.disable)()
    assert seen and not any(seen)


def test_core_never_imports_streamlit_or_plotly() -> None:
    code = (
        "import sys\n"
        "import st_memwatch.core.census as c\n"
        "c.take_census(budget_s=5)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly'))\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)


# -- budget ----------------------------------------------------------------------


def test_a_tiny_budget_returns_an_incomplete_census() -> None:
    result = take_census(budget_s=1e-9)  # spent by gc.get_objects() alone
    assert result.complete is False
    assert result.tracked_objects > 0
    assert take_census().complete is True


def test_a_budget_that_runs_out_among_untracked_objects_keeps_only_tracked_figures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    holder = [np.ones(125_000), b"b" * 100_000, "s" * 100_000]
    real = Walker.untracked_referents

    def then_out_of_time(self: Any, refs: list[Any]) -> None:
        real(self, refs)
        self.deadline = -math.inf  # the budget runs out after the first chunk of referents

    monkeypatch.setattr(Walker, "untracked_referents", then_out_of_time)
    cut = take_census(budget_s=60.0)
    monkeypatch.undo()
    cheap = take_census(untracked=False)
    assert cut.complete is False
    for name in ("str", "bytes", "numpy.ndarray", "float"):
        assert stat(cut, name) == stat(cheap, name) == TypeStat(name, 0, 0)
    assert stat(cut, "function").count == stat(cheap, "function").count > 0
    del holder


def test_a_generous_budget_completes() -> None:
    assert take_census(budget_s=600.0).complete is True


def test_tracked_only_census_is_partial_and_blind_to_arrays() -> None:
    holder = [np.ones(125_000)]
    result = take_census(untracked=False)
    assert result.complete is False
    assert stat(result, "numpy.ndarray").bytes < 1_000_000
    assert stat(result, "list").count > 0
    del holder


def test_cost_estimate_follows_the_last_census_of_the_same_kind() -> None:
    result = take_census()
    assert last_census_size() == result.tracked_objects
    assert estimate_cost_s(result.tracked_objects) == pytest.approx(result.cpu_s)
    assert estimate_cost_s(2 * result.tracked_objects) == pytest.approx(2 * result.cpu_s)
    assert estimate_cost_s(0) == 0.0
    cheap = take_census(untracked=False)
    assert estimate_cost_s(cheap.tracked_objects, untracked=False) == pytest.approx(cheap.cpu_s)
    assert estimate_cost_s(result.tracked_objects) == pytest.approx(result.cpu_s)
    take_census(budget_s=1e-9)  # counted nothing: teaches nothing
    assert estimate_cost_s(result.tracked_objects) == pytest.approx(result.cpu_s)


# -- cost model ------------------------------------------------------------------


def test_pause_estimate_is_the_get_objects_share_of_the_last_census() -> None:
    keep = [[i] for i in range(50_000)]  # enough tracked objects to measure on
    result = take_census()
    pause = estimate_pause_s(result.tracked_objects)
    assert 0.0 < pause <= result.duration_s
    assert estimate_pause_s(2 * result.tracked_objects) == pytest.approx(2 * pause)
    assert estimate_pause_s(-1) == 0.0
    del keep


def test_the_cost_model_keeps_no_heap_objects() -> None:
    """It outlives every census: a result or a type kept there would stay alive for good."""
    take_census()
    assert COST.last_size is not None
    for name, value in vars(COST).items():
        assert type(value) in (int, float), (name, type(value))

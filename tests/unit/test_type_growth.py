"""Type growth between two censuses: ranked by bytes then count, only what grew."""

from __future__ import annotations

from st_memwatch.core.models import CensusResult, TypeGrowth, TypeStat
from st_memwatch.core.type_growth import diff


def census_of(*stats: tuple[str, int, int]) -> CensusResult:
    return CensusResult(taken_at=0.0, duration_s=0.0, tracked_objects=0, stats=tuple(TypeStat(*s) for s in stats))


def test_diff_ranks_by_bytes_then_count_and_lists_only_growth() -> None:
    prev = census_of(("a", 10, 1000), ("b", 10, 1000), ("c", 10, 1000), ("d", 10, 1000), ("e", 5, 50))
    cur = census_of(
        ("a", 11, 1100),  # +100 bytes
        ("b", 30, 1100),  # +100 bytes, more objects: ranks before a
        ("c", 9, 900),  # shrank
        ("d", 10, 1000),  # unchanged
        ("e", 6, 50),  # more objects, same bytes
        ("new", 1, 5000),  # absent before
    )
    got = diff(prev, cur)
    assert [g.type_name for g in got] == ["new", "b", "a", "e"]
    assert got[0] == TypeGrowth("new", 1, 1, 5000, 5000)
    assert got[1] == TypeGrowth("b", 30, 20, 1100, 100)
    assert got[3] == TypeGrowth("e", 6, 1, 50, 0)


def test_diff_keeps_the_current_order_on_ties_and_honours_top() -> None:
    prev = census_of()
    cur = census_of(("z", 1, 10), ("y", 1, 10), ("x", 1, 10), ("w", 1, 20))
    assert [g.type_name for g in diff(prev, cur)] == ["w", "z", "y", "x"]
    assert [g.type_name for g in diff(prev, cur, top=2)] == ["w", "z"]
    assert diff(prev, cur, top=0) == ()
    assert diff(prev, cur, top=-3) == ()


def test_diff_without_a_previous_census_treats_everything_as_new() -> None:
    cur = census_of(("a", 2, 20), ("b", 1, 30))
    assert diff(None, cur) == (TypeGrowth("b", 1, 1, 30, 30), TypeGrowth("a", 2, 2, 20, 20))


def test_diff_in_the_other_direction_lists_nothing_that_only_shrank() -> None:
    small = census_of(("a", 1, 10), ("b", 5, 50))
    big = census_of(("a", 3, 30), ("b", 5, 50))
    assert [g.type_name for g in diff(small, big)] == ["a"]
    assert diff(big, small) == ()

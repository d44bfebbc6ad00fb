"""What the census refuses and leaves out: bad budgets, and st_memwatch's own objects."""

from __future__ import annotations

import gc
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

import st_memwatch
from st_memwatch.core.census import last_census_size, take_census
from st_memwatch.core.census.naming import is_own_type
from st_memwatch.core.models import CensusResult, Suspect, TypeStat
from st_memwatch.core.type_growth import diff

BAD_BUDGETS = ["fast", -1, -0.5, 0, 0.0, float("nan"), float("inf"), -math.inf, True, False, [1.0], b"1"]


@pytest.mark.parametrize("bad", BAD_BUDGETS, ids=repr)
def test_take_census_refuses_a_bad_budget_naming_it_and_what_is_accepted(bad: Any) -> None:
    take_census(1.0)  # a census this test can tell from the refused one
    counted = last_census_size()
    with pytest.raises(ValueError) as err:
        take_census(bad)
    message = str(err.value)
    assert repr(bad) in message
    assert "None" in message and "positive" in message and "finite" in message
    assert last_census_size() == counted  # refused before any work: the cost model learnt nothing


@pytest.mark.parametrize("bad", BAD_BUDGETS, ids=repr)
def test_public_census_refuses_a_bad_budget(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"census\(budget_s=\.\.\.\)") as err:
        st_memwatch.census(bad)
    assert repr(bad) in str(err.value)


@pytest.mark.parametrize("good", [None, 600, 600.0, np.float64(600.0), Fraction(600)], ids=repr)
def test_none_and_positive_finite_budgets_are_accepted(good: Any) -> None:
    assert take_census(good).complete is True
    assert st_memwatch.census(good).complete is True


def test_a_tiny_positive_budget_is_accepted_and_cuts_the_census_short() -> None:
    assert take_census(1e-9).complete is False


def _own_names(result: CensusResult) -> list[str]:
    return [s.type_name for s in result.stats if s.type_name.startswith("st_memwatch.")]


def test_st_memwatch_own_objects_are_not_counted() -> None:
    gc.collect()
    before = take_census().by_type()["str"].count
    suspects = [Suspect("type", f"t{i}", 1.0, 1.0, 1.0, i, i, "", "") for i in range(500)]
    stats = [TypeStat(f"t{i}", i, i) for i in range(500)]
    first = take_census()  # its result alone holds hundreds of TypeStat
    second = take_census()
    assert _own_names(first) == [] and _own_names(second) == []
    # ... so they never show as growing between censuses, as they did in the panel
    assert [g.type_name for g in diff(first, second, top=1_000_000) if g.type_name.startswith("st_memwatch.")] == []
    # while what they hold is still the app's heap as any other object's would be
    # (the 1,000 names "t0".."t499", one set for each list: new str objects, reached through our own types)
    assert first.by_type()["str"].count - before >= 1000, (before, first.by_type()["str"].count)
    del suspects, stats


def test_a_package_that_only_shares_the_prefix_is_counted() -> None:
    Other = type("Other", (), {"__module__": "st_memwatchers.models"})
    Mine = type("Mine", (), {"__module__": "st_memwatch"})
    keep = [Other() for _ in range(25)] + [Mine() for _ in range(25)]
    result = take_census().by_type()
    assert result["st_memwatchers.models.Other"].count == 25
    assert "st_memwatch.Mine" not in result
    assert is_own_type(Mine) and is_own_type(Suspect) and not is_own_type(Other) and not is_own_type(dict)
    del keep

"""Which containers keep growing between looks (the holder of a leak no type names)."""

from __future__ import annotations

import numpy as np

from st_memwatch.core.containers import ContainerWatch


def test_a_list_that_gains_big_arrays_is_found_with_what_its_elements_weigh():
    watch = ContainerWatch()
    kept = [np.ones(1024) for _ in range(4)]
    churn = [[] for _ in range(8)]  # a steady crowd that neither grows nor shrinks
    assert watch.look(5.0, skip=set()) == []  # the first look only remembers lengths
    kept += [np.ones(1024) for _ in range(3)]
    grown = watch.look(5.0, skip=set())
    assert grown and grown[0].obj is kept, [(g.length, g.added) for g in grown]
    assert (grown[0].length, grown[0].added) == (7, 3)
    assert 8 * 1024 <= grown[0].bytes_each < 9 * 1024, grown[0].bytes_each  # an 8 KiB buffer and its header
    kept.append(np.ones(1024))
    again = watch.look(5.0, skip=set())
    assert again[0].obj is kept and again[0].streak == 2
    del churn


def test_a_look_cut_by_its_budget_keeps_the_last_complete_one():
    watch = ContainerWatch()
    kept = [b"x" * 100 for _ in range(5)]
    watch.look(5.0, skip=set())
    kept += [b"y" * 100 for _ in range(5)]
    assert watch.look(0.0, skip=set()) == []
    grown = watch.look(5.0, skip=set())
    assert any(g.obj is kept and g.added == 5 for g in grown)


def test_what_is_skipped_and_what_shrank_are_never_growth():
    watch = ContainerWatch()
    ours = [1, 2, 3, 4]
    shrinking = list(range(50))
    watch.look(5.0, skip={id(ours)})
    ours += [5, 6, 7]
    del shrinking[10:]
    grown = watch.look(5.0, skip={id(ours)})
    assert not any(g.obj is ours or g.obj is shrinking for g in grown)

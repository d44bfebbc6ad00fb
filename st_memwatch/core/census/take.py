"""``take_census``: one census from start to figures, within a CPU-time budget.

Why it runs in this order:

* Automatic collection is paused meanwhile, never triggered: a collection could
  untrack a tuple already counted as tracked and make it count twice.
* Tracked objects are all counted first (a few percent dearer than one pass, for
  cache misses): a census cut among the untracked objects then reports exactly
  what ``untracked=False`` would, figures that stay comparable from one census to
  the next, instead of an arbitrary part of the heap that makes counts jump.
* What no budget can cut: ``gc.get_objects()`` itself, and ``gc.get_referents`` of
  one huge container; the rest comes in chunks that each hold the GIL briefly.
* One census at a time: two at once would only share the GIL, and the second would
  see automatic collection already paused and leave it paused.
"""

from __future__ import annotations

import gc
import math
import threading
import time
from collections.abc import Callable
from numbers import Real

from st_memwatch.core.census.cost import COST, CensusCost
from st_memwatch.core.census.headers import BULK
from st_memwatch.core.census.tally import Split
from st_memwatch.core.census.type_table import CLASS_MEMO
from st_memwatch.core.census.walker import PART, Walker
from st_memwatch.core.models import CensusResult, TypeStat

#: A budget (seconds) for callers that must not stall the app; ``take_census`` has none.
DEFAULT_BUDGET_S = 0.5

CHUNK = 4096  # tracked objects per step: each C call holds the GIL for about a millisecond
FAST_CHUNK = 1 << 16  # tracked objects per step when headers are read in bulk

get_referents = gc.get_referents
_one_at_a_time = threading.Lock()
_last_split: tuple[CensusResult, Split] | None = None


def check_budget(budget_s: object) -> float | None:
    """``budget_s`` as a float, or None for no limit; ValueError naming the value otherwise."""
    if budget_s is None:
        return None
    if isinstance(budget_s, Real) and not isinstance(budget_s, bool):
        value = float(budget_s)
        if value > 0 and math.isfinite(value):
            return value
    raise ValueError(f"invalid budget_s {budget_s!r}: expected None (no limit) or a positive, finite number of seconds")


def take_census(
    budget_s: float | None = None, *, untracked: bool = True, cancel: Callable[[], bool] | None = None
) -> CensusResult:
    """Count live objects and their shallow bytes per type, within ``budget_s`` seconds.

    ``budget_s=None`` means no limit; anything but None or a positive, finite number
    raises ValueError. The budget is this thread's CPU time. When it runs out the
    census stops between chunks and returns ``complete=False``: if every tracked
    object had been counted by then, with the figures of ``untracked=False``,
    otherwise with those of the tracked objects it reached. Do not compare it with a
    complete census. ``untracked=False`` counts gc-tracked objects only: several
    times cheaper, but blind to arrays, bytes, str and numbers; it is reported as
    incomplete too. ``cancel`` is asked between chunks too, like the budget: a
    monitor stops its census the moment a script run starts, rather than compete
    with it for the GIL. Instances of st_memwatch's own classes are left out.

    >>> result = take_census(budget_s=DEFAULT_BUDGET_S)
    >>> result.tracked_objects > 0
    True
    """
    budget = check_budget(budget_s)
    with _one_at_a_time:
        try:
            return _take_census(budget, untracked, cancel)
        except IndexError:
            if not BULK.in_use():
                raise
            # An object beyond the 2**48 bytes the header view spans (5-level page
            # tables): read headers no more, and count again on the portable road, once
            # the failed census (held by the traceback until the handler ends) is gone.
            BULK.give_up()
        return _take_census(budget, untracked, cancel)


def _take_census(budget_s: float | None, untracked: bool, cancel: Callable[[], bool] | None) -> CensusResult:
    started = time.perf_counter()
    taken_at = time.time()
    # The budget is this thread's CPU time, not wall time: what the census costs the
    # process, whatever time other threads (the server, script runs) hold the GIL meanwhile.
    cpu_started = time.thread_time()
    deadline = math.inf if budget_s is None else cpu_started + budget_s
    was_enabled = gc.isenabled()
    gc.disable()
    reached = 0  # tracked objects whose referents were counted
    tracked_all = False
    try:
        objs = gc.get_objects()  # the list leaves itself out
        n = len(objs)
        listing_s = time.thread_time() - cpu_started
        walk = Walker(BULK.reader(), deadline, cancel)
        # Tracked objects first: cheap, so even a census cut short has them all, and
        # its figures are those of ``untracked=False``, stable from one census to the next.
        if walk.mem is not None:
            at_all = walk.mem.items(objs)
            for a in range(0, n, FAST_CHUNK):
                if walk.over_budget():
                    break
                walk.tracked_fast(objs, at_all, a, min(a + FAST_CHUNK, n))
            del at_all
        else:
            for a in range(0, n, CHUNK):
                if walk.over_budget():
                    break
                walk.tracked(objs[a : a + CHUNK])
        walk.walk_external()
        tracked_s = time.thread_time() - cpu_started
        tracked_all = walk.complete
        if untracked and tracked_all:
            tracked_only = walk.tally.save()
            for a in range(0, n, CHUNK):
                if walk.over_budget():
                    break
                walk.untracked_referents(get_referents(*objs[a : a + CHUNK]))
                reached = min(a + CHUNK, n)
                if len(walk.pending) >= PART:
                    walk.walk_pending()
            walk.walk_pending()
            walk.walk_arrays()
            walk.walk_external()
            walk.finish_shared()
            if not walk.complete:  # a part of the untracked objects would only mislead
                walk.tally.restore(tracked_only)
        walk.drop_references()
        while objs:  # in slices: freeing a million references at once is a long GIL hold
            del objs[-CHUNK * 16 :]
        del objs
        figures = walk.tally.figures()
        split = walk.tally.split()
        complete = walk.complete and untracked
        del walk
    finally:
        if was_enabled:
            gc.enable()
    duration = time.perf_counter() - started
    cpu = time.thread_time() - cpu_started
    COST.learn(CensusCost(n, untracked, tracked_all, complete, reached, listing_s, tracked_s, cpu))
    CLASS_MEMO.prune()
    stats = tuple(
        TypeStat(name, c, b) for name, (c, b) in sorted(figures.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
    )
    result = CensusResult(
        taken_at=taken_at,
        duration_s=duration,
        tracked_objects=n,
        stats=stats,
        complete=complete,
        cpu_s=cpu,
    )
    global _last_split
    _last_split = (result, split)
    return result


def split_of(result: CensusResult) -> Split | None:
    """Where the bytes of ``result`` live: ``Split(total, in_malloc, in_arrow)``; None unless it is the last census.

    ``total`` is the sum of ``result``'s bytes; ``in_malloc`` the part glibc's malloc
    holds (objects above pymalloc's small-object limit, sizers' native buffers),
    ``in_arrow`` the part in Arrow's pool. They are what ``core.ledger.read_ledger``
    takes so that the allocators' figures do not count these bytes a second time.
    Only the latest census in this process is kept (a reference to it, no more).

    >>> r = take_census(budget_s=DEFAULT_BUDGET_S)
    >>> s = split_of(r)
    >>> s is not None and s.total == sum(t.bytes for t in r.stats) and s.in_malloc <= s.total
    True
    """
    last = _last_split
    if last is None or last[0] is not result:
        return None
    return last[1]

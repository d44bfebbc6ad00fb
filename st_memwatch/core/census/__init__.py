"""Object-type census: how many live objects of each type, and the bytes behind them.

An objgraph-style census that also sees what the collector does not track (numpy
arrays, bytes, str, numbers, dicts and tuples of atoms), with the bytes
``sys.getsizeof`` would give, each object counted once, within a CPU-time budget.
No Python statement runs per object; that alone would cost more than the whole of
``objgraph.typestats()``. The parts, each owning one thing:

* ``take``: one census from start to figures (order of work, budget, gc paused);
* ``walker``: which objects are reached, each counted once (shared ones de-duplicated);
* ``tally``: the per-type sums of counts and bytes, and where those bytes live
  (``split_of``: pymalloc, glibc's malloc, Arrow's pool) for the ledger;
* ``type_table``: a code per type and how its instances are sized;
* ``headers``: object headers read in bulk with numpy where the layout checks pass,
  and the portable fallback of one C call per object elsewhere (same figures);
* ``cost``: what a census costs in this process, for callers deciding whether to run one;
* ``naming``: the ``module.QualName`` key of a type, and which types are st_memwatch's own.

Out of reach of any census: untracked objects held only by the local variables of a
running function (a frame in progress is no object) and memory that C code holds
without a Python object. Measured costs are in ``benchmarks/CENSUS.md``.
"""

from __future__ import annotations

from st_memwatch.core.census.cost import estimate_cost_s, estimate_pause_s, last_census_size
from st_memwatch.core.census.naming import type_name
from st_memwatch.core.census.take import DEFAULT_BUDGET_S, check_budget, split_of, take_census
from st_memwatch.core.census.tally import Split

__all__ = [
    "DEFAULT_BUDGET_S",
    "Split",
    "check_budget",
    "estimate_cost_s",
    "estimate_pause_s",
    "last_census_size",
    "split_of",
    "take_census",
    "type_name",
]

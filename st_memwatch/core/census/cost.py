"""What a census costs in this process: the figures a caller uses to decide whether to run one.

Why: heaps differ a lot in untracked objects per tracked one, so the cost per
tracked object is learnt from this process's last census of the same kind (even
one cut short, extrapolated from the part walked), seeded by benchmark figures
before the first. The input is the previous census's size: ``len(gc.get_objects())``
is the census's own floor and its longest pause, too dear to pay twice just to
decide. All figures are CPU time of the census thread: on a machine busy with other
work every pause stretches alike, and what decides whether to space censuses out is
the census's own cost.
"""

from __future__ import annotations

from dataclasses import dataclass

# Seconds per tracked object before this process has measured its own. Benchmark figures of
# a Streamlit + pandas + plotly heap on 2 slow cores (1.6e-6 full, 2.5e-7 tracked only),
# divided by the speed-up that reading headers in bulk brought on bench_census.py's heap.
SEED_FULL_S = 8.5e-7
SEED_TRACKED_ONLY_S = 1.15e-7
# Seconds per tracked object that ``gc.get_objects()`` takes: the longest single pause of
# any census, which no budget can cut.
SEED_LISTING_S = 7e-8
# Heaps smaller than this tell little about the listing's cost per object.
MIN_HEAP_FOR_LISTING = 10_000


@dataclass(frozen=True, slots=True)
class CensusCost:
    """What one census measured, for the model to learn from (CPU seconds)."""

    tracked: int  # objects listed by gc.get_objects()
    untracked: bool  # a full census (True) or tracked objects only
    tracked_all: bool  # every tracked object was counted
    complete: bool
    reached: int  # tracked objects whose referents were walked (full census)
    listing_s: float  # gc.get_objects() alone
    tracked_s: float  # up to the end of counting tracked objects
    total_s: float


class CostModel:
    """Seconds per tracked object, full and tracked-only, and the listing's pause."""

    def __init__(self) -> None:
        self.full_s = SEED_FULL_S
        self.tracked_only_s = SEED_TRACKED_ONLY_S
        self.listing_s = SEED_LISTING_S
        self.last_size: int | None = None  # tracked objects of the last census

    def learn(self, c: CensusCost) -> None:
        """Update the figures from a census just taken; one that counted nothing teaches nothing."""
        n = c.tracked
        if n:
            if not c.untracked and c.tracked_all:
                self.tracked_only_s = c.total_s / n
            if c.complete:
                self.full_s = c.total_s / n
            elif c.untracked and c.reached:  # cut short: extrapolate from the part walked
                self.full_s = (c.tracked_s + (c.total_s - c.tracked_s) * n / c.reached) / n
        if n >= MIN_HEAP_FOR_LISTING:
            self.listing_s = c.listing_s / n
        self.last_size = n

    def cost_s(self, n_tracked: int, *, untracked: bool = True) -> float:
        return max(n_tracked, 0) * (self.full_s if untracked else self.tracked_only_s)

    def pause_s(self, n_tracked: int) -> float:
        return max(n_tracked, 0) * self.listing_s


#: The model of this process.
COST = CostModel()


def estimate_cost_s(n_tracked: int, *, untracked: bool = True) -> float:
    """Seconds a census of ``n_tracked`` tracked objects is expected to take here.

    It uses the cost per tracked object this process paid in its last census of the
    same kind (a benchmark figure before the first), so a caller can skip, space
    out, or fall back to ``untracked=False`` instead of starting a census that would
    not fit its budget and come back partial.

    >>> estimate_cost_s(0)
    0.0
    """
    return COST.cost_s(n_tracked, untracked=untracked)


def estimate_pause_s(n_tracked: int) -> float:
    """The longest single pause (GIL held) a census of ``n_tracked`` tracked objects is
    expected to cause here: ``gc.get_objects()``, one C call that no budget can cut. A
    caller whose pause limit is below it must skip the census, not shorten it. It is
    the listing's CPU time, so a moment of load elsewhere does not inflate it.

    >>> estimate_pause_s(0)
    0.0
    """
    return COST.pause_s(n_tracked)


def last_census_size() -> int | None:
    """Tracked objects the last census in this process saw: the input for ``estimate_cost_s``."""
    return COST.last_size

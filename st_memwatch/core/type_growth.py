"""Type growth between two censuses: which types gained the most bytes and objects.

It sits beside the analysis rather than in the census: the census measures one
moment, while comparing two moments is a judgement about them, and it needs only the
census results (plain data), not the machinery that made them.
"""

from __future__ import annotations

from st_memwatch.core.models import CensusResult, TypeGrowth, TypeStat

__all__ = ["diff"]


def diff(prev: CensusResult | None, cur: CensusResult, top: int = 10) -> tuple[TypeGrowth, ...]:
    """The types that grew most from ``prev`` to ``cur``: by bytes, then by count.

    Only types that grew (in bytes or in count) are listed; ties keep ``cur``'s
    order. Without ``prev`` every type counts as new.

    >>> a = CensusResult(0.0, 0.0, 1, (TypeStat("dict", 1, 64),))
    >>> b = CensusResult(1.0, 0.0, 2, (TypeStat("dict", 3, 192),))
    >>> diff(a, b)[0].bytes_delta
    128
    """
    before: dict[str, TypeStat] = prev.by_type() if prev is not None else {}
    grown: list[TypeGrowth] = []
    for s in cur.stats:
        p = before.get(s.type_name)
        dc = s.count - (p.count if p else 0)
        db = s.bytes - (p.bytes if p else 0)
        if dc > 0 or db > 0:
            grown.append(TypeGrowth(s.type_name, s.count, dc, s.bytes, db))
    grown.sort(key=lambda g: (-g.bytes_delta, -g.count_delta))
    return tuple(grown[: max(top, 0)])

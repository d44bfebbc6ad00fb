"""Module-level audit log, the way many apps keep one "for debugging".

The bug: the log lives at module level, so it outlives every rerun and every
session, and nothing ever trims it. Entries are keyed by app name so that two
corpus apps sharing a process do not see each other's entries.
"""

from __future__ import annotations

from typing import Any

# app name -> list of events, kept for the life of the process.
_AUDIT_LOG: dict[str, list[dict[str, Any]]] = {}


def record(app: str, event: dict[str, Any]) -> int:
    """Append an event to the app's log; return how many the app has logged."""
    events = _AUDIT_LOG.setdefault(app, [])
    events.append(event)
    return len(events)


def events(app: str) -> list[dict[str, Any]]:
    return _AUDIT_LOG.get(app, [])

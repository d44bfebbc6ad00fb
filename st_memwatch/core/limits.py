"""Where the memory limit comes from, and how sizes are written.

Order: explicit argument, ``ST_MEMWATCH_LIMIT``, the container's cgroup (v2, then
v1), Streamlit Community Cloud when detected, total RAM. An explicit argument that
is wrong is the author's mistake and raises; a wrong environment value is shown as
a note and the next source is used, because the app must still start.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from st_memwatch.core import probes
from st_memwatch.core.models import Limit

ENV_VAR = "ST_MEMWATCH_LIMIT"
# Community Cloud's documented ceiling (as of Feb 2024): 690 MB minimum, 2.7 GB maximum.
COMMUNITY_CLOUD_LIMIT = int(2.7 * 1000**3)

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$")
ACCEPTED_FORMS = 'a positive number of bytes (e.g. 2000000000) or a string like "2.7GB", "690MiB", "512 mb" (units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)'


MIN_LIMIT = 2**20  # no Python process fits in less: a smaller "limit" is a typo ("1.5" for "1.5GB")
# The largest object size this platform addresses (2**63 - 1 bytes on 64-bit): no memory limit can exceed it.
MAX_SIZE = sys.maxsize


def parse_limit(value: object) -> int:
    """A memory limit: a size (see ``parse_size``) of at least 1 MiB.

    >>> parse_limit("1.5GB")
    1500000000
    """
    size = parse_size(value)
    if size < MIN_LIMIT:
        raise ValueError(
            f"invalid limit {value!r}: that is {size:,} bytes, and a memory limit must be at least 1 MiB "
            f'(did you mean "{value}GB"?); expected {ACCEPTED_FORMS}'
        )
    return size


def parse_size(value: object) -> int:
    """Bytes from an int or a string such as ``"2.7GB"``; ValueError names the bad value.

    >>> parse_size("690MiB")
    723517440
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid size {value!r}: expected {ACCEPTED_FORMS}")
    if isinstance(value, int):
        number = float(value)
        unit = ""
    elif isinstance(value, float):
        number, unit = value, ""
    elif isinstance(value, str):
        match = _SIZE_RE.match(value)
        if not match:
            raise ValueError(f"invalid size {value!r}: expected {ACCEPTED_FORMS}")
        number, unit = float(match.group(1)), match.group(2).lower()
        if unit not in _UNITS:
            raise ValueError(f"invalid size {value!r}: unknown unit {match.group(2)!r}; expected {ACCEPTED_FORMS}")
    else:
        raise ValueError(f"invalid size {value!r} of type {type(value).__name__}: expected {ACCEPTED_FORMS}")
    if not math.isfinite(number):
        raise ValueError(f"invalid size {value!r}: must be a finite number; expected {ACCEPTED_FORMS}")
    if not number > 0:
        raise ValueError(f"invalid size {value!r}: must be greater than zero; expected {ACCEPTED_FORMS}")
    exact = value if isinstance(value, int) else number * _UNITS[unit]
    if exact > MAX_SIZE:
        raise ValueError(
            f"invalid size {value!r}: larger than this platform can hold (at most {MAX_SIZE:,} bytes); "
            f"expected {ACCEPTED_FORMS}"
        )
    result = value if isinstance(value, int) else int(number * _UNITS[unit])
    if result <= 0:
        raise ValueError(f"invalid size {value!r}: must be greater than zero; expected {ACCEPTED_FORMS}")
    return result


def on_community_cloud(environ: Mapping[str, str], cwd: str) -> bool:
    """Heuristic: Community Cloud runs apps as host "streamlit" from a clone under /mount/src."""
    return environ.get("HOSTNAME") == "streamlit" or cwd.startswith("/mount/src")


def resolve_limit(
    explicit: object = None,
    environ: Mapping[str, str] | None = None,
    cgroup_root: Path = probes.CGROUP_ROOT,
    cwd: str | None = None,
    total_ram: Callable[[], int] = probes.total_ram,
) -> Limit:
    """The limit in force and its source. Raises ValueError only for a bad ``explicit``."""
    if explicit is not None:
        return Limit(parse_limit(explicit), "argument", "panel(limit=...)")
    env = os.environ if environ is None else environ
    notes: list[str] = []
    raw = env.get(ENV_VAR)
    if raw is not None and raw.strip():
        try:
            return Limit(parse_limit(raw), "environment", ENV_VAR)
        except ValueError as exc:
            notes.append(f"{ENV_VAR} ignored: {exc}")
    cgroup = probes.cgroup_limit(cgroup_root)
    if cgroup is not None:
        value, version = cgroup
        return Limit(value, "cgroup-v2" if version == "v2" else "cgroup-v1", "container memory limit", tuple(notes))
    if on_community_cloud(env, os.getcwd() if cwd is None else cwd):
        return Limit(COMMUNITY_CLOUD_LIMIT, "community-cloud", "Community Cloud ceiling (2.7 GB)", tuple(notes))
    try:
        ram = total_ram()
    except Exception as exc:  # noqa: BLE001 - /proc hidden, a sandbox: the figures of the process still count
        notes.append(
            f"limit unknown: total RAM unreadable ({type(exc).__name__}: {str(exc)[:80]}); "
            f"set {ENV_VAR} or panel(limit=...)"
        )
        return Limit(0, "total-ram", "total RAM unreadable", tuple(notes))
    return Limit(ram, "total-ram", "no container limit found; total RAM", tuple(notes))


def format_bytes(n: float | None) -> str:
    """Human sizes in binary units, the way memory is usually read (MiB, GiB)."""
    if n is None:
        return "n/a"
    sign = "-" if n < 0 else ""
    n = abs(float(n))
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            if unit == "B":
                return f"{sign}{n:.0f} B"
            return f"{sign}{n:.1f} {unit}"
        n /= 1024
    return f"{sign}{n:.1f} GiB"  # pragma: no cover

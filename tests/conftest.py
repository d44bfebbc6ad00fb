"""Shared fixtures: no test may leave a sampler thread running.

``tests/`` is on ``sys.path`` so that every test folder imports the shared builders as
``builders`` (pytest's default import mode puts it there too; this keeps it so in any mode).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


@pytest.fixture(autouse=True)
def _no_leftover_sampler():
    yield
    import st_memwatch

    st_memwatch.stop()
    alive = [t.name for t in threading.enumerate() if t.name == "st_memwatch-sampler" and t.is_alive()]
    for t in threading.enumerate():
        if t.name == "st_memwatch-sampler":
            t.join(2)
    still = [t.name for t in threading.enumerate() if t.name == "st_memwatch-sampler" and t.is_alive()]
    assert not still, f"a test left sampler threads running: {alive}"

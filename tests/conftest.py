"""Shared fixtures: no test may leave a sampler thread running."""

from __future__ import annotations

import threading

import pytest


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

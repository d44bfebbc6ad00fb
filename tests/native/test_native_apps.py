"""The native test apps under AppTest: each keeps (or does not keep) real native memory, as the ledger reads it.

These check the apps themselves and the ledger's ``native`` owner on them, run by run;
whether the monitor's verdict calls each a leak is for the judgement's tests. The
monitor's own background work allocates meanwhile, so runs are compared by their
median step, with margins of 2 MiB against blocks of 4 to 16 MiB a run.
"""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path

import native_support
import pytest
from streamlit.testing.v1 import AppTest

import st_memwatch
from st_memwatch.core import probes
from st_memwatch.core.census import take_census
from st_memwatch.core.ledger import read_ledger

HERE = Path(__file__).resolve().parent
MiB = 2**20

pytestmark = pytest.mark.skipif(probes.heap_in_use() is None, reason="psutil cannot read this C allocator")


def run_app(name: str, runs: int) -> tuple[AppTest, list[int]]:
    """Run ``name`` ``runs`` times in one session; the ledger's native figure after each run."""
    at = AppTest.from_file(str(HERE / name), default_timeout=120)
    native = []
    for _ in range(runs):
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        gc.collect()  # what the server does after every run (AppTest does not)
        native.append(settled_native())
    return at, native


def settled_native() -> int:
    """The least of a few readings a moment apart: the monitor's background work (a census
    between runs) allocates transient buffers that are not the app's."""
    figures = []
    for _ in range(4):
        figures.append(read_ledger(None).native)
        time.sleep(0.05)
    return min(figures)


def steps(figures: list[int]) -> list[float]:
    return [(b - a) / MiB for a, b in zip(figures, figures[1:], strict=False)]


def test_a_c_library_keeping_8_mib_a_run_grows_native_memory_8_mib_a_run(monitor):
    _, native = run_app("app_c_library.py", 6)
    assert abs(statistics.median(steps(native)) - 8) < 2, steps(native)
    assert (native[-1] - native[0]) / MiB > 5 * 8 - 6, steps(native)


def test_images_in_session_state_are_native_memory_and_the_census_sizes_them(monitor):
    at, native = run_app("app_image_gallery.py", 6)
    assert len(at.session_state["gallery"]) == 6
    assert abs(statistics.median(steps(native)) - 4) < 2, steps(native)  # RGB kept as 4 bytes a pixel
    stat = take_census().by_type()["PIL.Image.Image"]
    assert stat.count >= 6 and stat.bytes >= 6 * 4 * MiB


def test_handles_in_a_module_registry_keep_their_native_buffers(monitor):
    _, native = run_app("app_native_registry.py", 6)
    assert len(native_support.registry) == 6
    assert abs(statistics.median(steps(native)) - 6) < 2, steps(native)


def test_a_bounded_pool_grows_until_full_then_stays(monitor):
    _, native = run_app("app_bounded_pool.py", 12)
    assert len(native_support.pool) == native_support.POOL_BOUND
    filling, full = steps(native)[:5], steps(native)[6:]
    assert abs(statistics.median(filling) - 16) < 2, filling  # two 8 MiB buffers a run
    assert abs(statistics.median(full)) < 2 and abs(sum(full)) < 8, full  # less than one buffer in all


def test_a_big_temporary_peaks_every_run_and_keeps_nothing(monitor):
    _, native = run_app("app_big_temporary.py", 6)
    # Keeps nothing: no growth over the runs (a fall is what earlier tests' memory returned).
    assert abs(statistics.median(steps(native))) < 2 and native[-1] - native[0] < 4 * MiB, steps(native)
    runs = st_memwatch.snapshot().runs[-5:]
    assert len(runs) == 5
    assert min(r.peak - r.rss_before for r in runs) > 150 * MiB, [(r.peak - r.rss_before) / MiB for r in runs]

"""One background sampler per process, writing into fixed-size buffers.

Why two tiers: the timeline needs fine detail for the last minutes (run peaks when
the kernel high-water mark is unavailable, short spikes) and a coarse view of
hours. Raw samples go into a ring of ``recent_capacity``; every ``bucket_s`` the
bucket's maximum goes into a second ring, so 24 hours cost a few hundred KB,
whatever the sampling rate. Buffers are preallocated numpy arrays: memory stays
flat once they fill, and no Python object is created per sample.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from st_memwatch.core.models import Sample


class RingBuffer:
    """Fixed-capacity (t, value) pairs; the oldest are overwritten."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"ring buffer capacity must be > 0, got {capacity!r}")
        self._t = np.zeros(capacity, dtype=np.float64)
        self._v = np.zeros(capacity, dtype=np.int64)
        self._capacity = capacity
        self._next = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        return int(self._t.nbytes + self._v.nbytes)

    def append(self, t: float, value: int) -> None:
        i = self._next
        self._t[i] = t
        self._v[i] = value
        self._next = (i + 1) % self._capacity
        if self._size < self._capacity:
            self._size += 1

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies in time order (oldest first)."""
        if self._size < self._capacity:
            return self._t[: self._size].copy(), self._v[: self._size].copy()
        order = np.r_[self._next : self._capacity, 0 : self._next]
        return self._t[order], self._v[order]

    def since(self, t0: float) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the pairs with t > t0, in time order."""
        t, v = self.arrays()
        keep = t > t0
        return t[keep], v[keep]

    def max_since(self, t0: float) -> int | None:
        t, v = self._t[: self._size], self._v[: self._size]
        mask = t >= t0
        return int(v[mask].max()) if mask.any() else None

    def clear(self) -> None:
        self._next = 0
        self._size = 0


class SampleHistory:
    """Recent raw samples plus per-bucket maxima for the long view."""

    def __init__(self, recent_capacity: int = 6000, bucket_s: float = 5.0, long_capacity: int = 17280) -> None:
        self.recent = RingBuffer(recent_capacity)
        self.long = RingBuffer(long_capacity)
        self.bucket_s = bucket_s
        self._bucket_start: float | None = None
        self._bucket_max = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        return self.recent.nbytes + self.long.nbytes

    def add(self, t: float, rss: int) -> None:
        with self._lock:
            self.recent.append(t, rss)
            if self._bucket_start is None:
                self._bucket_start, self._bucket_max = t, rss
            elif t - self._bucket_start >= self.bucket_s:
                self.long.append(self._bucket_start, self._bucket_max)
                self._bucket_start, self._bucket_max = t, rss
            elif rss > self._bucket_max:
                self._bucket_max = rss

    def max_since(self, t0: float) -> int | None:
        with self._lock:
            return self.recent.max_since(t0)

    def since(self, t0: float) -> tuple[Sample, ...]:
        """The raw samples newer than ``t0`` (for a reader that follows the history, e.g. persistence)."""
        with self._lock:
            t, v = self.recent.since(t0)
        return tuple(map(Sample, t.tolist(), v.tolist()))

    def timeline(self, max_points: int = 600, since: float | None = None) -> tuple[Sample, ...]:
        """Long-term maxima before the recent window, then recent samples, downsampled.

        Downsampling keeps each slice's maximum, so a spike is never smoothed away.
        ``since`` keeps only the samples from that time on, before downsampling: a
        short window (the gauge's sparkline) gets its points from the recent samples.
        """
        with self._lock:
            rt, rv = self.recent.arrays()
            lt, lv = self.long.arrays()
        if len(rt):
            keep = lt < rt[0]
            lt, lv = lt[keep], lv[keep]
        t = np.concatenate([lt, rt])
        v = np.concatenate([lv, rv])
        if since is not None:
            keep = t >= since
            t, v = t[keep], v[keep]
        if len(t) > max_points > 0:
            # Equal slices as rows of a padded matrix: one argmax for all of them.
            n = len(t)
            width = -(-n // max_points)
            rows = -(-n // width)
            padded = np.full(rows * width, np.iinfo(np.int64).min, dtype=np.int64)
            padded[:n] = v
            idx = np.argmax(padded.reshape(rows, width), axis=1) + np.arange(rows) * width
            t, v = t[idx], v[idx]
        return tuple(map(Sample, t.tolist(), v.tolist()))

    def clear(self) -> None:
        with self._lock:
            self.recent.clear()
            self.long.clear()
            self._bucket_start = None


class Sampler:
    """A daemon thread calling ``tick`` every ``interval_s``; start/stop are idempotent."""

    def __init__(self, tick: Callable[[], None], interval_s: float = 0.1, hurry: Callable[[], bool] = lambda: False) -> None:
        """``hurry()`` true halves the period: the sampler is then what finds a run's peak."""
        if not interval_s > 0:
            raise ValueError(f"sampler interval must be > 0 seconds, got {interval_s!r}")
        self._hurry = hurry
        self._tick = tick
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self.last_error = ""

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._guard:
            if self.running:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="st_memwatch-sampler", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        with self._guard:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self) -> None:
        # Ticks are scheduled against a deadline, so a tick's own cost and the
        # wake-up latency do not stretch the period (a 100 ms spike stays caught).
        deadline = time.monotonic()
        while not self._stop.is_set():
            deadline += self.interval_s / 2 if self._hurry() else self.interval_s
            delay = deadline - time.monotonic()
            if delay < 0:  # fell behind (a long census): restart the schedule from now
                deadline, delay = time.monotonic(), 0.0
            if self._stop.wait(delay):
                return
            try:
                self._tick()
            except Exception as exc:  # a failing probe must not kill the thread silently
                self.last_error = f"sampler: {type(exc).__name__}: {exc}"

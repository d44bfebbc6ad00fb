"""The background sampler: CPU it costs at the default rate, and the shortest spike it catches.

CPU: the process's CPU time over equal windows with the sampler running and stopped,
alternating (on/off, then off/on, ...), while the main thread only sleeps; the
sampler thread's own CPU clock is read too, and one tick is timed in a loop.

Spikes: a script-like loop begins a run on two monitors at once (monitor.run_started),
allocates and touches a 64 MiB numpy array, holds it for D ms, frees it and ends the
run (run_finished). Both monitors see the very same spike:
- ``hwm``: the default peak method, the kernel's RSS high-water mark (VmHWM, reset
  at run boundaries through /proc/self/clear_refs);
- ``sampler``: a Monitor given a mark that is unavailable, so the run's peak is the
  highest of the sampler's readings and the two boundary readings.
A spike counts as caught when the run's peak exceeds both boundary readings by at
least 90 % of the array. A random pause before each run puts the spike at a random
phase of the sampler's 100 ms period.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from typing import Any

import _benchutil as bu

NAME = "bench_sampler"
SPIKE_BYTES = 64 * 2**20
CAUGHT_SHARE = 0.9


class UnavailableMark:
    """A high-water mark that cannot be used, as where /proc/self/clear_refs is not writable."""

    available = False
    reason = "kernel high-water mark disabled by the benchmark"

    def read(self) -> int:
        raise OSError(self.reason)

    def reset(self) -> None:
        raise OSError(self.reason)


def _thread_cpu(thread: threading.Thread | None) -> float | None:
    if thread is None or thread.ident is None:
        return None
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    except (AttributeError, OSError):
        return None


def measure_cpu(window_s: float, pairs: int) -> dict[str, Any]:
    from st_memwatch.core.monitor import Monitor, Settings

    monitor = Monitor(Settings())
    interval = monitor.settings.sample_interval_s
    on_pct: list[float] = []
    off_pct: list[float] = []
    thread_pct: list[float] = []
    rates: list[float] = []
    try:
        for i in range(pairs):
            for running in ((True, False) if i % 2 == 0 else (False, True)):
                if running:
                    monitor.sampler.start()
                else:
                    monitor.sampler.stop()
                time.sleep(0.2)  # let the start/stop settle outside the window
                thread = monitor.sampler._thread if running else None
                ticks0 = _ticks(monitor)
                c0, t0, w0 = time.process_time(), _thread_cpu(thread), time.perf_counter()
                time.sleep(window_s)
                c1, t1, w1 = time.process_time(), _thread_cpu(thread), time.perf_counter()
                wall = w1 - w0
                share = (c1 - c0) / wall * 100
                if running:
                    on_pct.append(share)
                    if t0 is not None and t1 is not None:
                        thread_pct.append((t1 - t0) / wall * 100)
                    rates.append((_ticks(monitor) - ticks0) / wall)
                else:
                    off_pct.append(share)
    finally:
        monitor.close()
    # One tick, timed in a loop on this thread: the cost the sampler pays every interval.
    probe = Monitor(Settings(), start_sampler=False)
    for _ in range(100):
        probe._sample()
    n = 3000
    t = time.perf_counter()
    c = time.thread_time()
    for _ in range(n):
        probe._sample()
    tick_wall_us = (time.perf_counter() - t) / n * 1e6
    tick_cpu_us = (time.thread_time() - c) / n * 1e6
    deltas = [a - b for a, b in zip(on_pct, off_pct, strict=True)]
    med, lo, hi = bu.spread(deltas)
    return {
        "interval_s": interval,
        "window_s": window_s,
        "pairs": pairs,
        "process_cpu_on_pct": on_pct,
        "process_cpu_off_pct": off_pct,
        "sampler_cpu_pct": med,
        "sampler_cpu_pct_min": lo,
        "sampler_cpu_pct_max": hi,
        "thread_cpu_pct": bu.median(thread_pct) if thread_pct else float("nan"),
        "thread_cpu_pct_all": thread_pct,
        "ticks_per_s": bu.median(rates),
        "tick_wall_us": tick_wall_us,
        "tick_cpu_us": tick_cpu_us,
        "expected_pct_from_tick": tick_cpu_us / 1e6 / interval * 100,
    }


def _ticks(monitor: Any) -> int:
    """Samples written so far: the raw ring holds 10 minutes at 10 Hz, far more than the windows add up to."""
    return len(monitor.history.recent)


def measure_spikes(holds_ms: list[int], trials: int, seed: int = 7) -> dict[str, Any]:
    import numpy as np

    from st_memwatch.core.monitor import Monitor, Settings

    rng = random.Random(seed)
    hwm = Monitor(Settings())
    fallback = Monitor(Settings(), mark=UnavailableMark())
    monitors = {"hwm": hwm, "sampler": fallback}
    methods = {name: m.recorder.peak_source for name, m in monitors.items()}
    out: dict[str, Any] = {"methods": methods, "rows": []}
    n_items = SPIKE_BYTES // 8
    try:
        for hold in holds_ms:
            caught = {name: 0 for name in monitors}
            shares: dict[str, list[float]] = {name: [] for name in monitors}
            touch_ms: list[float] = []
            held_ms: list[float] = []
            order = list(range(trials))
            for k in order:
                time.sleep(rng.uniform(0.02, 0.12))  # a random phase against the sampler's period
                key = ("bench-spike", hold, k)
                for m in monitors.values():
                    m.run_started(key, "bench-session", "full")
                t0 = time.perf_counter()
                block = np.ones(n_items)  # allocates and writes every page: resident
                t1 = time.perf_counter()
                time.sleep(hold / 1000)
                t2 = time.perf_counter()
                del block
                records = {name: m.run_finished(key, "success") for name, m in monitors.items()}
                touch_ms.append((t1 - t0) * 1e3)
                held_ms.append((t2 - t1) * 1e3)
                for name, rec in records.items():
                    if rec is None:
                        continue
                    excess = rec.peak - max(rec.rss_before, rec.rss_after)
                    share = excess / SPIKE_BYTES
                    shares[name].append(share)
                    if share >= CAUGHT_SHARE:
                        caught[name] += 1
            for name in monitors:
                out["rows"].append({
                    "method": name,
                    "peak_source": methods[name],
                    "hold_ms": hold,
                    "trials": trials,
                    "caught": caught[name],
                    "rate": caught[name] / trials if trials else float("nan"),
                    "mean_share_seen": bu.mean(shares[name]),
                    "touch_ms_median": bu.median(touch_ms),
                    "held_ms_median": bu.median(held_ms),
                })
    finally:
        for m in monitors.values():
            m.close()
    return out


def main() -> int:
    p = bu.parser(__doc__.splitlines()[0])
    p.add_argument("--window", type=float, default=None, help="seconds per CPU window (default 6)")
    p.add_argument("--pairs", type=int, default=None, help="on/off window pairs (default 3)")
    p.add_argument("--trials", type=int, default=None, help="spikes per hold duration (default 30)")
    p.add_argument("--holds", type=str, default="1,10,50,100,200", help="hold durations in ms")
    args = p.parse_args()
    window = args.window or (0.5 if args.quick else 6.0)
    pairs = args.pairs or (1 if args.quick else 3)
    trials = args.trials or (2 if args.quick else 30)
    holds = [int(x) for x in args.holds.split(",")]
    t_start = time.perf_counter()

    cpu = measure_cpu(window, pairs)
    print(bu.table(
        ["measure", "value"],
        [
            ["sampler interval", f"{cpu['interval_s'] * 1000:.0f} ms"],
            ["ticks per second (measured)", f"{cpu['ticks_per_s']:.2f} (mean period {1000 / cpu['ticks_per_s']:.1f} ms)"],
            ["process CPU, sampler on (median)", f"{bu.median(cpu['process_cpu_on_pct']):.4f} %"],
            ["process CPU, sampler off (median)", f"{bu.median(cpu['process_cpu_off_pct']):.4f} %"],
            ["sampler = on - off, median [min, max]", f"{cpu['sampler_cpu_pct']:.4f} % [{cpu['sampler_cpu_pct_min']:.4f}, {cpu['sampler_cpu_pct_max']:.4f}] of one core"],
            ["sampler thread's own CPU clock", f"{cpu['thread_cpu_pct']:.4f} % of one core"],
            ["one tick, timed in a loop", f"{cpu['tick_cpu_us']:.1f} us CPU ({cpu['tick_wall_us']:.1f} us wall)"],
            ["tick cost x rate", f"{cpu['expected_pct_from_tick']:.4f} % of one core"],
        ],
        title=f"Sampler CPU at the default rate ({pairs} on/off pairs of {window:g} s, interleaved)",
    ))

    spikes = measure_spikes(holds, trials)
    print()
    print(bu.table(
        ["method", "peak source", "hold ms", "caught", "rate", "mean share seen", "touch ms", "held ms"],
        [[r["method"], r["peak_source"], r["hold_ms"], f"{r['caught']}/{r['trials']}", f"{r['rate']:.0%}", f"{r['mean_share_seen']:.0%}", r["touch_ms_median"], r["held_ms_median"]] for r in spikes["rows"]],
        title=f"Transient 64 MiB spikes caught as the run's peak (caught = peak >= {CAUGHT_SHARE:.0%} of the spike above both boundaries)",
    ))

    def shortest(method: str) -> float:
        ok = [r["hold_ms"] for r in spikes["rows"] if r["method"] == method and r["rate"] >= 0.95]
        return float(min(ok)) if ok else float("nan")

    rate_100 = {r["method"]: r["rate"] for r in spikes["rows"] if r["hold_ms"] == 100}
    budgets = [
        bu.budget("sampler CPU at the default rate (process on - off, median)", cpu["sampler_cpu_pct"], 0.5, "% of one core"),
    ]
    if "sampler" in rate_100:
        budgets.append(bu.budget(
            "100 ms spike caught, sampler-only fallback", round(rate_100["sampler"] * 100, 6), 95.0, "% of trials",
            note="target: reliably caught", at_least=True,
        ))
    if "hwm" in rate_100 and spikes["methods"]["hwm"] == "hwm":
        budgets.append(bu.budget("100 ms spike caught, kernel high-water mark", round(rate_100["hwm"] * 100, 6), 95.0, "% of trials", at_least=True))
    print()
    print(f"shortest hold caught in >= 95 % of trials: hwm {shortest('hwm'):g} ms, sampler-only {shortest('sampler'):g} ms")
    bu.print_budgets(budgets)
    rows = [{"kind": "cpu", **cpu}] + [{"kind": "spike", **r} for r in spikes["rows"]]
    bu.write_result(
        NAME, args,
        {"window_s": window, "pairs": pairs, "trials": trials, "holds_ms": holds, "spike_bytes": SPIKE_BYTES, "caught_share": CAUGHT_SHARE},
        rows, budgets,
        methods=spikes["methods"],
        shortest_reliable_ms={"hwm": shortest("hwm"), "sampler": shortest("sampler")},
        elapsed_s=time.perf_counter() - t_start,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

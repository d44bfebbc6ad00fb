"""Per-rerun overhead of ``st_memwatch.panel()``: the same app with and without it.

The variants run side by side in one process under Streamlit's AppTest, interleaved
(the order rotates every round), so machine noise hits them alike. Before each
configuration the process monitor is given a synthetic past: 1,000 / 10,000
RunRecords across 20 sessions and a full sample history (24 h at 10 Hz, the
buffers' capacity), as in a long-lived app; the run store is trimmed back to that
length after every measured run so the history stays the configured size.

The server runs ``gc.collect(2)`` after every run; AppTest does not, so
st_memwatch's hook does it in its place. The baseline does the same collection at
the same moment (its runner gets a receiver that collects on the stop event, and
st_memwatch's hook is off), so a difference is st_memwatch's work alone.

What is timed, per rerun:
- ``thread``: wall time of the script thread (ScriptRunner._run_script_thread),
  hooks and the post-run collection included.
- ``cpu``: that thread's CPU time (``time.thread_time``), less sensitive to other
  processes on a shared machine: the headline delta.
- ``e2e``: ``AppTest.run()`` wall time (AppTest's polling and parsing included).
- ``panel``: the ``panel()`` call alone, timed inside the script; ``hooks``: the
  monitor's run_started + run_finished (ScriptRunner events, outside the script);
  ``own`` / ``own_cpu``: the two added, per rerun, wall and CPU time (the budget,
  in CPU time: <= 1 ms median, <= 2 ms p95).

Scenarios: ``rerun`` is a session's next rerun; ``new session`` is a new session's
first run (a fresh AppTest whose session st_memwatch has never seen).

Variants: ``panel`` is the native panel (``panel(component=False)``); ``gauge`` is
the live gauge (``panel()``, components v2 or v1 as the installed Streamlit has),
mounted under AppTest as in a browser session (AppTest itself would draw the native
figures: there is no browser to draw a component); ``details`` has the details
toggle on. The gauge's polling of ``/_stcore/metrics`` happens outside script runs
and is timed apart (``metrics``).
"""

from __future__ import annotations

import gc
import sys
import threading
import time
import types
import uuid
from collections.abc import Callable
from typing import Any

import _benchutil as bu

NAME = "bench_overhead"
BOX = "_bench_overhead_box"

TRIVIAL = """
import sys, time
import streamlit as st
{imp}
_box = sys.modules["{box}"]
_t0, _c0 = time.perf_counter(), time.thread_time()
{call}
_box.panel_s["{variant}"].append(time.perf_counter() - _t0)
_box.panel_cpu["{variant}"].append(time.thread_time() - _c0)
st.write("hello")
"""

REALISTIC = """
import sys, time
import numpy as np
import pandas as pd
import streamlit as st
{imp}
_box = sys.modules["{box}"]
_t0, _c0 = time.perf_counter(), time.thread_time()
{call}
_box.panel_s["{variant}"].append(time.perf_counter() - _t0)
_box.panel_cpu["{variant}"].append(time.thread_time() - _c0)

st.title("Sales explorer")

@st.cache_data
def load(n):
    rng = np.random.default_rng(0)
    return pd.DataFrame({{
        "region": rng.choice(["north", "south", "east", "west"], n),
        "units": rng.integers(1, 100, n),
        "price": rng.random(n) * 50,
    }})

df = load(5000)
region = st.selectbox("Region", ["all", "north", "south", "east", "west"])
rows = st.slider("Rows", 10, 500, 100)
show_stats = st.checkbox("Show stats", value=True)
note = st.text_input("Note", "")
view = df if region == "all" else df[df.region == region]
st.metric("Revenue", f"{{float((view.units * view.price).sum()):,.0f}}")
st.dataframe(view.head(rows))
if show_stats:
    st.write(view.describe())
st.button("Refresh")
"""

APPS = {"trivial": TRIVIAL, "realistic": REALISTIC}


# -- harness ------------------------------------------------------------------------------
class _Timings:
    """Script-thread wall and CPU time of the latest run, recorded by a wrapper."""

    def __init__(self) -> None:
        self.last: tuple[float, float] | None = None


_timings = _Timings()


def _patch_script_thread() -> None:
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    original = LocalScriptRunner._run_script_thread
    if getattr(original, "_bench_timed", False):
        return

    def timed(self: Any) -> None:
        w0, c0 = time.perf_counter(), time.thread_time()
        try:
            original(self)
        finally:
            _timings.last = (time.perf_counter() - w0, time.thread_time() - c0)

    timed._bench_timed = True  # type: ignore[attr-defined]
    LocalScriptRunner._run_script_thread = timed  # type: ignore[method-assign]


class _Unhooked:
    """Switch st_memwatch's ScriptRunner.start wrapper off for one baseline run, keeping the server's collection.

    The server's runner runs ``gc.collect(2)`` after every run (``runner.postScriptGC``);
    AppTest's does not, so st_memwatch's hook does it in its place. The baseline does the
    same collection at the same moment (the script thread, on the run's stop event), so
    the difference between the variants is st_memwatch's work alone.
    """

    def __enter__(self) -> None:
        from streamlit.runtime.scriptrunner import ScriptRunner, ScriptRunnerEvent

        self.wrapped = ScriptRunner.start
        original = getattr(self.wrapped, "__wrapped_by_st_memwatch__", self.wrapped)
        stops = {e for e in ScriptRunnerEvent if e.name.startswith("SCRIPT_STOPPED")}

        def collect(sender: Any, event: Any = None, **payload: Any) -> None:
            if event in stops:
                gc.collect(2)

        def start(runner: Any, *args: Any, **kwargs: Any) -> Any:
            runner.on_event.connect(collect, weak=False)
            return original(runner, *args, **kwargs)

        ScriptRunner.start = start  # type: ignore[method-assign]

    def __exit__(self, *exc: object) -> None:
        from streamlit.runtime.scriptrunner import ScriptRunner

        ScriptRunner.start = self.wrapped  # type: ignore[method-assign]


class Variant:
    def __init__(self, app: str, name: str, panel: bool, details: bool, gauge: bool = False) -> None:
        from streamlit.testing.v1 import AppTest

        self.name, self.panel, self.details, self.gauge = name, panel, details, gauge
        call = "st_memwatch.panel()" if gauge else "st_memwatch.panel(component=False)"
        src = APPS[app].format(
            imp="import st_memwatch" if panel else "",
            call=call if panel else "pass",
            box=BOX,
            variant=name,
        )
        self.at = AppTest.from_string(src, default_timeout=120)
        self.samples: dict[str, list[float]] = {k: [] for k in ("thread", "cpu", "e2e", "panel", "hooks", "own", "own_cpu", "census", "sizes")}
        self.app, self.src = app, src

    def new_session(self) -> None:
        """A fresh AppTest of the same script: its next run is a new session's first run.

        AppTest gives every instance the same session id; forgetting st_memwatch's alias
        for it makes the monitor, the gate and the gauge see a session they never saw.
        """
        from streamlit.testing.v1 import AppTest

        from st_memwatch.streamlit_bridge import aliases

        with aliases._alias_lock:
            aliases._aliases.clear()
        self.at = AppTest.from_string(self.src, default_timeout=120)

    def run(self, hook_clock: _HookClock, monitor: Any, keep: bool = True) -> None:
        box = sys.modules[BOX]
        census_before = monitor.last_census
        sizes_before = monitor._sizes_throttle.last_at
        box.panel_s[self.name] = []
        box.panel_cpu[self.name] = []
        hook_clock.total = hook_clock.cpu = 0.0
        _timings.last = None
        t0 = time.perf_counter()
        if self.gauge:
            with _AsInBrowser():
                self.at.run()
        elif self.panel:
            self.at.run()
        else:
            with _Unhooked():
                self.at.run()
        e2e = time.perf_counter() - t0
        if self.at.exception:
            raise RuntimeError(f"{self.name}: the app raised: {[e.value for e in self.at.exception]}")
        # AppTest returns once the script has finished, which can be a moment before the
        # script thread leaves its wrapper: wait for its figures rather than read none.
        deadline = time.perf_counter() + 10.0
        while _timings.last is None and time.perf_counter() < deadline:
            time.sleep(0.0002)
        if _timings.last is None:
            raise RuntimeError("script thread timing missing")
        if not keep:
            return
        thread, cpu = _timings.last
        self.samples["thread"].append(thread * 1e3)
        self.samples["cpu"].append(cpu * 1e3)
        self.samples["e2e"].append(e2e * 1e3)
        if self.panel:
            self.samples["panel"].append(sum(box.panel_s[self.name]) * 1e3)
            self.samples["hooks"].append(hook_clock.total * 1e3)
            self.samples["own"].append(sum(box.panel_s[self.name]) * 1e3 + hook_clock.total * 1e3)
            self.samples["own_cpu"].append((sum(box.panel_cpu[self.name]) + hook_clock.cpu) * 1e3)
            # Did this rerun pay for a heap census / cache+session sizes (throttled work)?
            self.samples["census"].append(float(monitor.last_census is not census_before))
            self.samples["sizes"].append(float(monitor._sizes_throttle.last_at != sizes_before))

    def switch_details_on(self) -> None:
        self.at.sidebar.toggle[0].set_value(True)


class _AsInBrowser:
    """Let the panel mount its component under AppTest, as it does for a browser session."""

    def __enter__(self) -> None:
        from st_memwatch.streamlit_bridge import runs

        self.runs, self.original = runs, runs.under_apptest
        runs.under_apptest = lambda: False  # type: ignore[assignment]

    def __exit__(self, *exc: object) -> None:
        self.runs.under_apptest = self.original  # type: ignore[assignment]


class _HookClock:
    """Wraps the monitor's run hooks on the instance to time them, wall and CPU (about a microsecond)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.cpu = 0.0

    def install(self, monitor: Any) -> None:
        for name in ("run_started", "run_finished"):
            method = getattr(monitor, name)
            setattr(monitor, name, self._wrap(method))

    def _wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.total += time.perf_counter() - t0
                self.cpu += time.thread_time() - c0

        return timed


# -- synthetic history -------------------------------------------------------------------
def prefill(monitor: Any, n_runs: int, sample_hours: float, sessions: int = 20) -> None:
    """Give the monitor the past of a long-lived app: flat memory, small noise."""
    import numpy as np

    from st_memwatch.core import probes
    from st_memwatch.core.models import RunRecord

    rng = np.random.default_rng(1)
    now = time.monotonic()
    base = probes.rss()
    ids = [str(uuid.UUID(int=int(rng.integers(1 << 62)) + k)) for k in range(sessions)]
    records = []
    for i in range(n_runs):
        before = base + int(rng.integers(-2, 3)) * 4096
        after = before + int(rng.integers(-2, 3)) * 4096
        started = now - (n_runs - i) * 3.0
        records.append(RunRecord(
            run_id=i + 1, session=ids[i % sessions], kind="full", outcome="success",
            started_at=started, duration_s=0.02, rss_before=before, rss_after=after,
            peak=max(before, after) + (1 << 20), peak_source="hwm", overlapped=False,
            measured_by="hooks", heap_blocks_after=500_000 + int(rng.integers(100)),
        ))
    with monitor._lock:
        monitor.runs.clear()
        monitor.runs.extend(records)
        monitor.runs_total = n_runs
    n = int(sample_hours * 3600 / 0.1)
    t0 = now - n * 0.1
    noise = rng.integers(-64, 64, n) * 4096
    add = monitor.history.add
    for k in range(n):
        add(t0 + k * 0.1, base + int(noise[k]))


def prefill_census(monitor: Any, n_runs: int, count: int) -> None:
    """A long-lived app has had many censuses: fill the per-type series the suspects come from."""
    for k in range(count):
        try:
            monitor._run_census(float(max(1, n_runs - count + k)))
        except Exception as exc:  # the census module is optional for this benchmark
            monitor.note(f"census prefill failed: {type(exc).__name__}: {exc}")
            return


def trim(monitor: Any, n_runs: int) -> None:
    with monitor._lock:
        while len(monitor.runs) > n_runs:
            monitor.runs.popleft()


# -- breakdown ----------------------------------------------------------------------------
# Where a panel rerun's time goes: these functions are wrapped with timers (each wrapper
# costs well under a microsecond); names that no longer exist are skipped.
BREAKDOWN = [
    ("st_memwatch.core.monitor", "Monitor.run_started"),
    ("st_memwatch.core.monitor", "Monitor.run_finished"),
    ("st_memwatch.core.monitor", "Monitor._analyse"),
    ("st_memwatch.core.monitor", "Monitor._run_due_work"),
    ("st_memwatch.core.monitor", "Monitor._run_census"),
    ("st_memwatch.core.monitor", "Monitor._read_caches"),
    ("st_memwatch.core.monitor", "Monitor._read_session"),
    ("st_memwatch.core.monitor", "Monitor.snapshot"),
    ("st_memwatch.core.recorder", "RunRecorder.begin"),
    ("st_memwatch.core.recorder", "RunRecorder.end"),
    ("st_memwatch.core.analysis", "compute_trend"),
    ("st_memwatch.core.analysis", "rss_grows_steadily"),
    ("st_memwatch.core.analysis", "find_suspects"),
    ("st_memwatch.core.judgement", "suspects_for_details"),
    ("st_memwatch.core.judgement", "judge"),
    ("st_memwatch.core.probes", "container_usage"),
    ("st_memwatch.core.probes", "HighWaterMark.read"),
    ("st_memwatch.core.sampler", "SampleHistory.timeline"),
    ("st_memwatch.ui.session", "show_panel"),
    ("st_memwatch.ui.session", "decide"),
    ("st_memwatch.ui.session", "new_episodes"),
    ("st_memwatch.streamlit_bridge.visitor", "xsrf_cookie"),
    ("st_memwatch.streamlit_bridge.visitor", "configured_token"),
    ("st_memwatch.streamlit_bridge.visitor", "read_visitor"),
    ("st_memwatch.streamlit_bridge.metrics", "note_viewer"),
    ("st_memwatch.streamlit_bridge.metrics", "live_problem"),
    ("st_memwatch.streamlit_bridge.metrics", "route_requests"),
    ("st_memwatch.streamlit_bridge", "wire_sizes"),
    ("st_memwatch.streamlit_bridge.runs", "install"),
    ("st_memwatch.streamlit_bridge.runs", "under_apptest"),
    ("st_memwatch.streamlit_bridge.metrics", "register"),
    ("st_memwatch.core.monitor", "Monitor.refresh_sizes"),
    ("st_memwatch.core.monitor", "Monitor.resolve_limit"),
    ("st_memwatch.ui.component", "render_gauge"),
    ("st_memwatch.ui.component", "payload"),
    ("st_memwatch.ui.panel", "render_summary"),
    ("st_memwatch.ui.panel", "render_details"),
    ("st_memwatch.ui.figures", "timeline_figure"),
    ("st_memwatch.ui.export", "to_json"),
    ("st_memwatch.ui.export", "runs_to_csv"),
    # Module-level st.* calls (the app's own included: use the trivial app), and the
    # download buttons, which the panel calls on columns.
    ("streamlit", "markdown"),
    ("streamlit", "toggle"),
    ("streamlit", "caption"),
    ("streamlit", "dataframe"),
    ("streamlit", "plotly_chart"),
    ("streamlit.delta_generator", "DeltaGenerator.download_button"),
    ("streamlit.delta_generator", "DeltaGenerator.markdown"),
    ("streamlit.delta_generator", "DeltaGenerator.caption"),
    ("streamlit.delta_generator", "DeltaGenerator.toggle"),
    ("streamlit.delta_generator", "DeltaGenerator.warning"),
    ("streamlit.delta_generator", "DeltaGenerator.error"),
    ("streamlit.delta_generator", "DeltaGenerator.__enter__"),
]


class _Breakdown:
    """Per-rerun CPU time inside selected functions, script thread only (the sampler's calls are not counted)."""

    def __init__(self) -> None:
        import importlib

        self.current: dict[str, float] = {}
        self.per_run: dict[str, list[float]] = {}
        self.thread: int | None = None
        self.depth: dict[str, int] = {}
        for module_name, qual in BREAKDOWN:
            try:
                owner: Any = importlib.import_module(module_name)
                *path, attr = qual.split(".")
                for part in path:
                    owner = getattr(owner, part)
                fn = getattr(owner, attr)
            except (ImportError, AttributeError):
                continue
            setattr(owner, attr, self._wrap(fn, qual))
            self.per_run[qual] = []

    def _wrap(self, fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() == threading.main_thread().ident or threading.current_thread().name == "st_memwatch-sampler":
                return fn(*args, **kwargs)
            depth = self.depth.get(label, 0)
            self.depth[label] = depth + 1
            t0 = time.thread_time()  # CPU time: what a shared machine's load does not inflate much
            try:
                return fn(*args, **kwargs)
            finally:
                self.depth[label] = depth
                if depth == 0:  # recursion (render_summary calls markdown, ...) counted once
                    self.current[label] = self.current.get(label, 0.0) + time.thread_time() - t0

        timed.__wrapped__ = fn  # type: ignore[attr-defined]
        return timed

    def end_run(self) -> None:
        for label, xs in self.per_run.items():
            xs.append(self.current.get(label, 0.0) * 1e3)
        self.current = {}


def breakdown(
    app: str, n_hist: int, details: bool, runs: int, sample_hours: float, censuses: int, gauge: bool = False,
    fresh: bool = False,
) -> list[dict[str, Any]]:
    import st_memwatch

    prof = _Breakdown()
    monitor = st_memwatch._reset_for_tests()
    prefill(monitor, n_hist, sample_hours)
    prefill_census(monitor, n_hist, censuses)
    v = Variant(app, "breakdown", True, details, gauge)
    clock = _HookClock()
    for k in range(4):
        if k == 1 and details:
            v.switch_details_on()
        v.run(clock, monitor, keep=False)
        trim(monitor, n_hist)
    prof.current = {}
    for label in prof.per_run:
        prof.per_run[label] = []
    for _ in range(runs):
        if fresh:
            v.new_session()
        v.run(clock, monitor)
        prof.end_run()
        trim(monitor, n_hist)
    st_memwatch.stop()
    rows = [{"function": label, **bu.summary(xs)} for label, xs in prof.per_run.items() if any(xs)]
    rows.sort(key=lambda r: -r["median"])
    total = {"function": "(script thread CPU, whole rerun)", **bu.summary(v.samples["cpu"])}
    return [total] + rows


# -- measurement --------------------------------------------------------------------------
def measure(
    app: str, n_hist: int, variants: list[tuple[Any, ...]], rounds: int, repeats: int, warmup: int,
    sample_hours: float, censuses: int, pace_s: float = 0.0, fresh: bool = False,
) -> dict[str, Any]:
    """Interleaved reruns of ``variants``; with ``fresh``, each measured run is a new session's first run."""
    import streamlit as st

    import st_memwatch

    st.cache_data.clear()
    st.cache_resource.clear()
    monitor = st_memwatch._reset_for_tests()
    hook_clock = _HookClock()
    hook_clock.install(monitor)
    t_fill = time.perf_counter()
    prefill(monitor, n_hist, sample_hours)
    prefill_census(monitor, n_hist, censuses)
    fill_s = time.perf_counter() - t_fill
    vs = [Variant(app, *spec) for spec in variants]
    for v in vs:
        for k in range(warmup):
            if k == 1 and v.details:
                v.switch_details_on()
            v.run(hook_clock, monitor, keep=False)
            trim(monitor, n_hist)
        if v.details:
            assert v.at.session_state["st_memwatch_details"] is True, "details toggle did not stay on"
    blocks: list[dict[str, dict[str, list[float]]]] = []
    for _ in range(repeats):
        for v in vs:
            for key in v.samples:
                v.samples[key] = []
        for r in range(rounds):
            t_round = time.perf_counter()
            order = vs[r % len(vs):] + vs[: r % len(vs)]
            for v in order:
                if fresh:
                    v.new_session()
                v.run(hook_clock, monitor)
                trim(monitor, n_hist)
            if pace_s:
                time.sleep(max(0.0, pace_s - (time.perf_counter() - t_round)))
        blocks.append({v.name: {k: list(x) for k, x in v.samples.items()} for v in vs})
    extra = {
        "census_note": monitor.census_note,
        "notes": list(monitor.notes),
        "peak_method": monitor.recorder.peak_source,
        "prefill_s": fill_s,
        "history_runs": len(monitor.runs),
        "history_samples": len(monitor.history.recent) + len(monitor.history.long),
        "census_series": len(monitor._series.data),
        "pace_s": pace_s,
        "metrics_ms": metrics_cost_ms(monitor),
    }
    st_memwatch.stop()
    return {"blocks": blocks, "extra": extra}


def metrics_cost_ms(monitor: Any, n: int = 200) -> dict[str, float]:
    """One metrics request's work (snapshot + text), uncached and cached (the gauge polls ~1/s per tab)."""
    from st_memwatch.streamlit_bridge import metrics

    source = metrics._Source()
    source.monitor = monitor
    fresh, cached = [], []
    for _ in range(n):
        source._at = float("-inf")
        t0 = time.perf_counter()
        families = source.families()
        "\n".join(metrics.family_text(f) for f in families)
        fresh.append((time.perf_counter() - t0) * 1e3)
        t0 = time.perf_counter()
        source.families()
        cached.append((time.perf_counter() - t0) * 1e3)
    return {"uncached_median_ms": bu.median(fresh), "cached_median_ms": bu.median(cached)}


def analyse(app: str, n_hist: int, result: dict[str, Any], base: str, others: list[str]) -> list[dict[str, Any]]:
    rows = []
    blocks = result["blocks"]
    for name in others:
        row: dict[str, Any] = {"app": app, "history_runs": n_hist, "variant": name, "baseline": base}
        for metric in ("thread", "cpu", "e2e"):
            deltas = [bu.median(b[name][metric]) - bu.median(b[base][metric]) for b in blocks]
            paired = [bu.median([w - o for w, o in zip(b[name][metric], b[base][metric], strict=True)]) for b in blocks]
            ratios = [bu.median(b[name][metric]) / bu.median(b[base][metric]) for b in blocks]
            pooled_w = [x for b in blocks for x in b[name][metric]]
            pooled_o = [x for b in blocks for x in b[base][metric]]
            med, lo, hi = bu.spread(deltas)
            row[metric] = {
                "base_median_ms": bu.median([bu.median(b[base][metric]) for b in blocks]),
                "with_median_ms": bu.median([bu.median(b[name][metric]) for b in blocks]),
                "delta_median_ms": med,
                "delta_min_ms": lo,
                "delta_max_ms": hi,
                "delta_paired_ms": bu.median(paired),
                "ratio": bu.median(ratios),
                "delta_mean_ms": bu.mean(pooled_w) - bu.mean(pooled_o),
                "base_p95_ms": bu.quantile(pooled_o, 0.95),
                "with_p95_ms": bu.quantile(pooled_w, 0.95),
                "with_max_ms": max(pooled_w),
            }
        for metric in ("panel", "hooks", "own", "own_cpu"):
            pooled = [x for b in blocks for x in b[name][metric]]
            if pooled:
                row[metric] = bu.summary(pooled)
        for metric in ("census", "sizes"):
            pooled = [x for b in blocks for x in b[name][metric]]
            row[f"{metric}_share"] = bu.mean(pooled) if pooled else float("nan")
        row["runs_per_variant"] = sum(len(b[name]["thread"]) for b in blocks)
        row["repeats"] = len(blocks)
        row.update(result["extra"])
        rows.append(row)
    return rows


def main() -> int:
    p = bu.parser(__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=None, help="interleaved reruns per variant per repeat (always-visible part)")
    p.add_argument("--detail-rounds", type=int, default=None, help="the same with the details toggle on (0 = skip)")
    p.add_argument("--paced-rounds", type=int, default=None, help="reruns per variant one --pace apart (0 = skip)")
    p.add_argument("--pace", type=float, default=1.5, help="seconds between paced reruns, like a person clicking")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--history", type=str, default=None, help="comma-separated run-history lengths, e.g. 10,1000,10000")
    p.add_argument("--breakdown", choices=["summary", "details", "first"], default=None,
                   help="instead of the comparison: time spent per st_memwatch/Streamlit function in panel reruns "
                        "(first: in new sessions' first runs)")
    p.add_argument("--app", choices=list(APPS), default="trivial", help="app for --breakdown")
    p.add_argument("--apps", default=",".join(APPS), help="apps to compare, comma-separated (default: all)")
    p.add_argument("--gauge", action="store_true", help="--breakdown of the gauge (default: the native panel)")
    p.add_argument("--first-rounds", type=int, default=None, help="new sessions' first runs per variant per repeat (0 = skip)")
    args = p.parse_args()
    quick = args.quick
    rounds = args.rounds or (4 if quick else 80)
    detail_rounds = args.detail_rounds if args.detail_rounds is not None else (2 if quick else 5)
    paced_rounds = args.paced_rounds if args.paced_rounds is not None else (2 if quick else 8)
    pace = 0.2 if quick else args.pace
    repeats = args.repeats or (1 if quick else 3)
    histories = [int(x) for x in args.history.split(",")] if args.history else ([10] if quick else [1_000, 10_000])
    first_rounds = args.first_rounds if args.first_rounds is not None else (2 if quick else 20)
    first_history = histories[0] if quick else (1_000 if 1_000 in histories else histories[0])
    paced_history = histories[0] if quick else (1_000 if 1_000 in histories else histories[0])
    sample_hours = 0.05 if quick else 24.0
    censuses = 1 if quick else 8
    warmup = 2 if quick else 4

    from streamlit import config as st_config
    from streamlit import logger as st_logger

    # AppTest's bare-mode and deprecation chatter would drown the table. The config
    # is parsed first, or its first parse would set the level back to "info".
    st_config.get_option("logger.level")
    st_logger.set_log_level("error")
    sys.modules[BOX] = types.ModuleType(BOX)
    sys.modules[BOX].panel_s = {}  # type: ignore[attr-defined]
    sys.modules[BOX].panel_cpu = {}  # type: ignore[attr-defined]
    _patch_script_thread()

    rows: list[dict[str, Any]] = []
    t_start = time.perf_counter()
    if args.breakdown:
        n_hist = histories[-1] if args.history else 1_000
        n_runs = args.rounds or (5 if quick else (40 if args.breakdown in ("details", "first") else 300))
        rows = breakdown(
            args.app, n_hist, args.breakdown == "details", n_runs, sample_hours, censuses, args.gauge, fresh=args.breakdown == "first",
        )
        print(bu.table(
            ["function", "median ms", "mean ms", "p95 ms", "max ms"],
            [[r["function"], r["median"], r["mean"], r["p95"], r["max"]] for r in rows],
            title=(
                f"CPU time per panel rerun inside each function ({args.app} app, {'gauge' if args.gauge else 'native panel'}, "
                f"{n_hist:,} runs of history, details {'on' if args.breakdown == 'details' else 'off'}, {n_runs} "
                f"{'new sessions' if args.breakdown == 'first' else 'reruns'})"
            ),
        ))
        bu.write_result(f"{NAME}_breakdown_{args.breakdown}", args, {"app": args.app, "gauge": args.gauge, "history": n_hist, "reruns": n_runs, **{"sample_hours": sample_hours, "censuses": censuses}}, rows, [])
        return 0

    def progress(text: str) -> None:
        print(f"  {text} ({time.perf_counter() - t_start:.0f} s)", file=sys.stderr, flush=True)

    common = {"warmup": warmup, "sample_hours": sample_hours, "censuses": censuses}
    three = [("none", False, False), ("panel", True, False), ("gauge", True, False, True)]
    for app in [a for a in args.apps.split(",") if a in APPS]:
        for n_hist in histories:
            # No panel, the native panel and the live gauge, side by side in one run.
            res = measure(app, n_hist, three, rounds, repeats, **common)
            rows += [dict(r, scenario="rerun") for r in analyse(app, n_hist, res, "none", ["panel", "gauge"])]
            progress(f"{app} history={n_hist} reruns, metrics request {res['extra']['metrics_ms']}")
        if first_rounds:
            res = measure(app, first_history, three, first_rounds, repeats, fresh=True, **common)
            rows += [dict(r, scenario="new session") for r in analyse(app, first_history, res, "none", ["panel", "gauge"])]
            progress(f"{app} history={first_history} new sessions' first runs")
        for n_hist in histories if detail_rounds else ():
            res = measure(app, n_hist, [("none", False, False), ("details", True, True)], detail_rounds, repeats, **common)
            rows += [dict(r, scenario="rerun") for r in analyse(app, n_hist, res, "none", ["details"])]
            progress(f"{app} history={n_hist} details on")
        if paced_rounds:
            res = measure(app, paced_history, three, paced_rounds, 1, pace_s=pace, **common)
            rows += [dict(r, scenario=f"paced {pace:g} s") for r in analyse(app, paced_history, res, "none", ["panel", "gauge"])]
            progress(f"{app} history={paced_history} paced")

    def fmt(r: dict[str, Any]) -> list[Any]:
        th, cpu = r["thread"], r["cpu"]
        own = r.get("own_cpu", {})
        return [
            r["app"], r["history_runs"], r["scenario"], f"{r['variant']} vs {r['baseline']}",
            th["base_median_ms"], th["with_median_ms"], f"{th['ratio']:.2f}x",
            f"{th['delta_median_ms']:+.3f} [{th['delta_min_ms']:+.2f}, {th['delta_max_ms']:+.2f}]",
            cpu["base_median_ms"], cpu["with_median_ms"], f"{cpu['delta_median_ms']:+.3f}",
            th["base_p95_ms"], th["with_p95_ms"],
            r.get("panel", {}).get("median", float("nan")), r.get("hooks", {}).get("median", float("nan")),
            own.get("median", float("nan")), own.get("p95", float("nan")), own.get("max", float("nan")),
            f"{r['census_share']:.0%}", r["runs_per_variant"],
        ]

    print(bu.table(
        ["app", "history", "scenario", "compare", "wall base", "wall with", "ratio", "wall delta median [min,max]",
         "cpu base", "cpu with", "cpu delta", "base p95", "with p95", "panel()", "hooks", "own cpu median", "own cpu p95", "own cpu max",
         "census", "n"],
        [fmt(r) for r in rows],
        title=(
            f"Per-rerun overhead: script thread in ms (wall time and CPU time, the server's post-run collection in both), "
            f"medians of {repeats} interleaved repeats (spread = min/max of the repeats); panel() and hooks: wall ms; "
            "own cpu = their CPU time, pooled; census = share of reruns that ran a heap census"
        ),
    ))

    budgets = []
    for r in rows:
        what = {"panel": "native panel", "gauge": "gauge", "details": "details on"}[r["variant"]]
        head = f"{what}, {r['app']}, {r['history_runs']:,} runs"
        if r["scenario"] == "rerun" and r["variant"] in ("panel", "gauge"):
            budgets.append(bu.budget(f"{head}: panel() + hooks CPU, median", r["own_cpu"]["median"], 1.0, "ms"))
            budgets.append(bu.budget(f"{head}: panel() + hooks CPU, p95", r["own_cpu"]["p95"], 2.0, "ms"))
            budgets.append(bu.budget(f"{head}: script-thread CPU delta, median", r["cpu"]["delta_median_ms"], 1.0, "ms"))
        elif r["scenario"] == "new session":
            budgets.append(bu.budget(f"{head}: a new session's first run, CPU delta", r["cpu"]["delta_median_ms"], 5.0, "ms"))
        elif r["variant"] == "details" and r["history_runs"] == 1_000:
            budgets.append(bu.budget(f"{head}: CPU delta vs no panel", r["cpu"]["delta_median_ms"], 5.0, "ms"))
    bu.print_budgets(budgets)
    bu.write_result(
        NAME, args,
        {"rounds": rounds, "detail_rounds": detail_rounds, "first_rounds": first_rounds, "paced_rounds": paced_rounds, "pace_s": pace, "repeats": repeats,
         "histories": histories, "paced_history": paced_history, "sessions": 20, **common},
        rows, budgets, elapsed_s=time.perf_counter() - t_start,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scenarios at a person's pace: real apps under AppTest, widgets driven one click a second.

Each scenario runs a real Streamlit script with the panel in it, through AppTest,
with the real run hooks, census, cache and session_state readers and real RSS
readings. Only time is scripted: the monitor's clock moves one second per click,
and the work the sampler thread would do between two clicks is done at each run's
end, with the same throttles, so a census comes every few clicks as it does live.

A scenario records, per click, what the person sees (a box in the sidebar, a toast)
and the verdict after the run. ``run_scenario`` returns that record; the benchmark
(``verdict_scenarios.py``) prints it and the tests assert on it. Run each scenario
in a fresh process (``--scenario NAME``): RSS is process-wide, and a long test
process hands freed pages back to new arrays.
"""

from __future__ import annotations

import gc
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MIB = 2**20

TRIVIAL = """
import streamlit as st
import st_memwatch

st_memwatch.panel()
st.title("Hello")
st.button("Click me", key="go")
"""

WIDGETS = """
import streamlit as st
import st_memwatch

st_memwatch.panel()
left, right = st.columns(2)
left.metric("Visitors", 42)
right.slider("Level", 0, 100, 50, key="level")
with st.form("f"):
    st.text_input("Name", key="name")
    st.form_submit_button("Send")

@st.fragment
def counter():
    st.button("Fragment click", key="frag")

counter()
st.button("Click me", key="go")
"""

# The lab's first lesson in miniature: a model "loaded" on every run and kept in a
# module-level list (the leak), against the same model cached once.
LEAK_AFTER_QUIET = """
import sys, types
import numpy as np
import streamlit as st
import st_memwatch

st_memwatch.panel()
box = sys.modules.setdefault("scenario_models", types.ModuleType("scenario_models"))
if not hasattr(box, "loaded"):
    box.loaded = []

@st.cache_resource
def model():
    return np.ones(1_048_576)

mode = st.radio("Mode", ["cached", "leaky", "fixed"], key="mode")
if mode == "leaky":
    box.loaded.append(np.ones(1_048_576))  # 8 MiB kept on every run
else:
    m = model()
st.button("Rerun", key="go")
"""

CHAT = """
import streamlit as st
import st_memwatch

st_memwatch.panel()
if "messages" not in st.session_state:
    st.session_state.messages = []
if st.button("Ask", key="go"):
    n = len(st.session_state.messages)
    st.session_state.messages.append({"role": "assistant", "content": str(n) + "x" * 400_000})
st.write(len(st.session_state.messages), "messages")
"""

BLOBS = """
import numpy as np
import streamlit as st
import st_memwatch

st_memwatch.panel()
st.session_state.setdefault("blobs", [])
if st.button("Allocate", key="go"):
    st.session_state.blobs.append(np.ones(1_048_576))  # 8 MiB per click
st.write(len(st.session_state.blobs), "blobs")
"""

CACHE = """
import numpy as np
import streamlit as st
import st_memwatch

st_memwatch.panel()

@st.cache_data
def load_frame(day):
    return np.full(262_144, float(day))  # 2 MiB pickled per distinct day

day = st.slider("Day", 0, 400, 0, key="day")
st.write(float(load_frame(day).mean()))
"""


@dataclass
class Click:
    """What one click did and what the person saw after it."""

    n: int
    phase: str
    rss_after: int
    box: str  # the panel's box on the page after this click ("" when none)
    toast: str
    leak: bool  # the verdict after this run (what the next render and the gauge show)
    rate: float
    cause: str
    reason: str = ""  # the verdict's reason, for reading a failure


@dataclass
class Record:
    scenario: str
    clicks: list[Click] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Clock:
    def __init__(self) -> None:
        self.t = 10_000.0

    def __call__(self) -> float:
        return self.t


Action = Callable[[Any, int], None]


def _click(key: str) -> Action:
    return lambda at, i: at.button(key=key).click()


def _set(kind: str, key: str, value: Callable[[int], Any]) -> Action:
    return lambda at, i: getattr(at, kind)(key=key).set_value(value(i))


def run_scenario(source: str, phases: list[tuple[str, int, Action]], name: str, past_runs: int = 0) -> Record:
    """Drive ``source`` through ``phases`` (label, clicks, action), one second per click.

    ``past_runs`` quiet runs first, quickly (ten a second), so the process has a long
    quiet history before the person starts clicking.
    """
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import st_memwatch
    from st_memwatch.core.monitor import Monitor, Settings

    st_memwatch.stop()
    st.cache_data.clear()
    st.cache_resource.clear()
    clock = _Clock()
    monitor = Monitor(Settings(), clock=clock, start_sampler=False)
    st_memwatch._monitor = monitor
    record = Record(name)
    past_heap: list[Any] = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "app.py"
        script.write_text(textwrap.dedent(source))
        at = AppTest.from_file(str(script), default_timeout=60)
        at.run()
        if name in HEAVY_PAST:  # other code's objects, newer than what the app's first run made
            import numpy as np

            past_heap += [{"i": i, "s": [i]} for i in range(HEAVY_PAST[name])]
            past_heap += [np.ones(2**20) for _ in range(4)]
            gc.collect()
        for _ in range(past_runs):
            clock.t += 0.1
            at.run()
        n = 0
        for phase, clicks, action in phases:
            for _ in range(clicks):
                n += 1
                clock.t += 1.0
                action(at, n)
                at.run()
                snap = monitor.snapshot(timeline_points=0, max_runs=1)
                boxes = [str(e.value) for kind in ("warning", "error") for e in getattr(at.sidebar, kind)]
                toasts = [str(t.value) for t in at.toast]
                v = snap.verdict
                record.clicks.append(
                    Click(
                        n, phase, snap.runs[-1].rss_after if snap.runs else snap.rss,
                        boxes[0] if boxes else "", toasts[0] if toasts else "",
                        bool(v and v.leak), v.bytes_per_run if v else 0.0, v.cause if v else "", v.reason if v else "",
                    )
                )
        if at.exception:
            record.notes.append(f"the app raised: {at.exception[0].value}")
    st_memwatch.stop()
    past_heap.clear()
    gc.collect()
    return record


def _quiet_then(n_quiet: int, leaky: int, fixed: int) -> list[tuple[str, int, Action]]:
    return [
        ("quiet", n_quiet, _click("go")),
        ("leak", 1, _set("radio", "mode", lambda i: "leaky")),
        ("leak", leaky - 1, _click("go")),
        ("fixed", 1, _set("radio", "mode", lambda i: "fixed")),
        ("fixed", fixed - 1, _click("go")),
    ]


# The same leak in an app whose heap is big from the start: a catalogue of half a million
# small objects in @st.cache_resource (a deployed app's reference data). Too big to size
# or to count in one budget, the catalogue must not be taken for what grows.
BIG_HEAP = LEAK_AFTER_QUIET.replace(
    "st_memwatch.panel()",
    """st_memwatch.panel()

@st.cache_resource
def catalogue():
    return [{"id": i, "name": f"item {i}", "tags": [i, str(i)]} for i in range(500_000)]

catalogue()""",
)

# A past of objects made after the app's first run (700,000 small ones and four 8 MiB arrays,
# as a long test process or a busy server leaves): the list the leak fills is old and lies
# deep in the heap, where a sample cut by its budget does not reach.
HEAVY_PAST = {"leak-after-a-heavy-past": 700_000}

# name -> (source, phases, past runs, true rate of the leak phase in bytes per run, holder expected)
SCENARIOS: dict[str, tuple[str, list[tuple[str, int, Action]], int, float, str]] = {
    "trivial-fresh": (TRIVIAL, [("quiet", 20, _click("go"))], 0, 0.0, ""),
    "trivial-long-past": (TRIVIAL, [("quiet", 20, _click("go"))], 120, 0.0, ""),
    "widgets-fresh": (WIDGETS, [("quiet", 10, _click("go")), ("quiet", 10, _click("frag"))], 0, 0.0, ""),
    "leak-after-quiet": (LEAK_AFTER_QUIET, _quiet_then(12, 10, 8), 0, 8 * MIB, "scenario_models"),
    "leak-after-long-past": (LEAK_AFTER_QUIET, _quiet_then(12, 10, 8), 120, 8 * MIB, "scenario_models"),
    "leak-after-a-heavy-past": (LEAK_AFTER_QUIET, _quiet_then(6, 12, 6), 0, 8 * MIB, "scenario_models"),
    "leak-in-a-big-heap": (BIG_HEAP, _quiet_then(6, 14, 6), 0, 8 * MIB, "scenario_models"),
    "session-state-chat": (CHAT, [("quiet", 3, lambda at, i: None), ("leak", 16, _click("go"))], 0, 400_000.0, "messages"),
    "session-state-blobs": (BLOBS, [("quiet", 3, lambda at, i: None), ("leak", 10, _click("go"))], 0, 8 * MIB, "blobs"),
    "cache-unbounded": (CACHE, [("quiet", 3, lambda at, i: None), ("leak", 14, _set("slider", "day", lambda i: i))], 0, 2 * MIB, "load_frame"),
}


def summarise(record: Record, true_rate: float, holder: str) -> dict[str, Any]:
    """The figures the benchmark prints and the tests assert: alarms, detection, rate, naming, clearing."""
    clicks = record.clicks
    steady = [c for c in clicks if c.phase in ("quiet", "fixed")]
    leak = [c for c in clicks if c.phase == "leak"]
    quiet_alarms = sum(1 for c in clicks if c.phase == "quiet" and (c.box or c.toast))
    out: dict[str, Any] = {
        "scenario": record.scenario,
        "clicks": len(clicks),
        "alarms_while_quiet": quiet_alarms,
        "notes": record.notes,
    }
    if leak:
        first = next((i for i, c in enumerate(leak, 1) if c.leak), None)
        named = next((i for i, c in enumerate(leak, 1) if holder and holder in c.cause), None)
        before = clicks[clicks.index(leak[0]) - 1].rss_after if clicks.index(leak[0]) else leak[0].rss_after
        out.update(
            warned_at_leak_run=first,
            reported_rate=leak[-1].rate,
            true_rate=true_rate,
            rss_per_leak_click=(leak[-1].rss_after - before) / len(leak),
            holder_named_at_leak_run=named,
            cause=leak[-1].cause,
            toasts_in_leak=sum(1 for c in leak if c.toast),
            causes_in_leak=list(dict.fromkeys(c.cause for c in leak if c.cause)),
        )
    fixed = [c for c in clicks if c.phase == "fixed"]
    if fixed:
        out["quiet_again_at_fixed_run"] = next((i for i, c in enumerate(fixed, 1) if not c.leak), None)
        out["fixed_reasons"] = [c.reason for c in fixed if c.leak][:6]
    out["steady_clicks"] = len(steady)
    return out

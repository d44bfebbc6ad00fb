"""Cache and session_state sizes read from real Streamlit caches, through AppTest.

AppTest runs the script in this process, so the caches it fills are the ones
``read_caches`` sees. Caches are process-global: every test starts and ends empty.
"""

from __future__ import annotations

import gc
import inspect
import json
import pickle
import re
import sys
import threading
import time

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from st_memwatch.core.sizing import DeepSizer, deep_size, deep_size_many
from st_memwatch.streamlit_bridge.caches import read_caches, read_session

MB = 1024 * 1024
ST_VERSION = tuple(int(p) for p in st.__version__.split(".")[:2])


@pytest.fixture(autouse=True)
def empty_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def run(script: str, times: int = 1) -> AppTest:
    at = AppTest.from_string(script, default_timeout=30)
    for _ in range(times):
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def by_name(caches):
    return {(c.kind, c.function): c for c in caches}


# ---------------------------------------------------------------- caches

CACHES_SCRIPT = """
import datetime
import numpy as np
import streamlit as st

@st.cache_data(ttl=600, max_entries=5)
def load_table(n):
    return b"x" * n

@st.cache_data
def plain(n):
    return list(range(n))

@st.cache_data(ttl=datetime.timedelta(minutes=2))
def timed():
    return "t"

@st.cache_resource
def load_model():
    return {"weights": np.ones(1024 * 1024 // 8)}

@st.cache_resource(ttl=30, max_entries=2)
def connect(name):
    return bytearray(50_000)

class Repo:
    @st.cache_data
    def rows(_self):
        return [1, 2, 3]

load_table(100_000)
load_table(200_000)
plain(10)
timed()
load_model()
connect("a")
Repo().rows()
"""


def test_reads_every_cache_with_name_kind_entries_and_bounds():
    run(CACHES_SCRIPT)
    caches, notes = read_caches()
    assert notes == []
    found = by_name(caches)
    assert set(found) == {
        ("data", "load_table"),
        ("data", "plain"),
        ("data", "timed"),
        ("data", "Repo.rows"),
        ("resource", "load_model"),
        ("resource", "connect"),
    }
    table = found[("data", "load_table")]
    assert (table.entries, table.ttl_s, table.max_entries) == (2, 600.0, 5)
    assert table.bounded and not table.growing
    plain = found[("data", "plain")]
    assert (plain.entries, plain.ttl_s, plain.max_entries) == (1, None, None)
    assert not plain.bounded
    assert found[("data", "timed")].ttl_s == 120.0
    model = found[("resource", "load_model")]
    assert (model.entries, model.ttl_s, model.max_entries) == (1, None, None)
    connect = found[("resource", "connect")]
    assert (connect.entries, connect.ttl_s, connect.max_entries) == (1, 30.0, 2)
    # Sorted by kind, then name: the same caches always come out in the same order.
    assert caches == sorted(caches, key=lambda c: (c.kind, c.function))


def test_cache_data_bytes_are_the_pickled_entries():
    run(CACHES_SCRIPT)
    found = by_name(read_caches()[0])
    table = found[("data", "load_table")]
    assert table.bytes_method == "pickled" and table.bytes_exact
    # Both payloads, pickled with the replay messages Streamlit stores beside them.
    assert table.bytes > 300_000
    assert table.bytes < 300_000 + 10_000
    plain = found[("data", "plain")]
    assert plain.bytes >= len(pickle.dumps(list(range(10))))


def test_cache_resource_bytes_are_a_deep_size_of_the_values():
    run(CACHES_SCRIPT)
    found = by_name(read_caches(deep_size_budget_s=1.0)[0])
    model = found[("resource", "load_model")]
    assert model.bytes_method == "deep-size" and model.bytes_exact
    assert MB <= model.bytes < MB + 50_000
    connect = found[("resource", "connect")]
    assert 50_000 <= connect.bytes < 60_000


def test_resource_deep_size_cut_short_by_its_budget_is_marked_inexact():
    run(
        """
import streamlit as st

@st.cache_resource
def index():
    return [[i, str(i)] for i in range(300_000)]

index()
"""
    )
    caches, _ = read_caches(deep_size_budget_s=0.0)
    (usage,) = caches
    assert usage.kind == "resource" and usage.entries == 1
    assert usage.bytes_method == "deep-size"
    assert usage.bytes_exact is False
    assert usage.bytes is not None and usage.bytes >= 0
    full = read_caches(deep_size_budget_s=30.0)[0][0]
    assert full.bytes_exact is True
    assert full.bytes > 300_000 * 50


def test_bounded_cache_never_exceeds_max_entries():
    at = AppTest.from_string(
        """
import streamlit as st

@st.cache_data(max_entries=3)
def bounded(i):
    return "b" * 1000 + str(i)

@st.cache_data
def unbounded(i):
    return "u" * 1000 + str(i)

start = st.session_state.get("start", 0)
for i in range(start, start + 4):
    bounded(i)
    unbounded(i)
st.session_state["start"] = start + 4
""",
        default_timeout=30,
    )
    for run_no in range(1, 5):
        at.run()
        assert not at.exception
        found = by_name(read_caches()[0])
        assert found[("data", "bounded")].entries == 3
        assert found[("data", "bounded")].max_entries == 3
        assert found[("data", "unbounded")].entries == 4 * run_no


def test_reading_keeps_no_reference_to_cached_values():
    at = run(
        """
import weakref
import streamlit as st

class Model:
    def __init__(self):
        self.weights = bytearray(100_000)

@st.cache_resource
def model():
    return Model()

st.session_state["ref"] = weakref.ref(model())
"""
    )
    ref = at.session_state["ref"]
    caches, _ = read_caches()
    assert caches[0].bytes >= 100_000
    assert ref() is not None
    st.cache_resource.clear()
    gc.collect()
    assert ref() is None, "read_caches kept a reference to a cached value"


def _supports(param: str) -> bool:
    return param in inspect.signature(type(st.cache_resource).__call__).parameters


@pytest.mark.skipif(not _supports("on_release"), reason="no on_release in this Streamlit")
def test_reading_expired_entries_does_not_reap_them_or_run_on_release():
    # Since on_release exists, len() on Streamlit's TTL cache reaps expired entries and
    # calls the user's on_release: reading sizes must not do that behind the app's back.
    at = run(
        """
import streamlit as st

released = st.session_state.setdefault("released", [])

@st.cache_resource(ttl=0.2, on_release=released.append)
def short_lived():
    return "value"

short_lived()
"""
    )
    time.sleep(0.3)
    caches, notes = read_caches()
    assert notes == []
    (usage,) = caches
    assert usage.entries == 0  # expired entries are not live
    assert at.session_state["released"] == [], "reading sizes reaped an entry and ran on_release"


def test_same_name_in_two_places_is_disambiguated_deterministically():
    at = AppTest.from_string(
        """
import streamlit as st

@st.cache_data
def load():
    return 1

load()
""",
        default_timeout=30,
    )
    at.run()
    # The same function edited while the app runs: Streamlit keys caches by source,
    # so the old cache stays behind under the same display name.
    at2 = AppTest.from_string(
        """
import streamlit as st

@st.cache_data
def load():
    return 2

load()
""",
        default_timeout=30,
    )
    at2.run()
    names = [c.function for c in read_caches()[0]]
    assert len(names) == 2 and len(set(names)) == 2
    assert all(n.startswith("load@") for n in names)
    assert names == [c.function for c in read_caches()[0]]


def test_same_qualname_in_another_module_gets_the_module_prefix():
    run(
        """
import sys
import types
import streamlit as st

mod = sys.modules.get("helpers_for_memwatch_test")
if mod is None:
    mod = types.ModuleType("helpers_for_memwatch_test")
    exec("import streamlit as st\\n@st.cache_data\\ndef load():\\n    return 'h'\\n", mod.__dict__)
    sys.modules[mod.__name__] = mod

@st.cache_data
def load():
    return "main"

load()
mod.load()
"""
    )
    try:
        names = sorted(c.function for c in read_caches()[0])
        assert names == ["helpers_for_memwatch_test.load", "load"]
    finally:
        sys.modules.pop("helpers_for_memwatch_test", None)


@pytest.mark.skipif(ST_VERSION < (1, 50), reason="session-scoped caches are newer than this Streamlit")
def test_session_scoped_cache_is_named_by_its_session():
    run(
        """
import streamlit as st

@st.cache_resource(scope="session")
def per_user():
    return bytearray(10_000)

@st.cache_resource
def shared():
    return bytearray(10_000)

per_user()
shared()
"""
    )
    names = sorted(c.function for c in read_caches()[0])
    # Named by the session's alias: no part of the session id ("test session id" under AppTest).
    assert re.fullmatch(r"per_user \[session s\d+\]", names[0]), names
    assert "test" not in names[0]
    assert names[1] == "shared"


def test_a_busy_cache_is_reported_not_waited_for():
    run(CACHES_SCRIPT)
    from streamlit.runtime.caching import cache_resource_api

    lock = cache_resource_api._resource_caches._caches_lock
    lock.acquire()
    try:
        t0 = time.perf_counter()
        caches, notes = read_caches()
        waited = time.perf_counter() - t0
    finally:
        lock.release()
    assert waited < 5
    assert {c.kind for c in caches} == {"data"}
    assert len(notes) == 1 and notes[0].startswith("st.cache_resource sizes unavailable on streamlit ")
    assert "busy" in notes[0]


def test_moved_internals_degrade_to_a_note(monkeypatch):
    run(CACHES_SCRIPT)
    from streamlit.runtime.caching import cache_data_api

    monkeypatch.setattr(cache_data_api, "_data_caches", object())
    caches, notes = read_caches()
    assert {c.kind for c in caches} == {"resource"}
    version = ".".join(st.__version__.split(".")[:2])
    assert notes == [f"st.cache_data sizes unavailable on streamlit {version}: no _function_caches on object"]


def test_no_caches_no_notes():
    assert read_caches() == ([], [])


# ---------------------------------------------------------------- session state

SESSION_SCRIPT = """
import dataclasses
import json
import streamlit as st
from st_memwatch.streamlit_bridge.caches import read_session

st.session_state.setdefault("history", []).append(bytearray(100_000))
st.session_state["small"] = 1
st.text_input("Name", key="name")
st.text_input("No key")
notes = []
usage = read_session(deep_size_budget_s=1.0, notes=notes)
st.text(json.dumps(dataclasses.asdict(usage) if usage else None))
st.text(json.dumps(notes))
"""


def test_session_state_size_grows_with_what_the_script_keeps():
    at = AppTest.from_string(SESSION_SCRIPT, default_timeout=30)
    sizes = []
    for _ in range(4):
        at.run()
        assert not at.exception
        usage = json.loads(at.text[0].value)
        assert json.loads(at.text[1].value) == []
        sizes.append(usage["bytes"])
        # User keys and keyed widgets; no keyless widget, no internal key.
        assert usage["keys"] == 3
        assert usage["session"]
        # AppTest has no real server runtime: the count is unknown, not a crash.
        assert usage["active_sessions"] is None
        largest = usage["largest_keys"]
        assert [k for k, _ in largest][0] == "history"
        assert {k for k, _ in largest} == {"history", "small", "name"}
        assert all(isinstance(k, str) and isinstance(v, int) for k, v in largest)
    for a, b in zip(sizes, sizes[1:], strict=False):
        assert b - a >= 100_000
    assert sizes[-1] >= 400_000


def test_session_state_budget_cut_short_is_noted():
    at = run(
        """
import json
import streamlit as st
from st_memwatch.streamlit_bridge.caches import read_session

st.session_state["rows"] = [[i, str(i)] for i in range(200_000)]
notes = []
usage = read_session(deep_size_budget_s=0.0, notes=notes)
st.text(json.dumps([usage.keys, usage.bytes, notes]))
"""
    )
    keys, size, notes = json.loads(at.text[0].value)
    assert keys == 1 and size >= 0
    assert notes == ["session_state size is a lower bound: the 0 ms budget ran out"]


def test_read_session_outside_a_run_returns_none_with_a_reason():
    notes: list[str] = []
    assert read_session(notes=notes) is None
    assert notes == ["session_state size unavailable: not called from a script run"]
    notes.clear()
    assert read_session("no-such-session", notes=notes) is None
    assert len(notes) == 1 and notes[0].startswith("session_state size unavailable")


def test_read_session_for_another_session_under_apptest_degrades():
    at = run(
        """
import json
import streamlit as st
from st_memwatch.streamlit_bridge.caches import read_session

notes = []
usage = read_session("some-other-session", notes=notes)
st.text(json.dumps([usage is None, notes]))
"""
    )
    is_none, notes = json.loads(at.text[0].value)
    assert is_none
    assert notes == ["session_state size unavailable: no server runtime in this process"]


# ---------------------------------------------------------------- deep size


def test_deep_size_counts_a_1mb_numpy_array_once():
    arr = np.zeros(MB, dtype=np.uint8)
    size, exact = deep_size(arr, budget_s=1.0)
    assert exact and MB <= size < MB + 1_000
    # Views share the base buffer: counted once, plus small headers.
    size, exact = deep_size([arr, arr[10:], arr[::2], arr.reshape(1024, 1024)], budget_s=1.0)
    assert exact and MB <= size < MB + 2_000
    # A view alone still accounts for the buffer it keeps alive.
    size, _ = deep_size({"view": arr[:10]}, budget_s=1.0)
    assert size >= MB


def test_deep_size_respects_its_budget():
    huge = [[i, str(i), {"k": i}] for i in range(300_000)]
    size, exact = deep_size(huge, budget_s=0.001)
    assert exact is False
    assert size >= sys.getsizeof(huge)
    full, exact = deep_size(huge, budget_s=60.0)
    assert exact is True and full > size


def test_deep_size_budget_is_deterministic_with_a_fake_clock():
    ticks = iter(range(10**9))

    def clock() -> float:
        return next(ticks) * 0.001  # every reading: 1 ms later

    huge = [[i] for i in range(100_000)]
    size, exact = deep_size(huge, budget_s=0.0025, clock=clock)
    assert exact is False
    assert size < deep_size(huge, budget_s=60.0)[0]


def test_deep_size_skips_modules_classes_and_functions():
    class Holder:
        pass

    h = Holder()
    h.mod = np
    h.cls = Holder
    h.fn = test_deep_size_skips_modules_classes_and_functions
    h.data = bytearray(10_000)
    size, exact = deep_size(h, budget_s=1.0)
    assert exact and 10_000 <= size < 12_000
    assert deep_size(np, budget_s=1.0) == (0, True)


def test_shared_objects_are_counted_once():
    shared = bytearray(50_000)
    size, _ = deep_size_many([{"a": shared}, {"b": shared}], budget_s=1.0)
    assert 50_000 <= size < 51_000
    sizer = DeepSizer()
    first, _ = sizer.measure([shared], 1.0)
    second, _ = sizer.measure([shared], 1.0)
    assert first >= 50_000 and second < 1_000


def test_deep_size_survives_a_container_resized_by_another_thread():
    d = {i: i for i in range(50_000)}
    stop = threading.Event()

    def churn():
        i = 10**6
        while not stop.is_set():
            d[i] = i
            d.pop(i, None)
            i += 1

    t = threading.Thread(target=churn, daemon=True)
    t.start()
    try:
        for _ in range(20):
            size, _exact = deep_size(d, budget_s=1.0)
            assert size > 0
    finally:
        stop.set()
        t.join(5)

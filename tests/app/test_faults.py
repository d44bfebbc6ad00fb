"""Faults the panel meets in the wild, each a short specific line, never a broken panel."""

from __future__ import annotations

import psutil
from streamlit.testing.v1 import AppTest

import st_memwatch
from st_memwatch.core import probes


def sidebar_text(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "warning", "error") for e in getattr(at.sidebar, kind))


def test_memory_figures_still_shown_when_only_total_ram_is_unreadable(monitor, monkeypatch):
    def unreadable():
        raise PermissionError("/proc/meminfo hidden")

    monkeypatch.delenv("ST_MEMWATCH_LIMIT", raising=False)
    monkeypatch.setattr(probes, "cgroup_limit", lambda root=None: None)
    monkeypatch.setattr(psutil, "virtual_memory", unreadable)
    monkeypatch.setattr(probes.os, "sysconf", lambda name: (_ for _ in ()).throw(ValueError(name)))
    at = AppTest.from_string("import streamlit as st\nimport st_memwatch\nst_memwatch.panel()\nst.write('ok')")
    at.run(timeout=30)
    text = sidebar_text(at)
    assert not at.exception
    assert "Memory" in text and "MiB" in text, text  # the process's own figures are there
    assert "limit unknown: total RAM unreadable (PermissionError: /proc/meminfo hidden)" in text, text
    assert "st_memwatch: " not in text.split("limit unknown")[0], "the boundary's catch-all line replaced the panel"


def test_total_ram_falls_back_to_the_c_library_when_psutil_cannot_read_it(monkeypatch):
    monkeypatch.setattr(psutil, "virtual_memory", lambda: (_ for _ in ()).throw(OSError("no /proc")))
    assert probes.total_ram() > 1 << 20


CLASSLESS = """
import streamlit as st
from st_memwatch.streamlit_bridge.caches import read_caches

class Classless:
    armed = False

    @property
    def __class__(self):
        if Classless.armed:
            raise RuntimeError("no class for you")
        return Classless

@st.cache_resource
def odd():
    return Classless()

odd()
Classless.armed = True
caches, notes = read_caches(0.05)
Classless.armed = False
for c in caches:
    st.write(f"{c.function} {c.entries} {c.bytes} {c.bytes_method}")
for n in notes:
    st.write("NOTE " + n)
"""


def test_a_cache_whose_class_raises_keeps_its_entry_count_and_says_size_unknown(monitor):
    at = AppTest.from_string(CLASSLESS)
    at.run(timeout=30)
    lines = [m.value for m in at.markdown]
    assert not at.exception, at.exception
    assert "odd 1 None unknown" in lines, lines
    assert any(x.startswith("NOTE size of cache 'odd' unknown (1 entries)") and "RuntimeError: no class for you" in x for x in lines), lines


def test_a_run_interrupted_by_a_rerun_on_another_runner_is_a_rerun_not_a_stop(monitor):
    """What Streamlit does for a click mid-run: a new runner starts, the old one stops prematurely."""
    from streamlit.runtime.scriptrunner import ScriptRunnerEvent as Ev

    from st_memwatch.streamlit_bridge.runs import _RunnerWatch

    class Sender:
        _session_state: dict = {}

    old = _RunnerWatch(monitor, "s-fault", Ev, None)
    new = _RunnerWatch(monitor, "s-fault", Ev, None)
    old.on_event(Sender(), event=Ev.SCRIPT_STARTED, fragment_ids_this_run=None)
    new.on_event(Sender(), event=Ev.SCRIPT_STARTED, fragment_ids_this_run=None)
    old.premature = True
    old.on_event(Sender(), event=Ev.SCRIPT_STOPPED_WITH_SUCCESS)
    new.on_event(Sender(), event=Ev.SCRIPT_STOPPED_WITH_SUCCESS)
    # The stop button: a premature stop with no newer run of the session.
    new.on_event(Sender(), event=Ev.SCRIPT_STARTED, fragment_ids_this_run=None)
    new.premature = True
    new.on_event(Sender(), event=Ev.SCRIPT_STOPPED_WITH_SUCCESS)
    # A runner shut down while a newer one of the session runs.
    third = _RunnerWatch(monitor, "s-fault", Ev, None)
    fourth = _RunnerWatch(monitor, "s-fault", Ev, None)
    third.on_event(Sender(), event=Ev.SCRIPT_STARTED, fragment_ids_this_run=None)
    fourth.on_event(Sender(), event=Ev.SCRIPT_STARTED, fragment_ids_this_run=None)
    third.on_event(Sender(), event=Ev.SHUTDOWN, client_state=None)
    outcomes = [r.outcome for r in monitor.runs]
    assert outcomes == ["rerun", "success", "stopped", "rerun"], outcomes


FORM_APP = """
import streamlit as st
import st_memwatch

with st.form("f"):
    st_memwatch.panel(location={location!r}, actions=True)
    st.text_input("name")
    st.form_submit_button("Send")
"""


def test_details_downloads_and_actions_work_when_the_panel_is_called_inside_a_form(monitor):
    for location in ("sidebar", "main"):
        at = AppTest.from_string(FORM_APP.format(location=location))
        at.run(timeout=30)
        toggle = at.sidebar.toggle[0]
        assert toggle.form_id == "", f"{location}: the details toggle belongs to the form and would wait for Send"
        toggle.set_value(True).run(timeout=30)
        assert not at.exception
        assert len(at.sidebar.get("download_button")) == 2 or at.sidebar.button, location
        assert not any(c.value.startswith("st_memwatch: Streamlit") for c in at.sidebar.caption), location
        assert {"Clear all caches", "Full garbage collection"} <= {b.label for b in at.sidebar.button}
        if location == "main":
            assert any("inside st.form" in c.value for c in at.sidebar.caption)
        st_memwatch.stop()


BIG_CACHE = """
import streamlit as st
from st_memwatch.streamlit_bridge.caches import read_caches

@st.cache_resource
def frames():
    return [bytearray(1024) for _ in range(60_000)]  # ~60 MiB in 60,000 objects

frames()
sizes = []
for _ in range(14):
    cache = [c for c in read_caches(0.001)[0] if c.function == "frames"][0]
    sizes.append((cache.bytes, cache.bytes_exact))
    if cache.bytes_exact:
        break
for size, exact in sizes:
    st.write(f"{size} {exact}")
"""


def test_a_big_cache_is_sized_over_later_reads_instead_of_staying_a_small_lower_bound(monitor):
    at = AppTest.from_string(BIG_CACHE)
    at.run(timeout=120)
    rows = [m.value.split() for m in at.markdown]
    assert not at.exception, at.exception
    first_size, first_exact = int(rows[0][0]), rows[0][1] == "True"
    last_size, last_exact = int(rows[-1][0]), rows[-1][1] == "True"
    assert not first_exact and first_size < 30 << 20, rows[:3]  # the first read's budget is far too small
    assert last_exact and last_size > 60 << 20, rows[-3:]
    sizes = [int(r[0]) for r in rows]
    assert sizes == sorted(sizes), "the reported lower bound went down between reads"


HISTORY_APP = "import streamlit as st\nimport st_memwatch\nst_memwatch.panel()\nst.write('ok')"


def test_a_disk_that_fills_while_the_app_runs_is_a_note_in_the_panel(monitor, monkeypatch, tmp_path):
    """SQLite's own "database or disk is full" (its page budget, as a full disk gives) after the first run."""
    monkeypatch.setenv("ST_MEMWATCH_HISTORY", str(tmp_path / "app.sqlite3"))
    at = AppTest.from_string(HISTORY_APP)
    at.run(timeout=30)
    follower = st_memwatch._follower
    assert follower is not None and follower.store is not None and follower.store.on
    assert "history off" not in sidebar_text(at)
    conn = follower.store._conn
    assert conn is not None
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")  # the disk is full now
    follower.store.write([(1_700_000_000.0 + i, i) for i in range(20_000)], [], 0.0)
    follower.step()  # the history thread's next pull
    at.run(timeout=30)
    text = sidebar_text(at)
    assert not at.exception
    assert "history off after a failed write (OperationalError: database or disk is full)" in text, text

"""The apps the harness drives, each with what a person clicks and what the panel should say.

``kind``:
- ``healthy``: an app of ours that keeps nothing growing (goal: no alarm at all);
- ``good``: a lab lesson's good variant, or a variant that keeps nothing growing (goal: no alarm);
- ``leak``: memory grows without bound (goal: warned within 4 clicks, ``holder`` named within 8).

A plan's step ``i`` (1-based) does one thing a person does (a click, a key, a typed
message, an upload) through :class:`Drive`, which remembers the tab whose run to wait for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from browser import Tab

HERE = Path(__file__).resolve().parent
APPS = HERE / "apps"
DEMO = HERE.parents[1] / "demo_app.py"
LAB_SCALE = "0.1"  # the lab's "model" is 30 MiB instead of 300: each lab server stays well under 1 GiB
MAX_VISITOR_TABS = 6  # lesson 7 opens up to this many more tabs (each a session)


class Drive:
    """The browser side of one app: its first tab, the tabs opened since, and the run to wait for."""

    def __init__(self, browser: Any, url: str) -> None:
        self.browser = browser
        self.url = url
        self.tabs: list[Tab] = []
        self.pending: tuple[Tab, int] | None = None

    @property
    def main(self) -> Tab:
        return self.tabs[0]

    def open(self, path: str = "") -> Tab:
        tab = Tab(self.browser, self.url + path)
        self.tabs.append(tab)
        self.pending = (tab, 0)
        return tab

    def open_page(self, title: str) -> Tab:
        """A new tab on the app's first page, then its sidebar link to ``title``, as a visitor gets there.

        (Opening a page's own URL works too on recent Streamlit, but 1.40 covers it with a
        "Page not found" dialog while it runs the page.)
        """
        tab = self.open()
        tab.wait_loaded()
        self.act(tab, lambda: tab.nav(title, exact=False))
        return tab

    def act(self, tab: Tab, do: Callable[[], str]) -> str:
        """Do one thing in ``tab``; the harness then waits for the run it starts."""
        before = tab.finished
        label = do()
        self.pending = (tab, before)
        return label

    def settle_pending(self) -> None:
        """Wait for the pending run (a step made of two actions calls this between them)."""
        if self.pending is not None:
            tab, before = self.pending
            tab.wait_run(before)

    def close(self) -> None:
        for tab in self.tabs:
            tab.close()


Step = Callable[[Drive, int], str]


@dataclass(frozen=True)
class App:
    name: str
    kind: str  # healthy | good | leak
    what: str
    script: Path
    step: Step
    page: str = ""  # the page to go to through the sidebar's navigation (a lab lesson's title), "" = the first
    holder: str = ""  # a leak's holder as the box should name it (a substring, case-insensitive)
    env: dict[str, str] = field(default_factory=dict)
    past: Callable[[Drive], None] | None = None  # what the process went through before the counted clicks


def csv_file(i: int, rows: int = 500) -> bytes:
    """A small CSV, different for every ``i``."""
    lines = ["value,other,label"]
    lines += [f"{(i * 7919 + r * 31) % 1000 / 10:.1f},{(r * i) % 97},row{r}" for r in range(rows)]
    return ("\n".join(lines) + "\n").encode()


# -- steps --------------------------------------------------------------------------------
def press(name: str) -> Step:
    return lambda d, i: d.act(d.main, lambda: d.main.button(name))


def slide(d: Drive, i: int) -> str:
    key = "ArrowRight" if (i - 1) % 30 < 15 else "ArrowLeft"  # 15 steps up, 15 down, ...
    return d.act(d.main, lambda: d.main.slider(key))


def fill_form(d: Drive, i: int) -> str:
    values = {"Customer name": f"Customer {i}", "Quantity": str(1 + i % 9), "Note": f"deliver by day {i}"}
    return d.act(d.main, lambda: d.main.form(values, "Submit order"))


def chat(d: Drive, i: int) -> str:
    return d.act(d.main, lambda: d.main.chat(f"How do I fix problem number {i} with my order?"))


def upload_or_pick(d: Drive, i: int) -> str:
    if i % 3 == 0:
        option = "other" if (i // 3) % 2 else "value"
        return d.act(d.main, lambda: d.main.selectbox(option))
    return d.act(d.main, lambda: d.main.upload(f"data_{i}.csv", csv_file(i)))


def navigate(d: Drive, i: int) -> str:
    title = ("Table", "Settings", "Overview")[(i - 1) % 3]
    return d.act(d.main, lambda: d.main.nav(title))


def ask(d: Drive, i: int) -> str:
    return d.act(d.main, lambda: d.main.text_input("Your question", f"what is the answer to question {i}?"))


def pick_district(d: Drive, i: int) -> str:
    option = ("north", "south", "east", "west", "all")[(i - 1) % 5]
    return d.act(d.main, lambda: d.main.selectbox(option))


def edit(d: Drive, i: int) -> str:
    # Rows three apart: Enter moves the selection down one row, and the next click selects a cell away from it.
    return d.act(d.main, lambda: d.main.edit_cell(3 * ((i - 1) % 3), 0, str(10 + i)))


def lab_step(variant: str) -> Step:
    """A lesson's variant: choose it (the page opens on the bad one), then "Rerun once" at every click."""

    def step(d: Drive, i: int) -> str:
        if i == 1 and variant == "good":
            return d.act(d.main, lambda: d.main.radio("Good:"))
        return d.act(d.main, lambda: d.main.button("Rerun once"))

    return step


def visitors_step(variant: str) -> Step:
    """Lesson 7: every other click opens the lesson in one more tab (a new session), up to MAX_VISITOR_TABS."""

    def step(d: Drive, i: int) -> str:
        if i == 1 and variant == "good":
            return d.act(d.main, lambda: d.main.radio("Good:"))
        if i % 2 == 0 and len(d.tabs) <= MAX_VISITOR_TABS:
            tab = d.open_page(VISITORS)
            if variant == "good":  # a new session opens on the bad variant too: the visitor chooses
                d.settle_pending()
                return d.act(tab, lambda: tab.radio("Good:")) + " in a new tab"
            return "a new tab"
        return d.act(d.main, lambda: d.main.button("Rerun once"))

    return step


def _app(name: str, kind: str, what: str, step: Step, holder: str = "") -> App:
    return App(name, kind, what, APPS / f"{name}.py", step, holder=holder)


LESSONS = [  # (number, short name, title in the menu, expected holder of the bad variant or "" when not a leak)
    (1, "model", "1 · Load the model once", "_registry"),
    (2, "caches", "2 · Bound your caches", "features_unbounded"),
    (3, "session", "3 · Session state that hoards", "lab_results"),
    (4, "bigdata", "4 · Big data: memory vs. disk", ""),
    (5, "peak", "5 · Peak vs. leak", "state.kept"),
    (6, "free", "6 · Free what you hold", ""),
    (7, "visitors", "7 · Many visitors", ""),
]
VISITORS = LESSONS[-1][2]


def _lab_apps() -> list[App]:
    out = []
    for number, short, title, holder in LESSONS:
        for variant in ("bad", "good"):
            kind = "leak" if variant == "bad" and holder else "good"
            step = visitors_step(variant) if title == VISITORS else lab_step(variant)
            what = f"lab lesson {number} ({short}), {variant} variant"
            if kind == "good" and variant == "bad":
                what += ": keeps nothing growing (a peak, retention or one copy per visitor)"
            out.append(
                App(
                    f"lab{number}-{variant}",
                    kind,
                    what,
                    DEMO,
                    step,
                    page=title,
                    holder=holder if kind == "leak" else "",
                    env={"ST_MEMWATCH_LAB_SCALE": LAB_SCALE},
                )
            )
    return out


def _menu(d: Drive, title: str) -> None:
    d.act(d.main, lambda: d.main.nav(title, exact=False))
    d.settle_pending()


def _reruns(d: Drive, n: int) -> None:
    for _ in range(n):
        d.act(d.main, lambda: d.main.button("Rerun once"))
        d.settle_pending()
        d.main.page.wait_for_timeout(1000)  # a person's pace


def lab_past(d: Drive) -> None:
    """A visitor's first minutes in the lab before the lesson under test (issue 16: "a process with a past").

    Lesson 2, good variant (a bounded cache fills), 5 clicks; lesson 4, bad variant (CSV peaks), 4 clicks;
    lesson 6 (retention), 3 clicks. The caller then goes to the lesson it measures.
    """
    title = dict((short, t) for _, short, t, _ in LESSONS)
    _menu(d, title["caches"])
    d.act(d.main, lambda: d.main.radio("Good:"))
    d.settle_pending()
    _reruns(d, 5)
    _menu(d, title["bigdata"])
    _reruns(d, 4)
    _menu(d, title["free"])
    _reruns(d, 3)


def _lab_with_a_past(number: int) -> App:
    _, short, title, holder = LESSONS[number - 1]

    def past(d: Drive) -> None:
        lab_past(d)
        _menu(d, title)  # the lesson opens on its bad variant: that run is the past's last

    return App(
        f"lab{number}-bad-after-others",
        "leak",
        f"lab lesson {number} ({short}), bad variant, after 12 clicks in lessons 2, 4 and 6 on the same server",
        DEMO,
        lab_step("bad"),
        holder=holder,
        env={"ST_MEMWATCH_LAB_SCALE": LAB_SCALE},
        past=past,
    )


APPS_LIST: list[App] = [
    _app("healthy_dashboard", "healthy", "cached 100k-row frame, slider filter, weekly chart, table", slide),
    _app("healthy_form", "healthy", "a form submitted again and again, the last order kept", fill_form),
    _app("healthy_chat", "healthy", "a chat with a bounded history (deque maxlen=20)", chat),
    _app("healthy_upload", "healthy", "CSV uploads (a new file at two clicks of three) and a selectbox", upload_or_pick),
    _app("healthy_multipage", "healthy", "st.navigation over three pages sharing a cached frame", navigate),
    _app("healthy_model_qa", "healthy", "a 64 MiB cached model answering typed questions", ask),
    _app("healthy_map", "healthy", "st.map of 50k cached points, filtered by a selectbox", pick_district),
    _app("healthy_editor", "healthy", "st.data_editor over a cached frame, a cell edited per click", edit),
    _app("healthy_bounded_cache", "healthy", "cache_data(max_entries=8) keyed by a counter, filling up", press("Next report")),
    _app("native_bounded_pool", "healthy", "C buffers (4 MiB) kept up to 10, then no more", press("Process")),
    _app("native_freed_temporary", "healthy", "64 MiB of C memory and 32 MiB of numpy, freed every run", press("Process")),
    _app("leak_model_registry", "leak", "a 16 MiB model built per run, kept in a module registry", press("Predict"), "_registry"),
    _app("leak_cache_counter", "leak", "unbounded cache_data keyed by a counter, 4 MiB an entry", press("Next report"), "load_report"),
    _app("leak_session_list", "leak", "4 MiB appended to st.session_state['answers'] per run", press("Ask again"), "answers"),
    _app("leak_module_list", "leak", "a 4 MiB frame appended to a module-level list per run", press("Load"), "_seen_frames"),
    _app("leak_logging_handlers", "leak", "a logging handler added per run, buffering ~2 MiB a run", press("Record"), "app.audit"),
    _app("leak_lru_cache", "leak", "unbounded lru_cache keyed by a counter, 2 MiB an entry", press("Next tile"), "render_tile"),
    _app("leak_native_malloc", "leak", "ctypes malloc of 8 MiB per run, never freed", press("Run"), "native"),
    _app("leak_pillow_gallery", "leak", "a 1024x1024 Pillow image appended to session_state['gallery']", press("Generate"), "gallery"),
    *_lab_apps(),
    _lab_with_a_past(1),
    _lab_with_a_past(5),
]  # fmt: skip
APPS_BY_NAME = {a.name: a for a in APPS_LIST}
QUICK = ["healthy_dashboard", "healthy_chat", "leak_session_list"]
QUICK_CLICKS = 10

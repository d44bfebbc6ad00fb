"""The caching lab clicked through in a real browser; the README's screenshots come from here.

One shared `streamlit run demo_app.py` server (see conftest.py). The walk visits every
page through the navigation menu, switches each lesson to both variants, uses its
"Rerun 10 times" and "Reset", and checks that the page shows the panel's figures and
no error. The screenshots of the panel and of a lesson are written to ``docs/`` (the
README shows them) by the newest Streamlit's run, and to the artifacts by every run.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import servers

pytestmark = pytest.mark.e2e

os.environ.setdefault("ST_MEMWATCH_LAB_SCALE", "0.1")  # read by the server this session starts

DOCS = Path(__file__).resolve().parents[2] / "docs"
IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SIDEBAR = '[data-testid="stSidebar"]'
PAGES = [
    "Start here",
    "1 · Load the model once",
    "2 · Bound your caches",
    "3 · Session state that hoards",
    "4 · Big data: memory vs. disk",
    "5 · Peak vs. leak",
    "6 · Free what you hold",
    "7 · Many visitors",
]
PANEL_FAILURE_RE = re.compile(r"(?:failed|unavailable): \w+(?:Error|Exception)\b|st_memwatch: \w+(?:Error|Exception)\b")
OLDEST = (1, 40)
UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}
ALL_SESSIONS_RE = re.compile(r"All sessions' state: ([\d.]+) (B|KiB|MiB|GiB) in (\d+) sessions")
SESSIONS_RE = re.compile(r"Sessions \(from the panel\): (\d+) active; this one's state ([\d.]+) (B|KiB|MiB|GiB)")


def wait_idle(page: Any, timeout: float = 30_000) -> None:
    page.locator(IDLE_APP).wait_for(timeout=timeout)


def go(page: Any, title: str) -> None:
    page.locator(SIDEBAR).get_by_role("link", name=re.compile(re.escape(title))).click()
    heading = "st_memwatch caching lab" if title == "Start here" else title
    page.get_by_role("heading", name=heading).wait_for()
    wait_idle(page)


def main_text(page: Any) -> str:
    return page.get_by_test_id("stMain").inner_text()


def assert_clean(page: Any, where: str) -> None:
    shown = page.get_by_test_id("stException")
    assert shown.count() == 0, f"{where}: the page shows a Python exception:\n{shown.first.inner_text()}"
    assert not page.js_errors, f"{where}: JavaScript errors: {page.js_errors}"
    failures = PANEL_FAILURE_RE.findall(page.locator(SIDEBAR).inner_text())
    assert not failures, f"{where}: the panel reports its own failures: {failures}"


def assert_readout(page: Any, where: str) -> None:
    text = main_text(page)
    assert re.search(r"Process memory \(RSS\): [\d.]+ (B|KiB|MiB|GiB) of", text), f"{where}: no RSS readout: {text}"
    assert "Verdict:" in text, f"{where}: no verdict from the panel: {text}"


def choose(page: Any, label_start: str) -> None:
    page.get_by_test_id("stRadio").get_by_text(re.compile("^" + re.escape(label_start))).click()
    time.sleep(0.5)  # the click's run may not have started yet
    wait_idle(page)


def newest() -> bool:
    return tuple(int(p) for p in version("streamlit").split(".")[:2]) > OLDEST


def test_every_lesson_in_both_variants(page: Any, shot: Callable[[str], str]) -> None:
    go(page, "Start here")
    assert_readout(page, "start page")
    for title in PAGES[1:]:
        go(page, title)
        for variant in ("Good:", "Bad:"):
            choose(page, variant)
            where = f"{title}, {variant}"
            assert_clean(page, where)
            assert_readout(page, where)
        page.get_by_role("button", name="Reset", exact=True).click()
        page.get_by_text("Reset: this lesson's allocations are released", exact=False).wait_for()
        wait_idle(page)
        assert_clean(page, f"{title}, reset")
        choose(page, "Good:")  # leave the lesson holding as little as possible for the next one


def test_rerun_ten_times_shows_a_leak_and_reset_clears_it(page: Any, shot: Callable[[str], str]) -> None:
    go(page, "1 · Load the model once")
    choose(page, "Bad:")
    built = re.compile(r"The library has built (\d+) model")
    before = int(built.search(main_text(page)).group(1))
    page.get_by_role("button", name="Rerun 10 times", exact=True).click()
    deadline = time.monotonic() + 120

    def models_built() -> int:
        found = built.search(main_text(page))  # absent for a moment while a run redraws the page
        return int(found.group(1)) if found else -1

    while models_built() < before + 11:  # the click's run and ten more
        assert time.monotonic() < deadline, f"the lesson did not rerun 10 times by itself: {main_text(page)}"
        time.sleep(0.5)
    wait_idle(page, 60_000)
    text = main_text(page)
    assert re.search(r"Trend \(\d+ runs\): \+", text), f"no growing trend after 11 runs of the bad variant: {text}"
    assert "Verdict: leak" in text, f"the bad variant is not called a leak: {text}"
    warning = servers.diagnosis_box(page, "grows steadily")
    assert warning.count() >= 1, f"no growth warning in the panel: {page.locator(SIDEBAR).inner_text()}"
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.screenshot(path=shot("lab_lesson"))
    page.locator(SIDEBAR).screenshot(path=shot("lab_panel"))
    if newest():
        page.screenshot(path=str(DOCS / "lesson.png"))
        page.locator(SIDEBAR).screenshot(path=str(DOCS / "panel.png"))
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("The library has built 0 model(s)").wait_for()
    wait_idle(page)
    assert_clean(page, "lesson 1 after reset")


def test_many_visitors_counts_the_sessions(page: Any, browser: Any, app_url: str) -> None:
    go(page, "7 · Many visitors")
    choose(page, "Bad:")
    other = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        second = other.new_page()
        second.goto(app_url + "visitors")
        second.locator(IDLE_APP).wait_for(timeout=30_000)
        second.get_by_role("heading", name="7 · Many visitors").wait_for()
        # Rerun until this tab's readout is from a run after the second tab connected.
        deadline = time.monotonic() + 60
        while True:
            page.get_by_role("button", name="Rerun once", exact=True).click()
            time.sleep(0.5)
            wait_idle(page)
            match = SESSIONS_RE.search(main_text(page))
            if (match and int(match.group(1)) >= 2) or time.monotonic() > deadline:
                break
        assert match, f"no session figures: {main_text(page)}"
        assert int(match.group(1)) >= 2, f"two tabs open, the panel counts {match.group(1)} sessions"
        assert match.group(3) in ("MiB", "GiB"), (
            f"a table per session should show in this session's state: {match.group(0)}"
        )
        # Both tabs hold a table: the aggregate of every session adds them up, naming none.
        own = float(match.group(2)) * UNITS[match.group(3)]
        everyone = ALL_SESSIONS_RE.search(main_text(page))
        assert everyone, f"no aggregate of all sessions: {main_text(page)}"
        total = float(everyone.group(1)) * UNITS[everyone.group(2)]
        assert int(everyone.group(3)) >= 2 and total >= 1.9 * own, f"two tables in two sessions: {everyone.group(0)}"
    finally:
        other.close()
    choose(page, "Good:")
    assert_clean(page, "many visitors")

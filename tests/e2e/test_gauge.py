"""The live gauge in a real browser: it moves while the script is busy, shows the finished run, selects runs.

One `streamlit run tests/e2e/gauge_app.py` server per module; each test gets a fresh
browser session. The installed Streamlit decides the component API (components v2
in the page, or a v1 iframe), exactly as it does for users; the tests find the
gauge either way. Screenshots (light and dark) land in ``tests/e2e/artifacts/``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _gauge_server import GAUGE_APP, streamlit_server

from st_memwatch.ui.component import component_api

pytestmark = pytest.mark.e2e

SIDEBAR = '[data-testid="stSidebar"]'
IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'
RUNNING_APP = '[data-testid="stApp"][data-test-script-state="running"]'
VIEWPORT = {"width": 1280, "height": 900}
LIVE_TIMEOUT_MS = 30_000
LAST_RUN_RE = re.compile(r"(?:Last|Selected) run #(\d+): .*?([\d.]+)\u00a0s$")
API = component_api()


@pytest.fixture(scope="module")
def gauge_url(artifacts: Path) -> Iterator[str]:
    from importlib.metadata import version

    log = artifacts / f"server-gauge-streamlit-{version('streamlit')}.log"
    # A limit near what the app reaches, so the bar crosses its amber threshold in the screenshots.
    with streamlit_server(GAUGE_APP, log, env={"GAUGE_TEST_LIMIT": "700MiB"}) as url:
        yield url


@pytest.fixture
def open_page(browser: Any, gauge_url: str, shot: Callable[[str], str], request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def _open(color_scheme: str = "light", block_metrics: bool = False, init_script: str = "") -> Any:
        context = browser.new_context(viewport=VIEWPORT, color_scheme=color_scheme)
        context.set_default_timeout(20_000)
        if init_script:
            context.add_init_script(init_script)
        if block_metrics:
            context.route("**/_stcore/metrics*", lambda route: route.abort())
        contexts.append(context)
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.js_errors = errors
        pg.goto(gauge_url)
        pg.locator(IDLE_APP).wait_for(timeout=30_000)
        gauge(pg).wait_for(timeout=30_000)
        return pg

    yield _open
    for context in contexts:
        call = getattr(request.node, "_e2e_call", None)
        if call is not None and call.failed and context.pages:
            context.pages[0].screenshot(path=shot(f"FAILED_{request.node.name}"))
        context.close()


def gauge(page: Any) -> Any:
    """The gauge's root, inside the page (components v2) or inside its iframe (v1)."""
    sidebar = page.locator(SIDEBAR)
    if API == "v2":
        return sidebar.locator(".smw")
    return sidebar.frame_locator("iframe").locator(".smw")


def wait_live(page: Any, live: str = "1") -> None:
    deadline = time.monotonic() + LIVE_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        if gauge(page).get_attribute("data-live") == live:
            return
        time.sleep(0.2)
    raise AssertionError(f"gauge data-live never became {live!r}: {gauge(page).inner_text()!r}")


def screenshot_sidebar(page: Any, path: str) -> None:
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.locator(SIDEBAR).screenshot(path=path)


def test_gauge_renders_in_the_sidebar_live(open_page: Callable[..., Any], shot: Callable[[str], str]) -> None:
    page = open_page()
    wait_live(page)
    text = gauge(page).inner_text()
    assert re.search(r"Memory\s+[\d.]+\u00a0(?:MiB|GiB)\s+of 700\.0\u00a0MiB\s+\d+%", text), text
    assert "live" in text and "not live" not in text
    assert gauge(page).locator(".smw-spark polyline").count() == 1
    # The native headline gives way to the gauge; the details toggle stays.
    assert "Memory details" in page.locator(SIDEBAR).inner_text()
    assert not page.js_errors, page.js_errors
    screenshot_sidebar(page, shot("gauge_light"))


def test_gauge_moves_during_a_busy_run_and_shows_it_after(open_page: Callable[..., Any], shot: Callable[[str], str]) -> None:
    page = open_page()
    wait_live(page)
    before = LAST_RUN_RE.search(gauge(page).locator(".smw-last").inner_text())
    first_run = int(before.group(1)) if before else 0
    page.get_by_role("button", name="Allocate step by step").click()
    page.locator(RUNNING_APP).wait_for(timeout=10_000)
    seen: list[str] = []
    busy_texts: list[str] = []
    while page.locator(RUNNING_APP).count():
        now = gauge(page).locator(".smw-now").inner_text()
        if not seen or seen[-1] != now:
            seen.append(now)
        busy = gauge(page).locator(".smw-busy").inner_text()
        if busy:
            busy_texts.append(busy)
        time.sleep(0.2)
    assert len(seen) >= 4, f"the gauge's number changed {len(seen) - 1} times during an 8 s run: {seen}"
    assert any(re.match(r"Run in progress, [\d.]+\u00a0s, \+[\d.]+\u00a0(?:MiB|GiB) so far", b) for b in busy_texts), busy_texts[-3:]
    page.get_by_text("Allocated 8 blocks").wait_for()
    # No click, no rerun: the finished run comes from the gauge's own polling.
    deadline = time.monotonic() + 15
    last = None
    while time.monotonic() < deadline:
        last = LAST_RUN_RE.search(gauge(page).locator(".smw-last").inner_text())
        if last and int(last.group(1)) > first_run and float(last.group(2)) >= 7.0:
            break
        time.sleep(0.3)
    assert last and int(last.group(1)) > first_run and float(last.group(2)) >= 7.0, gauge(page).inner_text()
    assert gauge(page).locator(".smw-busy").inner_text() == ""
    screenshot_sidebar(page, shot("gauge_after_busy_run"))


def box_state(page: Any) -> tuple[int, str, str]:
    """(the gauge's percentage, the box's level or "", its text), read in one go from one rendering."""
    text = gauge(page).evaluate(
        "el => [el.querySelector('.smw-pct').textContent, el.querySelector('.smw-box').dataset.level || '',"
        " el.querySelector('.smw-box').textContent]"
    )
    return int(text[0].rstrip("%")), text[1], text[2]


@pytest.fixture(scope="module")
def tight_url(artifacts: Path) -> Iterator[str]:
    """The gauge app under a limit its busy run crosses 70 % of (+320 MiB) and its idle state does not."""
    from importlib.metadata import version

    log = artifacts / f"server-gauge-tight-streamlit-{version('streamlit')}.log"
    with streamlit_server(GAUGE_APP, log, env={"GAUGE_TEST_LIMIT": "520MiB"}) as url:
        yield url


def test_box_follows_the_live_verdict(browser: Any, tight_url: str, shot: Callable[[str], str]) -> None:
    """The gauge carries the box: it appears as usage crosses 70 % of the limit during a run, and goes when it falls back.

    The box and the percentage come from the same poll, so they never disagree; the
    native box (drawn during the run with the verdict as of its start) is not drawn.
    """
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(20_000)
    try:
        _box_follows_the_live_verdict(context, tight_url, shot)
    finally:
        context.close()


def _box_follows_the_live_verdict(context: Any, url: str, shot: Callable[[str], str]) -> None:
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.goto(url)
    page.locator(IDLE_APP).wait_for(timeout=30_000)
    gauge(page).wait_for(timeout=30_000)
    wait_live(page)
    assert box_state(page)[0] < 69, f"the idle app is already at {box_state(page)[0]} % of the limit"
    page.get_by_role("button", name="Allocate step by step").click()
    page.locator(RUNNING_APP).wait_for(timeout=10_000)
    seen: list[tuple[int, str, str]] = []
    shot_taken = False
    while page.locator(RUNNING_APP).count():
        state = box_state(page)
        seen.append(state)
        if state[1] and not shot_taken:
            screenshot_sidebar(page, shot("gauge_box_light"))
            shot_taken = True
        time.sleep(0.2)
    page.get_by_text("Allocated 8 blocks").wait_for()
    # The script's namespace keeps the blocks until the next run: the box stays, and agrees.
    for _ in range(10):
        seen.append(box_state(page))
        time.sleep(0.3)
    assert seen[-1][1], f"the box went while the memory is still held: {seen[-1]}"
    page.keyboard.press("r")  # the next run lets the blocks go; the episode ends
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        state = box_state(page)
        seen.append(state)
        if not state[1] and state[0] < 69:
            break
        time.sleep(0.3)
    shown = [s for s in seen if s[1]]
    assert shown, f"no box while usage went up to {max(s[0] for s in seen)} % of the limit: {seen[-5:]}"
    # The usage box (over the limit, when the busy run crosses it), a growth box, or (the server's box
    # at the same level) the per-visitor capacity box.
    expected = ("Memory is at", "Memory grows", "Limit in", "per visitor", "Over the limit")
    other = sorted({s[2] for s in shown if not any(e in s[2] for e in expected)})
    assert not other, other
    # One story: the box is there exactly when the figures call for one (70 %, shown rounded).
    disagree = [s for s in seen if (s[1] and s[0] < 69) or (not s[1] and s[0] > 71)]
    assert not disagree, "; ".join(map(str, seen))
    assert not seen[-1][1], f"the box stayed after the episode ended: {seen[-1]}"
    # The native box is not drawn beside the gauge's.
    assert page.locator(f'{SIDEBAR} [data-testid="stAlert"]').count() == 0
    assert not page.js_errors, page.js_errors


def test_clicking_a_run_selects_it(open_page: Callable[..., Any], shot: Callable[[str], str]) -> None:
    page = open_page()
    wait_live(page)
    runs = gauge(page).locator(".smw-spark rect.run")
    runs.first.wait_for()
    target = runs.last
    run_id = int(target.get_attribute("data-run"))
    # A person's click at the run's place (the chart is redrawn every second, so no element handle).
    box = None
    for _ in range(20):  # the mark is redrawn every second: a box taken mid-redraw is None
        box = target.bounding_box()
        if box:
            break
        page.wait_for_timeout(100)
    assert box, "the run's mark has no box"
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    sidebar = page.locator(SIDEBAR)
    sidebar.get_by_text(re.compile(rf"Run #{run_id} \(")).wait_for()
    page.locator(IDLE_APP).wait_for()
    assert gauge(page).locator(f'.smw-spark rect.run.selected[data-run="{run_id}"]').count() == 1
    assert f"Selected run #{run_id}" in gauge(page).locator(".smw-last").inner_text()
    # The selection survives another rerun (it is the component's state, not a one-off event).
    page.get_by_role("button", name="Allocate step by step").wait_for()
    page.keyboard.press("r")
    page.locator(IDLE_APP).wait_for()
    sidebar.get_by_text(re.compile(rf"Run #{run_id} \(")).wait_for()
    screenshot_sidebar(page, shot("gauge_run_selected"))


def test_blocked_metrics_show_not_live(open_page: Callable[..., Any], shot: Callable[[str], str]) -> None:
    page = open_page(block_metrics=True)
    wait_live(page, "0")
    mark = gauge(page).locator(".smw-live")
    assert mark.inner_text() == "not live"
    # The figures of the last run stay; there is no error box anywhere.
    assert re.search(r"[\d.]+\u00a0(?:MiB|GiB)", gauge(page).locator(".smw-now").inner_text())
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "metrics" not in page.locator(SIDEBAR).inner_text().lower()
    screenshot_sidebar(page, shot("gauge_not_live"))


HIDDEN_SWITCH = """
Object.defineProperty(Document.prototype, "visibilityState", {
  configurable: true,
  get() { try { return window.top.__smwHidden ? "hidden" : "visible" } catch (e) { return "visible" } },
});
"""


def test_hidden_tab_backs_off(open_page: Callable[..., Any]) -> None:
    page = open_page(init_script=HIDDEN_SWITCH)
    wait_live(page)
    polls: list[float] = []  # Playwright delivers these events while it waits (wait_for_timeout), not in time.sleep
    page.on("request", lambda req: polls.append(time.monotonic()) if "/_stcore/metrics" in req.url else None)
    page.wait_for_timeout(3000)
    assert len(polls) >= 2, f"{len(polls)} polls in 3 s while visible"
    page.evaluate("window.__smwHidden = true")
    page.wait_for_timeout(1500)  # a poll already under way may still land
    hidden_from = len(polls)
    page.wait_for_timeout(5000)
    assert len(polls) - hidden_from <= 1, f"{len(polls) - hidden_from} polls in 5 s while hidden"
    page.evaluate("window.__smwHidden = false")
    shown_at = time.monotonic()
    for frame in page.frames:
        frame.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    deadline = shown_at + 5
    while time.monotonic() < deadline and not any(t >= shown_at for t in polls):
        page.wait_for_timeout(100)
    assert any(t >= shown_at for t in polls), "no poll after the tab was shown again"


def test_dark_theme_screenshot(open_page: Callable[..., Any], shot: Callable[[str], str]) -> None:
    page = open_page(color_scheme="dark")
    wait_live(page)
    # The gauge takes the theme's text colour: light text on the dark sidebar.
    color = gauge(page).evaluate("el => getComputedStyle(el).color")
    rgb = [int(x) for x in re.findall(r"\d+", color)[:3]]
    assert sum(rgb) > 3 * 160, f"gauge text colour {color} is not light in the dark theme"
    screenshot_sidebar(page, shot("gauge_dark"))


def test_first_run_is_recorded_with_panel_on_the_last_line(browser: Any, artifacts: Path) -> None:
    """Importing st_memwatch inside a script run starts recording that run, wherever panel() sits."""
    import urllib.request
    from importlib.metadata import version

    from _gauge_server import REPO_ROOT

    log = artifacts / f"server-panel-last-streamlit-{version('streamlit')}.log"
    with streamlit_server(REPO_ROOT / "tests" / "e2e" / "panel_last_app.py", log, env={"ST_MEMWATCH_METRICS": "public"}) as url:
        context = browser.new_context(viewport=VIEWPORT)
        try:
            page = context.new_page()
            page.goto(url)
            page.get_by_text("Model loaded").wait_for(timeout=60_000)
            page.locator(IDLE_APP).wait_for(timeout=30_000)
            values: dict[str, float] = {}
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with urllib.request.urlopen(url.rstrip("/") + "/_stcore/metrics", timeout=5) as resp:
                    text = resp.read().decode()
                values = {
                    line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines() if line.startswith("st_memwatch_last_run_")
                }
                if values.get("st_memwatch_last_run_id") == 1:
                    break
                time.sleep(0.3)
        finally:
            context.close()
    assert values.get("st_memwatch_last_run_id") == 1, values
    assert values["st_memwatch_last_run_duration_seconds"] >= 2.5, values
    assert values["st_memwatch_last_run_delta_bytes"] >= 120 * 1024**2, values

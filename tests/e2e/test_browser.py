"""The demo (the caching lab) in a real browser: the panel renders, warns about a leak, shows its details.

Every test gets a fresh browser session on one shared `streamlit run demo_app.py`
server and works on the lab's lesson 5 ("Peak vs. leak"), whose bad variant keeps
every run's array in a module-level list. That list lives for the whole process,
so tests read the current array count from the page instead of assuming it starts
at zero. A run is over when the page shows the text that run writes and Streamlit
reports the script as not running. Screenshots land in ``tests/e2e/artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

# The lab scales its allocations by this factor; read by the server the session starts
# (its environment is copied from this process when the first test needs it).
os.environ.setdefault("ST_MEMWATCH_LAB_SCALE", "0.1")
LESSON = "5 · Peak vs. leak"
LEAKY = "Bad: keep every run's result (a leak)"
GOOD = "Good: a big temporary, freed (a peak)"

IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SIDEBAR = '[data-testid="stSidebar"]'
LEAKY_RUNS = 10
CAUSE_WAIT_S = 90.0  # typically found within 15 s; the margin is for a loaded CI machine
UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}
SUMMARY_RE = re.compile(r"Memory\s+[\d.]+ (?:B|KiB|MiB|GiB) of [\d.]+ (?:B|KiB|MiB|GiB) \(\d+%\)")
# The native panel writes "Last run: +8.0 MiB", the live gauge "Last run #12: +8.0 MiB".
LAST_RUN_RE = re.compile(r"Last run(?: #\d+)?: ([+-]?)([\d.]+) (B|KiB|MiB|GiB)")
GAUGE_SUMMARY_RE = re.compile(r"Memory\s+[\d.]+ (?:B|KiB|MiB|GiB)\s+of [\d.]+ (?:B|KiB|MiB|GiB)\s+\d+%")
KEPT_RE = re.compile(r"Arrays kept by the leaky variant: (\d+)\.")
# What the panel prints when one of its own steps raised (notes and the boundary's caption).
PANEL_FAILURE_RE = re.compile(r"(?:failed|unavailable): \w+(?:Error|Exception)\b|st_memwatch: \w+(?:Error|Exception)\b")


def sidebar(page: Any) -> Any:
    return page.locator(SIDEBAR)


def gauge(page: Any) -> Any | None:
    """The live gauge when the panel draws one (in the page, or in its iframe on older Streamlit)."""
    inline = sidebar(page).locator(".smw")
    if inline.count():
        return inline
    frames = sidebar(page).locator("iframe")
    if frames.count():
        framed = sidebar(page).frame_locator("iframe").locator(".smw")
        if framed.count():
            return framed
    return None


def gauge_text(page: Any) -> str:
    """The gauge's text with plain spaces ("" without a gauge)."""
    g = gauge(page)
    return " ".join(g.inner_text().replace("\u00a0", " ").split()) if g is not None else ""


def diagnosis_boxes(page: Any, has_text: str) -> Any:
    """The diagnosis box: the gauge's (it carries the box when it is drawn), else the native alert."""
    g = gauge(page)
    if g is not None:
        return g.locator(".smw-box").filter(has_text=has_text)
    return sidebar(page).get_by_test_id("stAlert").filter(has_text=has_text)


def sidebar_text(page: Any) -> str:
    text = " | ".join(sidebar(page).inner_text().split("\n"))
    return f"{gauge_text(page)} | {text}" if gauge(page) is not None else text


def wait_idle(page: Any, timeout: float = 15_000) -> None:
    page.locator(IDLE_APP).wait_for(timeout=timeout)


def screenshot(page: Any, path: str, target: Any = None) -> None:
    """Screenshot once the browser has painted two more frames.

    Right after a scroll, Chromium can capture a frame in which part of the
    newly exposed sidebar is not painted yet (seen with Streamlit 1.40).
    """
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    (target or page).screenshot(path=path)


def open_lesson(page: Any) -> None:
    """Go to the lab's lesson 5 through the navigation menu in the sidebar."""
    sidebar(page).get_by_role("link", name=re.compile(re.escape(LESSON))).click()
    page.get_by_role("heading", name=LESSON).wait_for()
    wait_idle(page)


def kept_text(n: int) -> str:
    return f"Arrays kept by the leaky variant: {n}."


def arrays_kept(page: Any) -> int:
    """The lesson's own count of leaked arrays, as this run printed it."""
    alert = page.locator('[data-testid="stMain"]').get_by_text(KEPT_RE)
    alert.wait_for()
    match = KEPT_RE.search(alert.inner_text())
    assert match, alert.inner_text()
    return int(match.group(1))


def choose_leaky(page: Any) -> int:
    """Open lesson 5 and make sure its leaky variant is on; the number of arrays it keeps."""
    open_lesson(page)
    page.get_by_test_id("stRadio").get_by_text(LEAKY, exact=True).click()
    kept = arrays_kept(page)
    wait_idle(page)
    return kept


def rerun_leaky(page: Any, kept: int, times: int) -> int:
    """Click "Rerun once" ``times`` times, each time waiting until that run is over."""
    button = page.get_by_role("button", name="Rerun once", exact=True)
    for _ in range(times):
        button.click()
        kept += 1
        page.get_by_text(kept_text(kept)).wait_for()
        wait_idle(page)
    return kept


def rerun_ten_times(page: Any, kept: int) -> int:
    """The lesson's own "Rerun 10 times": the click's run and ten more, by themselves."""
    page.get_by_role("button", name="Rerun 10 times", exact=True).click()
    kept += 11
    page.get_by_text(kept_text(kept)).wait_for(timeout=120_000)
    wait_idle(page, timeout=60_000)
    return kept


def details_on(page: Any) -> None:
    sidebar(page).get_by_text("Memory details", exact=True).click()
    sidebar(page).locator('[data-testid="stPlotlyChart"] .js-plotly-plot').first.wait_for(timeout=60_000)  # a loaded CI machine
    wait_idle(page)


def ledger_chart(page: Any) -> dict[str, Any]:
    """The ledger chart (the second in the sidebar) as the browser drew it: its traces' stacks and names, its title."""
    return page.evaluate(
        """() => {
            const plot = document.querySelectorAll('[data-testid="stSidebar"] .js-plotly-plot')[1];
            return {stacks: plot.data.map(t => t.stackgroup), names: plot.data.map(t => t.name), title: plot.layout.title.text};
        }"""
    )


def timeline_data(page: Any) -> dict[str, Any]:
    """What the browser received for the timeline: points per trace and the number of shapes."""
    return page.evaluate(
        """() => {
            const plot = document.querySelector('[data-testid="stSidebar"] .js-plotly-plot');
            return {
                points: plot.data.map(t => t.x.length),
                modes: plot.data.map(t => t.mode),
                shapes: (plot.layout.shapes || []).length,
                text: (plot.layout.annotations || []).map(a => a.text).join(" | "),
            };
        }"""
    )


def toasts_seen(page: Any) -> list[str]:
    """Every toast text shown in this page so far (collected by the page fixture; toasts vanish)."""
    return list(page.evaluate("() => window.__stMemwatchToasts || []"))


def prepare_export(page: Any) -> None:
    """Streamlit without deferred downloads builds the export behind a button; newer ones on click."""
    prepare = sidebar(page).get_by_role("button", name="Prepare export")
    if prepare.count():
        assert sidebar(page).get_by_test_id("stDownloadButton").count() == 0, "exports built before asked for"
        prepare.click()
        sidebar(page).get_by_text("export as of ", exact=False).wait_for()
        wait_idle(page)


def assert_no_exception(page: Any, where: str) -> None:
    shown = page.get_by_test_id("stException")
    assert shown.count() == 0, f"{where}: the page shows a Python exception:\n{shown.first.inner_text()}"
    assert not page.js_errors, f"{where}: JavaScript errors in the page: {page.js_errors}"


def assert_no_panel_failure(page: Any, where: str) -> None:
    """The panel turns its own exceptions into short lines; those are bugs too."""
    failures = PANEL_FAILURE_RE.findall(sidebar(page).inner_text())
    assert not failures, f"{where}: the panel reports its own failures: {failures}\nsidebar: {sidebar_text(page)}"


def test_panel_renders_in_sidebar(page: Any, shot: Callable[[str], str]) -> None:
    g = gauge(page)
    if g is not None:  # the live gauge stands in for the native figures
        text = gauge_text(page)
        assert GAUGE_SUMMARY_RE.search(text), f"no 'Memory X of Y NN%' line in the gauge: {text!r}"
        assert g.locator(".smw-of").get_attribute("title"), "the gauge does not say where the limit comes from"
    else:
        panel = sidebar(page).locator(".st-memwatch")
        panel.wait_for()
        text = panel.inner_text()
        assert SUMMARY_RE.search(text), f"no 'Memory X of Y (NN%)' line in the panel: {text!r}"
        assert re.search(r"limit: \S", text), f"no limit line in the panel: {text!r}"
    assert sidebar(page).get_by_text("Memory details", exact=True).is_visible()
    screenshot(page, shot("01_panel"))
    assert_no_exception(page, "first load")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_demo_started_as_make_demo_starts_it_opens_to_a_local_browser(browser: Any, app_url: str, host: str) -> None:
    """No token, no setting, no --server.address: the author's own browser sees the panel.

    The server listens on every interface, as ``make demo`` and a plain ``streamlit run``
    have it; on a dual-stack server a browser at 127.0.0.1 is the peer ``::ffff:127.0.0.1``.
    """
    url = app_url.replace("127.0.0.1", host)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        pg = context.new_page()
        pg.goto(url)
        pg.locator(IDLE_APP).wait_for(timeout=30_000)
        shown = sidebar(pg).get_by_text("Memory details", exact=True)
        try:
            shown.wait_for(timeout=20_000)
        except Exception:  # noqa: BLE001 - the assertion below says what was there
            pass
        assert shown.count() == 1, f"no panel for a browser at {host}: {sidebar_text(pg)!r}"
    finally:
        context.close()


def test_leaky_path_shows_growth_and_warns(page: Any, shot: Callable[[str], str]) -> None:
    kept = choose_leaky(page)
    kept = rerun_ten_times(page, kept)
    text = sidebar_text(page)
    screenshot(page, shot("02_leaky"))

    last = LAST_RUN_RE.search(text)
    assert last, f"no 'Last run:' line after {LEAKY_RUNS} runs: {text}"
    sign, number, unit = last.groups()
    delta = float(number) * UNITS[unit]
    # Each leaky run keeps a few MiB more; the line shows the previous (finished) run.
    assert sign == "+" and delta >= 1024**2, (
        f"expected a positive delta of at least 1 MiB, got {last.group(0)!r}: {text}"
    )
    trend = re.search(r"Trend \((\d+) runs\): \+|Growing \+", text)
    assert trend, f"no positive 'Trend (N runs): +...' (native) or 'Growing +...' (gauge) line: {text}"

    warning = diagnosis_boxes(page, "grows steadily")
    assert warning.count() >= 1, f"no 'grows steadily' warning in the sidebar after {LEAKY_RUNS} leaky runs: {text}"
    # One story: with the gauge, no native box beside the gauge's.
    assert gauge(page) is None or sidebar(page).get_by_test_id("stAlert").count() == 0
    assert warning.first.is_visible()
    box = warning.first.inner_text()
    assert "Fix: " in box, f"the warning should end with the fix: {box!r}"
    lines = box.splitlines()
    assert len(lines) <= 3, f"the warning should be its line, the likely cause and the fix: {box!r}"
    toasts = toasts_seen(page)
    steady = [t for t in toasts if "grows steadily" in t]
    assert len(steady) == 1, f"expected one toast for the growth episode, saw {toasts}"
    # One sentence: the rate per run (and since which run), not the box's cause and fix again.
    assert re.search(r"per run( since run \d+)?\.$", steady[0].strip()) and "Memory: Memory" not in steady[0], steady
    assert steady[0].count("Memory") <= 1, steady
    assert_no_exception(page, "leaky path")


def test_live_census_names_the_leaking_type(page: Any, shot: Callable[[str], str]) -> None:
    """Clicking at a person's pace, the census runs between runs and names what grows.

    The census is rare by design (a few per minute, when the app is idle), so the test
    paces its clicks and gives it up to CAUSE_WAIT_S to compare two censuses.
    """
    kept = choose_leaky(page)
    kept = rerun_leaky(page, kept, 6)
    button = page.get_by_role("button", name="Rerun once", exact=True)
    deadline = time.monotonic() + CAUSE_WAIT_S
    box = ""
    while time.monotonic() < deadline:
        time.sleep(1.5)  # idle: the census's moment
        button.click()
        kept += 1
        page.get_by_text(kept_text(kept)).wait_for()
        wait_idle(page)
        boxes = diagnosis_boxes(page, "grows steadily")
        box = boxes.first.inner_text() if boxes.count() else ""
        if "Likely cause" in box:
            break
    screenshot(page, shot("02b_cause"))
    # What keeps the arrays (the lesson's module-level list `kept`) or, before the holder
    # is known, the type that grows (numpy.ndarray).
    assert re.search(r"Likely cause: .*(numpy\.ndarray|kept)", box), (
        f"no 'Likely cause: ... numpy.ndarray / kept' in the warning after {kept} leaky runs: {box!r}\n"
        f"sidebar: {sidebar_text(page)}"
    )
    assert re.search(r"Fix: \S", box), box
    assert_no_exception(page, "leaky path at a person's pace")


def test_details_show_timeline_and_downloads(page: Any, shot: Callable[[str], str]) -> None:
    kept = choose_leaky(page)
    kept = rerun_leaky(page, kept, 3)
    details_on(page)
    bar = sidebar(page)
    charts = bar.get_by_test_id("stPlotlyChart")
    assert charts.count() == 2, f"expected the timeline and the ledger in the sidebar, found {charts.count()} charts"
    chart = charts.first
    ledger = ledger_chart(page)
    # Python objects enter the ledger with the first complete census; on a loaded machine the
    # clicks can interrupt the first ones (a census gives way to a run), so a few more runs.
    for _ in range(3):
        if "Python objects" in ledger["names"]:
            break
        sidebar(page).get_by_text("Memory details", exact=True).click()  # off, then on: two runs
        wait_idle(page)
        details_on(page)
        ledger = ledger_chart(page)
    assert set(ledger["stacks"]) == {"ledger"} and "Python objects" in ledger["names"], ledger
    assert "Where the memory is" in ledger["title"], ledger
    box = chart.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100, f"the timeline is too small to read: {box}"
    assert bar.get_by_test_id("stDataFrame").count() == 0, "the details tables are one HTML block"
    plot = timeline_data(page)
    assert plot["modes"] == ["lines", "markers"], plot
    assert 0 < plot["points"][0] <= 600, f"the browser got more than the downsampled timeline: {plot}"
    assert plot["shapes"] <= 31, f"run boundaries: at most 30 lines plus the limit: {plot}"
    assert "RSS" in plot["text"], plot
    screenshot(page, shot("03_details"))
    screenshot(page, shot("03_details_sidebar"), bar)
    screenshot(page, shot("03_timeline"), chart)

    prepare_export(page)
    record = bar.get_by_test_id("stDownloadButton").filter(has_text="Record (JSON)")
    runs_csv = bar.get_by_test_id("stDownloadButton").filter(has_text="Runs (CSV)")
    record.scroll_into_view_if_needed()
    assert record.is_visible() and runs_csv.is_visible()
    screenshot(page, shot("04_details_tables"))

    with page.expect_download() as info:
        record.get_by_role("button").click()
    data = json.loads(Path(info.value.path()).read_text())
    for key in ("runs", "samples", "caches", "growth", "warnings"):
        assert key in data, f"the JSON record has no {key!r}: {sorted(data)}"
    assert data["runs"], "the JSON record has no runs"
    assert data["limit"]["bytes"] > 0
    wait_idle(page)

    with page.expect_download() as info:
        runs_csv.get_by_role("button").click()
    lines = Path(info.value.path()).read_text().splitlines()
    assert lines[0].startswith("run_id,session,kind,outcome,") and len(lines) >= 2, lines[:3]
    wait_idle(page)
    assert_no_exception(page, "details on")


def test_no_exception_anywhere(page: Any) -> None:
    """Walk every control of the demo; no step may show a traceback or a panel failure."""

    def check(where: str) -> None:
        assert_no_exception(page, where)
        assert_no_panel_failure(page, where)

    check("first load")
    kept = choose_leaky(page)
    check("switch to leaky")
    rerun_leaky(page, kept, 2)
    check("rerun on leaky")
    details_on(page)
    check("details on")
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("Reset: this lesson's allocations are released", exact=False).wait_for()
    page.get_by_text(kept_text(0)).wait_for()
    wait_idle(page)
    check("reset the lesson")
    page.get_by_test_id("stRadio").get_by_text(GOOD, exact=True).click()
    page.get_by_text("freed when the line is done", exact=False).wait_for()
    wait_idle(page)
    check("the good variant")


def test_server_log_has_no_traceback(page: Any, server_log: Path) -> None:
    """Streamlit logs what it had to repair or swallow; the panel should give it nothing to repair."""
    kept = choose_leaky(page)
    rerun_leaky(page, kept, 1)
    details_on(page)
    prepare_export(page)
    log = server_log.read_text(errors="replace")
    assert "use_container_width" not in log, "the panel uses a deprecated Streamlit argument"
    start = log.find("Traceback (most recent call last)")
    assert start < 0, "the server logged a traceback while showing the panel:\n" + "\n".join(
        log[max(0, log.rfind("\n", 0, start - 1) + 1) :].splitlines()[:30]
    )

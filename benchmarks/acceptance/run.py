"""Acceptance harness: the panel used as people use it, on real servers, in a real browser.

For each app: a real ``streamlit run`` server (127.0.0.1, a free port, headless), a
headless Chromium, one action about every second (a button, a slider step, a
selectbox, a chat message, a typed question, an upload, a cell edit, a page link),
and after each action, once its run has ended, what a person sees in the sidebar:
the diagnosis box, any toast, the gauge's trend line (read again a second later).
See ``catalog.py`` for the apps and ``figures.py`` for how the figures are counted.

    python benchmarks/acceptance/run.py                  # every app: 20 clicks a healthy app, 16 a good, 12 a leak
    python benchmarks/acceptance/run.py --quick          # three apps, 10 clicks each (~2-3 min)
    python benchmarks/acceptance/run.py --apps lab1-bad,healthy_chat --clicks 10 --json out.json
    python benchmarks/acceptance/run.py --list

It prints figures, it does not judge: the exit code is 0 when every app could be
driven, 1 when an app failed to start or to be driven (see its "failure").
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import browser  # noqa: E402
import server  # noqa: E402
from catalog import APPS_BY_NAME, APPS_LIST, QUICK, QUICK_CLICKS, App, Drive  # noqa: E402
from figures import AppFigures, Click, click_from, summarise  # noqa: E402

DEFAULT_CLICKS = {"healthy": 20, "good": 16, "leak": 12}  # 11 healthy apps x 20 = 220 clicks on healthy apps
READ_AGAIN_S = 1.0  # the second look, after the gauge's next poll
APP_BUDGET_S = 420.0  # an app that takes longer than this stops clicking (bounded whatever happens)
MAX_ERRORS_IN_A_ROW = 3
MiB = 2**20


@dataclass
class AppResult:
    app: App
    figures: AppFigures
    clicks: list[Click]


def drive(app: App, pw_browser: Any, n_clicks: int, logs: Path, echo: bool = True) -> AppResult:
    """One app: start its server, open it, click ``n_clicks`` times, read after each; always stop everything."""
    started = time.monotonic()
    clicks: list[Click] = []
    failure = ""
    srv = None
    d = None
    try:
        srv = server.start(app.script, logs / f"{app.name}.log", env=app.env)
        d = Drive(pw_browser, srv.url)
        if app.page:
            d.open_page(app.page)
            d.settle_pending()
        else:
            d.open().wait_loaded()
        if app.past is not None:
            app.past(d)
        d.main.read()  # toasts before the first counted click are not a click's
        errors_in_a_row = 0
        for n in range(1, n_clicks + 1):
            if time.monotonic() - started > APP_BUDGET_S:
                failure = f"stopped after {n - 1} clicks: over the {APP_BUDGET_S:.0f} s budget"
                break
            t0 = time.monotonic()
            error = ""
            try:
                action = app.step(d, n)
                tab, before = d.pending if d.pending else (d.main, d.main.finished)
                seen = tab.wait_run(before)
            except Exception as exc:  # an element not found, a timeout: recorded, the next click goes on
                action, seen, tab = "(failed)", False, (d.pending[0] if d.pending else d.main)
                error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            run_s = time.monotonic() - t0
            if not seen and not error:
                error = "no run ended after the action"
            s0 = tab.read()
            tab.page.wait_for_timeout(READ_AGAIN_S * 1000)
            s1 = tab.read()
            shown = tab.exception_shown()
            if shown and not error:
                error = f"the app shows an exception: {shown.splitlines()[0][:200]}"
            if error:  # what the screen showed, next to the server's log
                try:
                    tab.page.screenshot(path=str(logs / f"{app.name}-click{n}.png"))
                except Exception:
                    pass
            click = Click(n, action, seen, run_s, s0, s1, srv.rss_bytes(), error)
            clicks.append(click)
            if echo:
                _echo(app, click)
            errors_in_a_row = errors_in_a_row + 1 if error else 0
            if errors_in_a_row >= MAX_ERRORS_IN_A_ROW:
                failure = f"{errors_in_a_row} failed clicks in a row: {error}"
                break
    except Exception as exc:
        failure = f"{type(exc).__name__}: {exc}"
    finally:
        if d is not None:
            d.close()
        if srv is not None:
            srv.stop()
    figures = summarise(app.name, app.kind, app.holder, clicks)
    figures.wall_s = time.monotonic() - started
    figures.failure = failure
    if failure and srv is not None:
        figures.failure += "\n" + srv.log_tail(15)
    return AppResult(app, figures, clicks)


def _echo(app: App, c: Click) -> None:
    flags = "".join(
        [
            "B" if c.box_alarm else ".",
            "T" if c.toasts else ".",
            "L" if c.gauge_alarm else ".",
            "D" if c.disagrees else ".",
            "g" if c.lags else ".",
        ]
    )
    rss = f"{c.rss / MiB:7.1f} MiB" if c.rss else "      ?    "
    box = c.s1.box.split("\n")[0][:70]
    line = f"  {app.name:24} {c.n:3} {flags} {rss} gauge: {c.s1.gauge[:48]:48} box: {box}"
    if c.error:
        line += f"  [{c.error}]"
    print(line, flush=True)


# -- printing -----------------------------------------------------------------------------
def _n(v: int | None) -> str:
    return "-" if v is None else str(v)


def _mib(v: int | None) -> str:
    return "?" if v is None else f"{v / MiB:.0f}"


def table(results: list[AppResult]) -> str:
    head = (
        f"{'app':24} {'kind':7} {'clicks':>6} {'alarms/100':>10} {'box':>4} {'toast':>5} {'Leak':>4} "
        f"{'1st warn':>8} {'holder':>6} {'disagree':>8} {'lag':>4} {'caught':>6} {'onset±':>6} {'RSS MiB':>11}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        f = r.figures
        per100 = "-" if f.alarms_per_100 is None else f"{f.alarms_per_100:.0f}"
        holder = _n(f.holder_click) if f.kind == "leak" else ""
        lines.append(
            f"{f.name:24} {f.kind:7} {f.clicks:6} {per100:>10} {f.box_clicks:4} {f.toasts:5} {f.gauge_leak_clicks:4} "
            f"{_n(f.first_alarm):>8} {holder:>6} {f.disagreements:8} {f.lag:4} {f.lag_caught_up:6} {f.onset_moves:6} "
            f"{_mib(f.rss_first):>5}→{_mib(f.rss_last):<5}" + ("  FAILED" if f.failure else "")
        )
    return "\n".join(lines)


def totals(results: list[AppResult]) -> dict[str, Any]:
    figs = [r.figures for r in results]
    quiet = [f for f in figs if f.kind in ("healthy", "good")]
    healthy = [f for f in figs if f.kind == "healthy"]
    leaks = [f for f in figs if f.kind == "leak"]
    clicks = sum(f.clicks for f in figs)

    def per100(group: list[AppFigures]) -> float | None:
        n = sum(f.clicks for f in group)
        return round(100.0 * sum(f.alarm_clicks for f in group) / n, 1) if n else None

    return {
        "apps": len(figs),
        "clicks": clicks,
        "failed_apps": [f.name for f in figs if f.failure],
        "quiet_clicks": sum(f.clicks for f in quiet),
        "quiet_alarm_clicks": sum(f.alarm_clicks for f in quiet),
        "quiet_alarms_per_100": per100(quiet),
        "healthy_clicks": sum(f.clicks for f in healthy),
        "healthy_alarms_per_100": per100(healthy),
        "good_variant_alarms_per_100": per100([f for f in quiet if f.kind == "good"]),
        "quiet_apps_with_alarms": [f.name for f in quiet if f.alarm_clicks],
        "leaks": len(leaks),
        "leaks_warned_within_4": sum(f.first_alarm is not None and f.first_alarm <= 4 for f in leaks),
        "leaks_warned": sum(f.first_alarm is not None for f in leaks),
        "leaks_holder_within_8": sum(f.holder_click is not None and f.holder_click <= 8 for f in leaks),
        "leaks_holder_named": sum(f.holder_click is not None for f in leaks),
        "disagreements": sum(f.disagreements for f in figs),
        "lag": sum(f.lag for f in figs),
        "lag_caught_up": sum(f.lag_caught_up for f in figs),
        "onset_moves": sum(f.onset_moves for f in figs),
    }


def report(results: list[AppResult], meta: dict[str, Any]) -> str:
    t = totals(results)
    out = [
        f"Acceptance harness, {meta['date']}: Streamlit {meta['streamlit']}, Python {meta['python']}, "
        f"{meta['browser']}",
        "",
        table(results),
        "",
        "alarm = a box in the sidebar, a toast, or 'Leak' in the gauge (a click counts once); "
        "1st warn / holder = the click at which the first alarm / the expected holder in the box appeared;",
        "disagree = a second after the run, box and gauge tell different stories; lag = the box right after the run "
        "differs from the gauge a second later (caught = the next run's box matched it); onset± = times the box's "
        "'since run N' moved while the box stayed.",
        "",
        f"Healthy apps and good variants: {t['quiet_alarm_clicks']} alarm clicks in {t['quiet_clicks']} clicks = "
        f"{_fmt(t['quiet_alarms_per_100'])} per 100 (healthy apps {_fmt(t['healthy_alarms_per_100'])} over "
        f"{t['healthy_clicks']} clicks, good variants {_fmt(t['good_variant_alarms_per_100'])}); goal 0",
        f"Leaks: warned {t['leaks_warned']}/{t['leaks']} (within 4 clicks: {t['leaks_warned_within_4']}), "
        f"holder named {t['leaks_holder_named']}/{t['leaks']} (within 8 clicks: {t['leaks_holder_within_8']})",
        f"Box/gauge disagreements: {t['disagreements']} of {t['clicks']} clicks; lag: {t['lag']} "
        f"(caught up at the next run: {t['lag_caught_up']}); 'since run N' moved {t['onset_moves']} times",
    ]
    if t["failed_apps"]:
        out.append(f"FAILED: {', '.join(t['failed_apps'])}")
    out.append("")
    for r in results:
        f = r.figures
        if f.kind in ("healthy", "good") and f.examples:
            out.append(f"{f.name}: " + " | ".join(f.examples[:3]))
        elif f.kind == "leak":
            holder = (
                f"holder {f.holder!r} named at click {f.holder_click}"
                if f.holder_click
                else f"{f.holder!r} never named"
            )
            out.append(f"{f.name}: {holder}; last box: {f.last_box.replace(chr(10), ' / ')[:220] or '(none)'}")
        if f.disagreement_kinds:
            out.append(f"    disagreements: {f.disagreement_kinds}")
        if f.failure:
            out.append(f"    failure: {f.failure}")
    return "\n".join(out)


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:g}"


def run_apps(
    names: list[str],
    clicks: int | None,
    logs: Path | None = None,
    echo: bool = True,
    pw_browser: Any = None,
    on_result: Callable[[list[AppResult], dict[str, Any]], None] | None = None,
) -> tuple[list[AppResult], dict[str, Any]]:
    """Drive each named app in turn in one Chromium (``pw_browser``, or one launched here and closed after).

    ``clicks`` per app, or by kind (DEFAULT_CLICKS) when None; ``on_result`` is called after each app.

    Returns the results and what they were measured on.
    """
    apps = [APPS_BY_NAME[n] for n in names]
    results: list[AppResult] = []
    with tempfile.TemporaryDirectory(prefix="acceptance-") as tmp, ExitStack() as stack:
        log_dir = logs or Path(tmp)
        if pw_browser is None:
            from playwright.sync_api import sync_playwright

            pw = stack.enter_context(sync_playwright())
            pw_browser = browser.launch(pw)
            stack.callback(pw_browser.close)
        meta = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "streamlit": version("streamlit"),
            "python": platform.python_version(),
            "browser": f"Chromium {pw_browser.version}",
            "clicks_per_app": clicks or DEFAULT_CLICKS,
        }
        for app in apps:
            if echo:
                print(f"{app.name} ({app.kind}): {app.what}", flush=True)
            results.append(drive(app, pw_browser, clicks or DEFAULT_CLICKS[app.kind], log_dir, echo))
            if on_result is not None:
                on_result(results, meta)
    return results, meta


def load(path: Path) -> tuple[list[AppResult], dict[str, Any]]:
    """The results of a run saved with --json, counted again with this version of figures.py."""
    doc = json.loads(path.read_text())
    results = []
    for saved in doc["apps"]:
        app = APPS_BY_NAME[saved["name"]]
        clicks = [click_from(c) for c in doc["clicks"].get(app.name, [])]
        figures = summarise(app.name, app.kind, app.holder, clicks)
        figures.wall_s, figures.failure = saved.get("wall_s", 0.0), saved.get("failure", "")
        results.append(AppResult(app, figures, clicks))
    return results, doc["meta"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--apps", help="comma-separated app names (see --list); default: all")
    p.add_argument(
        "--clicks", type=int, help=f"clicks per app (default by kind: {DEFAULT_CLICKS}; {QUICK_CLICKS} with --quick)"
    )
    p.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    p.add_argument("--json", type=Path, help="write every figure and every click's readings to this file")
    p.add_argument("--logs", type=Path, help="keep the servers' logs in this directory")
    p.add_argument("--quiet", action="store_true", help="no line per click")
    p.add_argument("--list", action="store_true", help="list the apps and exit")
    p.add_argument(
        "--from-json",
        type=Path,
        nargs="+",
        help="count and print the figures of runs saved with --json (no browser); an app in a later file replaces "
        "the same app in an earlier one",
    )
    args = p.parse_args(argv)
    if args.from_json:
        merged: dict[str, AppResult] = {}
        meta: dict[str, Any] = {}
        for path in args.from_json:
            found, meta_here = load(path)
            meta = meta or meta_here
            merged.update((r.app.name, r) for r in found)
        print(report(list(merged.values()), meta))
        return 0
    if args.list:
        for a in APPS_LIST:
            print(f"{a.name:24} {a.kind:7} {a.what}" + (f" (holder: {a.holder})" if a.holder else ""))
        return 0
    names = args.apps.split(",") if args.apps else (QUICK if args.quick else [a.name for a in APPS_LIST])
    unknown = [n for n in names if n not in APPS_BY_NAME]
    if unknown:
        p.error(f"unknown app(s): {', '.join(unknown)} (see --list)")
    clicks = args.clicks or (QUICK_CLICKS if args.quick else None)
    if clicks is not None and not 1 <= clicks <= 500:
        p.error("--clicks must be between 1 and 500")

    def save(results: list[AppResult], meta: dict[str, Any]) -> None:
        """The JSON so far, rewritten after each app: a long run stopped early keeps what it measured."""
        if args.json:
            doc = {
                "meta": meta,
                "totals": totals(results),
                "apps": [r.figures.as_dict() for r in results],
                "clicks": {r.app.name: [c.as_dict() for c in r.clicks] for r in results},
            }
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(doc, indent=1))

    results, meta = run_apps(names, clicks, args.logs, echo=not args.quiet, on_result=save)
    print()
    print(report(results, meta))
    return 1 if any(r.figures.failure for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""One ``check --explore``: the plain check, the visitor's tour, the re-checks, and what they add up to.

1. The plain check (every widget at its default): a leak on every rerun needs no
   visitor, and its report is the answer.
2. One exploring run, a block of runs per interaction (``explore.Explorer``), in
   its own sandbox: which interactions made the live heap grow on every step.
3. Each of those, strongest first, re-checked alone (``explore.Focus``) with the
   full verdict; the first that leaks is the trigger. A crash or a timeout on the
   way is the outcome too: it names the interaction that caused it.

Why the plain check and the tour run side by side by default: they are
independent (each in its own child process, each from a fresh interpreter), so
on a machine with two cores the check takes the longer of the two instead of
their sum; a leak the plain check finds stops the tour. The re-checks run two at
a time and are read in order of strength, so the trigger named is the one the
sequential order would name. The plain check and the re-checks stop once memory
has settled (``check.SETTLE_STEPS``) and the tour ends a block once it is known
flat. ``thorough=True`` (``--thorough``) is the long tour: one child after the
other, every run made, every block run to its end.

Why the default has a time budget (``budget_s``, a CI minute): an app whose runs take
seconds (an animation, a model) would otherwise take minutes. The plain check always
runs to its verdict; the tour explores new interactions during ``TOUR_SHARE`` of the
budget, and the re-checks stop at its end. What was left out is listed, never guessed:
the interactions not explored and those that grew at first but were not re-checked.

Why a cache keyed by a slider is a forecast, not a leak: the re-check moves the
slider to a new value on every run, so a cache keyed by it gains an entry on
every run, which the verdict calls a leak. But a slider of 24 hours can key at
most 24 entries. When the growing holder is a cache, the interaction moves a
widget of a known, small domain (at most ``FINITE_DOMAIN_MAX`` values), and the
cache holds no more entries than that domain, the cache is bounded by the
widget: the report says what it fills to, and it is a leak only when that
figure would not fit under the limit. A slider of a thousand positions is a key
space that fills for as long as people move it: judged as unbounded, since the
remedy (``max_entries=``) is the same.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from st_memwatch.check import DEFAULT_RUNS
from st_memwatch.core.limits import format_bytes
from st_memwatch.explore import BLOCK_RUNS, MAX_BLOCKS, Interaction
from st_memwatch.sandbox import CheckOutcome, SandboxLimits, check_in_sandbox

CONFIRM_MAX = 3  # growing interactions re-checked one by one
CONFIRM_PARALLEL = 2  # re-checks running at once (the default, not --thorough)
TOUR_BUDGET_FACTOR = 3.0  # the tour's time, in plain checks of the same app at the default --runs
TOUR_MIN_S = 30.0
FINITE_DOMAIN_MAX = 256  # values of a widget whose domain bounds a cache it keys (hours, days, options)
DEFAULT_BUDGET_S = 60.0  # the default check's time, a CI minute (the plain check always ends its runs)
TOUR_SHARE = 0.5  # of the budget, the time the tour may start new interactions in


# ---------------------------------------------------------------- the trigger


def _top_holder(report: dict[str, Any]) -> dict[str, Any] | None:
    """The verdict's first holder (``Holder`` as JSON), or None when it names none."""
    holders = report.get("holders") or []
    return holders[0] if holders else None


def _holder(report: dict[str, Any]) -> str | None:
    h = _top_holder(report)
    if h is None:
        return None
    name = str(h["name"])
    # "session_state blobs", "cache render_tile"; a holder the search describes
    # itself ("module pkg.registry") reads without its kind in front
    return name if " " in name else f"{h['kind']} {name}"


def _rate(report: dict[str, Any]) -> float:
    h = _top_holder(report)
    if h is not None:
        return float(h["bytes_per_run"])
    return float(report.get("growth_bytes_per_run") or 0.0)


def trigger_sentence(report: dict[str, Any], it: Interaction | None) -> str:
    """'grows by 4.0 MiB each time you click 'Allocate' (session_state blobs)'."""
    holder = _holder(report)
    when = it.each_time() if it is not None else "on every rerun, before any interaction"
    return f"grows by {format_bytes(_rate(report))} {when}" + (f" ({holder})" if holder else "")


def _with_trigger(outcome: CheckOutcome, it: Interaction | None) -> CheckOutcome:
    report = outcome.report
    assert report is not None
    trigger: dict[str, Any] = it.trigger() if it is not None else {"widget": None, "label": None, "action": "rerun"}
    trigger["holder"] = _holder(report)
    trigger["bytes_per_run"] = _rate(report)
    trigger["sentence"] = trigger_sentence(report, it)
    report["trigger"] = trigger
    outcome.text += f"\n  trigger: {trigger['sentence']}"
    return outcome


def _growing(explore: dict[str, Any] | None) -> list[Interaction]:
    blocks = [b for b in (explore or {}).get("blocks", []) if b.get("grows")]
    blocks.sort(key=lambda b: -sorted(b["steps_bytes"])[len(b["steps_bytes"]) // 2])
    out: list[Interaction] = []
    for b in blocks:
        it = Interaction.from_dict(b["interaction"])
        if it not in out:
            out.append(it)
    return out


# ---------------------------------------------------------------- bounded by a widget


def domain_forecast(report: dict[str, Any], it: Interaction) -> dict[str, Any] | None:
    """What a cache keyed by the widget ``it`` moves fills to, when that widget's domain bounds it.

    None when no such bound applies: the interaction does not visit new values of a
    widget with a small known domain, the holder is not a cache, the cache already
    holds more entries than the domain has values (it is keyed by something else
    too), or the filled cache would not fit under the limit.
    """
    if it.action != "move" or it.domain is None or it.domain > FINITE_DOMAIN_MAX:
        return None
    holder = _top_holder(report)
    if holder is None or holder.get("kind") != "cache":
        return None
    cache = next((c for c in report.get("caches") or [] if c.get("function") == holder["name"]), None)
    if cache is None or not cache.get("entries") or cache.get("bytes") is None:
        return None
    entries, size = int(cache["entries"]), int(cache["bytes"])
    bound = min(it.domain, int(cache["max_entries"])) if cache.get("max_entries") else it.domain
    if entries > bound:
        return None
    full = size / entries * bound
    limit = int((report.get("limit") or {}).get("bytes") or 0)
    rss = int(report.get("rss_last") or 0)
    if limit and rss + full - size >= limit:
        return None  # bounded, but past the limit: still the leak the verdict says
    sentence = (
        f"cache {holder['name']} fills to at most {bound} entries (~{format_bytes(full)}) "
        f"as '{it.label}' takes its {it.domain} values: bounded by the widget, a forecast, not a leak"
    )
    return {
        "cache": holder["name"], "interaction": it.describe(), "widget": it.widget, "label": it.label,
        "domain": it.domain, "entries_now": entries, "entries_full": bound, "bytes_now": size,
        "bytes_full": int(full), "bytes_per_entry": int(size / entries), "sentence": sentence,
    }


# ---------------------------------------------------------------- the check


def explore_check(
    app: str,
    runs: int,
    limit: object,
    limits: SandboxLimits,
    seed: int = 0,
    max_blocks: int = MAX_BLOCKS,
    thorough: bool = False,
    budget_s: float | None = DEFAULT_BUDGET_S,
) -> CheckOutcome:
    """Check ``app`` at its defaults, then as a visitor; a leak found comes with its trigger.

    ``budget_s`` (not with ``thorough``; None: no budget): see the module docstring.
    """
    started = time.monotonic()
    deadline = None if thorough or budget_s is None else started + budget_s
    tour_runs = 2 + BLOCK_RUNS * max_blocks
    if thorough:
        base = check_in_sandbox(app, runs, limit, limits)
        if base.report is None:
            return base
        if base.report.get("leak"):
            return _with_trigger(base, None)
        # The tour costs at most a few plain checks: an app that is slow per run, or has
        # many widgets, gets the interactions that fit, and the rest are listed.
        per_run = base.seconds / max(1, int(base.report.get("runs") or runs))
        budget_s = max(TOUR_MIN_S, TOUR_BUDGET_FACTOR * per_run * max(runs, DEFAULT_RUNS))
        spec: dict[str, Any] = {"kind": "explore", "seed": seed, "max_blocks": max_blocks, "budget_s": budget_s}
        tour = check_in_sandbox(app, tour_runs, limit, limits, spec)
    else:
        # The same budget, counted in this app's runs as the tour measures them.
        spec = {
            "kind": "explore", "seed": seed, "max_blocks": max_blocks, "quick": True,
            "budget_runs": TOUR_BUDGET_FACTOR * max(runs, DEFAULT_RUNS),
        }
        if budget_s is not None:
            spec["budget_s"] = TOUR_SHARE * budget_s
        stop_tour = threading.Event()
        with ThreadPoolExecutor(2) as pool:
            tour_f = pool.submit(check_in_sandbox, app, tour_runs, limit, limits, spec, cancel=stop_tour)
            base = check_in_sandbox(app, runs, limit, limits, settle=True)
            if base.report is None or base.report.get("leak"):
                stop_tour.set()
            tour = tour_f.result()
        if base.report is None:
            return base
        if base.report.get("leak"):
            return _with_trigger(base, None)
    if tour.report is None:
        action = tour.sandbox.get("action")
        tour.error = f"after the visitor's last step ({action}), {tour.error}" if action else f"while exploring: {tour.error}"
        return tour
    summary = dict(tour.explore or {})
    summary["confirmed"] = []
    forecasts: list[dict[str, Any]] = []
    found = _confirm(app, runs, limit, limits, seed, _growing(tour.explore)[:CONFIRM_MAX], summary, forecasts, thorough, deadline)
    summary["seconds"] = round(time.monotonic() - started, 1)
    if found is not None:
        focused, it = found
        if focused.report is None:
            return focused
        focused.report["explore"] = summary
        focused.report["forecasts"] = forecasts
        focused.explore = summary
        return _with_trigger(focused, it)
    assert base.report is not None
    base.report["explore"] = summary
    base.report["trigger"] = None
    base.report["forecasts"] = forecasts
    base.explore = summary
    n = len(summary.get("blocks", []))
    pages = ", ".join(summary.get("pages") or []) or "one page"
    grew = [c["interaction"] for c in summary["confirmed"] if not c.get("forecast")]
    base.text += f"\n  explored: {n} interaction{'s' if n != 1 else ''} ({pages}), none makes memory grow run after run"
    if grew:
        base.text += f" (grew at first, then settled when repeated: {', '.join(grew)})"
    if summary.get("not_explored"):
        why = "out of time" if summary.get("out_of_time") else "over the tour's limit"
        base.text += f"; {len(summary['not_explored'])} not explored ({why})"
    if summary.get("not_rechecked"):
        base.text += (f"\n  not re-checked within the {budget_s:g} s budget (grew at first): "
                      f"{', '.join(summary['not_rechecked'])}; --thorough re-checks every one")
    for forecast in forecasts:
        base.text += f"\n  forecast: {forecast['sentence']}"
    if summary.get("not_drivable"):
        base.text += f"\n  not driven: {'; '.join(summary['not_drivable'][:3])}"
    return base


def _confirm(
    app: str,
    runs: int,
    limit: object,
    limits: SandboxLimits,
    seed: int,
    candidates: list[Interaction],
    summary: dict[str, Any],
    forecasts: list[dict[str, Any]],
    thorough: bool,
    deadline: float | None = None,
) -> tuple[CheckOutcome, Interaction] | None:
    """Re-check each candidate alone, in order; the first that leaks (or breaks the app), else None.

    Outside ``thorough`` the re-checks run ``CONFIRM_PARALLEL`` at a time and stop once
    settled; they are still read in order, and those after a leak are stopped. At
    ``deadline`` (monotonic) the re-checks still running are stopped and, like those
    not started, listed in ``summary["not_rechecked"]``: no verdict is made up for them.
    """
    stop = threading.Event()
    late = threading.Event()
    timer = None
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0:
            summary["not_rechecked"] = [it.describe() for it in candidates]
            return None
        def time_is_up() -> None:
            late.set()
            stop.set()

        timer = threading.Timer(left, time_is_up)
        timer.daemon = True
        timer.start()

    def recheck(it: Interaction) -> CheckOutcome:
        driver = {"kind": "focus", "interaction": it.to_dict(), "seed": seed}
        return check_in_sandbox(app, runs, limit, limits, driver, settle=not thorough, cancel=stop)

    pool = ThreadPoolExecutor(1 if thorough else CONFIRM_PARALLEL)
    try:
        futures: list[Callable[[], CheckOutcome]] = []
        if thorough:  # one after the other: a re-check starts only when the one before said no
            futures = [lambda it=it: recheck(it) for it in candidates]  # type: ignore[misc]
        else:
            submitted: list[Future[CheckOutcome]] = [pool.submit(recheck, it) for it in candidates]
            futures = [f.result for f in submitted]
        for it, result in zip(candidates, futures, strict=True):
            focused = result()
            report = focused.report
            if report is None and late.is_set() and focused.sandbox.get("status") == "cancelled":
                summary.setdefault("not_rechecked", []).append(it.describe())
                continue
            if report is None:
                stop.set()
                focused.error = f"{focused.error} (while repeating: {it.describe()})"
                focused.sandbox["action"] = it.describe()
                return focused, it
            forecast = domain_forecast(report, it) if report.get("leak") else None
            summary["confirmed"].append({"interaction": it.describe(), "leak": report.get("leak") and forecast is None,
                                         "forecast": forecast is not None})
            if forecast is not None:
                forecasts.append(forecast)
            elif report.get("leak"):
                stop.set()
                return focused, it
        return None
    finally:
        stop.set()
        if timer is not None:
            timer.cancel()
        pool.shutdown(wait=True)

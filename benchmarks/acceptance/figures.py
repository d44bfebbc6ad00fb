"""From what was seen after each click to the figures the harness prints.

An *alarm* is what makes a person think something is wrong: a box in the sidebar
(``st.warning`` / ``st.error``), a toast, or "Leak" in the gauge's trend line. A
click counts once however many of them it raised.

Each click is read twice: right after its run ended (``s0``) and a second later
(``s1``, when the gauge has polled the server again). A *disagreement* is a click
whose ``s1`` shows the box and the gauge telling different stories (a box while
the gauge does not say "Leak", or "Leak" with no box). *Lag* is the box right after
the run (``s0``) disagreeing with the gauge a second later; "caught up" counts those
where the next run's box then matches that gauge (the box showed the previous verdict).
*Onset moves* counts the times the box's "since run N" changed from one click to the
next while the box stayed up (the onset of an episode should not move while it lasts).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from browser import Screen


@dataclass
class Click:
    n: int
    action: str
    run_seen: bool
    run_s: float
    s0: Screen
    s1: Screen
    rss: int | None = None
    error: str = ""

    @property
    def toasts(self) -> list[str]:
        return self.s0.new_toasts + self.s1.new_toasts

    @property
    def box_alarm(self) -> bool:
        return self.s0.box_alarm or self.s1.box_alarm

    @property
    def gauge_alarm(self) -> bool:
        return self.s0.gauge_alarm or self.s1.gauge_alarm

    @property
    def alarm(self) -> bool:
        return self.box_alarm or self.gauge_alarm or bool(self.toasts)

    @property
    def disagrees(self) -> bool:
        return self.s1.gauge != "" and self.s1.box_alarm != self.s1.gauge_alarm

    @property
    def lags(self) -> bool:
        return self.s1.gauge != "" and self.s0.box_alarm != self.s1.gauge_alarm

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "action": self.action,
            "run_seen": self.run_seen,
            "run_s": round(self.run_s, 3),
            "rss": self.rss,
            "error": self.error,
            "s0": self.s0.as_dict(),
            "s1": self.s1.as_dict(),
        }


SINCE_RE = re.compile(r"since run (\d+)")


def screen_from(d: dict[str, Any]) -> Screen:
    """A reading saved by ``Screen.as_dict`` (for re-counting a saved run with ``run.py --from-json``)."""
    return Screen(**{k: d[k] for k in Screen.__dataclass_fields__ if k in d})


def click_from(d: dict[str, Any]) -> Click:
    return Click(
        d["n"], d["action"], d["run_seen"], d["run_s"], screen_from(d["s0"]), screen_from(d["s1"]), d.get("rss"),
        d.get("error", ""),
    )  # fmt: skip


def disagreement_kind(s: Screen) -> str:
    if s.box_alarm:
        return f"box {s.box_kind or 'alert'}, gauge {s.gauge_state}"
    return "gauge Leak, no box"


@dataclass
class AppFigures:
    name: str
    kind: str
    holder: str
    clicks: int = 0
    runs_seen: int = 0
    errors: int = 0
    alarm_clicks: int = 0
    box_clicks: int = 0
    toasts: int = 0
    gauge_leak_clicks: int = 0
    first_alarm: int | None = None
    first_box: int | None = None
    holder_click: int | None = None
    disagreements: int = 0
    disagreement_kinds: dict[str, int] = field(default_factory=dict)
    lag: int = 0
    lag_caught_up: int = 0
    onset_moves: int = 0
    onsets: list[int] = field(default_factory=list)  # every distinct "since run N" the box showed, in order
    rss_first: int | None = None
    rss_last: int | None = None
    mean_run_s: float = 0.0
    wall_s: float = 0.0
    examples: list[str] = field(default_factory=list)  # distinct alarm texts, first seen first
    last_box: str = ""
    failure: str = ""

    @property
    def alarms_per_100(self) -> float | None:
        return 100.0 * self.alarm_clicks / self.clicks if self.clicks else None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["alarms_per_100"] = self.alarms_per_100
        return out


def summarise(name: str, kind: str, holder: str, clicks: list[Click]) -> AppFigures:
    f = AppFigures(name, kind, holder, clicks=len(clicks))
    f.runs_seen = sum(c.run_seen for c in clicks)
    f.errors = sum(bool(c.error) for c in clicks)
    seen_examples: set[str] = set()
    onset: int | None = None
    for i, c in enumerate(clicks):
        if c.alarm:
            f.alarm_clicks += 1
            if f.first_alarm is None:
                f.first_alarm = c.n
        if c.box_alarm:
            f.box_clicks += 1
            if f.first_box is None:
                f.first_box = c.n
        f.toasts += len(c.toasts)
        f.gauge_leak_clicks += c.gauge_alarm
        boxes = " ".join(s.box for s in (c.s0, c.s1))
        if holder and f.holder_click is None and holder.lower() in boxes.lower():
            f.holder_click = c.n
        if c.disagrees:
            f.disagreements += 1
            k = disagreement_kind(c.s1)
            f.disagreement_kinds[k] = f.disagreement_kinds.get(k, 0) + 1
        if c.lags:
            f.lag += 1
            nxt = clicks[i + 1] if i + 1 < len(clicks) else None
            if nxt is not None and nxt.s0.box_alarm == c.s1.gauge_alarm:
                f.lag_caught_up += 1
        since = SINCE_RE.search(c.s1.box)
        now = int(since.group(1)) if since else None
        if now is not None and onset is not None and now != onset:
            f.onset_moves += 1
        if now is not None and now not in f.onsets:
            f.onsets.append(now)
        onset = now if c.s1.box_alarm else None
        for text in [c.s0.box.split("\n")[0], *c.toasts, c.s1.gauge if c.gauge_alarm else ""]:
            if text and text not in seen_examples and len(f.examples) < 6:
                seen_examples.add(text)
                f.examples.append(f"click {c.n}: {text}")
    rss = [c.rss for c in clicks if c.rss is not None]
    if rss:
        f.rss_first, f.rss_last = rss[0], rss[-1]
    runs = [c.run_s for c in clicks if c.run_seen]
    f.mean_run_s = sum(runs) / len(runs) if runs else 0.0
    f.last_box = clicks[-1].s1.box if clicks else ""
    return f

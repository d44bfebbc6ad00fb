"""Act on an app as a visitor would, between the runs of a check.

What a visitor does is a list of *interactions*, found on the page after each
run: click a button, set a radio, selectbox or select_slider to one of its
other options, pick a multiselect option, tick a checkbox or toggle, move a
slider or number input to a new value, type into a text input, text area or
chat input, upload a small generated file (CSV, PNG or text, as the uploader
accepts), open another page (``st.navigation`` or ``pages/``). Element types
AppTest cannot drive on the installed Streamlit are listed, not guessed at.

Why blocks, one interaction at a time: a leak sits behind one interaction, and
the verdict only calls growth that happens on most runs a leak. So the
``Explorer`` spends a few consecutive runs on each interaction (a click on
every run of its block, a held option for the whole block), then puts the
widget back, and notes how the live Python bytes moved within the block. The
interactions whose block grew on every step are then checked one by one, each
in its own sandboxed process with only that interaction repeated (``Focus``):
the full verdict decides, and the interaction that makes it a leak is the
trigger. That is the "replay with everything else held still" done from the
other side: one replay per suspect instead of one per widget.

Why a block may end early (``quick``, the default of the command): a block is a
candidate only when all but one of its steps grow, so once two steps are flat its
verdict is known and its last run would change nothing.

Why a slider's domain is kept (``Interaction.domain``): the re-check moves it to a
new value on every run, and a cache keyed by it gains an entry each time; with a
domain of 24 hours that cache holds at most 24 entries, a bound, not a leak (see
``st_memwatch.tour``). Choices are held for their whole block, so a cache they key
gains one entry and stops.

Deterministic for a seed: the seed orders the interactions, picks the options
tried when there are many, and the text typed. The orchestration of a check
(plain check, tour, re-checks, forecasts) is ``st_memwatch.tour``.
"""

from __future__ import annotations

import importlib.util
import random
import statistics
import struct
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from st_memwatch.check import CheckError, StopChecking, live_bytes
from st_memwatch.core import analysis
from st_memwatch.streamlit_bridge import pages

BLOCK_RUNS = 4  # runs per interaction while exploring: one to set it, three steps to watch
MAX_BLOCKS = 24  # interactions explored per check (about 100 runs); the rest are listed as not explored
MAX_OPTIONS = 5  # other options tried per choice widget
# A step of the live heap that counts as growth: the verdict's floor per run for a suspect.
GROWTH_STEP_BYTES = analysis.Thresholds().min_suspect_bytes_per_run
MAX_DOMAIN = 2**16  # values counted one by one in a widget's domain; larger is "unknown"
OWN_KEY_PREFIX = "st_memwatch"

# AppTest accessor -> what a visitor does with it
CLICK = ("button",)
CHOOSE = ("radio", "selectbox", "select_slider")
PICK = ("multiselect",)
TICK = ("checkbox", "toggle")
MOVE = ("slider", "number_input")
TYPE = ("text_input", "text_area", "chat_input")
UPLOAD = ("file_uploader",)
UNDRIVABLE = ("file_uploader", "camera_input", "audio_input", "date_input", "time_input", "color_picker", "data_editor")


@dataclass(frozen=True)
class Interaction:
    """One thing a visitor does, named so that another process finds the same widget."""

    action: str  # click, choose, pick, tick, move, type, upload, page
    widget: str  # the AppTest accessor ("button", "radio", ...) or "page"
    label: str
    key: str | None = None
    nth: int = 0  # among widgets of this type with this label on the page
    value: Any = None  # the option chosen or picked (as AppTest shows it)
    page: str | None = None  # page hash the widget lives on; None for the first page
    page_name: str | None = None
    domain: int | None = None  # how many values the widget can take (a slider of hours: 24); None: unknown or unbounded

    def describe(self) -> str:
        where = f" on page '{self.page_name}'" if self.page_name and self.action != "page" else ""
        what = {
            "click": f"click '{self.label}'",
            "choose": f"set '{self.label}' to '{self.value}'",
            "pick": f"pick '{self.value}' in '{self.label}'",
            "tick": f"switch '{self.label}'",
            "move": f"move '{self.label}'",
            "type": f"type into '{self.label}'",
            "upload": f"upload a file to '{self.label}'",
            "page": f"open page '{self.label}'",
        }.get(self.action, self.action)
        return what + where

    def each_time(self) -> str:
        """The trigger's wording: '... each time you click 'Allocate''."""
        where = f" on page '{self.page_name}'" if self.page_name and self.action != "page" else ""
        return {
            "click": f"each time you click '{self.label}'{where}",
            "choose": f"on every rerun while '{self.label}' is set to '{self.value}'{where}",
            "pick": f"on every rerun while '{self.value}' is picked in '{self.label}'{where}",
            "tick": f"on every rerun while '{self.label}' is switched{' on' if self.value else ' off'}{where}",
            "move": f"each time you move '{self.label}' to a new value{where}",
            "type": f"each time you type new text into '{self.label}'{where}",
            "upload": f"each time you upload a file to '{self.label}'{where}",
            "page": f"on every rerun of page '{self.label}'",
        }.get(self.action, "on every run")

    def trigger(self) -> dict[str, Any]:
        out: dict[str, Any] = {"widget": self.widget, "label": self.label, "action": self.action}
        if self.value is not None:
            out["value"] = self.value
        if self.page_name and self.action != "page":
            out["page"] = self.page_name
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Interaction:
        fields: dict[str, Any] = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**fields)


# ---------------------------------------------------------------- widgets


def _widgets(at: Any, accessor: str) -> list[Any]:
    try:
        return list(getattr(at, accessor))
    except Exception:  # the accessor does not exist on this Streamlit, or the tree is empty
        return []


def _own(w: Any) -> bool:
    key = getattr(w, "key", None)
    return isinstance(key, str) and key.startswith(OWN_KEY_PREFIX)


def _label(w: Any) -> str:
    text = getattr(w, "label", None) or getattr(w, "placeholder", None) or getattr(w, "key", None) or ""
    return str(text)


def find_widget(at: Any, it: Interaction) -> Any:
    """The widget ``it`` acts on in the current tree, or None."""
    seen = 0
    for w in _widgets(at, it.widget):
        if it.key is not None:
            if getattr(w, "key", None) == it.key:
                return w
            continue
        if _label(w) == it.label and getattr(w, "key", None) is None:
            if seen == it.nth:
                return w
            seen += 1
    return None


def _can_format(w: Any, option: str) -> bool:
    """AppTest finds an option by formatting the value it is given: only plain labels round-trip."""
    try:
        return bool(w.format_func(option) == option)
    except Exception:
        return False


def _steps_between(lo: Any, hi: Any, step: Any) -> int | None:
    """Values of a slider or number input from ``lo`` to ``hi`` by ``step``; None when not finite."""
    try:
        lo, hi, step = float(lo), float(hi), float(step or 1)
    except (TypeError, ValueError):
        return None
    if not (step > 0 and hi >= lo) or (hi - lo) / step >= MAX_DOMAIN:
        return None
    return int(round((hi - lo) / step)) + 1


def discover(at: Any, page: str | None, page_name: str | None, rng: random.Random) -> tuple[list[Interaction], dict[Interaction, Any], list[str]]:
    """The interactions on the current page, the value to put each back to, and what cannot be driven."""
    found: list[Interaction] = []
    defaults: dict[Interaction, Any] = {}
    skipped: list[str] = []

    def add(it: Interaction, default: Any = None) -> None:
        found.append(it)
        defaults[it] = default

    for accessor in (*CLICK, *CHOOSE, *PICK, *TICK, *MOVE, *TYPE, *UPLOAD):
        counts: dict[str, int] = {}
        for w in _widgets(at, accessor):
            if _own(w) or getattr(w, "disabled", False):
                continue
            label = _label(w)
            key = getattr(w, "key", None)
            nth = 0
            if key is None:
                nth = counts.get(label, 0)
                counts[label] = nth + 1
            base: dict[str, Any] = {"widget": accessor, "label": label, "key": key, "nth": nth, "page": page, "page_name": page_name}
            try:
                if accessor in CLICK:
                    add(Interaction("click", **base))
                elif accessor in CHOOSE or accessor in PICK:
                    options = [str(o) for o in getattr(w, "options", [])]
                    current = w.value
                    shown = w.format_func(current) if current is not None and accessor not in PICK else None
                    others = [o for o in options if o != shown and _can_format(w, o)]
                    if len(others) > MAX_OPTIONS:
                        others = sorted(rng.sample(others, MAX_OPTIONS), key=options.index)
                    n = len(options)
                    domain = n if accessor not in PICK else (2**n if n < 16 else None)
                    for option in others:
                        add(Interaction("pick" if accessor in PICK else "choose", value=option, domain=domain, **base), current)
                elif accessor in TICK:
                    add(Interaction("tick", value=not bool(w.value), domain=2, **base), bool(w.value))
                elif accessor in MOVE:
                    value = w.value
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        domain = _steps_between(getattr(w, "min", None), getattr(w, "max", None), getattr(w, "step", None))
                        add(Interaction("move", domain=domain, **base), value)
                    else:
                        skipped.append(f"{accessor} '{label}' (a range or a date)")
                elif accessor in TYPE:
                    add(Interaction("type", **base), getattr(w, "value", None))
                elif accessor in UPLOAD:
                    if _upload_payload(getattr(w, "allowed_type", []), 0) is None:
                        skipped.append(f"file_uploader '{label}' (accepts {', '.join(w.allowed_type)})")
                    else:
                        add(Interaction("upload", **base))
            except Exception as exc:  # one odd widget must not end the exploration
                skipped.append(f"{accessor} '{label}' ({type(exc).__name__})")
    # Elements this Streamlit's AppTest shows only as unknown elements.
    drivable = {a for a in UPLOAD if hasattr(type(at), a)}
    for element_type in UNDRIVABLE:
        if element_type in drivable:
            continue
        try:
            n = len(at.get(element_type))
        except Exception:
            n = 0
        if n:
            skipped.append(f"{n} {element_type} (AppTest cannot drive it on this Streamlit)")
    return found, defaults, skipped


# ---------------------------------------------------------------- acting


def _sweep(lo: float | None, hi: float | None, step: float, start: float, t: int, integral: bool) -> float:
    """The t-th position of a sweep that keeps visiting new values across [lo, hi]."""
    step = step or 1
    if lo is None or hi is None or hi <= lo:
        value = start + step * (t + 1)
        return int(value) if integral else value
    n = int((hi - lo) // step) + 1
    # Halve the range again and again (0, 1/2, 1/4, 3/4, ...): spread out, no repeats until n.
    k, x, denominator = t + 1, 0.0, 1.0
    while k:
        denominator *= 2
        x += (k & 1) / denominator
        k >>= 1
    index = int(x * n) % n
    value = lo + index * step
    if value == start:
        value = lo + ((index + 1) % n) * step
    return int(value) if integral else round(value, 10)


def _png(t: int) -> bytes:
    """A valid 8x8 grey PNG whose shade depends on t (every upload a different file)."""
    width = height = 8
    raw = b"".join(b"\x00" + bytes([t % 256]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _upload_payload(allowed: Any, t: int) -> tuple[str, bytes, str] | None:
    types = {str(a).lower().lstrip(".") for a in (allowed or [])}
    if not types or "csv" in types:
        rows = "\n".join(f"{t},{i},{i * t % 97}" for i in range(200))
        return (f"visitor_{t}.csv", f"run,row,value\n{rows}\n".encode(), "text/csv")
    if "png" in types:
        return (f"visitor_{t}.png", _png(t), "image/png")
    if types & {"txt", "text", "md"}:
        ext = "txt" if "txt" in types else sorted(types & {"text", "md"})[0]
        return (f"visitor_{t}.{ext}", f"visitor upload {t}\n".encode() * 50, "text/plain")
    return None


def act(at: Any, it: Interaction, t: int, rng: random.Random) -> bool:
    """Do ``it`` for the t-th time of its block; False when its widget is not on the page."""
    if it.action == "page":
        return True
    w = find_widget(at, it)
    if w is None:
        return False
    if it.action == "click":
        w.click()
    elif it.action == "choose":
        w.set_value(it.value)
    elif it.action == "pick":
        w.set_value([it.value])
    elif it.action == "tick":
        w.set_value(bool(it.value))
    elif it.action == "move":
        integral = isinstance(w.value, int)
        lo = getattr(w, "min", None)
        hi = getattr(w, "max", None)
        step = getattr(w, "step", None) or 1
        w.set_value(_sweep(lo, hi, float(step), w.value, t, integral))
    elif it.action == "type":
        words = ("visitor", "memory", "check", "leak", "cache", "page", "widget", "stream")
        w.set_value(f"{rng.choice(words)} {rng.choice(words)} {t}")
    elif it.action == "upload":
        payload = _upload_payload(getattr(w, "allowed_type", []), t)
        if payload is None:
            return False
        w.set_value(payload)
    return True


def restore(at: Any, it: Interaction, default: Any) -> None:
    """Put the widget back as the visitor found it, so the next block starts from the same app."""
    if it.action in ("click", "page"):
        return
    w = find_widget(at, it)
    if w is None:
        return
    try:
        if it.action == "upload":
            w.set_value(None)
        elif it.action == "pick":
            w.set_value(list(default or []))
        else:
            w.set_value(default)
    except Exception:  # nothing to put back: the next block starts from wherever this one left
        pass


# ---------------------------------------------------------------- measuring


@dataclass
class Block:
    interaction: Interaction
    first_run: int
    heap: list[int | None] = field(default_factory=list)
    acted: int = 0

    @property
    def steps(self) -> list[int]:
        known = [h for h in self.heap if h is not None]
        return [b - a for a, b in zip(known, known[1:], strict=False)]

    @property
    def grows(self) -> bool:
        """A candidate for the re-check: the heap grew at all but one step, and by that much on average.

        One flat step is allowed: a census that missed a run's bytes, or one value the app
        had already cached. The re-check alone decides a leak, with the full verdict.
        """
        s = self.steps
        if self.acted <= 0 or len(s) < BLOCK_RUNS - 2:
            return False
        growing = sum(1 for step in s if step >= GROWTH_STEP_BYTES)
        return growing >= max(1, len(s) - 1) and sum(s) >= GROWTH_STEP_BYTES * (len(s) - 1)

    def known_flat(self, block_runs: int) -> bool:
        """Can this block no longer be a candidate? Two flat steps out of a block's ``block_runs - 1``."""
        steps = block_runs - 1
        flat = sum(1 for step in self.steps if step < GROWTH_STEP_BYTES)
        return steps >= 2 and flat > steps - max(1, steps - 1)

    def to_dict(self) -> dict[str, Any]:
        s = self.steps
        return {
            "interaction": self.interaction.to_dict(),
            "description": self.interaction.describe(),
            "first_run": self.first_run + 1,
            "steps_bytes": s,
            "grows": self.grows,
        }


class Explorer:
    """The visitor: ``(at, run_index) -> description``, one interaction per block of runs."""

    def __init__(
        self,
        seed: int = 0,
        block_runs: int = BLOCK_RUNS,
        max_blocks: int = MAX_BLOCKS,
        budget_s: float | None = None,
        budget_runs: float | None = None,
        quick: bool = False,
    ) -> None:
        """``budget_s``: the tour's seconds; ``budget_runs``: its time in runs of this app as measured
        during the tour (the median run); ``quick``: a block ends once it is known flat."""
        self.rng = random.Random(seed)
        self.budget_s = budget_s
        self.budget_runs = budget_runs
        self.quick = quick
        self._started = time.monotonic()
        self._last_call: float | None = None
        self._run_seconds: list[float] = []
        self.out_of_time = False
        self.seed = seed
        self.block_runs = block_runs
        self.max_blocks = max_blocks
        self.queue: list[Interaction] = []
        self.known: set[Interaction] = set()
        self.defaults: dict[Interaction, Any] = {}
        self.skipped: list[str] = []
        self.blocks: list[Block] = []
        self.pages_seen: set[str | None] = set()
        self.main_page: str | None = None
        self.pages: dict[str, str] = {}
        self._census: object = None
        self._pages_ok = pages.install_page_hook()

    @property
    def runs_needed(self) -> int:
        return 1 + self.block_runs * self.max_blocks + 1

    def _measure(self) -> None:
        census, total = live_bytes(after=self._census)
        if total is not None:
            self._census = census
        if self.blocks:
            self.blocks[-1].heap.append(total)

    def _discover(self, at: Any, page: str | None) -> None:
        if page in self.pages_seen:
            return
        self.pages_seen.add(page)
        name = self.pages.get(page) if page is not None else None
        found, defaults, skipped = discover(at, page, name, self.rng)
        batch = [it for it in found if it not in self.known]
        self.rng.shuffle(batch)
        # Within a page, options and buttons first: the commonest ways a visitor makes
        # an app do other work (a mode, a variant, an action), and a capped tour keeps them.
        first = {"choose": 0, "click": 1}
        batch.sort(key=lambda it: first.get(it.action, 2))
        for it in batch:
            self.known.add(it)
            self.defaults[it] = defaults.get(it)
        self.queue.extend(batch)
        self.skipped.extend(s for s in skipped if s not in self.skipped)
        if page is None:
            for h, pname in self.pages.items():
                if h != self.main_page:
                    page_it = Interaction("page", "page", pname, page=h, page_name=pname)
                    if page_it not in self.known:
                        self.known.add(page_it)
                        self.queue.append(page_it)

    def _over_budget(self) -> bool:
        elapsed = time.monotonic() - self._started
        if self.budget_s is not None and elapsed > self.budget_s:
            return True
        if self.budget_runs is not None and len(self._run_seconds) >= 2:
            # The first run (imports, first cache fills) is not a run of this app's usual cost.
            return elapsed > self.budget_runs * statistics.median(self._run_seconds[1:])
        return False

    def __call__(self, at: Any, i: int) -> str | None:
        now = time.monotonic()
        if self._last_call is not None:
            self._run_seconds.append(now - self._last_call)
        self._last_call = now
        if i == 0:
            return None  # the first run shows the page as a visitor first sees it
        self._measure()
        if i == 1:
            self.pages = pages.page_names()
            self.main_page = pages.current_page() if self.pages else None
        current = self.blocks[-1] if self.blocks else None
        page_now = current.interaction.page if current is not None else None
        self._discover(at, page_now if page_now != self.main_page else None)
        in_block = current is not None and i - current.first_run < self.block_runs
        if current is not None and in_block and not (self.quick and current.known_flat(self.block_runs)):
            it = current.interaction
            if act(at, it, i - current.first_run, self.rng):
                current.acted += 1
            return it.describe()
        if current is not None:  # the block is over: put things back
            restore(at, current.interaction, self.defaults.get(current.interaction))
        if self.queue and self._over_budget():
            self.out_of_time = True
        if not self.queue or len(self.blocks) >= self.max_blocks or self.out_of_time:
            raise StopChecking
        it = self.queue.pop(0)
        target = it.page if it.page is not None else self.main_page
        if target is not None and (current is None or current.interaction.page != it.page):
            pages.switch_page(at, target)
        block = Block(it, i)
        self.blocks.append(block)
        if act(at, it, 0, self.rng):
            block.acted += 1
        return it.describe()

    def summary(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "blocks": [b.to_dict() for b in self.blocks],
            "not_explored": [it.describe() for it in self.queue],
            "out_of_time": self.out_of_time,
            "not_drivable": self.skipped,
            "pages": list(self.pages.values()),
        }


class Focus:
    """One interaction, repeated on every run after the first: the replay that names a trigger."""

    def __init__(self, interaction: Interaction, seed: int = 0) -> None:
        self.interaction = interaction
        self.rng = random.Random(seed)
        pages.install_page_hook()
        self.acted = 0
        self._census: object = None

    def __call__(self, at: Any, i: int) -> str | None:
        if i == 0:
            return None
        # Let the last run's census finish before the next run starts (AppTest can
        # return first): a census cut short by the next run is a gap in the verdict's series.
        self._census, _ = live_bytes(after=self._census)
        it = self.interaction
        if i == 1 and it.page is not None:
            pages.switch_page(at, it.page)
            if it.action != "page":
                return "open the page first"
        if act(at, it, i, self.rng):
            self.acted += 1
        return it.describe()

    def summary(self) -> dict[str, Any]:
        return {"focus": self.interaction.to_dict(), "acted": self.acted}


# ---------------------------------------------------------------- scenarios


def load_scenario(path: str, func: str = "drive") -> Callable[[Any, int], Any]:
    """``def drive(at, run)`` from a Python file (``path`` or ``path:function``)."""
    file = Path(path)
    if not file.is_file():
        raise CheckError(f"--scenario: file not found: {path!r}")
    spec = importlib.util.spec_from_file_location(f"st_memwatch_scenario_{abs(hash(str(file.resolve())))}", file)
    if spec is None or spec.loader is None:
        raise CheckError(f"--scenario: {path!r} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise CheckError(f"--scenario: {file.name} raised on import: {type(exc).__name__}: {exc}") from None
    fn = getattr(module, func, None)
    if not callable(fn):
        raise CheckError(f"--scenario: {file.name} defines no function {func}(at, run)")
    return fn  # type: ignore[no-any-return]


def split_scenario(spec: str) -> tuple[str, str]:
    """'driver.py' or 'driver.py:function' -> (path, function)."""
    path, sep, func = spec.rpartition(":")
    if sep and path and func.isidentifier():
        return path, func
    return spec, "drive"


def build_driver(spec: dict[str, Any] | None) -> Callable[[Any, int], Any] | None:
    """The driver a sandboxed child runs, from its JSON description."""
    if not spec:
        return None
    kind = spec.get("kind")
    if kind == "explore":
        budget = spec.get("budget_s")
        budget_runs = spec.get("budget_runs")
        return Explorer(
            seed=int(spec.get("seed", 0)),
            max_blocks=int(spec.get("max_blocks", MAX_BLOCKS)),
            budget_s=float(budget) if budget is not None else None,
            budget_runs=float(budget_runs) if budget_runs is not None else None,
            quick=bool(spec.get("quick", False)),
        )
    if kind == "focus":
        return Focus(Interaction.from_dict(spec["interaction"]), seed=int(spec.get("seed", 0)))
    if kind == "scenario":
        return load_scenario(spec["path"], spec.get("func", "drive"))
    raise ValueError(f"unknown driver kind {kind!r}: expected explore, focus or scenario")

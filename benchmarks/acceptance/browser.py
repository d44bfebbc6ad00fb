"""A browser tab on an app, as a person uses it: act, wait for the run to end, read what is on screen.

What is read is what a person sees, nothing from the server's internals:

- the diagnosis box: the sidebar's alert (``st.warning`` / ``st.error``), its text and kind;
- toasts: every toast's text from its first frame on (a MutationObserver; toasts vanish);
- the gauge: its trend line ("Leak · Growing ...", "Steady: ...") and its last run, found
  inside the component's shadow root (components v2) or its same-origin iframe (v1).

When a run ends is learnt from the websocket: each ``script_finished`` message the
server sends ends one run; the page is then read once Streamlit marks the app idle
and the browser has painted.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SIDEBAR = '[data-testid="stSidebar"]'
CHROMIUM_ENV = "ST_MEMWATCH_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
RUN_TIMEOUT_S = 60.0  # a run that has not ended by then is recorded as not seen

TOAST_WATCH = """
window.__accToasts = [];
new MutationObserver(() => {
    for (const t of document.querySelectorAll('[data-testid="stToast"]')) {
        if (!t.dataset.accSeen) {
            t.dataset.accSeen = "1";
            window.__accToasts.push(t.innerText);
        }
    }
}).observe(document, {childList: true, subtree: true});
"""

# One read of the screen: the sidebar's alerts, the toasts so far, the gauge (through shadow roots and iframes).
READ_SCREEN = """
() => {
  const find = (root, depth) => {
    const hit = root.querySelector('.smw');
    if (hit || depth > 6) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const h = find(el.shadowRoot, depth + 1); if (h) return h; }
      if (el.tagName === 'IFRAME') {
        let doc = null;
        try { doc = el.contentDocument; } catch (e) { doc = null; }
        if (doc) { const h = find(doc, depth + 1); if (h) return h; }
      }
    }
    return null;
  };
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  const boxes = sidebar ? [...sidebar.querySelectorAll('[data-testid="stAlert"]')].map(b => {
    const content = b.querySelector('[data-testid^="stAlertContent"]');
    const kind = content ? content.dataset.testid.replace('stAlertContent', '').toLowerCase() : '';
    return {kind, text: b.innerText};
  }) : [];
  const g = sidebar ? find(sidebar, 0) : null;
  // The gauge carries the diagnosis box when it is drawn (the native alert is drawn only without it).
  const gbox = g && g.querySelector('.smw-box');
  if (gbox && gbox.textContent.trim()) boxes.unshift({kind: gbox.dataset.level || 'warning', text: gbox.innerText});
  const text = (sel) => { const n = g && g.querySelector(sel); return n ? n.textContent : ''; };
  const trendNode = g && g.querySelector('.smw-trend');
  return {
    boxes,
    toasts: window.__accToasts ? window.__accToasts.length : 0,
    toastTexts: window.__accToasts || [],
    gauge: g ? {
      trend: text('.smw-trend'),
      trendClass: trendNode ? trendNode.className : '',
      last: text('.smw-last'),
      now: text('.smw-now'),
      pct: text('.smw-pct'),
      live: g.dataset.live || '',
    } : null,
  };
}
"""


def chromium_path() -> str:
    return os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM


def launch(playwright: Any) -> Any:
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError(f"Chromium not found at {path!r} (set {CHROMIUM_ENV})")
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)


@dataclass
class Screen:
    """What a person sees in the sidebar at one moment."""

    box: str = ""  # the first alert's text, "" when there is none
    box_kind: str = ""  # "warning", "error", ...
    boxes: int = 0
    new_toasts: list[str] = field(default_factory=list)
    gauge: str = ""  # the gauge's trend line, "" when there is no gauge
    gauge_class: str = ""
    gauge_last: str = ""
    gauge_now: str = ""
    gauge_live: str = ""

    @property
    def box_alarm(self) -> bool:
        return self.boxes > 0

    @property
    def gauge_alarm(self) -> bool:
        return self.gauge.startswith("Leak")

    @property
    def gauge_state(self) -> str:
        """leak / over / growing / steady / unknown: the gauge's verdict in one word."""
        t = self.gauge
        if t.startswith("Leak"):
            return "leak"
        if t.startswith("Over the limit"):
            return "over"
        if t.startswith("Growing"):
            return "growing"
        if t.startswith("Steady"):
            return "steady"
        return "unknown" if t else "none"

    def as_dict(self) -> dict[str, Any]:
        return {
            "box": self.box,
            "box_kind": self.box_kind,
            "boxes": self.boxes,
            "new_toasts": self.new_toasts,
            "gauge": self.gauge,
            "gauge_last": self.gauge_last,
            "gauge_now": self.gauge_now,
            "gauge_live": self.gauge_live,
        }


class Tab:
    """One browser session (its own context, so its own Streamlit session) on ``url``."""

    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.set_default_timeout(20_000)
        self.context.add_init_script(TOAST_WATCH)
        self.page = self.context.new_page()
        self.js_errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.js_errors.append(str(exc)))
        self.finished = 0  # script_finished messages received
        self._toasts_seen = 0
        self.page.on("websocket", self._watch)
        self.page.goto(url, wait_until="commit")  # the first run's end is waited for on the websocket

    # -- runs -------------------------------------------------------------------------------
    def _watch(self, ws: Any) -> None:
        ws.on("framereceived", self._frame)

    def _frame(self, payload: Any) -> None:
        if not isinstance(payload, bytes | bytearray):
            return
        try:
            from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

            if ForwardMsg.FromString(bytes(payload)).WhichOneof("type") == "script_finished":
                self.finished += 1
        except Exception:
            pass

    def wait_run(self, before: int, timeout_s: float = RUN_TIMEOUT_S) -> bool:
        """Wait for a run that ends after ``before`` runs had ended, then for the page to be idle and painted."""
        deadline = time.monotonic() + timeout_s
        while self.finished <= before:
            if time.monotonic() > deadline:
                return False
            self.page.wait_for_timeout(40)
        remaining = max(1.0, deadline - time.monotonic())
        try:
            self.page.locator(IDLE_APP).wait_for(timeout=remaining * 1000)
        except Exception:
            return False
        self.settle()
        return True

    def settle(self) -> None:
        """Two animation frames: what the last messages changed is on screen."""
        self.page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")

    def wait_loaded(self, timeout_s: float = RUN_TIMEOUT_S) -> None:
        """The first run ended and the gauge is drawn (the panel shows for a browser on this machine)."""
        if not self.wait_run(-1 if self.finished else 0, timeout_s):
            raise RuntimeError("the app's first run did not end")
        deadline = time.monotonic() + 20
        while not self.read().gauge and time.monotonic() < deadline:
            self.page.wait_for_timeout(200)

    # -- reading ----------------------------------------------------------------------------
    def read(self) -> Screen:
        raw = self.page.evaluate(READ_SCREEN)
        boxes = raw.get("boxes") or []
        toasts = [" ".join(t.split()) for t in raw.get("toastTexts") or []]
        new = toasts[self._toasts_seen :]
        self._toasts_seen = len(toasts)
        g = raw.get("gauge") or {}
        return Screen(
            box=boxes[0]["text"].strip() if boxes else "",
            box_kind=boxes[0]["kind"] if boxes else "",
            boxes=len(boxes),
            new_toasts=new,
            gauge=(g.get("trend") or "").strip(),
            gauge_class=g.get("trendClass") or "",
            gauge_last=(g.get("last") or "").strip(),
            gauge_now=(g.get("now") or "").strip(),
            gauge_live=g.get("live") or "",
        )

    def exception_shown(self) -> str:
        shown = self.page.get_by_test_id("stException")
        return shown.first.inner_text() if shown.count() else ""

    def close(self) -> None:
        try:
            self.context.close()
        except Exception:
            pass

    # -- what a person does -----------------------------------------------------------------
    def button(self, name: str) -> str:
        self.page.get_by_test_id("stMain").get_by_role("button", name=name, exact=True).click()
        return f"button {name!r}"

    def radio(self, label_start: str) -> str:
        self.page.get_by_test_id("stRadio").get_by_text(re.compile("^" + re.escape(label_start))).first.click()
        return f"radio {label_start!r}"

    def slider(self, key: str) -> str:
        """One step of the first slider (focus it, press an arrow key): 1.67 has an input, 1.40 a role=slider."""
        handle = self.page.locator('[data-testid="stSlider"] [role="slider"], [data-testid="stSlider"] input').first
        handle.focus()
        handle.press(key)
        return f"slider {key}"

    def selectbox(self, option: str, index: int = 0) -> str:
        self.page.get_by_test_id("stSelectbox").nth(index).click()
        self.page.get_by_role("option", name=option, exact=True).click()
        return f"selectbox {option!r}"

    def chat(self, text: str) -> str:
        box = self.page.get_by_test_id("stChatInput").locator("textarea")
        box.fill(text)
        box.press("Enter")
        return "chat message"

    def text_input(self, label: str, text: str) -> str:
        field_ = self.page.get_by_label(label, exact=True)
        field_.fill(text)
        field_.press("Enter")
        return f"text input {label!r}"

    def upload(self, name: str, content: bytes) -> str:
        self.page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            {"name": name, "mimeType": "text/csv", "buffer": content}
        )
        return f"upload {name}"

    def nav(self, title: str, exact: bool = True) -> str:
        """A page link of the sidebar's navigation (``exact=False``: its name contains ``title``, as with an icon)."""
        self.page.locator(SIDEBAR).get_by_role("link", name=title, exact=exact).first.click()
        return f"page {title!r}"

    def form(self, values: dict[str, str], submit: str) -> str:
        main = self.page.get_by_test_id("stMain")
        for label, value in values.items():
            main.get_by_label(label, exact=True).fill(value)
        main.get_by_role("button", name=submit, exact=True).click()
        return f"form {submit!r}"

    def edit_cell(self, row: int, column: int, value: str, row_height: float = 35.0) -> str:
        """Type ``value`` into a cell of the first data editor (a canvas grid: click its place, type, Enter)."""
        grid = self.page.get_by_test_id("stDataFrame").first
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        if box is None:
            raise RuntimeError("the data editor has no box")
        # The row-number column is ~45 px wide; data columns start after it, ~100 px each at least.
        x = box["x"] + 60 + 100 * column + 30
        y = box["y"] + row_height * (row + 1) + row_height / 2
        self.page.mouse.click(x, y)
        self.page.wait_for_timeout(200)  # the grid takes the selection before it takes keys
        # Typing on a selected cell opens its editor with what is typed, as a person overwrites a
        # value; Enter commits. (Enter first, to open the editor, sometimes only moved the selection
        # down: every third or fourth edit was lost and the click started no run.)
        self.page.keyboard.type(value)
        self.page.wait_for_timeout(100)
        self.page.keyboard.press("Enter")
        return f"edit cell ({row}, {column})"

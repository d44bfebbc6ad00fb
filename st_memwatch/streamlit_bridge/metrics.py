"""st_memwatch's gauges on Streamlit's own ``/_stcore/metrics`` endpoint.

One provider, registered with the runtime's stats manager, serves Prometheus and
the live gauge alike: both read the same OpenMetrics text, so what a dashboard
alerts on is what the sidebar shows. The figures come from ``Monitor.snapshot``
(the same judgement as the panel: ``leak``, ``trend``, ``warnings``), remembered
for ``CACHE_S`` so that many polling tabs and a scraper cost one snapshot.

Labels carry fixed words only (an outcome, a level), never app data: no function,
key or session names.

Who reads them: Streamlit serves the endpoint to anyone who reaches the server,
and the figures (the process's memory, the host's RAM as the limit, activity) are
what the panel hides from visitors. So by default they go only to a request from
a browser the gate let in: its XSRF cookie (which Streamlit sets on every page
and the gauge's same-origin polls carry) matches a session whose panel is shown.
Every other request, a scraper's included, gets none of st_memwatch's families.
``ST_MEMWATCH_METRICS=public`` serves them to every request (a Prometheus
deployment), ``=off`` to none. A request's cookie reaches the provider through a
thin wrapper around Streamlit's metrics handler (a context variable), since the
stats API hands providers no request; the cookie is kept only as a hash, in memory.

Streamlit's stats API differs by version and is guarded here:

- 1.40 (Tornado): ``register_provider(p)`` and ``p.get_stats() -> list``; the
  handler writes one fixed ``cache_memory_bytes`` header and then each stat's
  ``to_metric_str()``, so our one stat writes whole families, headers included.
  The request wrapper patches ``StatsRequestHandler.get`` (looked up per request).
- newer (Starlette in 1.67): providers name their ``stats_families`` and return
  a mapping of family to stats; the server writes the headers from each stat.
  The wrapper replaces the metrics route's ASGI app, found through a session's
  websocket scope (its router); the provider runs in a worker thread that
  inherits the request's context.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from st_memwatch.core.ledger import OWNERS
from st_memwatch.core.models import Snapshot
from st_memwatch.core.monitor import Monitor

ENV_VAR = "ST_MEMWATCH_METRICS"
CACHE_S = 0.5
PREFIX = "st_memwatch_"
OUTCOMES = ("success", "exception", "rerun", "stopped")
LEVELS = ("info", "warning", "error")
FAMILY_NAMES = tuple(
    PREFIX + name
    for name in (
        "rss_bytes",
        "limit_bytes",
        "python_heap_bytes",
        "container_usage_bytes",
        "memory_owner_bytes",
        "runs",
        "run_peak_bytes",
        "last_run_delta_bytes",
        "last_run_duration_seconds",
        "last_run_end_timestamp_seconds",
        "last_run_id",
        "leak",
        "seconds_to_limit",
        "growth_bytes_per_run",
        "growth_bytes_per_second",
        "runs_in_progress",
        "run_in_progress_seconds",
        "run_in_progress_delta_bytes",
        "warnings",
    )
)


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: its samples are (fixed-word labels, value)."""

    name: str
    kind: Literal["gauge", "counter"]
    help: str
    unit: str
    samples: tuple[tuple[tuple[tuple[str, str], ...], float], ...]

    def sample_name(self) -> str:
        return f"{self.name}_total" if self.kind == "counter" else self.name


@dataclass(frozen=True, slots=True)
class LiveRuns:
    """What the recorder knows between snapshots: the run under way and the outcome counter."""

    active: int
    active_started_at: float | None  # monotonic seconds, like the snapshot's times
    active_rss_before: int | None
    finished: Mapping[str, int]


Mode = Literal["off", "gated", "public"]
_OFF_WORDS = ("off", "0", "false", "no")
_ON_WORDS = ("", "on", "1", "true", "yes")
PUBLIC = "public"


def metrics_mode() -> Mode:
    """``off``: none; ``public``: every request; otherwise (default) only browsers the gate let in."""
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if value in _OFF_WORDS:
        return "off"
    return "public" if value == PUBLIC else "gated"


def metrics_enabled() -> bool:
    return metrics_mode() != "off"


def env_problem() -> str:
    """A note when ``ST_MEMWATCH_METRICS`` holds something other than on/off/public ("" otherwise)."""
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if value in _ON_WORDS or value in _OFF_WORDS or value == PUBLIC:
        return ""
    return (
        f"{ENV_VAR}={os.environ.get(ENV_VAR)!r} not understood (expected on, off or public); "
        "metrics stay on, for the panel's viewers only"
    )


def live_runs(monitor: Monitor) -> LiveRuns:
    oldest = monitor.oldest_active_run()
    finished = monitor.finished_by_outcome()
    if oldest is None:
        return LiveRuns(0, None, None, finished)
    return LiveRuns(oldest[0], oldest[1], oldest[2], finished)


def _g(name: str, help: str, value: float | None, unit: str = "") -> Family | None:
    if value is None:
        return None
    return Family(PREFIX + name, "gauge", help, unit, (((), float(value)),))


def _owners(snap: Snapshot) -> Family | None:
    """Where the memory is, one sample per owner the ledger measures (fixed words: ``core.ledger.OWNERS``)."""
    ledger = snap.ledger
    if not ledger:
        return None
    missing = set(ledger.get("missing", ()))
    samples = tuple(
        ((("owner", owner),), float(size)) for owner, size in ledger.get("owners", {}).items() if owner in OWNERS and owner not in missing
    )
    return Family(PREFIX + "memory_owner_bytes", "gauge", "Bytes of the process's memory by owner (the ledger).", "bytes", samples)


def build_families(snap: Snapshot, live: LiveRuns) -> list[Family]:
    """Every family, from one snapshot and the recorder's live state (pure: no I/O)."""
    offset = snap.unix_offset_s
    trend = snap.trend
    if snap.rss >= snap.limit.bytes:
        seconds_to_limit = 0.0
    elif trend is not None and trend.seconds_to_limit is not None:
        seconds_to_limit = trend.seconds_to_limit
    else:
        seconds_to_limit = math.inf  # not heading for the limit (or not known yet)
    last = snap.runs[-1] if snap.runs else None
    busy_s = None if live.active_started_at is None else max(0.0, snap.taken_at - live.active_started_at)
    busy_delta = None if live.active_rss_before is None else snap.rss - live.active_rss_before
    levels = {level: 0 for level in LEVELS}
    for w in snap.warnings:
        levels[w.level] = levels.get(w.level, 0) + 1
    out = [
        _g("rss_bytes", "Resident set size of the Streamlit process.", snap.rss, "bytes"),
        _g("limit_bytes", "The memory limit the panel measures against.", snap.limit.bytes, "bytes"),
        _g("python_heap_bytes", "Bytes of live Python objects at the last census.", snap.python_heap, "bytes"),
        _g(
            "container_usage_bytes",
            "The cgroup's memory usage (what the out-of-memory killer counts).",
            snap.container.bytes if snap.container is not None else None,
            "bytes",
        ),
        _owners(snap),
        Family(
            PREFIX + "runs",
            "counter",
            "Script runs that ended, by outcome.",
            "",
            tuple(((("outcome", o),), float(live.finished.get(o, 0))) for o in OUTCOMES),
        ),
        _g("run_peak_bytes", "Peak RSS during the last finished run.", last.peak if last else None, "bytes"),
        _g("last_run_delta_bytes", "RSS after minus before the last finished run.", last.delta if last else None, "bytes"),
        _g("last_run_duration_seconds", "Duration of the last finished run.", last.duration_s if last else None, "seconds"),
        _g(
            "last_run_end_timestamp_seconds",
            "Unix time at which the last finished run ended.",
            (last.started_at + last.duration_s + offset) if last else None,
            "seconds",
        ),
        _g("last_run_id", "Number of the last finished run (the panel's run column).", last.run_id if last else None),
        _g("leak", "1 while the judgement calls the growth a leak, else 0.", 1.0 if snap.leak else 0.0),
        _g(
            "seconds_to_limit",
            "Seconds until the limit at the current trend; +Inf when not heading there, 0 when over it.",
            seconds_to_limit,  # no UNIT line: OpenMetrics wants the unit as the name's suffix
        ),
        _g("growth_bytes_per_run", "Fitted RSS growth per run (0 before a trend is known).", trend.bytes_per_run if trend else 0.0),
        _g(
            "growth_bytes_per_second",
            "Fitted RSS growth per second of the runs' time span (0 before a trend is known).",
            trend.bytes_per_second if trend else 0.0,
        ),
        _g("runs_in_progress", "Script runs under way now.", live.active),
        _g(
            "run_in_progress_seconds",
            "How long the oldest run under way has been running (0 when idle).",
            busy_s if busy_s is not None else 0.0,
            "seconds",
        ),
        _g(
            "run_in_progress_delta_bytes",
            "RSS now minus before the oldest run under way (0 when idle).",
            busy_delta if busy_delta is not None else 0.0,
            "bytes",
        ),
        Family(
            PREFIX + "warnings",
            "gauge",
            "Warnings the panel shows now, by level.",
            "",
            tuple(((("level", level),), float(n)) for level, n in levels.items()),
        ),
    ]
    return [f for f in out if f is not None]


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _labels(labels: tuple[tuple[str, str], ...]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}" if labels else ""


def sample_lines(family: Family) -> list[str]:
    name = family.sample_name()
    return [f"{name}{_labels(labels)} {_number(value)}" for labels, value in family.samples]


def family_text(family: Family) -> str:
    """One family in the OpenMetrics text format, headers included (no trailing newline)."""
    head = [f"# TYPE {family.name} {family.kind}"]
    if family.unit:
        head.append(f"# UNIT {family.name} {family.unit}")
    head.append(f"# HELP {family.name} {family.help}")
    return "\n".join(head + sample_lines(family))


# -- who may read them ----------------------------------------------------------------
def browser_key(cookie: str | None) -> str | None:
    """A hash of the raw token in Streamlit's XSRF cookie (None when there is none).

    The cookie is rewritten with a fresh mask on some responses (``2|mask|masked|time``,
    Tornado's format, which newer Streamlit copies), so the unmasked token is what
    stays the same for one browser.
    """
    if not cookie:
        return None
    value = cookie.strip().strip("\"'")
    raw: bytes
    if value.startswith("2|"):
        parts = value.split("|")
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except (IndexError, ValueError):
            return None
        if len(mask) != 4 or not masked:
            return None
        raw = bytes(b ^ mask[i % 4] for i, b in enumerate(masked))
    else:
        raw = value.encode()
    return hashlib.sha256(b"st_memwatch-metrics\0" + raw).hexdigest() if raw else None


def cookie_value(header: str | None, name: str) -> str | None:
    """One cookie out of a ``Cookie`` header (None when absent)."""
    for part in (header or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value
    return None


class _Access:
    """Browsers (by cookie hash) with at least one session whose panel the gate shows; bounded."""

    MAX_BROWSERS = 10_000

    def __init__(self) -> None:
        self._sessions: OrderedDict[str, set[str]] = OrderedDict()
        self._lock = threading.Lock()

    def update(self, session: str, key: str | None, shown: bool, active: set[str] | None = None) -> None:
        """Record the decision; a hidden one also forgets this browser's sessions that are gone (a reload)."""
        if key is None:
            return
        with self._lock:
            sessions = self._sessions.get(key)
            if not shown and sessions is not None and active is not None:
                sessions.intersection_update(active)
            if shown:
                if sessions is None:
                    sessions = self._sessions[key] = set()
                sessions.add(session)
                self._sessions.move_to_end(key)
                while len(self._sessions) > self.MAX_BROWSERS:
                    self._sessions.popitem(last=False)
            elif sessions is not None:
                sessions.discard(session)
                if not sessions:
                    del self._sessions[key]

    def allowed(self, key: str | None) -> bool:
        if key is None:
            return False
        with self._lock:
            return key in self._sessions

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()


_access = _Access()
# The browser key of the metrics request being answered (set by the handler wrappers below).
_request_key: ContextVar[str | None] = ContextVar("st_memwatch_metrics_request", default=None)
_routed = threading.Event()  # requests reach the provider with their cookie (a wrapper is in place)
XSRF_COOKIE = "_streamlit_xsrf"


def note_viewer(session: str, cookie: str | None, shown: bool, active: Callable[[], set[str] | None] | None = None) -> None:
    """After the gate's decision for a session: its browser may read the figures while one of its sessions is shown.

    ``active`` lists the sessions connected now: a hidden decision drops the
    browser's sessions that have gone, so a reload without the token closes the
    figures too, while a second tab of the same browser keeps them.
    """
    key = browser_key(cookie)
    if key is None or (not shown and not _access.allowed(key)):
        return  # the common case of a hidden visitor: nothing to record, nothing to look up
    _access.update(session, key, shown, active() if active is not None and not shown else None)


def forget_viewers() -> None:
    _access.clear()


def request_allowed() -> bool:
    """May the metrics request being answered read st_memwatch's figures?"""
    mode = metrics_mode()
    if mode != "gated":
        return mode == "public"
    return _access.allowed(_request_key.get())


def live_problem(cookie: str | None) -> str:
    """Why this session's gauge cannot poll live figures ("" when it can); the gauge shows the reason."""
    mode = metrics_mode()
    if mode == "off":
        return f"live figures are off ({ENV_VAR}=off): figures are from the last script run"
    if mode == "public":
        return ""
    if not _routed.is_set():
        return "live figures unavailable on this Streamlit version: figures are from the last script run"
    if browser_key(cookie) is None:
        return (
            "live figures need Streamlit's XSRF cookie (server.enableXsrfProtection is off): "
            "figures are from the last script run"
        )
    return ""


def _wrap_handler(original: Callable[..., Any], key_of: Callable[[Any], str | None]) -> Callable[..., Any]:
    """``original`` with the request's browser key set around it (sync or async alike)."""
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def wrapped_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            token = _request_key.set(key_of(self))
            try:
                return await original(self, *args, **kwargs)
            finally:
                _request_key.reset(token)

        wrapped: Any = wrapped_async
    else:

        @functools.wraps(original)
        def wrapped_sync(self: Any, *args: Any, **kwargs: Any) -> Any:
            token = _request_key.set(key_of(self))
            try:
                return original(self, *args, **kwargs)
            finally:
                _request_key.reset(token)

        wrapped = wrapped_sync
    wrapped._st_memwatch = True
    return wrapped  # type: ignore[no-any-return]


def _route_tornado() -> bool:
    """Streamlit 1.40 and other Tornado releases: the handler class's ``get``, patched once."""
    try:
        from streamlit.web.server.stats_request_handler import StatsRequestHandler
    except ImportError:
        return False
    if not getattr(StatsRequestHandler.get, "_st_memwatch", False):

        def key_of(handler: Any) -> str | None:
            return browser_key(cookie_value(handler.request.headers.get("Cookie"), XSRF_COOKIE))

        StatsRequestHandler.get = _wrap_handler(StatsRequestHandler.get, key_of)  # type: ignore[method-assign]
    return True


def _asgi_key(scope: Mapping[str, Any]) -> str | None:
    cookies = [v.decode("latin-1") for k, v in scope.get("headers") or () if k.lower() == b"cookie"]
    return browser_key(cookie_value("; ".join(cookies), XSRF_COOKIE)) if cookies else None


def _wrap_asgi(original: Callable[..., Any]) -> Callable[..., Any]:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        token = _request_key.set(_asgi_key(scope))
        try:
            await original(scope, receive, send)
        finally:
            _request_key.reset(token)

    app._st_memwatch = True  # type: ignore[attr-defined]
    return app


def _route_starlette(websocket: Any) -> bool:
    """Newer (Starlette) releases: wrap the metrics route's ASGI app, found through a session's websocket."""
    scope = getattr(websocket, "scope", None) or {}
    router = scope.get("router") or getattr(scope.get("app"), "router", None)
    found = False
    stack = list(getattr(router, "routes", None) or ())
    while stack:
        route = stack.pop()
        inner = getattr(route, "routes", None)
        if inner:
            stack.extend(inner)
            continue
        path = getattr(route, "path", "")
        if isinstance(path, str) and path.endswith("/_stcore/metrics") and "GET" in (getattr(route, "methods", None) or ()):
            if not getattr(route.app, "_st_memwatch", False):
                route.app = _wrap_asgi(route.app)
            found = True
    return found


def route_requests() -> str:
    """Let metrics requests carry their browser to the provider; "" or why not (call on the script thread).

    The server is told apart by this session's client: Starlette's keeps its
    websocket (whose scope leads to the router), Tornado's is the handler itself.
    """
    if _routed.is_set():
        return ""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        from st_memwatch.streamlit_bridge.visitor import _client, _runtime

        ctx = get_script_run_ctx(suppress_warning=True)
        runtime = _runtime()
        if ctx is None or runtime is None:
            return ""  # AppTest, bare mode: no server, no requests
        client = _client(runtime, ctx.session_id)
        if client is None:
            return ""  # a session without a browser now: the next run tries again
        websocket = getattr(client, "_websocket", None)
        done = _route_starlette(websocket) if websocket is not None else _route_tornado()
    except Exception as exc:  # noqa: BLE001 - the figures then stay private; the gauge shows per-run figures
        return f"live figures unavailable ({type(exc).__name__}: {str(exc)[:80]})"
    if done:
        _routed.set()
        return ""
    return "live figures unavailable: this Streamlit's metrics handler is not one st_memwatch knows"


# -- the provider ---------------------------------------------------------------------
class _Source:
    """The current monitor's families, remembered for CACHE_S (many tabs poll once a second)."""

    def __init__(self) -> None:
        self.monitor: Monitor | None = None
        self._lock = threading.Lock()
        self._at = float("-inf")
        self._families: list[Family] = []
        self._for: Monitor | None = None

    def families(self) -> list[Family]:
        monitor = self.monitor
        if monitor is None or not metrics_enabled():
            return []
        now = time.monotonic()
        with self._lock:
            if monitor is self._for and now - self._at < CACHE_S:
                return self._families
            try:
                snap = monitor.snapshot(None, None, timeline_points=0, max_runs=1)
                families = build_families(snap, live_runs(monitor))
            except Exception as exc:  # a scrape must never raise into Streamlit's server
                monitor.note(f"metrics failed: {type(exc).__name__}: {exc}")
                families = []
            self._at, self._families, self._for = now, families, monitor
            return families


_source = _Source()
_registered: set[int] = set()  # stats managers we registered with (one per runtime)
_register_lock = threading.Lock()


class _Stat:
    """One sample as newer Streamlit's ``Stat`` protocol wants it (family headers from attributes)."""

    __slots__ = ("family", "labels", "value")

    def __init__(self, family: Family, labels: tuple[tuple[str, str], ...], value: float) -> None:
        self.family, self.labels, self.value = family, labels, value

    @property
    def family_name(self) -> str:
        return self.family.name

    @property
    def type(self) -> str:
        return self.family.kind

    @property
    def unit(self) -> str:
        return self.family.unit

    @property
    def help(self) -> str:
        return self.family.help

    def to_metric_str(self) -> str:
        return f"{self.family.sample_name()}{_labels(self.labels)} {_number(self.value)}"

    def marshall_metric_proto(self, metric: Any) -> None:
        for name, value in self.labels:
            label = metric.labels.add()
            label.name, label.value = name, value
        point = metric.metric_points.add()
        target = point.counter_value if self.family.kind == "counter" else point.gauge_value
        target.double_value = self.value


class _Block:
    """Streamlit 1.40's handler joins ``to_metric_str()`` lines: one block writes all our families."""

    __slots__ = ("families",)

    def __init__(self, families: list[Family]) -> None:
        self.families = families

    def to_metric_str(self) -> str:
        return "\n".join(family_text(f) for f in self.families)

    def marshall_metric_proto(self, metric: Any) -> None:
        """1.40's protobuf output has room for cache figures only: ours are in the text format."""


class ModernProvider:
    """``StatsProvider`` of newer Streamlit: families by name."""

    @property
    def stats_families(self) -> Sequence[str]:
        return FAMILY_NAMES

    def get_stats(self, family_names: Sequence[str] | None = None) -> Mapping[str, Sequence[Any]]:
        if not request_allowed():
            return {}
        wanted = set(family_names) if family_names else None
        return {
            f.name: [_Stat(f, labels, value) for labels, value in f.samples]
            for f in _source.families()
            if wanted is None or f.name in wanted
        }


class LegacyProvider:
    """``CacheStatsProvider`` of Streamlit 1.40: a flat list of stats."""

    def get_stats(self) -> list[Any]:
        families = _source.families() if request_allowed() else []
        return [_Block(families)] if families else []


def register(monitor: Monitor) -> str:
    """Serve ``monitor``'s gauges on this runtime's ``/_stcore/metrics``; "" or why not.

    Cheap enough for every panel call: after the first registration it only
    points the provider at the current monitor.
    """
    if not metrics_enabled():
        _source.monitor = None
        return ""
    _source.monitor = monitor
    try:
        from st_memwatch.streamlit_bridge.visitor import _runtime

        runtime = _runtime()  # None in bare mode and under AppTest's mocked runtime: nothing serves either
        if runtime is None:
            return ""
        manager: Any = runtime.stats_mgr  # its API differs by version: probed below
    except Exception:  # noqa: BLE001 - no serving runtime: nothing to serve
        return ""
    if id(manager) in _registered:
        return ""
    with _register_lock:
        if id(manager) in _registered:
            return ""
        try:
            if hasattr(manager, "registered_families") or hasattr(manager, "_providers_by_family"):
                manager.register_provider(ModernProvider())
            elif hasattr(manager, "_cache_stats_providers"):
                manager.register_provider(LegacyProvider())
            else:
                return "metrics unavailable: this Streamlit's stats manager is not one st_memwatch knows"
        except Exception as exc:
            return f"metrics unavailable: {type(exc).__name__}: {exc}"
        _registered.add(id(manager))
    return ""


def current_families() -> list[Family]:
    """What the endpoint serves a request with access now (tests and the benchmark)."""
    return _source.families()

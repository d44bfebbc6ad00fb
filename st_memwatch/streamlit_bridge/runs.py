"""Where each script run starts and stops, from Streamlit's own ScriptRunner events.

Streamlit has no public per-run hook. Every ScriptRunner emits SCRIPT_STARTED /
SCRIPT_STOPPED_* / SHUTDOWN on ``on_event`` (blinker in 1.40, Streamlit's own
signal later; both take ``connect(fn, weak=False)``), and a runner usually lives
for one run, so ``ScriptRunner.start`` is wrapped to attach to every new runner.
The runner that is running when ``panel()`` is first called is found by walking
the calling frames. Receivers never raise (an exception would propagate into
Streamlit) and return at once for the per-element ENQUEUE_FORWARD_MSG events.

Where any of this is missing, ``install`` says why and the panel measures
between its own calls instead (``measured_by="panel-calls"``).

Session ids never leave this package. A client that knows one can take over that
session, so the core, and everything it feeds (panel, exports, logs, metrics,
history), sees only a short per-process alias ("s1", "s2", ...) from
``session_alias``; the bounded map from real id to alias lives here alone.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from types import FrameType
from typing import Any

from st_memwatch.core.models import RunKind, RunOutcome
from st_memwatch.core.monitor import Monitor
from st_memwatch.streamlit_bridge import aliases

_ATTR = "_st_memwatch_watch"
_lock = threading.Lock()
_installed_for: Monitor | None = None
_install_problem = ""
MAX_ALIASES = aliases.MAX_ALIASES
_alias_lock = threading.Lock()  # guards the newest runner per session
session_alias = aliases.session_alias  # the one way a session id crosses into st_memwatch


# The watch whose runner started the newest run of each session (bounded like the aliases).
_newest_watch: OrderedDict[str, _RunnerWatch] = OrderedDict()


def _supersede(watch: _RunnerWatch) -> None:
    """A new run of this session started: a run still active on another runner was interrupted by it.

    Streamlit stops the old runner and starts a new one for a rerun that arrives
    mid-run; the old run then ends as a premature stop (or with SHUTDOWN), which
    would read "stopped" as if the stop button had been pressed.
    """
    with _alias_lock:
        before = _newest_watch.pop(watch.session, None)
        _newest_watch[watch.session] = watch
        while len(_newest_watch) > MAX_ALIASES:
            _newest_watch.popitem(last=False)
    if before is not None and before is not watch and before.active:
        before.superseded = True


class _RunnerWatch:
    """Receives one runner's events; holds its session's alias, never the runner or the id."""

    __slots__ = ("monitor", "session", "active", "premature", "superseded", "events", "run_ok_key", "collect")

    def __init__(self, monitor: Monitor, session: str, events: Any, run_ok_key: str | None, collect: bool = False) -> None:
        self.monitor = monitor
        self.collect = collect
        self.session = session
        self.active: list[tuple[int, int]] = []
        self.premature = False
        self.superseded = False  # a newer run of the session started on another runner meanwhile
        self.events = events
        self.run_ok_key = run_ok_key

    def begin_partial(self) -> None:
        """Start recording the run already under way when the panel first appears."""
        key = (id(self), 0)
        self.active.append(key)
        self.monitor.run_started(key, self.session, "full")

    def on_event(self, sender: Any, event: Any = None, **payload: Any) -> None:
        ev = self.events
        if event is ev.ENQUEUE_FORWARD_MSG:
            return
        try:
            if event is ev.SCRIPT_STARTED:
                self.premature = False
                kind: RunKind = "fragment" if payload.get("fragment_ids_this_run") else "full"
                key = (id(self), id(payload.get("run_descriptor")))
                self.active.append(key)
                self.superseded = False
                _supersede(self)
                self.monitor.run_started(key, self.session, kind)
            elif event is ev.SHUTDOWN:
                while self.active:
                    self.monitor.run_finished(self.active.pop(), "rerun" if self.superseded else "stopped")
            elif self.active:
                outcome = self._outcome(sender, event)
                rd = payload.get("run_descriptor")
                key = (id(self), id(rd))
                if key not in self.active:
                    key = self.active[0]
                self.active.remove(key)
                if self.collect:
                    gc.collect(2)  # what the server's runner does after every run (runner.postScriptGC)
                self.monitor.run_finished(key, outcome)
        except Exception as exc:  # never propagate into Streamlit
            self.monitor.note(f"run hook failed: {type(exc).__name__}: {exc}")

    def _outcome(self, sender: Any, event: Any) -> RunOutcome:
        ev = self.events
        if event is ev.SCRIPT_STOPPED_FOR_RERUN:
            return "rerun"
        if event is ev.SCRIPT_STOPPED_WITH_COMPILE_ERROR:
            return "exception"
        if self.run_ok_key is not None:
            try:
                if sender._session_state[self.run_ok_key] is False:
                    return "exception"
            except Exception:
                pass
        # Streamlit marks uncaught exceptions as premature stops too: test them first.
        if self.premature:
            return "rerun" if self.superseded else "stopped"
        return "success"


def _wrap_finish(runner: Any, watch: _RunnerWatch) -> None:
    """Learn ``premature_stop`` (a stop button press), which the events do not carry."""
    original = getattr(runner, "_on_script_finished", None)
    if original is None:
        return

    def on_script_finished(ctx: Any, event: Any, premature_stop: Any = False, *args: Any, **kwargs: Any) -> Any:
        watch.premature = bool(premature_stop)
        return original(ctx, event, premature_stop, *args, **kwargs)

    runner._on_script_finished = on_script_finished


def _attach(runner: Any, monitor: Monitor) -> _RunnerWatch | None:
    existing = getattr(runner, _ATTR, None)
    if existing is not None:
        return None
    from streamlit.runtime.scriptrunner import ScriptRunnerEvent

    try:
        from streamlit.runtime.state.session_state import SCRIPT_RUN_WITHOUT_ERRORS_KEY
    except ImportError:  # moved in some version: fall back to "success" unless told otherwise
        run_ok_key: str | None = None
    else:
        run_ok_key = SCRIPT_RUN_WITHOUT_ERRORS_KEY
    # One interned alias per session, not a string per runner (a runner lives for one run).
    session = session_alias(getattr(runner, "_session_id", None)) or "?"
    watch = _RunnerWatch(monitor, session, ScriptRunnerEvent, run_ok_key, _collects_like_the_server(runner))
    runner.on_event.connect(watch.on_event, weak=False)
    _wrap_finish(runner, watch)
    setattr(runner, _ATTR, watch)
    return watch


def _collects_like_the_server(runner: Any) -> bool:
    """AppTest's runner skips the collection the server's runner does after every run.

    Without it, garbage in reference cycles piles up between AppTest runs and reads
    as growth; doing it here makes an app's own tests (and ``check``) see what the
    live server shows.
    """
    try:
        from streamlit import config
        from streamlit.testing.v1.local_script_runner import LocalScriptRunner
    except ImportError:
        return False
    try:
        return isinstance(runner, LocalScriptRunner) and bool(config.get_option("runner.postScriptGC"))
    except Exception:
        return False


def _current_runner() -> Any | None:
    """The ScriptRunner whose thread is calling us, found on the stack."""
    from streamlit.runtime.scriptrunner import ScriptRunner

    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, ScriptRunner):
            return candidate
        frame = frame.f_back
    return None


def install(monitor: Monitor) -> str:
    """Hook every future ScriptRunner, and the current one. Returns "" or why not."""
    global _installed_for, _install_problem
    with _lock:
        if _installed_for is not monitor:
            _install_problem = _patch_start(monitor)
            _installed_for = monitor
    if _install_problem:
        return _install_problem
    try:
        runner = _current_runner()
        if runner is not None:
            watch = _attach(runner, monitor)
            if watch is not None:
                watch.begin_partial()
    except Exception as exc:
        return f"could not attach to the running script: {type(exc).__name__}: {exc}"
    return ""


def _patch_start(monitor: Monitor) -> str:
    try:
        import streamlit
        from streamlit.runtime.scriptrunner import ScriptRunner, ScriptRunnerEvent
    except ImportError as exc:
        return f"run hooks unavailable ({exc}); measuring between panel calls"
    missing = [name for name in ("SCRIPT_STARTED", "SHUTDOWN", "ENQUEUE_FORWARD_MSG") if not hasattr(ScriptRunnerEvent, name)]
    if missing or not callable(getattr(ScriptRunner, "start", None)):
        return f"run hooks unavailable on streamlit {streamlit.__version__}; measuring between panel calls"
    original: Callable[..., Any] = getattr(ScriptRunner.start, "__wrapped_by_st_memwatch__", ScriptRunner.start)

    def start(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            if hasattr(self, "on_event"):
                _attach(self, monitor)
        except Exception as exc:  # the app must start whatever happens here
            monitor.note(f"run hook not attached: {type(exc).__name__}: {exc}")
        return original(self, *args, **kwargs)

    start.__wrapped_by_st_memwatch__ = original  # type: ignore[attr-defined]
    start.__doc__ = original.__doc__
    ScriptRunner.start = start  # type: ignore[method-assign]
    return ""


def uninstall() -> None:
    """Restore ``ScriptRunner.start`` (tests, and ``st_memwatch.stop()``)."""
    global _installed_for, _install_problem
    with _lock:
        try:
            from streamlit.runtime.scriptrunner import ScriptRunner
        except ImportError:
            return
        original = getattr(ScriptRunner.start, "__wrapped_by_st_memwatch__", None)
        if original is not None:
            ScriptRunner.start = original  # type: ignore[method-assign]
        _installed_for = None
        _install_problem = ""


def current_session_id() -> str:
    """This script run's session alias ("" outside a script run); never the real id."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return session_alias(ctx.session_id) if ctx is not None else ""


_between_calls: dict[str, tuple[int, int]] = {}


def measure_between_calls(monitor: Monitor, session: str) -> None:
    """Fallback without hooks: a "run" spans from one panel call to the next in a session."""
    key = _between_calls.get(session)
    if key is not None and monitor.is_active(key):
        monitor.run_finished(key, "success")
    key = (id(monitor), hash(session))
    _between_calls[session] = key
    monitor.run_started(key, session, "full", measured_by="panel-calls")


def main_script_path() -> str:
    """The app's main script (what names its history file); "" outside a script run."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return str(getattr(ctx, "main_script_path", "") or "") if ctx is not None else ""


def install_at_import(get_monitor: Callable[[], Monitor]) -> None:
    """Hook runs (and serve the metrics) as soon as st_memwatch is imported inside a script run.

    The run under way then begins at the import, usually the script's first lines,
    so the first run is recorded whole wherever ``panel()`` sits (a 5 s load above
    a ``panel()`` on the last line was never recorded before). Outside a script run
    (tests, ``check``, a plain ``python``) it does nothing. Never raises.
    """
    if "streamlit" not in sys.modules:
        return
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        if get_script_run_ctx(suppress_warning=True) is None:
            return
        monitor = get_monitor()
        problem = install(monitor)
        if problem:
            monitor.note(problem)
        from st_memwatch.streamlit_bridge import metrics

        metrics.register(monitor)
    except Exception:  # the user's import must succeed whatever happens here
        return


def under_apptest() -> bool:
    """Is this script run driven by ``streamlit.testing``'s AppTest (no browser, so no component)?"""
    module = sys.modules.get("streamlit.testing.v1.local_script_runner")
    runner_class = getattr(module, "LocalScriptRunner", None)
    if runner_class is None:
        return False
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if isinstance(frame.f_locals.get("self"), runner_class):
            return True
        frame = frame.f_back
    return False

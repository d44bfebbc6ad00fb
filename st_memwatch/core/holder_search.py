"""The live holder search: which place in the code keeps a leak's growing objects, and when to look.

The judgement names a leak's holder from the series (caches, session_state keys,
types). When only a type explains the growth, references are followed from a
sample of its objects to a root that names a place (``core.holders``); when no
type names it either (a heap too big to count), the containers that keep growing
are watched (``core.containers``) and filed as series under the place that keeps
them. Both run on the sampler thread, between runs, under a throttle that keeps
their share of CPU time small; a dearer search runs less often.

What counts as naming the growth (``names_the_growth``) lives here, with the
search: not Streamlit's own registries (their readers name the key or function),
not st_memwatch's own objects, and not a root that keeps a few of the sample
while the rest are kept elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from st_memwatch.core import owners
from st_memwatch.core.containers import ContainerWatch
from st_memwatch.core.footprint import OwnFootprint
from st_memwatch.core.models import Holder, Verdict
from st_memwatch.core.schedule import Throttle
from st_memwatch.core.store import SeriesStore

HOLDER_SEARCH_EVERY_S = 30.0  # a type's holder, once found, is looked for again after this long
CHAINS_KEPT = 16
HOLDER_SEARCH_MAX_S = 2.0  # CPU of one live search at most, however big the heap
MIN_CONTAINER_SHARE = 0.5  # a growing container names a leak when its new elements weigh this share of RSS's growth
HOLDER_COLLECTS = 6  # a container that keeps this many of the growing type collects them
SCRIPT_MODULE = "__main__."  # the module Streamlit runs the script in


def arrays_of(owner: object, depth: int = 2) -> list[np.ndarray]:
    """The numpy arrays an object of ours holds in its attributes (and theirs, ``depth`` levels down)."""
    found: list[np.ndarray] = []
    values = list(getattr(owner, "__dict__", {}).values()) + [getattr(owner, n, None) for n in getattr(type(owner), "__slots__", ())]
    for v in values:
        if isinstance(v, np.ndarray):
            found.append(v)
        elif isinstance(v, dict):
            found.extend(x for x in v.values() if isinstance(x, np.ndarray))
        elif depth > 0 and type(v).__module__.startswith(owners.OWN_PREFIX):
            found.extend(arrays_of(v, depth - 1))
    return found


def names_a_place(found: Any, named_elsewhere: tuple[str, ...]) -> bool:
    """A root in the app's code or a library, not one the framework's own readers name, nor ours."""
    if owners.from_search(found.kind) is None:
        return False
    if found.kind == "library" and any(str(found.name).startswith(p) for p in named_elsewhere):
        return False
    if found.kind == "global" and str(found.name).startswith(SCRIPT_MODULE):
        return False  # the script's namespace is made anew every run: it keeps nothing from one run to the next
    return not any(inner in step for step in found.chain for inner in (*named_elsewhere, owners.OWN_PREFIX))


def names_the_growth(found: Any, named_elsewhere: tuple[str, ...]) -> bool:
    """Is a holder the reference search found the place to fix?

    Not a root that names no place in the code ("unknown"); not Streamlit's own cache
    or session registries (the cache and session_state readers name those, with the
    function or key); and not one that keeps under a third of the sampled objects (the
    script's global that holds this run's object, while the rest are kept elsewhere) unless
    its container collects many of them: in a process with a long past, most of a sample
    are other code's objects of the same type, while the leak's list holds a dozen.
    """
    if not names_a_place(found, named_elsewhere):
        return False  # through a session's state or a cache's storage: their readers name the key or function
    return found.held >= 2 and (3 * found.held >= found.sampled or found.kept >= HOLDER_COLLECTS)


class HolderSearch:
    """Finds where a leak's growing objects are kept; throttled, and only while a type explains the leak."""

    def __init__(
        self,
        store: SeriesStore,
        footprint: OwnFootprint,
        clock: Callable[[], float],
        throttle: Throttle,
        budget_s: float,
        note: Callable[[str], None],
        own_arrays: Callable[[], set[int]],
    ) -> None:
        self._store = store
        self._footprint = footprint
        self._clock = clock
        self._throttle = throttle
        self._budget_s = budget_s
        self._note = note
        self._own_arrays = own_arrays
        self.named_elsewhere: tuple[str, ...] = ()
        # Holders found by following references from a growing type's objects, by type name.
        self.chains: dict[str, Holder] = {}
        self._chains_at: dict[str, float] = {}
        self._containers = ContainerWatch()
        self._containers_x = 0.0
        self._containers_baseline_only = False  # the last look only took the first lengths
        self._container_labels: dict[int, tuple[str, str]] = {}

    def budget(self, census_cpu_s: float) -> float:
        """CPU for one search: the setting, or more in a heap whose census costs more (a sample must see all of it).

        The throttle keeps the share of time the same: a dearer search runs less often.
        """
        return min(HOLDER_SEARCH_MAX_S, max(self._budget_s, 1.5 * census_cpu_s))

    def search(self, verdict: Verdict | None, run_x: float, budget: float, forced: bool) -> bool:
        """Follow references from the leak's growing types to what keeps them; True when one was found.

        ``forced`` (``check``, once at its end) ignores the throttle. Caches and
        session_state keys are named by their own sizes, so only growth that a type
        explains, or that nothing names yet, is searched.
        """
        # A leak, or growth not yet raised (native memory before it has lasted): its holder is
        # wanted by the time it is raised.
        if verdict is None or not (verdict.leak or (verdict.holders and verdict.bytes_per_run > 0)):
            return False
        now = self._clock()
        if all(h.kind == "native" for h in verdict.holders):  # nothing Python names yet (native memory holds numpy's buffers too)
            if not (forced or self._throttle.due(now)):
                return False
            t0 = time.thread_time()
            found_any = self._watch_containers(verdict, run_x, budget)
            self._done(now, time.thread_time() - t0)
            return found_any
        names = [h.name for h in verdict.holders if h.kind == "type" and now - self._chains_at.get(h.name, -1e18) >= HOLDER_SEARCH_EVERY_S][:3]
        if not names or not (forced or self._throttle.due(now)):
            return False
        from st_memwatch.core import holders  # deferred: only a leak needs it

        t0 = time.thread_time()
        try:
            with self._footprint.measure():
                found = holders.find_holders(names, None, budget, skip=self._own_arrays())
        except Exception as exc:
            self._note(f"holder search failed: {type(exc).__name__}: {exc}")
            found = {}
        named = {name: h for name, h in found.items() if names_the_growth(h, self.named_elsewhere)}
        if not named:
            # The sample missed the place (old containers of new objects lie deep in a long past's
            # heap): the containers that keep growing are looked at in the same tick.
            found_any = self._watch_containers(verdict, run_x, budget)
            self._done(now, time.thread_time() - t0)
            if found_any:
                return True
        else:
            self._throttle.done(now, time.thread_time() - t0)
        self._file_chains(named.items(), now)
        return bool(found)

    def _file_chains(self, found: Iterable[tuple[str, Any]], now: float) -> None:
        """Remember each found holder as the place its type's objects are kept (bounded).

        A later look that names nothing for a type keeps what an earlier one found: a
        sample of the newest objects can miss the place (other code's objects of the same
        type among them), and forgetting it then would drop a named leak to its bare type.
        A look that names another place replaces it.
        """
        with self._store.lock:
            for name, h in found:
                kind = owners.from_search(h.kind)
                if kind is None:
                    continue
                label = (h.key or h.name) if kind == "session_state" else h.name if kind == "cache" else h.label
                advice, action = owners.advice(kind, label)
                self.chains[name] = Holder(kind, label, 0.0, 0.0, "", advice, action, chain=tuple(h.chain))
                self._chains_at[name] = now  # found: looked for again only later; not found: when the throttle allows
            while len(self.chains) > CHAINS_KEPT:
                self.chains.pop(next(iter(self.chains)))
            while len(self._chains_at) > 4 * CHAINS_KEPT:
                self._chains_at.pop(next(iter(self._chains_at)))

    def _done(self, now: float, cost_s: float) -> None:
        """Charge the throttle; a look that only took the containers' first lengths is due again at once.

        Two looks name a growing container, and a leak should be named within a few runs,
        not a throttle period after the first look.
        """
        self._throttle.done(now, 0.0 if self._containers_baseline_only else cost_s)

    def _watch_containers(self, verdict: Verdict, run_x: float, budget: float) -> bool:
        """A leak nothing names (a heap too big to count): file the containers that keep growing, by where they are kept.

        Each look files a point per growing container under the place the reference
        search names for it (``module app.kept``), with its length and its length times
        what its newest elements weigh; the judgement ranks these like any holder.
        """
        from st_memwatch.core import holders  # deferred: only a leak needs it

        found = False
        try:
            with self._footprint.measure():
                x = run_x
                since = max(1.0, x - self._containers_x)
                had_baseline = self._containers.has_baseline
                grown = self._containers.look(budget, skip=set())
                self._containers_baseline_only = not had_baseline and self._containers.has_baseline
                self._containers_x = x
                for g in grown:
                    if g.added * g.bytes_each < MIN_CONTAINER_SHARE * verdict.bytes_per_run * since:
                        continue
                    label = self._container_labels.get(id(g.obj))
                    if label is None:
                        carrier = [g.obj]
                        h = holders.find_holder(carrier, None, budget / 2, ignore=(id(carrier),))
                        carrier.clear()
                        if h is None or not names_a_place(h, self.named_elsewhere):
                            continue
                        label = (owners.from_search(h.kind) or "global", h.label)
                        self._container_labels[id(g.obj)] = label
                        while len(self._container_labels) > CHAINS_KEPT:
                            self._container_labels.pop(next(iter(self._container_labels)))
                    kind, name = label
                    store = self._store
                    with store.lock:
                        if not store.series.points(kind, name):
                            store.series.add(kind, name, x - since, g.length - g.added, int((g.length - g.added) * g.bytes_each))
                        store.series.add(kind, name, x, g.length, int(g.length * g.bytes_each))
                        store.dirty = True
                    found = True
                del grown
        except Exception as exc:
            self._note(f"holder search failed: {type(exc).__name__}: {exc}")
        return found

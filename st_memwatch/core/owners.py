"""The one vocabulary of what can hold memory: each kind declared once.

Every place that names, ranks or advises on a holder reads it from here: the
reference search (which of its roots maps to which kind), the judgement (how
specific a kind is, how it is named to people), the suspects of the details,
the advice and the panel. Adding a kind of holder is one ``OwnerKind`` in
``KINDS`` plus the finder that produces it; a kind that is not declared is an
error at the point it is used, not a silent default.

Why specificity: a growing ``numpy.ndarray`` says what the memory is made of, a
``session_state`` key or a cache function says where it is kept and so what to
fix. Among holders that grow by about as much, the more specific one is named.

Also here, for the same reason, the one ranking of holders (``rank``) that the
verdict and the details' suspects both use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from st_memwatch.core.limits import format_bytes
from st_memwatch.core.models import CacheUsage

OWN_PREFIX = "st_memwatch."  # our own bookkeeping is never the app's holder
NATIVE_NAME = "native memory outside Python objects"  # the one series of the C allocator's in-use bytes

# (kind's name, the name, the cache it is when one, bytes one instance keeps) -> (what was seen, what to do)
Advice = Callable[[str, "CacheUsage | None", "float | None"], tuple[str, str]]


@dataclass(frozen=True, slots=True)
class OwnerKind:
    """One kind of holder: how specific it is, how it is named, and its fix.

    ``search`` lists the words the reference search (``core.holders``) uses for roots
    of this kind; a kind with none is found by its own reader (cache sizes, the
    census). ``label`` turns a holder's name into the phrase people read.
    """

    key: str
    specificity: int
    label: Callable[[str], str]
    advice: Advice
    search: tuple[str, ...] = ()


def _cache_advice(name: str, cache: CacheUsage | None, _holds: float | None) -> tuple[str, str]:
    deco = "@st.cache_resource" if cache is not None and cache.kind == "resource" else "@st.cache_data"
    if cache is not None and cache.bounded:
        return (
            f"`{name}` is bounded but its entries are large",
            f"lower max_entries or ttl in {deco}(...), or cache a smaller result (filter before you return).",
        )
    return (
        f"`{name}` keeps one entry per distinct argument and has no bound",
        f"use {deco}(max_entries=..., ttl=...) so old entries are dropped.",
    )


def _global_advice(name: str, _cache: CacheUsage | None, _holds: float | None) -> tuple[str, str]:
    return (
        f"{name} keeps the objects of every run",
        "bound or clear it (collections.deque(maxlen=N), or empty it when done); keep per-visitor data in "
        "st.session_state and shared, loaded-once objects in @st.cache_resource instead of module globals.",
    )


def _class_advice(name: str, _cache: CacheUsage | None, _holds: float | None) -> tuple[str, str]:
    return (
        f"{name} keeps the objects of every run",
        "bound or clear that class attribute (collections.deque(maxlen=N)), or keep the objects per visitor "
        "in st.session_state and shared ones in @st.cache_resource.",
    )


def _registry_advice(name: str, _cache: CacheUsage | None, _holds: float | None) -> tuple[str, str]:
    return (
        f"The {name} keeps an entry for every run (a class or callback defined in the script is a new object "
        "on every rerun, and each one is registered again)",
        "define what you register in a module the app imports (not in the script body), or register it once "
        "in a function decorated with @st.cache_resource.",
    )


def _handlers_advice(name: str, _cache: CacheUsage | None, _holds: float | None) -> tuple[str, str]:
    return (
        f"A handler is added to the {name} on every run",
        "configure logging once: in a function decorated with @st.cache_resource, or only when "
        "logger.handlers is empty.",
    )


def _lru_advice(name: str, _cache: CacheUsage | None, _holds: float | None) -> tuple[str, str]:
    return (
        f"{name} keeps one result per distinct argument with no bound",
        "give it a bound (functools.lru_cache(maxsize=N)) or use @st.cache_data(max_entries=..., ttl=...).",
    )


def _session_advice(name: str, _cache: CacheUsage | None, _holds: float | None) -> tuple[str, str]:
    return (
        f"st.session_state[{name!r}] grows on every run",
        "keep only what you need (e.g. collections.deque(maxlen=N)) or clear it; keep large data per "
        "session on disk as Arrow/Parquet or in a database and read what you need.",
    )


def _native_advice(name: str, _cache: CacheUsage | None, holds: float | None) -> tuple[str, str]:
    return (
        "Memory held outside Python objects grows on every run (a C library, a model, a native session, "
        "image or tensor buffers built per rerun and kept by the library)",
        "create it once with @st.cache_resource, close or release what you no longer need (Image.close(), "
        "del and the library's own release, e.g. tf.keras.backend.clear_session()), and keep big data on disk.",
    )


_LEAF_TYPES = {"ndarray", "dataframe", "series", "bytes", "bytearray", "memoryview", "tensor", "image"}


def _type_advice(name: str, _cache: CacheUsage | None, holds: float | None) -> tuple[str, str]:
    short = name.rsplit(".", 1)[-1].lower()
    each = f" (each keeps ~{format_bytes(holds)} alive)" if holds else ""
    if "handler" in short or "listener" in short or "callback" in short or short in {"function", "method", "cell"}:
        return (
            f"A new {name} is added on every run{each}",
            "register handlers/listeners once, e.g. in a function decorated with @st.cache_resource, "
            "or check whether it is already registered.",
        )
    if short in _LEAF_TYPES:
        return (
            f"{name} objects pile up every run in something long-lived (a module-level list, a class "
            "attribute, an unbounded lru_cache, session_state)",
            f"create {name} objects once with @st.cache_resource, bound the container that keeps them "
            "(collections.deque(maxlen=N), lru_cache(maxsize=N)), or keep the data on disk as "
            "Arrow/Parquet or in a database and read what you need.",
        )
    if holds:
        return (
            f"A new {name} is created on every run{each} and the old ones are never freed",
            "create it once with @st.cache_resource (models, clients, indexes), or find what keeps "
            "the old ones (a registry, a module-level list, a class attribute) and drop them.",
        )
    return (
        f"{name} objects accumulate across runs",
        "look for a module-level list/dict, a class attribute or an lru_cache(maxsize=None) that is "
        "added to on every run, and bound or clear it (objgraph.show_backrefs on one of them shows who holds it).",
    )


KINDS: dict[str, OwnerKind] = {
    k.key: k
    for k in (
        OwnerKind("session_state", 3, lambda n: f"st.session_state[{n!r}]", _session_advice, ("session_state",)),
        OwnerKind("cache", 3, lambda n: f"cache {n}", _cache_advice, ("cache",)),
        OwnerKind("global", 2, lambda n: n, _global_advice, ("global",)),
        OwnerKind("class", 2, lambda n: n, _class_advice, ("class",)),
        OwnerKind("registry", 2, lambda n: n, _registry_advice, ("library",)),
        OwnerKind("handlers", 2, lambda n: n, _handlers_advice, ("logging",)),
        OwnerKind("lru_cache", 2, lambda n: n, _lru_advice, ("lru_cache",)),
        OwnerKind("type", 0, lambda n: f"type {n}", _type_advice),
        # Memory the C allocator has handed out: it holds what Python objects' buffers hold
        # too (numpy, Pillow pixels), so any Python holder that explains as much comes first.
        OwnerKind("native", -1, lambda n: n, _native_advice),
    )
}
# The reference search's words for its roots, in this vocabulary.
_BY_SEARCH_WORD = {word: kind.key for kind in KINDS.values() for word in kind.search}


def kind(key: str) -> OwnerKind:
    """The declaration of ``key``; an undeclared kind raises ValueError naming it and the declared ones."""
    found = KINDS.get(key)
    if found is None:
        raise ValueError(f"unknown holder kind {key!r}: declared kinds are {', '.join(KINDS)}")
    return found


def from_search(word: str) -> str | None:
    """The kind a reference search's root word stands for ("library" -> "registry"); None for roots that name no place."""
    return _BY_SEARCH_WORD.get(word)


def label(kind_key: str, name: str, session: str = "") -> str:
    """How a holder is named to people: ``st.session_state['messages']``, ``cache load_frame``, ``type numpy.ndarray``.

    A holder found by following references is named by its whole phrase (``module app.kept``).
    """
    text = kind(kind_key).label(name)
    return f"{text} in session {session}" if session else text


def advice(kind_key: str, name: str, cache: CacheUsage | None = None, holds: float | None = None) -> tuple[str, str]:
    """(the whole advice, its action alone as a sentence) for a holder of this kind."""
    seen, todo = kind(kind_key).advice(name, cache, holds)
    return f"{seen}: {todo}", todo[:1].upper() + todo[1:]


def specificity(kind_key: str, measured_holdings: bool = False) -> int:
    """How specific a holder is; a type charged with what its instances keep names more than a bare type."""
    return kind(kind_key).specificity + (1 if measured_holdings and kind_key == "type" else 0)


def contents_advice(place_label: str, place_action: str) -> tuple[str, str]:
    """The advice for a type that grows by about what a place grows: it is that place's content."""
    return (
        f"Most likely the contents of {place_label}, which grows by about as much per run: apply its fix.",
        f"Apply the fix for {place_label}: {place_action[:1].lower()}{place_action[1:]}",
    )


T = TypeVar("T")


def rank(
    found: Sequence[tuple[int, T]],
    rate: Callable[[T], float],
    tie: float,
    group: Callable[[T], bool] = lambda _: False,
    then: Callable[[T], float] = lambda _: 0.0,
) -> list[T]:
    """By ``group`` (True first), then by bytes per run (``then`` breaks ties); among near-equals the more specific first.

    ``found`` pairs each item with its specificity. Two items are near-equals when the
    smaller grows by at least ``1 - tie`` of the larger, within one group; the most
    specific of a run of near-equals is moved ahead of them.
    """
    ordered = sorted(found, key=lambda f: (group(f[1]), rate(f[1]), then(f[1])), reverse=True)
    for i in range(len(ordered)):
        best = i
        for j in range(i + 1, len(ordered)):
            if group(ordered[j][1]) != group(ordered[i][1]) or rate(ordered[j][1]) < (1 - tie) * rate(ordered[i][1]):
                break
            if ordered[j][0] > ordered[best][0]:
                best = j
        if best != i:
            ordered.insert(i, ordered.pop(best))
    return [item for _, item in ordered]

"""What holds growing objects: real objects kept by each kind of root, found by the budgeted search."""

from __future__ import annotations

import functools
import gc
import logging
import os
import sys
import sysconfig
import time
import types
import weakref

import numpy as np
import pytest

from st_memwatch.core import holders
from st_memwatch.core.census import type_name
from st_memwatch.core.holders import (
    Holder,
    class_families,
    find_holder,
    find_holder_of_type,
    measure_holders,
    sample_instances,
)

BUDGET = 5.0  # CPU seconds: ample on a loaded machine; the search stops well before


class Payload:
    """A weakref-able object that keeps some bytes, like a user's record."""

    def __init__(self, n: int = 10_000) -> None:
        self.data = bytearray(n)


@pytest.fixture
def module():
    """A module of the app, as the import system keeps it."""
    names = []

    def make(name: str, **attrs: object) -> types.ModuleType:
        mod = types.ModuleType(name)
        vars(mod).update(attrs)
        sys.modules[name] = mod
        names.append(name)
        return mod

    yield make
    for name in names:
        sys.modules.pop(name, None)


def _only_names(result: Holder) -> None:
    """Strings, ints and tuples of strings: nothing that could carry a user's object."""
    for value in (result.kind, result.name, *result.chain):
        assert type(value) is str
    assert type(result.held) is int and type(result.sampled) is int
    assert result.key is None or type(result.key) is str


def test_a_module_global_list_is_named_with_its_module_and_its_chain(module):
    mod = module("app_registry_t1", kept=[Payload() for _ in range(12)])
    found = find_holder(mod.kept[:5], budget_s=BUDGET)
    assert found is not None
    assert (found.kind, found.name, found.key) == ("global", "app_registry_t1.kept", "kept")
    assert found.chain == ("module app_registry_t1", ".kept (list)", f"{type_name(Payload)} x12")
    assert found.kept == 12
    assert (found.held, found.sampled) == (5, 5)
    assert found.label == "module app_registry_t1.kept"
    _only_names(found)


def test_a_chain_through_an_instance_and_a_dict_shows_attributes_but_no_dict_keys(module):
    class Registry:
        def __init__(self) -> None:
            self.by_user: dict[str, list[Payload]] = {}

    reg = Registry()
    reg.by_user["alice@example.com"] = [Payload() for _ in range(4)]
    module("app_registry_t2", _registry=reg)
    found = find_holder(reg.by_user["alice@example.com"], budget_s=BUDGET)
    assert found is not None
    assert found.name == "app_registry_t2._registry"
    assert found.chain == (
        "module app_registry_t2",
        f"._registry ({type_name(Registry)})",
        ".by_user (dict)",
        "[key] (list)",
        f"{type_name(Payload)} x4",
    )
    assert not any("alice" in step for step in found.chain)  # a key is a user value


def test_a_class_attribute_is_named_module_class_attribute(module):
    ns: dict[str, object] = {"__name__": "app_models_t3"}
    exec("class Model:\n    instances = []\n", ns)
    model = ns["Model"]
    model.instances.extend(Payload() for _ in range(6))  # type: ignore[attr-defined]
    found = find_holder(model.instances[:4], budget_s=BUDGET)  # type: ignore[attr-defined]
    assert found is not None
    assert (found.kind, found.name) == ("class", "app_models_t3.Model.instances")
    assert found.chain == ("class app_models_t3.Model", ".instances (list)", f"{type_name(Payload)} x6")
    assert found.label == "class app_models_t3.Model.instances"


def test_a_registry_inside_an_installed_package_is_a_library_registry(module):
    lib = module("fakelib_t4", _handler_map={})
    lib.__file__ = os.path.join(sysconfig.get_paths()["purelib"], "fakelib_t4", "__init__.py")
    for i in range(5):
        lib._handler_map[i] = Payload()
    found = find_holder(list(lib._handler_map.values())[:3], budget_s=BUDGET)
    assert found is not None
    assert (found.kind, found.name) == ("library", "fakelib_t4._handler_map")
    assert found.chain == ("module fakelib_t4", "._handler_map (dict)", f"{type_name(Payload)} x5")
    assert found.label == "library registry fakelib_t4._handler_map"


class BufferHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines = [f"line {i}" for i in range(100)]

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - never logged to
        pass


def test_handlers_added_per_run_are_charged_to_the_logger():
    logger = logging.getLogger("st_memwatch_test.handlers_t5")
    logger.propagate = False
    try:
        for _run in range(6):
            logger.addHandler(BufferHandler())  # the bug: one more on every rerun
        found = find_holder_of_type(type_name(BufferHandler), budget_s=BUDGET)
        assert found is not None
        assert (found.kind, found.name) == ("logging", "st_memwatch_test.handlers_t5")
        assert found.chain == ("logger 'st_memwatch_test.handlers_t5'", ".handlers (list)", f"{type_name(BufferHandler)} x6")
        assert found.label == "logging handlers of logger 'st_memwatch_test.handlers_t5'"
        assert found.held == found.sampled == 6
    finally:
        for h in list(logger.handlers):
            logger.removeHandler(h)


def test_an_lru_cache_is_named_by_its_function():
    @functools.cache
    def load(i: int) -> Payload:
        return Payload()

    @functools.lru_cache(maxsize=64)
    def load_bounded(i: int) -> Payload:
        return Payload()

    results = [load(i) for i in range(7)]
    found = find_holder(results[:4], budget_s=BUDGET)
    assert found is not None
    assert (found.kind, found.name) == ("lru_cache", f"{__name__}.{load.__qualname__}")
    assert found.chain == (f"lru_cache {__name__}.{load.__qualname__}", "(cache) (dict)", f"{type_name(Payload)} x7")
    bounded = [load_bounded(i) for i in range(3)]
    found = find_holder(bounded, budget_s=BUDGET)
    assert found is not None
    assert (found.kind, found.name) == ("lru_cache", f"{__name__}.{load_bounded.__qualname__}")
    assert found.chain[-1] == f"{type_name(Payload)} x3"
    load.cache_clear()
    load_bounded.cache_clear()


def test_labelled_roots_name_the_session_state_key_and_the_cache_function():
    session_state = {"blobs": [Payload() for _ in range(5)], "counter": 3}
    storage = {"9f2c": Payload(), "77ab": Payload()}
    labels = {id(session_state): ("session_state", ""), id(storage): ("cache", "load_frame")}
    found = find_holder(session_state["blobs"][:3], labels, budget_s=BUDGET)
    assert found is not None
    assert (found.kind, found.name, found.key) == ("session_state", "blobs", "blobs")
    assert found.chain == ("session_state", "['blobs'] (list)", f"{type_name(Payload)} x5")
    found = find_holder(list(storage.values()), labels, budget_s=BUDGET)
    assert found is not None
    assert (found.kind, found.name) == ("cache", "load_frame")
    assert found.chain == ("cache load_frame", f"{type_name(Payload)} x2")
    assert not any("9f2c" in step for step in found.chain)


def test_the_holder_of_most_of_the_sample_wins_over_the_holder_of_one(module):
    kept = [Payload() for _ in range(8)]
    module("app_registry_t8", kept=kept)
    module("app_script_t8", last=kept[-1])  # the last run's script global
    found = find_holder(kept, budget_s=BUDGET)
    assert found is not None
    assert found.name == "app_registry_t8.kept"
    assert found.held == 8


def test_objects_no_gc_visible_container_refers_to_fall_back_to_unknown(module):
    arr = np.empty(3, dtype=object)  # numpy arrays are invisible to gc
    arr[:] = [[Payload()] for _ in range(3)]
    module("app_unknown_t9", arr=arr)
    found = find_holder([box[0] for box in arr], budget_s=BUDGET)
    assert found is not None
    assert (found.kind, found.name) == ("unknown", "list")
    assert found.chain[-1] == f"{type_name(Payload)} x1"


def _script_run(registry: types.ModuleType) -> None:
    """One rerun of a script that defines its class in its body and registers an instance."""
    source = "class Report:\n    def __init__(self):\n        self.rows = bytearray(50_000)\nregistry.items.append(Report())\n"
    exec(compile(source, "leaky_app.py", "exec"), {"__name__": "leaky_app", "registry": registry})


def test_classes_redefined_per_run_are_one_family_measured_and_held(module):
    registry = module("app_registry_t10", items=[])
    for _ in range(12):
        _script_run(registry)
    classes = {type(o) for o in registry.items}
    assert len(classes) == 12  # a new class object on every rerun
    families = class_families({"leaky_app.Report"})
    assert len(families["leaky_app.Report"]) == 12
    del families
    series = {("type", "leaky_app.Report"): [(float(i), i, 56 * i) for i in range(1, 13)]}
    held = measure_holders(series, holders.analysis.Thresholds(warmup=2, window=12))
    assert 50_000 <= held["leaky_app.Report"] < 60_000  # every rerun's instances were measured
    found = find_holder_of_type("leaky_app.Report", budget_s=BUDGET)
    assert found is not None
    assert found.name == "app_registry_t10.items"
    assert found.chain == ("module app_registry_t10", ".items (list)", "leaky_app.Report x12")


def test_the_candidates_are_the_families_whose_counts_grow_fastest(module):
    ns: dict[str, object] = {"__name__": "app_many_t11"}
    exec("".join(f"class A{i}:\n    pass\n" for i in range(8)) + "class Zbig:\n    pass\n", ns)
    keep = [ns[f"A{i}"]() for i in range(8) for _ in range(12)]  # type: ignore[operator]
    keep += [ns["Zbig"]() for _ in range(60)]  # type: ignore[operator]
    series = {("type", f"app_many_t11.A{i}"): [(float(r), r, 56 * r) for r in range(1, 13)] for i in range(8)}
    series[("type", "app_many_t11.Zbig")] = [(float(r), 5 * r, 280 * r) for r in range(1, 13)]
    held = measure_holders(series, holders.analysis.Thresholds(warmup=2, window=12))
    assert "app_many_t11.Zbig" in held  # the fastest, though last in alphabetical order
    assert len(held) == holders.HOLDERS_MAX
    assert len(keep) == 156


def test_untracked_leaves_are_sampled_largest_and_newest(module):
    # Bytes are not tracked by gc; larger than what earlier tests of the process may keep (a corpus lru_cache).
    blobs = [os.urandom(3_000_000 + i) for i in range(10)]
    module("app_blobs_t12", blobs=blobs)
    sample = sample_instances("bytes", 8, budget_s=BUDGET)
    assert len(sample) == 8
    assert sum(1 for s in sample if any(s is b for b in blobs)) >= 4  # the largest half at least
    del sample
    found = find_holder_of_type("bytes", budget_s=BUDGET)
    assert found is not None
    assert found.name == "app_blobs_t12.blobs"
    assert found.chain[-1] == "bytes x10"


def test_a_budget_that_runs_out_returns_none_quickly(module):
    # A holder five steps up, on a heap of a few hundred thousand objects.
    deep = [Payload() for _ in range(8)]
    heap = [[i] for i in range(300_000)]
    module("app_deep_t13", a={"b": [{"c": [deep]}]})

    ticks = iter(range(10**9))
    assert find_holder(deep, budget_s=3, clock=lambda: float(next(ticks))) is None  # out after the first level
    assert find_holder(deep, budget_s=0.0) is None
    start = time.thread_time()
    one_scan = time.thread_time()
    gc.get_referrers(*deep)
    one_scan = time.thread_time() - one_scan
    start = time.thread_time()
    assert find_holder(deep, budget_s=1e-6) is None
    assert time.thread_time() - start < 10 * one_scan + 0.5  # one level's scan at most, never the whole search
    found = find_holder(deep, budget_s=BUDGET)  # the same search with time enough finds it
    assert found is not None and found.name == "app_deep_t13.a"
    assert len(heap) == 300_000


def test_nothing_in_the_result_keeps_the_objects_alive(module):
    kept = [Payload() for _ in range(6)]
    refs = [weakref.ref(o) for o in kept]
    mod = module("app_registry_t14", kept=kept)
    results = [find_holder(kept, budget_s=BUDGET), find_holder_of_type(type_name(Payload), budget_s=BUDGET)]
    assert all(r is not None and r.name == "app_registry_t14.kept" for r in results)
    del kept, mod.kept
    gc.collect()
    assert [r() for r in refs] == [None] * 6
    for r in results:
        assert r is not None
        _only_names(r)


def test_no_objects_or_no_samples_return_none():
    assert find_holder([], budget_s=BUDGET) is None
    assert find_holder_of_type("no_such_module.NoSuchClass", budget_s=BUDGET) is None


def test_proxies_and_lazy_objects_on_the_way_are_never_evaluated(module):
    evaluated = []

    class LazyProxy:
        """Like a lazy object or a context-local proxy: touching it runs code."""

        @property  # type: ignore[misc]
        def __class__(self):  # noqa: F811
            evaluated.append("__class__")
            raise RuntimeError("evaluated")

        def __getattr__(self, name):
            evaluated.append(name)
            raise RuntimeError("evaluated")

    proxy = LazyProxy()
    object.__setattr__(proxy, "items", [Payload() for _ in range(3)])
    module("app_proxy_t16", current=proxy)
    found = find_holder(object.__getattribute__(proxy, "items")[:2], budget_s=BUDGET)
    assert found is not None
    assert found.name == "app_proxy_t16.current"
    assert found.chain == ("module app_proxy_t16", f".current ({type_name(LazyProxy)})", ".items (list)", f"{type_name(Payload)} x3")
    assert evaluated == []


def test_several_families_share_one_budget(module):
    blobs = [os.urandom(2_000_000 + i) for i in range(6)]
    kept = [Payload() for _ in range(6)]
    module("app_registry_t17", blobs=blobs, kept=kept)
    found = holders.find_holders([type_name(Payload), "bytes", "no_such_module.Nothing"], budget_s=BUDGET)
    assert {name: h.name for name, h in found.items()} == {type_name(Payload): "app_registry_t17.kept", "bytes": "app_registry_t17.blobs"}
    assert holders.find_holders([type_name(Payload)], budget_s=0.0) == {}


def test_a_running_threads_target_is_no_path_to_a_holder(module):
    """A thread keeps what its target keeps; the search stops there, so the registry of threads names nothing."""
    import threading

    class Runner:
        def __init__(self, kept: list[object]) -> None:
            self.kept = kept
            self.stop = threading.Event()

        def run(self) -> None:
            self.stop.wait(30)

    objs = [Payload() for _ in range(8)]
    mod = module("app_holder_t_thread", few=objs[:3])
    runner = Runner(list(objs))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        found = find_holder(objs, budget_s=BUDGET)
        assert found is not None and not found.name.startswith("threading"), found
        assert found.name == "app_holder_t_thread.few", found
    finally:
        runner.stop.set()
        thread.join(5)
        del mod

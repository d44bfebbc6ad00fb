"""A Snapshot back from its plain data: ``snapshot_from_dict(s.to_dict()) == s``.

Why a reader driven by the models' own type hints rather than one written field by
field: a field added to a model is then read back without an edit here, and one that
cannot be read fails loudly instead of coming back as a default. What ``to_dict`` adds
for people and other tools (a run's ``delta``, a cache's ``bounded``, an export's
``*_utc`` times) is derived data and is skipped; a field missing from the data takes
its default when the model has one (an export written by an older version), and is an
error otherwise.

>>> from st_memwatch.core.models import Limit, Snapshot
>>> s = Snapshot(0.0, 10, Limit(100, "argument"), None, "hooks", "hwm", (), (), (), None, (), None, ())
>>> snapshot_from_dict(s.to_dict()) == s
True
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

from st_memwatch.core import models
from st_memwatch.core.models import Snapshot


class SnapshotFormatError(ValueError):
    """The data is not a snapshot this version can read (says which field and why)."""


def snapshot_from_dict(data: Mapping[str, Any]) -> Snapshot:
    """The Snapshot whose ``to_dict()`` (or whose JSON export, parsed) is ``data``."""
    if not isinstance(data, Mapping):
        raise SnapshotFormatError(f"a snapshot is a JSON object, got {type(data).__name__}")
    built: Snapshot = _read(Snapshot, data, "snapshot")
    return built


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(models))


def _is_record(tp: Any) -> bool:
    return isinstance(tp, type) and (dataclasses.is_dataclass(tp) or (issubclass(tp, tuple) and hasattr(tp, "_fields")))


def _read(tp: Any, value: Any, where: str) -> Any:
    origin = get_origin(tp)
    if tp is Any or origin is dict or tp is dict:
        return value  # free-form data (``previous``): kept as JSON gave it
    if origin in (Union, types.UnionType):
        if value is None:
            if type(None) in get_args(tp):
                return None
            raise SnapshotFormatError(f"{where}: null where a value is needed")
        (inner,) = (a for a in get_args(tp) if a is not type(None))
        return _read(inner, value, where)
    if value is None:
        raise SnapshotFormatError(f"{where}: null where a value is needed")
    if origin is Literal:
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise SnapshotFormatError(f"{where}: expected a list, got {type(value).__name__}")
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_read(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise SnapshotFormatError(f"{where}: expected {len(args)} items, got {len(value)}")
        return tuple(_read(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if _is_record(tp):
        return _record(tp, value, where)
    if tp is bool:
        if not isinstance(value, bool):
            raise SnapshotFormatError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SnapshotFormatError(f"{where}: expected a number, got {value!r}")
        if tp is int and isinstance(value, float) and not value.is_integer():
            raise SnapshotFormatError(f"{where}: expected a whole number, got {value!r}")
        return tp(value)
    if tp is str:
        if not isinstance(value, str):
            raise SnapshotFormatError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def _record(cls: type, value: Any, where: str) -> Any:
    hints = _hints(cls)
    names = list(hints) if not dataclasses.is_dataclass(cls) else [f.name for f in dataclasses.fields(cls)]
    if isinstance(value, (list, tuple)):  # a NamedTuple written as a list (a sample: [t, rss])
        if len(value) > len(names):
            raise SnapshotFormatError(f"{where}: expected at most {len(names)} items, got {len(value)}")
        value = dict(zip(names, value, strict=False))
    if not isinstance(value, Mapping):
        raise SnapshotFormatError(f"{where}: expected an object, got {type(value).__name__}")
    kwargs = {}
    for name in names:
        if name in value:
            kwargs[name] = _read(hints[name], value[name], f"{where}.{name}")
        elif not _has_default(cls, name):
            raise SnapshotFormatError(f"{where}: missing {name!r}")
    return cls(**kwargs)


def _has_default(cls: type, name: str) -> bool:
    if dataclasses.is_dataclass(cls):
        f = next(f for f in dataclasses.fields(cls) if f.name == name)
        return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    return name in getattr(cls, "_field_defaults", {})

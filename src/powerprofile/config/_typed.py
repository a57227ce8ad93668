"""Turn parsed YAML into typed, validated dataclasses.

A small, strict converter: every key must be a field of the target dataclass, every
value must have the field's type (``int``, ``float``, ``str``, ``bool``, ``list[...]``,
``dict[str, ...]``, ``Literal[...]``, ``X | None``, ``Any`` or a nested dataclass).
Errors name the dotted key, the file, the value received and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from typing import Any, Literal, Union

from ..exceptions import ConfigError

__all__ = ["from_mapping", "to_mapping"]


def _where(source) -> str:
    return f" in {str(source)!r}" if source else ""


def _type_name(tp) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(tp))
    if origin in (list, tuple):
        args = typing.get_args(tp)
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        args = typing.get_args(tp)
        return f"mapping of {_type_name(args[1])}" if args else "mapping"
    if tp is type(None):
        return "null"
    if dataclasses.is_dataclass(tp):
        return "mapping"
    return getattr(tp, "__name__", str(tp))


def _fail(key: str, value, tp, source, extra: str = "") -> typing.NoReturn:
    raise ConfigError(
        f"config key {key!r}{_where(source)} has the wrong type: got {value!r} "
        f"({type(value).__name__}), expected {_type_name(tp)}{extra}; fix the value in the file "
        "or the override."
    )


def _convert(value, tp, key: str, source):
    if tp is Any or tp is typing.Any:
        return value
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            _fail(key, value, tp, source)
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, key, source)
            except ConfigError as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        _fail(key, value, tp, source)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value in allowed and type(value) in {type(a) for a in allowed}:
            return value
        raise ConfigError(
            f"config key {key!r}{_where(source)} has the value {value!r}; allowed values are "
            f"{', '.join(repr(a) for a in allowed)}."
        )
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            _fail(key, value, tp, source)
        (item_tp,) = typing.get_args(tp)[:1] or (Any,)
        return [_convert(v, item_tp, f"{key}[{i}]", source) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            _fail(key, value, tp, source)
        _, val_tp = typing.get_args(tp) or (str, Any)
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                _fail(f"{key}.{k}", k, str, source, " (mapping keys are text)")
            out[k] = _convert(v, val_tp, f"{key}.{k}", source)
        return out
    if dataclasses.is_dataclass(tp):
        return from_mapping(tp, value, source=source, prefix=key)
    if tp is bool:
        if isinstance(value, bool):
            return value
        _fail(key, value, tp, source)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        _fail(key, value, tp, source)
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        _fail(key, value, tp, source)
    if tp is str:
        if isinstance(value, str):
            return value
        if hasattr(value, "isoformat"):  # YAML turns 2025-01-01 into a date
            return value.isoformat()
        _fail(key, value, tp, source)
    if isinstance(value, tp):
        return value
    _fail(key, value, tp, source)


def from_mapping(cls, data, *, source=None, prefix: str = ""):
    """Build dataclass ``cls`` from a mapping, strictly.

    Parameters
    ----------
    cls : type
        A dataclass type whose fields carry type annotations.
    data : dict or None
        Parsed YAML; ``None`` means all defaults.
    source : str or path-like or None, default=None
        The file the mapping came from, named in error messages.
    prefix : str, default=""
        Dotted key of ``data`` inside the whole file, named in error messages.

    Returns
    -------
    instance of ``cls``

    Raises
    ------
    ConfigError
        On an unknown key, a missing required key or a value of the wrong type.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        _fail(prefix or "<top level>", data, cls, source)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in data if k not in fields]
    if unknown:
        k = unknown[0]
        close = difflib.get_close_matches(str(k), list(fields), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        dotted = f"{prefix}.{k}" if prefix else str(k)
        raise ConfigError(
            f"unknown config key {dotted!r}{_where(source)}{hint}; allowed keys"
            f"{' under ' + repr(prefix) if prefix else ''}: {', '.join(sorted(fields))}."
        )
    kwargs = {}
    for name, f in fields.items():
        dotted = f"{prefix}.{name}" if prefix else name
        if name in data:
            kwargs[name] = _convert(data[name], hints[name], dotted, source)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(
                f"config key {dotted!r} is required{_where(source)} but missing; add it."
            )
    obj = cls(**kwargs)
    check = getattr(obj, "_check", None)
    if check is not None:
        check(source, prefix)
    return obj


def to_mapping(obj) -> dict:
    """Plain-dict form of a config dataclass (YAML/JSON serialisable)."""
    if dataclasses.is_dataclass(obj):
        return {
            f.name: to_mapping(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if not f.metadata.get("internal")
        }
    if isinstance(obj, list | tuple):
        return [to_mapping(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_mapping(v) for k, v in obj.items()}
    return obj

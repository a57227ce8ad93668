"""Turn parsed YAML into typed, validated dataclasses.

A small, strict converter: every key must be a field of the target dataclass, every
value must have the field's type (``int``, ``float``, ``str``, ``bool``, ``list[...]``,
``dict[str, ...]``, ``Literal[...]``, ``X | None``, ``Any`` or a nested dataclass).
Floats must be finite, and a numeric field declares its allowed range in its metadata
(``field(default=90, metadata=bounded(1, 3660, unit="days"))``); the range applies to
every number in the field's value (each list item, each mapping value). Errors name
the dotted key, the file, the value received and what is allowed.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import math
import re
import types
import typing
from typing import Any, Literal, Union

from ..exceptions import ConfigError

__all__ = ["bounded", "from_mapping", "to_mapping"]


@dataclasses.dataclass(frozen=True)
class Range:
    """Allowed values of a numeric config field.

    Parameters
    ----------
    lo, hi : int or float
        Smallest and largest allowed values (inclusive unless ``lo_open``).
    lo_open : bool, default=False
        ``lo`` itself is not allowed (``timeout_seconds`` must be > 0).
    unit : str, default=""
        What the number counts (``"days"``), for messages.
    """

    lo: float
    hi: float
    lo_open: bool = False
    unit: str = ""

    def describe(self, integer: bool) -> str:
        """The range in words: "an integer from 1 to 3660 days"."""
        unit = f" {self.unit}" if self.unit else ""
        if integer:
            return f"an integer from {self.lo} to {self.hi}{unit}"
        low = f"greater than {self.lo}" if self.lo_open else f"at least {self.lo}"
        return f"a finite number {low} and at most {self.hi}{unit}"

    def __contains__(self, value) -> bool:
        above = value > self.lo if self.lo_open else value >= self.lo
        return above and value <= self.hi


ISO_DATE = {"iso_date": True}
"""Field metadata of a date field: an ISO ``YYYY-MM-DD`` text or a YAML date, kept as text."""

PATH = {"path": True}
"""Field metadata of a file or folder path: in a config file, relative to that file's folder."""

_ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

DATE_RANGE = (_dt.date(1900, 1, 1), _dt.date(2200, 12, 31))
"""Dates a config may name: pandas holds 1677-2262, and windows and horizons of up to
ten years each must still fit around a snapshot."""


def _in_range(day: _dt.date, key: str, source) -> str:
    lo, hi = DATE_RANGE
    if not lo <= day <= hi:
        raise ConfigError(
            f"config key {key!r}{_where(source, key)} has the date {day.isoformat()!r}, outside "
            f"{lo.isoformat()} to {hi.isoformat()}; fix the value in the file or the override."
        )
    return day.isoformat()


def _iso_date(value, key: str, source) -> str | None:
    """``value`` as ``'YYYY-MM-DD'``, or an error suggesting the date it probably means."""
    if value is None or (isinstance(value, _dt.date) and not isinstance(value, _dt.datetime)):
        return None if value is None else _in_range(value, key, source)
    digits = None
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(value)
    elif isinstance(value, str):
        if _ISO_DATE_RE.fullmatch(value.strip()):
            try:
                day = _dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
            else:
                return _in_range(day, key, source)
        elif re.fullmatch(r"[0-9]{8}", value.strip()):
            digits = value.strip()
    elif isinstance(value, _dt.datetime):
        digits = value.strftime("%Y%m%d")
    guess = "2025-12-31"
    if digits is not None and len(digits) == 8:
        try:
            guess = _dt.datetime.strptime(digits, "%Y%m%d").date().isoformat()
        except ValueError:
            pass
    raise ConfigError(
        f"config key {key!r}{_where(source, key)} has the value {value!r} "
        f"({type(value).__name__}), not a date: write an ISO date such as {guess!r} "
        "(a number like 20251231 is not read as a date); fix the value in the file or the "
        "override."
    )


def bounded(lo, hi, *, lo_open: bool = False, unit: str = "") -> dict:
    """Field metadata declaring the allowed range of a numeric config field.

    Parameters
    ----------
    lo, hi : int or float
        Smallest and largest allowed values.
    lo_open : bool, default=False
        Exclude ``lo`` itself.
    unit : str, default=""
        What the number counts, for messages.

    Returns
    -------
    dict
        ``{"range": Range(...)}``, for ``dataclasses.field(metadata=...)``.
    """
    return {"range": Range(lo, hi, lo_open, unit)}


def _where(source, key: str | None = None) -> str:
    """Where the value of ``key`` came from, for messages: " in 'file'" or " (set by ...)".

    ``source`` is a file name, or an object whose ``where(key)`` says it (a config
    file merged with overrides, see ``load_config``).
    """
    if hasattr(source, "where"):
        return source.where(key)
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


def _fail(
    key: str, value, tp, source, extra: str = "", rng: Range | None = None
) -> typing.NoReturn:
    if rng is not None and extra == "" and tp in (int, float):
        extra = f" ({rng.describe(tp is int)})"
    raise ConfigError(
        f"config key {key!r}{_where(source, key)} has the wrong type: got {value!r} "
        f"({type(value).__name__}), expected {_type_name(tp)}{extra}; fix the value in the file "
        "or the override."
    )


def _bad_number(key: str, value, source, must: str) -> ConfigError:
    """A number of the right type but not allowed (out of range, not finite)."""
    exc = ConfigError(
        f"config key {key!r}{_where(source, key)} has the value {value!r}, which is not allowed: "
        f"it must be {must}; fix the value in the file or the override."
    )
    exc.bad_number = True  # preferred over the other arms' type errors in a union
    return exc


def _convert(value, tp, key: str, source, rng: Range | None = None):
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
                return _convert(value, arg, key, source, rng)
            except ConfigError as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        numeric = [e for e in errors if getattr(e, "bad_number", False)]
        if numeric:
            raise numeric[0]
        _fail(key, value, tp, source)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value in allowed and type(value) in {type(a) for a in allowed}:
            return value
        raise ConfigError(
            f"config key {key!r}{_where(source, key)} has the value {value!r}; allowed values are "
            f"{', '.join(repr(a) for a in allowed)}."
        )
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            _fail(key, value, tp, source)
        (item_tp,) = typing.get_args(tp)[:1] or (Any,)
        return [_convert(v, item_tp, f"{key}[{i}]", source, rng) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            _fail(key, value, tp, source)
        _, val_tp = typing.get_args(tp) or (str, Any)
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                _fail(f"{key}.{k}", k, str, source, " (mapping keys are text)")
            out[k] = _convert(v, val_tp, f"{key}.{k}", source, rng)
        return out
    if dataclasses.is_dataclass(tp):
        return from_mapping(tp, value, source=source, prefix=key)
    if tp is bool:
        if isinstance(value, bool):
            return value
        _fail(key, value, tp, source)
    if tp is int:
        if not isinstance(value, int) or isinstance(value, bool):
            _fail(key, value, tp, source, rng=rng)
        if rng is not None and value not in rng:
            raise _bad_number(key, value, source, rng.describe(integer=True))
        return value
    if tp is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            _fail(key, value, tp, source, rng=rng)
        number = float(value) if isinstance(value, float) or abs(value) < 2**1000 else math.inf
        if not math.isfinite(number) or (rng is not None and number not in rng):
            raise _bad_number(
                key, value, source, rng.describe(integer=False) if rng else "a finite number"
            )
        return number
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
            f"unknown config key {dotted!r}{_where(source, dotted)}{hint}; allowed keys"
            f"{' under ' + repr(prefix) if prefix else ''}: {', '.join(sorted(fields))}."
        )
    label = getattr(cls, "_config_label", None)
    named = data.get("name") if label else None
    kwargs = {}
    for name, f in fields.items():
        dotted = f"{prefix}.{name}" if prefix else name
        if name in data:
            try:
                if f.metadata.get("iso_date"):
                    kwargs[name] = _iso_date(data[name], dotted, source)
                else:
                    kwargs[name] = _convert(
                        data[name], hints[name], dotted, source, f.metadata.get("range")
                    )
            except ConfigError as exc:
                if isinstance(named, str):  # "campaign 'x': config key ... "
                    raise ConfigError(f"{label} {named!r}: {exc}") from None
                raise
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(
                f"config key {dotted!r} is required{_where(source, dotted)} but missing; add it."
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

"""Vectorised coercion of raw columns to the contract's validated dtypes.

Each coercer takes a raw column (any dtype: text read from CSV, Arrow-backed strings,
numbers, Python dates, datetimes in any unit or time zone) and returns the coerced
column plus a boolean mask of values that were present but could not be converted.
Missing values stay missing (the null check is done by the caller).

Text is parsed once per distinct value (``pandas.factorize``), so a 70-million-row
date column read from CSV costs one hash pass plus a parse of a few hundred strings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "DATETIME_DTYPE",
    "STRING_DTYPE",
    "coerce_column",
    "empty_column",
]

STRING_DTYPE = pd.StringDtype(na_value=pd.NA)
"""Validated dtype of ``id`` and ``text`` columns (pandas ``string``, missing = ``pd.NA``)."""

DATETIME_DTYPE = np.dtype("datetime64[us]")
"""Validated dtype of ``date`` and ``datetime`` columns (naive, microseconds)."""

_TRUE = ("true", "t", "yes", "y", "1", "1.0")
_FALSE = ("false", "f", "no", "n", "0", "0.0")
_US_PER_DAY = 86_400_000_000
_NA_TOKENS = ("na", "n/a", "nan", "null", "none", "nat", "<na>")
"""Spellings read as missing in number, date, boolean and category columns."""


def _na_token(text: pd.Series) -> np.ndarray:
    """True where a (stripped) text value spells a missing value."""
    return text.str.lower().isin(_NA_TOKENS).to_numpy(dtype=bool)


def _as_string(raw: pd.Series) -> pd.Series:
    """Return ``raw`` as pandas ``string`` with empty strings treated as missing."""
    if isinstance(raw.dtype, pd.StringDtype) and raw.dtype.na_value is pd.NA:
        s = raw
    elif isinstance(raw.dtype, pd.CategoricalDtype):  # decode through the categories
        cats = pd.array(raw.cat.categories.astype(str), dtype=STRING_DTYPE)
        s = pd.Series(
            cats.take(raw.cat.codes.to_numpy(), allow_fill=True), index=raw.index, name=raw.name
        )
    else:
        s = raw.astype(STRING_DTYPE)
    empty = (s == "").fillna(False).to_numpy(dtype=bool)
    if empty.any():
        s = s.mask(empty)
    return s


def _factorized(raw: pd.Series):
    """Factorize ``raw`` into (codes, uniques) with missing values as code -1."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    uniques = pd.Index(uniques)
    if isinstance(uniques.dtype, pd.CategoricalDtype):
        uniques = pd.Index(uniques.astype(object), dtype=object)
    return np.asarray(codes), uniques


def _coerce_text(raw: pd.Series):
    s = _as_string(raw)
    return s, np.zeros(len(s), dtype=bool)


def _coerce_category(raw: pd.Series, categories: tuple[str, ...]):
    dtype = pd.CategoricalDtype(list(categories), ordered=False)
    if isinstance(raw.dtype, pd.CategoricalDtype) and list(raw.dtype.categories) == list(
        categories
    ):
        return raw.astype(dtype), np.zeros(len(raw), dtype=bool)
    if isinstance(raw.dtype, pd.CategoricalDtype):  # map the categories, not the rows
        codes = np.asarray(raw.cat.codes, dtype=np.int64)
        uniques = pd.Index(raw.cat.categories.astype(str), dtype=object)
    else:
        codes, uniques = _factorized(_as_string(raw))
    normal = pd.Series(uniques, dtype=STRING_DTYPE).str.strip()
    normal = normal.mask(normal == "")
    mapping = pd.Index(list(categories)).get_indexer(pd.Index(normal))
    missing_u = _na_token(normal)
    present = codes >= 0
    safe = np.where(present, codes, 0)
    if len(mapping):
        new_codes = np.where(present, mapping[safe], -1)
        bad = present & (new_codes < 0) & ~missing_u[safe]
    else:
        new_codes = np.full(len(codes), -1)
        bad = np.zeros(len(codes), dtype=bool)
    values = pd.Categorical.from_codes(new_codes, dtype=dtype)
    return pd.Series(values, index=raw.index, name=raw.name), bad


def _coerce_bool(raw: pd.Series):
    n = len(raw)
    if raw.dtype == np.dtype(bool):
        return raw, np.zeros(n, dtype=bool)
    if isinstance(raw.dtype, pd.BooleanDtype):
        na = raw.isna().to_numpy()
        out = pd.Series(raw.to_numpy(dtype=bool, na_value=False), index=raw.index, name=raw.name)
        return out.where(~na, pd.NA) if na.any() else out, np.zeros(n, dtype=bool)
    codes, uniques = _factorized(raw)
    text = pd.Series(uniques.astype(str), dtype=STRING_DTYPE).str.strip().str.lower()
    is_true = text.isin(_TRUE).to_numpy(dtype=bool)
    is_false = text.isin(_FALSE).to_numpy(dtype=bool)
    empty = (text == "").to_numpy(dtype=bool) | _na_token(text)
    present = codes >= 0
    safe = np.where(present, codes, 0)
    if len(uniques) == 0:
        value = np.zeros(n, dtype=bool)
        bad = np.zeros(n, dtype=bool)
        missing = ~present
    else:
        value = present & is_true[safe]
        missing = ~present | empty[safe]
        bad = present & ~is_true[safe] & ~is_false[safe] & ~empty[safe]
    missing = missing | bad
    out = pd.Series(value, index=raw.index, name=raw.name)
    if missing.any():
        out = out.astype(object).where(~missing, pd.NA)
    return out, bad


def _coerce_float(raw: pd.Series):
    n = len(raw)
    if raw.dtype == np.dtype("float64"):
        return raw, np.zeros(n, dtype=bool)
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("float64"), np.zeros(n, dtype=bool)
    if pd.api.types.is_numeric_dtype(raw.dtype):
        out = (
            raw.astype("float64")
            if not pd.api.types.is_extension_array_dtype(raw.dtype)
            else (
                pd.Series(
                    raw.to_numpy(dtype="float64", na_value=np.nan), index=raw.index, name=raw.name
                )
            )
        )
        return out, np.zeros(n, dtype=bool)
    s = _as_string(raw).str.strip()
    present = s.notna().to_numpy(dtype=bool)
    out = pd.to_numeric(s, errors="coerce")
    out = pd.Series(
        np.asarray(out.to_numpy(dtype="float64", na_value=np.nan)), index=raw.index, name=raw.name
    )
    bad = present & np.isnan(out.to_numpy())
    if bad.any():
        where = np.flatnonzero(bad)
        bad[where[_na_token(s.iloc[where])]] = False
    return out, bad


_OFFSET = (
    r"\d:\d\d(?::\d\d(?:[.,]\d*)?)?\s*(?:[zZ]|(?:UTC|GMT|utc|gmt)?\s*[+-]\d\d?(?::?\d\d)?|UTC|GMT)$"
)
"""A time of day followed by a UTC offset, ``Z``, ``UTC`` or ``GMT``."""


def _naive(parsed) -> np.ndarray:
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    return np.asarray(parsed.to_numpy()).astype(DATETIME_DTYPE)


def _parse_text(values: pd.Series, fmt: str) -> np.ndarray:
    """Parse distinct text values as naive datetime64[us]; unreadable ones become NaT.

    Vectorised; when pandas rejects the batch as a whole (mixed time zones, values
    beyond the datetime range), each distinct value is parsed on its own.
    """
    try:
        return _naive(pd.to_datetime(values, errors="coerce", format=fmt))
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        pass
    out = np.full(len(values), np.datetime64("NaT", "us"))
    for i, v in enumerate(values.to_numpy(dtype=object)):  # distinct values, failure path only
        try:
            t = pd.to_datetime(v, errors="coerce", format=fmt if fmt == "ISO8601" else None)
        except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
            continue
        if t is not pd.NaT and t is not None and not pd.isna(t):
            t = pd.Timestamp(t)
            out[i] = np.datetime64(t.tz_localize(None) if t.tz is not None else t, "us")
    return out


def _to_datetime_values(raw: pd.Series):
    """Return (datetime64[us] ndarray, bad mask) for any raw column."""
    n = len(raw)
    dtype = raw.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        raw = raw.dt.tz_localize(None)
        dtype = raw.dtype
    if dtype.kind == "M":
        return raw.to_numpy().astype(DATETIME_DTYPE, copy=False), np.zeros(n, dtype=bool)
    codes, uniques = _factorized(raw)
    if len(uniques) == 0:
        return np.full(n, np.datetime64("NaT", "us")), np.zeros(n, dtype=bool)
    if uniques.dtype == object or isinstance(uniques.dtype, pd.StringDtype):
        as_text = pd.Series(uniques.astype(str), dtype=STRING_DTYPE).str.strip()
        empty = (as_text == "").to_numpy(dtype=bool) | _na_token(as_text)
        # text carries naive local time: a UTC offset makes the local day ambiguous
        offset = as_text.str.contains(_OFFSET, regex=True).fillna(False).to_numpy(dtype=bool)
        skip = empty | offset
        parsed = _parse_text(as_text.mask(skip), "ISO8601")
        retry = np.isnat(parsed) & ~skip
        if retry.any():
            # other spellings (2024/03/01, 01-Mar-2024, Python dates, Timestamps)
            objs = pd.Series(uniques[retry].astype(object))
            parsed[retry] = _parse_text(objs, "mixed")
        uvals = parsed
        ubad = np.isnat(uvals) & ~empty
    else:  # numbers are not dates
        uvals = np.full(len(uniques), np.datetime64("NaT", "us"))
        ubad = np.ones(len(uniques), dtype=bool)
    present = codes >= 0
    safe = np.where(present, codes, 0)
    values = np.where(present, uvals[safe], np.datetime64("NaT", "us")).astype(DATETIME_DTYPE)
    bad = present & ubad[safe]
    return values, bad


def _coerce_datetime(raw: pd.Series):
    values, bad = _to_datetime_values(raw)
    return pd.Series(values, index=raw.index, name=raw.name), bad


def _coerce_date(raw: pd.Series):
    values, bad = _to_datetime_values(raw)
    ints = values.view("int64")
    off = ints % _US_PER_DAY
    need = off != 0
    need &= ~np.isnat(values)
    if need.any():  # a time of day on a date column: keep the day
        values = values.copy()
        values[need] = (ints[need] - off[need]).view(DATETIME_DTYPE)
    return pd.Series(values, index=raw.index, name=raw.name), bad


def coerce_column(raw: pd.Series, kind: str, categories: tuple[str, ...] = ()):
    """Coerce one raw column to the validated dtype of ``kind``.

    Parameters
    ----------
    raw : pandas.Series
        The column as read or received.
    kind : {"id", "text", "category", "date", "datetime", "float", "bool"}
        Logical type from the contract.
    categories : tuple of str, default=()
        Allowed values when ``kind="category"``.

    Returns
    -------
    values : pandas.Series
        The coerced column. Values that could not be converted are missing. Bool
        columns with missing values are returned as ``object`` (the caller flags
        and removes those rows, then casts to ``bool``).
    bad : numpy.ndarray of bool
        True where a value was present but could not be converted (for categories:
        a value outside ``categories``).
    """
    if kind in ("id", "text"):
        return _coerce_text(raw)
    if kind == "category":
        return _coerce_category(raw, categories)
    if kind == "bool":
        return _coerce_bool(raw)
    if kind == "float":
        return _coerce_float(raw)
    if kind == "date":
        return _coerce_date(raw)
    if kind == "datetime":
        return _coerce_datetime(raw)
    raise ValueError(f"unknown column kind {kind!r}")


def empty_column(kind: str, n: int, categories: tuple[str, ...] = (), index=None) -> pd.Series:
    """Return the fill column for an absent optional column (bools False, others missing)."""
    if kind in ("id", "text"):
        return pd.Series(pd.array([pd.NA] * n, dtype=STRING_DTYPE), index=index)
    if kind == "category":
        dtype = pd.CategoricalDtype(list(categories), ordered=False)
        return pd.Series(pd.Categorical.from_codes(np.full(n, -1), dtype=dtype), index=index)
    if kind == "bool":
        return pd.Series(np.zeros(n, dtype=bool), index=index)
    if kind == "float":
        return pd.Series(np.full(n, np.nan), index=index)
    if kind in ("date", "datetime"):
        return pd.Series(np.full(n, np.datetime64("NaT", "us")), index=index)
    raise ValueError(f"unknown column kind {kind!r}")


def validated_dtype(kind: str, categories: tuple[str, ...] = ()):
    """Return the validated pandas dtype of a column of ``kind``."""
    return {
        "id": STRING_DTYPE,
        "text": STRING_DTYPE,
        "category": pd.CategoricalDtype(list(categories), ordered=False),
        "bool": np.dtype(bool),
        "float": np.dtype("float64"),
        "date": DATETIME_DTYPE,
        "datetime": DATETIME_DTYPE,
    }[kind]

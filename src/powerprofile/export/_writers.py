"""Deterministic file writers: CSV (UTF-8 with BOM), Parquet, JSON Lines.

Every CSV file the library writes for people (exports, reports under the output
folder) goes through :func:`write_frame`, which owns the two CSV safety rules:

- **Formula neutralisation** (the OWASP "CSV injection" rule): a text cell that starts
  with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` so a
  spreadsheet shows it as text instead of evaluating it. A text cell that already
  starts with ``'`` followed by one of those characters or by another ``'`` gets one
  too, so the rule can be undone exactly (:func:`read_frame` does). Only text columns
  (and the header) are touched; numbers, including negative ones, stay numbers.
- **Quoting** (RFC 4180): records end with CRLF and every field containing the
  delimiter, a double quote, a CR or an LF is quoted, so an embedded line break never
  splits a record. Python's ``csv`` module quotes a field only for the characters of
  its line terminator, so with LF line ends a lone CR would go out unquoted and a CSV
  reader would see two records; CRLF line ends make it quote both.
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import pandas as pd

__all__ = ["EXTENSIONS", "FORMULA_TRIGGERS", "file_sha256", "read_frame", "write_frame"]

EXTENSIONS = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl"}

#: First characters that make a spreadsheet evaluate a cell (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_CLASS = "".join("\\t" if c == "\t" else "\\r" if c == "\r" else "\\" + c for c in FORMULA_TRIGGERS)
# a cell to prefix: it starts with a trigger, or with the prefix itself before a trigger
# or another prefix (so that removing one leading ' always restores the value)
_NEEDS_PREFIX = rf"^(?:[{_CLASS}]|'[{_CLASS}'])"
_PREFIXED = rf"^'[{_CLASS}']"


def _is_text(values: pd.Series) -> bool:
    dt = values.dtype
    if isinstance(dt, pd.StringDtype | pd.CategoricalDtype):
        return True
    # an object column is text when any cell is (only the str cells are then touched)
    return pd.api.types.is_object_dtype(dt) and bool(values.map(type).eq(str).any())


def _escape_cells(values: pd.Series) -> pd.Series:
    """Prefix ``'`` to the text cells of ``values`` that a spreadsheet would evaluate."""
    if pd.api.types.is_object_dtype(values.dtype):  # mixed: only the str cells are text
        is_str = values.map(type).eq(str).to_numpy()
        text = values.where(is_str).astype("string")
        hit = text.str.contains(_NEEDS_PREFIX, regex=True).fillna(False).to_numpy(dtype=bool)
        out = values.copy()
        out[hit] = "'" + text[hit]
        return out
    text = values.astype("string")
    hit = text.str.contains(_NEEDS_PREFIX, regex=True).fillna(False)
    return text.mask(hit, "'" + text)


def _unescape_cells(values: pd.Series) -> pd.Series:
    """Undo :func:`_escape_cells` (drop one leading ``'`` where it was added)."""
    text = values.astype("string")
    hit = text.str.contains(_PREFIXED, regex=True).fillna(False)
    if not hit.any():
        return values
    return values.mask(hit, text.str.slice(1))


def _escape_label(label):
    """The same rule for one header cell."""
    if isinstance(label, str) and re.match(_NEEDS_PREFIX, label):
        return "'" + label
    return label


def _unescape_label(label):
    if isinstance(label, str) and re.match(_PREFIXED, label):
        return label[1:]
    return label


def _prepare(frame: pd.DataFrame, decimals: int | None = 6) -> pd.DataFrame:
    out = frame.reset_index(drop=True)
    for col in out.columns:
        dt = out[col].dtype
        if pd.api.types.is_datetime64_any_dtype(dt):
            only_dates = (out[col].dropna() == out[col].dropna().dt.normalize()).all()
            fmt = "%Y-%m-%d" if only_dates else "%Y-%m-%dT%H:%M:%S"
            out[col] = out[col].dt.strftime(fmt).astype("string")
        elif isinstance(dt, pd.CategoricalDtype):
            out[col] = out[col].astype("string")
        elif decimals is not None and pd.api.types.is_float_dtype(dt):
            out[col] = out[col].round(decimals)
    return out


def _spreadsheet_safe(data: pd.DataFrame) -> pd.DataFrame:
    out = data.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if _is_text(col):
            out.isetitem(i, _escape_cells(col))
    out.columns = [_escape_label(c) for c in out.columns]
    return out


def write_frame(
    frame: pd.DataFrame, path, fmt: str, *, index: bool = False, decimals: int | None = 6
) -> Path:
    """Write ``frame`` to ``path`` in format ``fmt``, byte-for-byte reproducibly.

    Parameters
    ----------
    frame : pandas.DataFrame or pandas.Series
        Rows to write.
    path : str or path-like
        Target file.
    fmt : {"csv", "parquet", "jsonl"}
        CSV is UTF-8 with a byte-order mark (Excel shows Chinese text), CRLF record
        ends, fields quoted when they hold a comma, a double quote, CR or LF, and text
        cells neutralised against formula evaluation (see the module docstring);
        Parquet is written by pyarrow without an index; JSON Lines keeps Chinese
        characters unescaped. Parquet and JSON Lines keep text exactly (CR, LF,
        U+2028, NUL included). Dates are written as ISO text.
    index : bool, default=False
        Write the index as leading column(s) (by its name); otherwise it is dropped.
    decimals : int or None, default=6
        Floats are rounded to this many decimals (None: full precision).

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    data = _prepare(frame.reset_index() if index else frame, decimals)
    if fmt == "csv":
        _spreadsheet_safe(data).to_csv(
            path,
            index=False,
            encoding="utf-8-sig",
            lineterminator="\r\n",
            quoting=csv.QUOTE_MINIMAL,
        )
    elif fmt == "parquet":
        data.to_parquet(path, index=False, engine="pyarrow", compression="zstd")
    elif fmt == "jsonl":
        # one line per row: no rows, no line (pandas writes a lone newline for them)
        text = (
            data.to_json(orient="records", lines=True, force_ascii=False, double_precision=6)
            if len(data)
            else ""
        )
        if text and not text.endswith("\n"):
            text += "\n"
        path.write_bytes(text.encode("utf-8"))
    else:
        raise ValueError(f"unknown export format {fmt!r}; use 'csv', 'parquet' or 'jsonl'")
    return path


def read_frame(path, *, dtype=None) -> pd.DataFrame:
    """Read a file written by :func:`write_frame` (format from the extension).

    Parameters
    ----------
    path : str or path-like
        The file.
    dtype : dict or None, default=None
        Column types for CSV, which stores none (default: ``customer_key`` as text,
        the other columns inferred). Only empty CSV cells are missing values; the
        ``'`` added against formula evaluation is removed from text cells.

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(path)
    if path.suffix == ".csv":
        types = {"customer_key": "string", **(dtype or {})}
        out = pd.read_csv(
            path, encoding="utf-8-sig", dtype=types, keep_default_na=False, na_values=[""]
        )
        out.columns = [_unescape_label(c) for c in out.columns]
        for i in range(out.shape[1]):
            col = out.iloc[:, i]
            if _is_text(col):
                out.isetitem(i, _unescape_cells(col))
        return out
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".jsonl":
        if path.stat().st_size == 0:
            return pd.DataFrame()
        # JSON carries its own types: no inference from text ("1" stays text)
        return pd.read_json(path, lines=True, dtype=False, precise_float=True)
    raise ValueError(f"cannot read {str(path)!r}: unknown extension {path.suffix!r}")


def file_sha256(path) -> str:
    """SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

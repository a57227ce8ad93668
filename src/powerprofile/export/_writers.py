"""Deterministic file writers: CSV (UTF-8 with BOM), Parquet, JSON Lines."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

__all__ = ["EXTENSIONS", "file_sha256", "read_frame", "write_frame"]

EXTENSIONS = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl"}


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index(drop=True)
    for col in out.columns:
        dt = out[col].dtype
        if pd.api.types.is_datetime64_any_dtype(dt):
            only_dates = (out[col].dropna() == out[col].dropna().dt.normalize()).all()
            fmt = "%Y-%m-%d" if only_dates else "%Y-%m-%dT%H:%M:%S"
            out[col] = out[col].dt.strftime(fmt).astype("string")
        elif isinstance(dt, pd.CategoricalDtype):
            out[col] = out[col].astype("string")
        elif pd.api.types.is_float_dtype(dt):
            out[col] = out[col].round(6)
    return out


def write_frame(frame: pd.DataFrame, path, fmt: str) -> Path:
    """Write ``frame`` to ``path`` in format ``fmt``, byte-for-byte reproducibly.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows to write (the index is dropped).
    path : str or path-like
        Target file.
    fmt : {"csv", "parquet", "jsonl"}
        CSV is UTF-8 with a byte-order mark (Excel shows Chinese text) and LF line
        ends; Parquet is written by pyarrow without an index; JSON Lines keeps Chinese
        characters unescaped. Floats are rounded to 6 decimals, dates written as ISO text.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    data = _prepare(frame)
    if fmt == "csv":
        data.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
    elif fmt == "parquet":
        data.to_parquet(path, index=False, engine="pyarrow", compression="zstd")
    elif fmt == "jsonl":
        text = data.to_json(orient="records", lines=True, force_ascii=False, double_precision=6)
        if text and not text.endswith("\n"):
            text += "\n"
        path.write_bytes(text.encode("utf-8"))
    else:
        raise ValueError(f"unknown export format {fmt!r}; use 'csv', 'parquet' or 'jsonl'")
    return path


def read_frame(path) -> pd.DataFrame:
    """Read a file written by :func:`write_frame` (format from the extension).

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(path)
    if path.suffix == ".csv":
        return pd.read_csv(path, encoding="utf-8-sig", dtype={"customer_key": "string"})
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".jsonl":
        if path.stat().st_size == 0:
            return pd.DataFrame()
        return pd.read_json(path, lines=True, dtype={"customer_key": "string"}, precise_float=True)
    raise ValueError(f"cannot read {str(path)!r}: unknown extension {path.suffix!r}")


def file_sha256(path) -> str:
    """SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

"""A fingerprint of the input data: row counts, date range and a content hash."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

__all__ = ["data_fingerprint"]


def data_fingerprint(tables) -> dict:
    """Summarise the input tables so a run records exactly what it saw.

    Parameters
    ----------
    tables : Tables or mapping of str to pandas.DataFrame
        The validated tables.

    Returns
    -------
    dict
        ``rows`` (per table), ``date_range`` (per table with a time column: first and
        last ISO date), ``data_end``, ``sha256`` (of every table's row hashes, in table
        order; the same data always gives the same hash) and ``sha256_by_table``.
    """
    from ..schema import TABLES

    items = list(tables.items())
    rows, ranges, by_table = {}, {}, {}
    total = hashlib.sha256()
    for name, df in sorted(items, key=lambda kv: kv[0]):
        rows[name] = len(df)
        spec = TABLES.get(name)
        tcol = spec.time_column if spec is not None else None
        if tcol and tcol in df.columns and len(df):
            col = pd.to_datetime(df[tcol])
            ranges[name] = [col.min().date().isoformat(), col.max().date().isoformat()]
        h = hashlib.sha256()
        h.update(",".join(map(str, df.columns)).encode("utf-8"))
        if len(df):
            hashed = pd.util.hash_pandas_object(df, index=False).to_numpy(dtype=np.uint64)
            h.update(hashed.tobytes())
        by_table[name] = h.hexdigest()
        total.update(name.encode("utf-8") + b"\0" + h.digest())
    data_end = getattr(tables, "data_end", None)
    return {
        "rows": rows,
        "date_range": ranges,
        "data_end": None if data_end is None else pd.Timestamp(data_end).date().isoformat(),
        "sha256": total.hexdigest(),
        "sha256_by_table": by_table,
    }

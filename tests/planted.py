"""Duplicate keys planted in one process's memory only, to see which process searched."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq

from powerprofile.schema import _reader
from powerprofile.schema._folder import open_folder


def claim_duplicate(folder, table: str = "payments", column: str = "payment_id") -> str:
    """Remember, in this process only, one id of ``table`` as duplicated.

    The files are not touched: a task that reads them with the handed result
    reports the id, a task that searched the parts itself finds nothing.
    """
    src = open_folder(folder, None).sources[table]
    value = next(
        str(ids[0])
        for f in src.files
        if column in pq.read_schema(f).names
        and len(ids := pq.read_table(f, columns=[column]).column(0).drop_null())
    )
    key = _reader._duplicates_key(src, column)
    _reader.remember_duplicates({key: (pd.Index([value], dtype="string"), 1)})
    return value

"""Byte scans of output folders for personal data and secrets (shared by the tests).

A scan tokenises each file's bytes (runs of ASCII letters and digits, runs of
non-ASCII UTF-8 bytes, runs of non-ASCII bytes and digits) and intersects the tokens
with the values looked for: one pass per file instead of one search per value. Values
that no token class covers (say ``"dev-key-1"``) are searched as plain substrings.
Parquet files are also decoded (compression could hide a value from the raw bytes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

_TOKENS = (
    re.compile(rb"[0-9A-Za-z_]+"),
    re.compile(rb"[\x80-\xff]+"),
    re.compile(rb"[\x80-\xff0-9]+"),
)


def pii_values(customers: pd.DataFrame, extra=()) -> set[bytes]:
    """Every raw customer id, name, phone and address of ``customers`` (and ``extra``),
    UTF-8 encoded."""
    values = {str(v) for v in extra}
    for col in ("customer_id", "name", "phone", "address"):
        values |= {str(v) for v in customers[col].dropna() if len(str(v)) >= 3}
    return {v.encode("utf-8") for v in values}


def _text_of_parquet(path: Path) -> bytes:
    df = pd.read_parquet(path).reset_index()
    text = df.select_dtypes(exclude=["number", "bool", "datetime", "timedelta"])
    return text.to_csv(index=False).encode("utf-8")


def leaks(folder: Path, values: set[bytes]) -> dict[str, list[bytes]]:
    """The ``values`` found in the files under ``folder``: ``{relative path: first hits}``."""
    values = set(values)
    loose = [v for v in values if not any(rx.fullmatch(v) for rx in _TOKENS)]
    found = {}
    for f in sorted(Path(folder).rglob("*")):
        if not f.is_file():
            continue
        blobs = [f.read_bytes()]
        if f.suffix == ".parquet":
            blobs.append(_text_of_parquet(f))
        hits = set()
        for blob in blobs:
            for rx in _TOKENS:
                hits |= values.intersection(rx.findall(blob))
            hits |= {v for v in loose if v in blob}
        if hits:
            found[f.relative_to(folder).as_posix()] = sorted(hits)[:5]
    return found

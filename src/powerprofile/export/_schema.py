"""One type per exported column, the same in CSV, Parquet and JSON Lines.

Every frame an export writes goes through :func:`canonical_types` first, so a column
has one of five types whatever file or format holds it, and the manifest records it
(``columns``: column -> type). :func:`pandas_types` gives the pandas types to read a
file back with; CSV and JSON Lines read that way equal the Parquet file.

========  ======================  =====================================================
type      pandas / Parquet        CSV and JSON Lines
========  ======================  =====================================================
string    ``string`` / string     text
integer   ``Int64`` / int64       digits (empty or null when missing)
number    ``float64`` / double    decimal, at most 6 decimals
boolean   ``boolean`` / bool      ``True`` / ``False`` (JSON ``true`` / ``false``)
date      ``string`` / string     ISO date ``YYYY-MM-DD`` (text in every format)
========  ======================  =====================================================
"""

from __future__ import annotations

import pandas as pd

__all__ = ["EXPORT_TYPES", "canonical_types", "column_type", "pandas_types"]

EXPORT_TYPES = {
    "string": "string",
    "integer": "Int64",
    "number": "float64",
    "boolean": "boolean",
    "date": "string",
}
"""Export column type -> the pandas type a file is read back with."""


def column_type(values: pd.Series) -> str:
    """The export type of a column (see the module docstring).

    Parameters
    ----------
    values : pandas.Series

    Returns
    -------
    str
    """
    dt = values.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "date"
    if pd.api.types.is_integer_dtype(dt):
        return "integer"
    if pd.api.types.is_float_dtype(dt):
        return "number"
    if pd.api.types.is_object_dtype(dt):
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred == "boolean":
            return "boolean"
        if inferred == "integer":
            return "integer"
        if inferred in ("floating", "mixed-integer-float"):
            return "number"
    return "string"


def canonical_types(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every column converted to its export type's pandas type.

    Dates stay dates (every writer turns them into ISO text), categories become text, integers the nullable ``Int64``, booleans
    the nullable ``boolean``, so one column is typed the same in every file and format.
    Empty text becomes missing (a CSV file cannot tell them apart).

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        A new frame.
    """
    out = {}
    for col in frame.columns:
        v = frame[col]
        t = column_type(v)
        if t == "date":
            pass  # written as ISO text by the writer, typed "date" in the manifest
        elif t == "integer":
            v = v.astype("Int64")
        else:
            v = v.astype(EXPORT_TYPES[t])
        if t == "string":  # CSV cannot tell empty text from missing: missing everywhere
            v = v.mask((v == "").fillna(False))
        out[col] = v
    return pd.DataFrame(out, index=frame.index)


def pandas_types(columns: dict[str, str]) -> dict[str, str]:
    """Pandas types to read exported columns with.

    Parameters
    ----------
    columns : dict of str to str
        Column -> export type (the manifest's ``columns``).

    Returns
    -------
    dict of str to str
    """
    return {c: EXPORT_TYPES.get(t, "string") for c, t in columns.items()}

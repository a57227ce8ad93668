"""The leakage report: combined from partition partials, kept in ``attrs`` as plain values.

A feature frame carries its leakage report in ``frame.attrs["leakage_report"]`` as a
list of JSON-serialisable records (ISO dates, ints, bools), so the frame saves to
Parquet and Feather like any pandas frame (pandas writes ``attrs`` as JSON there) and
the report comes back with it. :func:`leakage_report` turns the records into a typed
frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._time import DAY_NS, NAT

__all__ = ["ATTRS_KEY", "combine_leakage", "report_from_attrs", "report_to_attrs"]

ATTRS_KEY = "leakage_report"
"""Key of the leakage report in a feature frame's ``attrs``."""

_TIMES = ("snapshot_date", "latest_time_used", "latest_recorded_at_used")


def combine_leakage(partials) -> pd.DataFrame:
    """The leakage report from per-partition partials (see ``leakage_partial``).

    Returns
    -------
    pandas.DataFrame
        Columns ``snapshot_date, table, rows_used, latest_time_used,
        latest_recorded_at_used, ok``, sorted by snapshot and table.
    """
    df = pd.concat(partials, ignore_index=True)
    g = (
        df.groupby(["snapshot_day", "table"], sort=True)
        .agg(
            rows_used=("rows_used", "sum"),
            max_time_ns=("max_time_ns", "max"),
            max_recorded_ns=("max_recorded_ns", "max"),
        )
        .reset_index()
    )

    def ts(col):
        v = g[col].to_numpy(dtype=np.int64)
        return pd.to_datetime(np.where(v == NAT, np.datetime64("NaT"), v.astype("datetime64[ns]")))

    snap = pd.to_datetime(g["snapshot_day"].to_numpy(dtype=np.int64) * DAY_NS)
    return _typed(
        pd.DataFrame(
            {
                "snapshot_date": snap,
                "table": g["table"],
                "rows_used": g["rows_used"],
                "latest_time_used": ts("max_time_ns"),
                "latest_recorded_at_used": ts("max_recorded_ns"),
            }
        )
    )


def _typed(out: pd.DataFrame) -> pd.DataFrame:
    """The report's dtypes, and ``ok``: both times strictly before the snapshot."""
    for col in _TIMES:
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    out["table"] = out["table"].astype("string")
    out["rows_used"] = out["rows_used"].astype(np.int64)
    out["ok"] = (
        out["latest_time_used"].isna() | (out["latest_time_used"] < out["snapshot_date"])
    ) & (
        out["latest_recorded_at_used"].isna()
        | (out["latest_recorded_at_used"] < out["snapshot_date"])
    )
    return out.reset_index(drop=True)


def report_to_attrs(report: pd.DataFrame) -> list[dict]:
    """The report as JSON-serialisable records (ISO timestamps, ``None`` for missing)."""
    plain = pd.DataFrame(
        {
            "snapshot_date": _iso(report["snapshot_date"]),
            "table": report["table"].astype(str).astype(object),
            "rows_used": report["rows_used"].astype(np.int64),
            "latest_time_used": _iso(report["latest_time_used"]),
            "latest_recorded_at_used": _iso(report["latest_recorded_at_used"]),
            "ok": report["ok"].astype(bool),
        }
    )
    return plain.to_dict(orient="records")


def _iso(col: pd.Series) -> pd.Series:
    text = col.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").astype(object)
    return text.where(col.notna(), None)


def report_from_attrs(frame: pd.DataFrame) -> pd.DataFrame:
    """The typed report kept in ``frame.attrs`` (see :func:`report_to_attrs`).

    Raises
    ------
    ValueError
        The frame carries no leakage report.
    """
    records = frame.attrs.get(ATTRS_KEY)
    if not isinstance(records, list):
        raise ValueError(
            f"this frame carries no leakage report (attrs[{ATTRS_KEY!r}] is "
            f"{type(records).__name__}); CSV files and frames built by other code do not keep "
            "it. Read the frame from the Parquet or Feather file written by powerprofile, or "
            "compute the report with leakage_report(tables, snapshots)."
        )
    cols = [
        "snapshot_date",
        "table",
        "rows_used",
        "latest_time_used",
        "latest_recorded_at_used",
    ]
    df = pd.DataFrame.from_records(records, columns=cols)
    return _typed(df)

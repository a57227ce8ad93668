"""The validated-tables container."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ._contract import TABLE_ORDER

__all__ = ["Tables"]


@dataclass
class Tables:
    """The contract tables of one data set, validated.

    Attributes
    ----------
    customers, outages, usage, bills, payments, interactions, events : pandas.DataFrame
        The tables (see ``docs/data-contract.md``). Optional tables absent from the
        source are empty frames with the contract's required columns.
    data_end : pandas.Timestamp or None
        Last day the data covers (inclusive); rows dated after it are invalid.
    quarantine : dict of str to pandas.DataFrame
        Rows set aside in lenient mode, per table, each with a ``_problem`` column.
    report : pandas.DataFrame
        One row per problem found (table, column, check, severity, n_rows, examples,
        action, message); empty when the data is clean.
    input_rows : dict of str to int
        Rows per table before validation (kept + quarantined); empty when the tables
        were not produced by validation.
    org_units : pandas.DataFrame or None
        The operating organisation (reference table ``org_units``), when known.
    """

    customers: pd.DataFrame
    outages: pd.DataFrame
    usage: pd.DataFrame
    bills: pd.DataFrame
    payments: pd.DataFrame
    interactions: pd.DataFrame
    events: pd.DataFrame
    data_end: pd.Timestamp | None = None
    quarantine: dict[str, pd.DataFrame] = field(default_factory=dict)
    report: pd.DataFrame = field(default_factory=pd.DataFrame)
    input_rows: dict[str, int] = field(default_factory=dict)
    org_units: pd.DataFrame | None = None

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in TABLE_ORDER:
            raise KeyError(f"unknown table {name!r}; tables are {', '.join(TABLE_ORDER)}")
        return getattr(self, name)

    def items(self):
        """Iterate over ``(name, frame)`` pairs in contract order."""
        for name in TABLE_ORDER:
            yield name, getattr(self, name)

    def row_counts(self) -> dict[str, int]:
        """Number of rows per table."""
        return {name: len(df) for name, df in self.items()}

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v:,}" for k, v in self.row_counts().items())
        end = None if self.data_end is None else self.data_end.date().isoformat()
        return f"Tables({counts}, data_end={end})"

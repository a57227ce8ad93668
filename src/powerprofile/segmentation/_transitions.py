"""Transition table: how customers moved between segments across two runs."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["same_segment_share", "transition_table"]

_NEW = "(new)"
_GONE = "(gone)"


def _by_customer(s, name: str) -> pd.Series:
    if not isinstance(s, pd.Series):
        raise TypeError(
            f"{name} must be a pandas Series of segment ids indexed by customer, got {type(s).__name__}"
        )
    idx = s.index
    if isinstance(idx, pd.MultiIndex):
        level = "customer_id" if "customer_id" in idx.names else 0
        idx = idx.get_level_values(level)
    out = pd.Series(s.to_numpy(), index=pd.Index(idx, name="customer_id"))
    if out.index.has_duplicates:
        raise ValueError(
            f"{name} has {int(out.index.duplicated().sum())} duplicated customers; "
            "pass one snapshot per run (one row per customer)"
        )
    return out


def transition_table(
    before: pd.Series, after: pd.Series, *, normalize: bool = False
) -> pd.DataFrame:
    """Count customers by segment in one run (rows) and the next (columns).

    Parameters
    ----------
    before, after : pandas.Series
        Segment id per customer, indexed by customer id (or by a MultiIndex with a
        ``customer_id`` level, e.g. ``(customer_id, snapshot_date)``).
    normalize : bool, default=False
        When True, each row is divided by its total (share of the row's customers
        that went to each segment).

    Returns
    -------
    pandas.DataFrame
        Index ``before`` segment ids plus ``"(new)"`` (customers only in ``after``);
        columns ``after`` segment ids plus ``"(gone)"`` (customers only in
        ``before``). The diagonal holds customers who kept their segment id.
    """
    b = _by_customer(before, "before")
    a = _by_customer(after, "after")
    joined = pd.concat([b.rename("before"), a.rename("after")], axis=1, join="outer")
    bv = joined["before"].astype(object).where(joined["before"].notna(), _NEW)
    av = joined["after"].astype(object).where(joined["after"].notna(), _GONE)
    bv = bv.map(lambda v: v if v == _NEW else int(v))
    av = av.map(lambda v: v if v == _GONE else int(v))
    tab = pd.crosstab(bv.rename("before"), av.rename("after"))
    ids_b = sorted(v for v in tab.index if v != _NEW)
    ids_a = sorted(v for v in tab.columns if v != _GONE)
    tab = tab.reindex(
        index=ids_b + ([_NEW] if _NEW in tab.index else []),
        columns=ids_a + ([_GONE] if _GONE in tab.columns else []),
        fill_value=0,
    )
    if normalize:
        tab = tab.div(tab.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    return tab


def same_segment_share(before: pd.Series, after: pd.Series) -> float:
    """Share of the customers present in both runs who kept the same segment id."""
    b = _by_customer(before, "before")
    a = _by_customer(after, "after")
    common = b.index.intersection(a.index)
    if len(common) == 0:
        return float("nan")
    return float((b.loc[common].to_numpy() == a.loc[common].to_numpy()).mean())

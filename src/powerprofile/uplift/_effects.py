"""Campaign effects: treated versus control outcome rates, with honest intervals.

Method
------
For each cell (a campaign, and within it a channel, segment, score band or region) the
effect on an outcome is the difference of the treated and control rates,
``uplift = k1/n1 - k0/n0`` (intention to treat: every treated customer counts, reached
or not). Its interval is **Newcombe's hybrid score interval** (Newcombe 1998, method
10), built from the Wilson score intervals of the two rates: it stays inside [-1, 1],
behaves with rates near 0 or 1 and with small groups, where the normal (Wald)
interval is too narrow. Its coverage was measured at 93-97 % over simulated campaigns
(``tests/uplift/test_effects.py``).

The p-value is the two-sided pooled two-proportion z-test. A table holds many cells,
so many tests: ``q_value`` is the Benjamini-Hochberg adjusted p-value over every row of
the table and ``significant`` means ``q_value < alpha`` (false discovery rate
``alpha``). The intervals themselves are per cell (not simultaneous): read a cell's
interval, not the most extreme of many. A cell with fewer than ``min_cell`` treated or
control customers, or fewer than 5 expected events in either group, is flagged
``small_cell``: its interval is wide and its estimate unreliable.

``contacts_per_outcome`` is ``1 / uplift`` (customers to contact per extra outcome,
e.g. per saved customer), given only when the whole interval is above zero.
``cost_per_outcome`` is the channel's cost per contact divided by the uplift, when
costs are configured.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = [
    "BREAKDOWNS",
    "benjamini_hochberg",
    "campaign_effects",
    "effect_table",
    "newcombe_interval",
    "wilson_interval",
]

BREAKDOWNS = ("channel", "segment_id", "score_band", "region")
"""Dimensions a campaign's effect is broken down by (each on its own, within the campaign)."""


def wilson_interval(k, n, alpha: float = 0.05):
    """Wilson score interval of a proportion ``k / n`` (vectorised).

    Parameters
    ----------
    k, n : array-like of int
        Events and trials (``n`` may be 0: the interval is then [0, 1]).
    alpha : float, default=0.05

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper bounds.
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    z = norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, k / n, 0.0)
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    lo = np.where(n > 0, np.clip(centre - half, 0, 1), 0.0)
    hi = np.where(n > 0, np.clip(centre + half, 0, 1), 1.0)
    return lo, hi


def newcombe_interval(k1, n1, k0, n0, alpha: float = 0.05):
    """Newcombe's hybrid score interval of ``k1/n1 - k0/n0`` (vectorised).

    Parameters
    ----------
    k1, n1 : array-like of int
        Treated events and customers.
    k0, n0 : array-like of int
        Control events and customers.
    alpha : float, default=0.05

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Difference, lower and upper bounds.
    """
    k1, n1, k0, n0 = (np.asarray(a, dtype=float) for a in (k1, n1, k0, n0))
    with np.errstate(invalid="ignore", divide="ignore"):
        p1 = np.where(n1 > 0, k1 / n1, np.nan)
        p0 = np.where(n0 > 0, k0 / n0, np.nan)
    l1, u1 = wilson_interval(k1, n1, alpha)
    l0, u0 = wilson_interval(k0, n0, alpha)
    d = p1 - p0
    lo = d - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    hi = d + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return d, lo, hi


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (missing values stay missing).

    Parameters
    ----------
    p : array-like of float

    Returns
    -------
    numpy.ndarray
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    v = p[ok]
    order = np.argsort(v, kind="stable")
    ranked = v[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty(m)
    adj[order] = np.minimum(ranked, 1.0)
    out[ok] = adj
    return out


def _p_value(k1, n1, k0, n0) -> np.ndarray:
    k1, n1, k0, n0 = (np.asarray(a, dtype=float) for a in (k1, n1, k0, n0))
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (k1 + k0) / (n1 + n0)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        z = (k1 / n1 - k0 / n0) / se
        p = 2 * norm.sf(np.abs(z))
    return np.where((n1 > 0) & (n0 > 0) & (se > 0), p, np.where(se == 0, 1.0, np.nan))


def effect_table(
    outcomes: pd.DataFrame,
    by,
    *,
    outcome: str = "retained",
    alpha: float = 0.05,
    min_cell: int = 30,
    costs: dict | None = None,
) -> pd.DataFrame:
    """Treated and control rates and the uplift with its interval, per cell of ``by``.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        Rows of :func:`powerprofile.uplift.ingest_outcomes` (``group`` and the outcome).
    by : list of str
        Columns defining the cells.
    outcome : str, default="retained"
    alpha : float, default=0.05
    min_cell : int, default=30
    costs : dict of str to float or None, default=None
        Cost per contact of each channel (needs ``channel`` in ``by``).

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``n_treated``, ``n_control``, ``rate_treated``,
        ``rate_control``, ``uplift``, ``ci_low``, ``ci_high``, ``p_value``,
        ``small_cell``, ``contacts_per_outcome`` and ``cost_per_outcome``.
    """
    by = list(by)
    df = outcomes[outcomes[outcome].notna()]
    y = df[outcome].astype(bool).to_numpy()
    treated = (df["group"] == "treated").to_numpy(dtype=bool)
    g = pd.DataFrame(
        {
            **{c: df[c].to_numpy() for c in by},
            "t": treated.astype(int),
            "c": (~treated).astype(int),
            "kt": (y & treated).astype(int),
            "kc": (y & ~treated).astype(int),
        }
    )
    agg = g.groupby(by, dropna=False, sort=True)[["t", "c", "kt", "kc"]].sum().reset_index()
    n1, n0, k1, k0 = (agg[c].to_numpy(dtype=float) for c in ("t", "c", "kt", "kc"))
    d, lo, hi = newcombe_interval(k1, n1, k0, n0, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        r1, r0 = k1 / n1, k0 / n0
        pooled = (k1 + k0) / (n1 + n0)
    small = (
        (n1 < min_cell)
        | (n0 < min_cell)
        | (np.minimum(n0 * pooled, n0 * (1 - pooled)) < 5)
        | (np.minimum(n1 * pooled, n1 * (1 - pooled)) < 5)
    )
    out = agg[by].copy()
    out["outcome"] = outcome
    out["n_treated"] = n1.astype(np.int64)
    out["n_control"] = n0.astype(np.int64)
    out["rate_treated"] = r1
    out["rate_control"] = r0
    out["uplift"] = d
    out["ci_low"] = lo
    out["ci_high"] = hi
    out["p_value"] = _p_value(k1, n1, k0, n0)
    out["small_cell"] = small
    sign = -1.0 if outcome == "complaint" else 1.0  # fewer complaints is the good outcome
    good = np.where(sign > 0, lo > 0, hi < 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["contacts_per_outcome"] = np.where(good, 1.0 / np.abs(d), np.nan)
    if costs and "channel" in by:
        unit = out["channel"].astype("string").map(lambda c: costs.get(c, np.nan)).astype(float)
        out["cost_per_outcome"] = unit.to_numpy() * out["contacts_per_outcome"].to_numpy()
    else:
        out["cost_per_outcome"] = np.nan
    return out


def campaign_effects(
    outcomes: pd.DataFrame,
    *,
    outcomes_measured=("retained", "complaint", "converted_online"),
    breakdowns=BREAKDOWNS,
    alpha: float = 0.05,
    min_cell: int = 30,
    costs: dict | None = None,
) -> pd.DataFrame:
    """Every campaign's effect, overall and broken down, with intervals and FDR control.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        :func:`powerprofile.uplift.ingest_outcomes` rows.
    outcomes_measured : sequence of str, default=("retained", "complaint", "converted_online")
        Outcome columns measured (those entirely missing are skipped).
    breakdowns : sequence of str, default=BREAKDOWNS
        Dimensions each campaign is broken down by, one at a time.
    alpha : float, default=0.05
        Interval level ``1 - alpha`` and false discovery rate.
    min_cell : int, default=30
        Smallest group not flagged ``small_cell``.
    costs : dict of str to float or None, default=None
        Cost per contact of each channel.

    Returns
    -------
    pandas.DataFrame
        One row per campaign x outcome x (``breakdown``, ``level``): ``breakdown`` is
        ``"all"`` for the whole campaign; the columns of :func:`effect_table`, plus
        ``q_value`` (Benjamini-Hochberg over the whole table) and ``significant``.
        See the module docstring for the method.
    """
    rows = []
    for outcome in outcomes_measured:
        if outcome not in outcomes.columns or outcomes[outcome].isna().all():
            continue
        for dim in ("all", *breakdowns):
            if dim != "all" and (dim not in outcomes.columns or outcomes[dim].isna().all()):
                continue
            by = ["campaign_id"] if dim == "all" else ["campaign_id", dim]
            t = effect_table(
                outcomes,
                by,
                outcome=outcome,
                alpha=alpha,
                min_cell=min_cell,
                costs=costs if dim == "channel" else None,
            )
            t.insert(1, "breakdown", dim)
            t.insert(2, "level", "all" if dim == "all" else t.pop(dim).astype("string"))
            rows.append(t)
    if not rows:
        return pd.DataFrame()
    out = pd.concat(rows, ignore_index=True)
    out["level"] = out["level"].astype("string")
    out["q_value"] = benjamini_hochberg(out["p_value"].to_numpy())
    out["significant"] = (out["q_value"] < alpha).fillna(False).to_numpy(dtype=bool)
    return out

"""Fair comparison of units: indirect standardisation and funnel-plot control limits.

For a quality indicator that is a proportion (repeat contacts per contact,
dissatisfied ratings per rated contact), a unit's **expected** count is what its own
customer mix would give at the rates of the whole organisation:

    E_u = sum_s n_us * p_s          p_s = (sum_u O_us) / (sum_u n_us)

over the strata ``s`` (customer type x segment). The standardised ratio is
``SR = O_u / E_u``; with ``V_u = sum_s n_us p_s (1 - p_s)`` the binomial z-score is
``z0 = (O_u - E_u) / sqrt(V_u)``. Contacts cluster by customer, so units vary far
more than binomially: the level's z-scores are centred on their median ``c`` (the
typical unit, so that the weak units, which pull the organisation's rates up, do
not set the benchmark) and scaled by the over-dispersion ``phi = max(1, (1.4826 *
MAD(z0))^2)``, both robust to a minority of weak units (Spiegelhalter's funnel plots
with a robust over-dispersion estimate):

    z = (z0 - c) / sqrt(phi)

The funnel plot's centre line for ``SR`` is ``(E_u + c sqrt(V_u)) / E_u`` and its
limits add ``+- k sqrt(phi V_u) / E_u``, with ``k = 1.96`` (95 %, *watch*) and
``k = 3.09`` (99.8 %, *weak*). With fewer than :data:`MIN_UNITS` units at a level,
``c = 0`` and ``phi = 1`` (plain binomial limits).

A unit is a **weak link** when any quality indicator lies above its 99.8 % limit.
``raw_z`` is the same test without the mix (one stratum), kept to show what a naive
comparison would have blamed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["QUALITY_INDICATORS", "WARN_Z", "WEAK_Z", "fair_comparison", "weak_links"]

WARN_Z = 1.96
WEAK_Z = 3.09
_MAD_SCALE = 1.4826
MIN_UNITS = 5
"""Fewer units than this at a level: no robust centre, no over-dispersion (phi = 1)."""
QUALITY_INDICATORS = {
    "repeat_contact_rate_7d": ("repeats", "contacts"),
    "dissatisfied_share": ("dissatisfied", "rated"),
}
"""Indicator -> (numerator, denominator) columns of the quality tallies; higher is worse."""


def _robust(z0: np.ndarray) -> tuple[float, float]:
    """Centre (median) and over-dispersion (squared scaled MAD, at least 1) of z-scores."""
    z0 = z0[np.isfinite(z0)]
    if len(z0) < MIN_UNITS:
        return 0.0, 1.0
    centre = float(np.median(z0))
    mad = float(np.median(np.abs(z0 - centre))) * _MAD_SCALE
    return centre, float(max(1.0, mad**2))


def fair_comparison(tallies: pd.DataFrame, unit_of_grid: pd.Series, level: str) -> pd.DataFrame:
    """Observed, expected, standardised ratio, z-scores and funnel status per unit.

    Parameters
    ----------
    tallies : pandas.DataFrame
        :func:`~._units.quality_tallies` (any months; they are summed).
    unit_of_grid : pandas.Series
        Grid unit -> unit at ``level``.
    level : str

    Returns
    -------
    pandas.DataFrame
        One row per unit and indicator: ``level``, ``unit_id``, ``indicator``,
        ``observed``, ``denominator``, ``rate``, ``expected``, ``expected_rate``,
        ``ratio``, ``z``, ``raw_z``, ``phi``, ``lower_998``, ``upper_998``,
        ``upper_95``, ``status`` (``weak``, ``watch``, ``normal`` or ``better``).
    """
    t = tallies.assign(unit_id=tallies["grid_unit"].map(unit_of_grid).astype("string"))
    t = t[t["unit_id"].notna()]
    out = []
    for ind, (num, den) in QUALITY_INDICATORS.items():
        cells = t.groupby(["unit_id", "stratum"], observed=True)[[num, den]].sum().reset_index()
        tot = cells.groupby("stratum")[[num, den]].sum()
        p_s = (tot[num] / tot[den].where(tot[den] > 0)).fillna(0.0)
        p = cells["stratum"].map(p_s).to_numpy(float)
        n = cells[den].to_numpy(float)
        cells = cells.assign(e=n * p, v=n * p * (1 - p))
        u = cells.groupby("unit_id")[[num, den, "e", "v"]].sum()
        p0 = u[num].sum() / max(u[den].sum(), 1)
        v0 = u[den] * p0 * (1 - p0)
        with np.errstate(divide="ignore", invalid="ignore"):
            raw_z = ((u[num] - u[den] * p0) / np.sqrt(v0)).to_numpy(float)
            z_mix = ((u[num] - u["e"]) / np.sqrt(u["v"])).to_numpy(float)
        centre, phi = _robust(z_mix)
        raw_centre, phi_raw = _robust(raw_z)
        sd = np.sqrt(u["v"].to_numpy(float))
        se = np.sqrt(phi) * sd
        e = u["e"].to_numpy(float)
        mid = e + centre * sd  # the typical unit with this mix
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (z_mix - centre) / np.sqrt(phi)
            frame = pd.DataFrame(
                {
                    "level": level,
                    "unit_id": u.index.astype("string"),
                    "indicator": ind,
                    "observed": u[num].to_numpy(float),
                    "denominator": u[den].to_numpy(float),
                    "rate": (u[num] / u[den]).to_numpy(float),
                    "expected": e,
                    "expected_rate": e / u[den].to_numpy(float),
                    "ratio": u[num].to_numpy(float) / e,
                    "z": z,
                    "raw_z": (raw_z - raw_centre) / np.sqrt(phi_raw),
                    "phi": phi,
                    "centre": mid / e,
                    "lower_998": (mid - WEAK_Z * se) / e,
                    "upper_998": (mid + WEAK_Z * se) / e,
                    "upper_95": (mid + WARN_Z * se) / e,
                }
            )
        frame["status"] = np.select(
            [frame["z"] > WEAK_Z, frame["z"] > WARN_Z, frame["z"] < -WEAK_Z],
            ["weak", "watch", "better"],
            "normal",
        )
        out.append(frame)
    return pd.concat(out, ignore_index=True)


def weak_links(fair: pd.DataFrame) -> pd.DataFrame:
    """One row per unit: weak when any indicator is above its 99.8 % limit.

    Returns
    -------
    pandas.DataFrame
        ``level``, ``unit_id``, ``weak`` (bool), ``watch`` (bool), ``max_z``,
        ``worst_indicator``, ``raw_weak`` (what the comparison without the mix says),
        sorted weak first, then by ``max_z``.
    """
    f = fair.assign(_z=fair["z"].fillna(-np.inf), _rz=fair["raw_z"].fillna(-np.inf))
    idx = f.groupby(["level", "unit_id"], sort=False)["_z"].idxmax()
    worst = f.loc[idx, ["level", "unit_id", "indicator", "_z"]]
    raw = f.groupby(["level", "unit_id"], sort=False)["_rz"].max().rename("raw_max_z")
    out = worst.rename(columns={"indicator": "worst_indicator", "_z": "max_z"}).merge(
        raw.reset_index(), on=["level", "unit_id"]
    )
    out["weak"] = out["max_z"] > WEAK_Z
    out["watch"] = (out["max_z"] > WARN_Z) & ~out["weak"]
    out["raw_weak"] = out["raw_max_z"] > WEAK_Z
    out = out.sort_values(["weak", "max_z"], ascending=[False, False], ignore_index=True)
    return out[
        ["level", "unit_id", "weak", "watch", "max_z", "worst_indicator", "raw_weak", "raw_max_z"]
    ]

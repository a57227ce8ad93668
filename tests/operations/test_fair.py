"""Fair comparison: a hard customer mix is not blamed; worse service is found."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerprofile.operations import fair_comparison, weak_links

RATE = {"easy": 0.10, "hard": 0.40}  # repeat rate of each stratum in every normal unit


def _units():
    """30 normal units with 10-50 % hard customers, one mix-only unit (90 % hard,
    normal rates) and one weak unit (30 % hard, rates 8 points higher)."""
    rows = []
    shares = np.linspace(0.1, 0.5, 30)
    for i, share in enumerate(shares):
        jitter = 0.01 if i % 2 else -0.01  # units differ a little beyond the binomial
        for s, n in (("hard", 1000 * share), ("easy", 1000 * (1 - share))):
            rows.append((f"N{i:02d}", s, n, n * (RATE[s] + jitter)))
    for s, n in (("hard", 900), ("easy", 100)):
        rows.append(("MIX", s, n, n * RATE[s]))
    for s, n in (("hard", 300), ("easy", 700)):
        rows.append(("WEAK", s, n, n * (RATE[s] + 0.08)))
    f = pd.DataFrame(rows, columns=["grid_unit", "stratum", "contacts", "repeats"])
    f["rated"], f["dissatisfied"] = f["contacts"], f["repeats"]
    f["month"], f["channel"] = pd.Timestamp("2025-01-01"), "app"
    return f.astype({"grid_unit": "string", "stratum": "string", "channel": "string"})


def test_mix_only_unit_is_not_flagged_and_weak_unit_is():
    tallies = _units()
    units = tallies["grid_unit"].unique()
    fair = fair_comparison(tallies, pd.Series(units, index=units), "grid_unit")
    weak = weak_links(fair).set_index("unit_id")
    assert weak.loc["WEAK", "weak"]
    assert not weak.loc["MIX", "weak"]
    assert not weak.drop(index=["WEAK", "MIX"])["weak"].any()
    # a comparison without the mix would blame MIX: its rate 0.37 against the
    # organisation's, binomial z far above 3.09 (computed by hand here)
    tot = tallies.groupby("grid_unit")[["repeats", "contacts"]].sum()
    p0 = tot["repeats"].sum() / tot["contacts"].sum()
    z_naive = (tot.loc["MIX", "repeats"] - 1000 * p0) / np.sqrt(1000 * p0 * (1 - p0))
    assert tot.loc["MIX", "repeats"] / 1000 == 0.37 and z_naive > 3.09
    # and the mix-adjusted expectation of MIX is its own mix at the stratum rates
    row = fair[(fair["unit_id"] == "MIX") & (fair["indicator"] == "repeat_contact_rate_7d")]
    p_hard = (
        tallies.query("stratum == 'hard'")["repeats"].sum()
        / tallies.query("stratum == 'hard'")["contacts"].sum()
    )
    p_easy = (
        tallies.query("stratum == 'easy'")["repeats"].sum()
        / tallies.query("stratum == 'easy'")["contacts"].sum()
    )
    assert row["expected"].item() == np.float64(900 * p_hard + 100 * p_easy)


def test_few_units_use_plain_binomial_limits():
    tallies = _units()
    keep = tallies["grid_unit"].isin(["N00", "N01", "WEAK"])
    t = tallies[keep]
    units = t["grid_unit"].unique()
    fair = fair_comparison(t, pd.Series(units, index=units), "grid_unit")
    assert (fair["phi"] == 1.0).all()

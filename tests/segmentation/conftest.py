"""Hand-made customer populations with known segments."""

import numpy as np
import pandas as pd
import pytest

# four kinds of customer: (log kWh/day, online contact share, weekend ratio, counter payment share)
KINDS = np.array(
    [
        [np.log(8.0), 0.9, 1.15, 0.02],  # digital households
        [np.log(4.0), 0.05, 1.0, 0.85],  # counter payers
        [np.log(300.0), 0.4, 0.35, 0.03],  # weekday offices
        [np.log(40.0), 0.5, 0.9, 0.1],  # shops
    ]
)
SHARES = np.array([0.4, 0.3, 0.1, 0.2])


def make_population(n, seed=0, shares=SHARES, noise=1.0, kinds=KINDS):
    """Skewed, partly missing features with the true kind of each customer."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(len(shares), size=n, p=np.asarray(shares) / np.sum(shares))
    k = kinds[kind]
    df = pd.DataFrame(
        {
            "kwh_mean_365d": np.exp(k[:, 0] + rng.normal(0, 0.25 * noise, n)),
            "online_contact_share_365d": np.clip(k[:, 1] + rng.normal(0, 0.07 * noise, n), 0, 1),
            "kwh_weekend_ratio_365d": k[:, 2] + rng.normal(0, 0.05 * noise, n),
            "payment_share_counter_365d": np.clip(k[:, 3] + rng.normal(0, 0.07 * noise, n), 0, 1),
        },
        index=pd.MultiIndex.from_arrays(
            [[f"C{i:06d}" for i in range(n)], np.full(n, np.datetime64("2025-07-01"))],
            names=["customer_id", "snapshot_date"],
        ),
    )
    # customers without contacts have no online share
    df.loc[rng.random(n) < 0.05, "online_contact_share_365d"] = np.nan
    return df, kind


@pytest.fixture(scope="session")
def population():
    return make_population(3000, seed=1)

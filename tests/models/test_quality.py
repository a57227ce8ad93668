"""Quality bars against the generator's ground truth, on a CI-sized population.

Population: 8,000 customers (seed 0), 2024-01-01 .. 2025-12-31; monthly snapshots
2024-10-01 .. 2025-09-01 with a 90-day horizon; training on the snapshots up to
2025-06-01 (the model validates internally on its latest ones), holdout 2025-07-01 ..
2025-09-01 (out of time: no holdout row or label is seen in training). Bars (issue 4): holdout AUC >= 97 % of the oracle AUC
(the generator's true probabilities on the same rows), ECE <= 0.02, and the top-3
reasons of positive cases include the generator's driver in most cases (> 50 %).
``benchmarks/bench_model_quality.py`` reports the same figures at 20,000 customers.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from powerprofile.explain import explain
from powerprofile.models import PropensityModel, expected_calibration_error

N_CUSTOMERS = 8_000
HORIZON = 90

# features that carry each driver of the generator's hazards (by name)
DRIVER_FEATURES = {
    "usage_drop": ("usage_drop", "kwh_", "short_history", "days_since_last_read"),
    "outages": ("outage",),
    "bill_shock": ("bill_shock", "bill_amount"),
    "repeat_contacts": ("repeat_contact",),
    "arrears": ("arrears", "late_payment"),
    "complaint_history": ("complaint",),
    "supplier_offer": ("business_request",),
}


@pytest.fixture(scope="module")
def population():
    datasets = pytest.importorskip("powerprofile.datasets")
    features = pytest.importorskip("powerprofile.features")
    tables, truth = datasets.make_utility_data(N_CUSTOMERS, "2024-01-01", "2025-12-31", seed=0)
    snaps = pd.date_range("2024-10-01", "2025-09-01", freq="MS")
    frame = features.build_training_frame(tables, snaps, horizon_days=HORIZON)
    return frame, truth


def _oracle(truth, rows, target):
    p = np.full(len(rows), np.nan)
    snaps = rows.get_level_values(1)
    ids = rows.get_level_values(0).astype("string")
    for t in pd.unique(snaps):
        f = truth.churn_probability if target == "churn" else truth.complaint_probability
        s = f(t, horizon_days=HORIZON)
        s.index = s.index.astype("string")
        m = snaps == t
        p[m] = s.reindex(ids[m]).to_numpy(dtype=float, na_value=np.nan)
    return p


def _drivers(truth, rows, target):
    d = truth.drivers
    d = d[d["target"] == target][["customer_id", "date", "driver"]].copy()
    d["customer_id"] = d["customer_id"].astype("string")
    key = pd.DataFrame(
        {"customer_id": rows.get_level_values(0).astype("string"), "snap": rows.get_level_values(1)}
    )
    key["row"] = np.arange(len(key))
    m = key.merge(d, on="customer_id")
    m = m[(m["date"] >= m["snap"]) & (m["date"] < m["snap"] + pd.Timedelta(days=HORIZON))]
    m = m.sort_values(["row", "date"]).drop_duplicates("row")
    out = np.full(len(key), "baseline", dtype=object)
    out[m["row"].to_numpy()] = m["driver"].to_numpy()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("target", ["churn", "complaint"])
def test_quality_bars(population, target):
    frame, truth = population
    X = frame.drop(columns=[c for c in frame.columns if c.startswith("label_")])
    y = frame[f"label_{target}"].astype(int)
    snap = frame.index.get_level_values("snapshot_date")
    train, hold = snap <= "2025-06-01", snap >= "2025-07-01"
    model = PropensityModel(horizon_days=HORIZON, label=target, n_jobs=1).fit(X[train], y[train])
    p = model.predict_proba(X[hold])[:, 1]
    yh = y[hold].to_numpy()
    p_true = _oracle(truth, X.index[hold], target)
    ok = ~np.isnan(p_true)
    assert ok.mean() > 0.99  # the oracle knows (almost) every holdout row
    ratio = roc_auc_score(yh[ok], p[ok]) / roc_auc_score(yh[ok], p_true[ok])
    assert ratio >= 0.97, ratio
    assert expected_calibration_error(yh, p) <= 0.02
    # top-3 reasons of positive cases name the generator's driver in most cases
    pos = yh == 1
    drivers = _drivers(truth, X.index[hold][pos], target)
    known = drivers != "baseline"
    reasons = explain(model, X[hold][pos], top_k=3, language="none")
    hit = np.zeros(pos.sum(), bool)
    for i in (1, 2, 3):
        feat = reasons[f"reason_{i}_feature"].astype(str).to_numpy()
        for driver, patterns in DRIVER_FEATURES.items():
            match = np.array([any(pt in f for pt in patterns) for f in feat])
            hit |= (drivers == driver) & match
    print(
        f"{target}: AUC/oracle {ratio:.4f}, ECE {expected_calibration_error(yh, p):.4f}, "
        f"driver in top-3 {hit[known].mean():.3f} of {known.sum()} positives"
    )
    assert known.sum() >= 50
    assert hit[known].mean() > 0.5, hit[known].mean()

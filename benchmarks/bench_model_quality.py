"""Quality bars of the propensity models against the generator's ground truth.

Run by hand (not a test)::

    nice .venv/bin/python benchmarks/bench_model_quality.py --customers 20000

Generates ``--customers`` customers (2024-01-01 .. 2025-12-31), builds monthly
snapshots over a year (2024-10-01 .. 2025-09-01) with a 90-day horizon, trains on the
snapshots up to 2025-04-01 (the model validates internally on its latest ones) and
holds out 2025-07-01 .. 2025-09-01 (out of time, and 90 days after the last training
snapshot so that no training label window reaches the holdout). For each target it
reports: holdout AUC of the model, of the oracle (the generator's true probabilities
on the same rows) and their ratio (bar: >= 0.97), ECE (bar: <= 0.02), the logistic
baseline, and how often the top-3 reasons of a positive case include a feature of the
factor the generator used for it.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

# features that carry each generator driver (by name)
DRIVER_FEATURES = {
    "usage_drop": ("usage_drop", "kwh_", "short_history", "days_since_last_read"),
    "outages": ("outage",),
    "bill_shock": ("bill_shock", "bill_amount"),
    "repeat_contacts": ("repeat_contact",),
    "arrears": ("arrears", "late_payment"),
    "complaint_history": ("complaint",),
    "supplier_offer": ("business_request",),
}


def driver_hits(reasons: pd.DataFrame, drivers: pd.Series, k: int = 3) -> pd.Series:
    """Whether row i's top-k reason features include one of its driver's features."""
    hit = np.zeros(len(reasons), bool)
    for i in range(1, k + 1):
        feat = reasons[f"reason_{i}_feature"].astype(str).to_numpy()
        for driver, pats in DRIVER_FEATURES.items():
            rows = drivers.to_numpy() == driver
            if rows.any():
                m = np.zeros(len(feat), bool)
                for p in pats:
                    m |= np.char.find(feat.astype(str), p) >= 0
                hit |= rows & m
    return pd.Series(hit, index=reasons.index)


def event_drivers(truth, rows: pd.MultiIndex, target: str, horizon: int) -> pd.Series:
    """Driver of the first event of ``target`` in [T, T + horizon) for each row."""
    d = truth.drivers
    d = d[d["target"] == target][["customer_id", "date", "driver"]].copy()
    d["customer_id"] = d["customer_id"].astype("string")
    key = pd.DataFrame(
        {
            "customer_id": rows.get_level_values(0).astype("string"),
            "snapshot_date": rows.get_level_values(1),
        }
    )
    key["row"] = np.arange(len(key))
    m = key.merge(d, on="customer_id", how="inner")
    m = m[
        (m["date"] >= m["snapshot_date"])
        & (m["date"] < m["snapshot_date"] + pd.Timedelta(days=horizon))
    ]
    m = m.sort_values(["row", "date"]).drop_duplicates("row")
    out = pd.Series(pd.NA, index=range(len(key)), dtype="string")
    out[m["row"].to_numpy()] = m["driver"].to_numpy()
    out.index = rows
    return out


def oracle(truth, rows: pd.MultiIndex, target: str, horizon: int) -> np.ndarray:
    p = np.full(len(rows), np.nan)
    snaps = rows.get_level_values(1)
    ids = rows.get_level_values(0).astype("string")
    for t in pd.unique(snaps):
        f = truth.churn_probability if target == "churn" else truth.complaint_probability
        s = f(t, horizon_days=horizon)
        s.index = s.index.astype("string")
        m = snaps == t
        p[m] = s.reindex(ids[m]).to_numpy(dtype=float, na_value=np.nan)
    return p


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--additive", choices=["yes", "no", "both"], default="both")
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    ap.add_argument("--cache", default=None, help="folder to keep the generated frame and truth")
    ap.add_argument("--params", default="{}", help="extra PropensityModel params as JSON")
    ap.add_argument("--targets", default="churn,complaint")
    ap.add_argument(
        "--train-end",
        default="2025-04-01",
        help="last training snapshot (2025-04-01: 90 days before the holdout)",
    )
    args = ap.parse_args(argv)

    from powerprofile.datasets import make_utility_data
    from powerprofile.explain import explain
    from powerprofile.features import build_training_frame
    from powerprofile.models import PropensityModel, evaluate

    horizon = 90
    t0 = time.perf_counter()
    cache = Path(args.cache) if args.cache else None
    if cache is not None and (cache / "frame.parquet").exists():
        from powerprofile.datasets import load_ground_truth

        frame = pd.read_parquet(cache / "frame.parquet")
        truth = load_ground_truth(cache / "truth")
        t1 = t2 = time.perf_counter()
    else:
        tables, truth = make_utility_data(
            args.customers, "2024-01-01", "2025-12-31", seed=args.seed
        )
        t1 = time.perf_counter()
        snaps = pd.date_range("2024-10-01", "2025-09-01", freq="MS")
        frame = build_training_frame(tables, snaps, horizon_days=horizon, n_jobs=args.jobs)
        t2 = time.perf_counter()
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
            frame.attrs = {}
            frame.to_parquet(cache / "frame.parquet")
            truth.save(cache / "truth")
    print(f"data {t1 - t0:.0f}s, features {t2 - t1:.0f}s: {frame.shape} rows x columns")
    labels = [c for c in frame.columns if c.startswith("label_")]
    X = frame.drop(columns=labels)
    snap = frame.index.get_level_values("snapshot_date")
    train = snap <= pd.Timestamp(args.train_end)
    hold = snap >= pd.Timestamp("2025-07-01")
    results = {
        "customers": args.customers,
        "rows_train": int(train.sum()),
        "rows_holdout": int(hold.sum()),
    }
    variants = {"yes": [True], "no": [False], "both": [True, False]}[args.additive]
    extra = json.loads(args.params)
    for target in args.targets.split(","):
        y = frame[f"label_{target}"].astype(int)
        p_true = oracle(truth, X.index[hold], target, horizon)
        ok = ~np.isnan(p_true)
        yh = y[hold].to_numpy()
        auc_oracle = roc_auc_score(yh[ok], p_true[ok])
        for additive in variants:
            name = f"{target}/{'additive' if additive else 'unconstrained'}"
            ts = time.perf_counter()
            model = PropensityModel(
                horizon_days=horizon, label=target, additive=additive, n_jobs=args.jobs, **extra
            )
            model.fit(X[train], y[train])
            fit_s = time.perf_counter() - ts
            p = model.predict_proba(X[hold])[:, 1]
            ev = evaluate(yh, p, X_train=X[train], y_train=y[train], X_test=X[hold], figures=False)
            m = ev["metrics"]
            auc = roc_auc_score(yh[ok], p[ok])
            r = {
                "positive_rate_holdout": float(yh.mean()),
                "auc": float(m.loc["model", "roc_auc"]),
                "auc_on_oracle_rows": float(auc),
                "auc_oracle": float(auc_oracle),
                "ratio_to_oracle": float(auc / auc_oracle),
                "ece": float(m.loc["model", "ece"]),
                "ece_uniform": float(m.loc["model", "ece_uniform"]),
                "pr_auc": float(m.loc["model", "pr_auc"]),
                "brier": float(m.loc["model", "brier"]),
                "lift_10": float(m.loc["model", "lift_10"]),
                "baseline_auc": float(m.loc["logistic_baseline", "roc_auc"]),
                "baseline_ece": float(m.loc["logistic_baseline", "ece"]),
                "best_iteration": model.best_iteration_,
                "calibration": model.calibration_,
                "fit_seconds": round(fit_s, 1),
            }
            pos = yh == 1
            Xpos = X[hold][pos]
            drivers = event_drivers(truth, Xpos.index, target, horizon)
            known = drivers.notna() & (drivers != "baseline")
            for rank_by in ("abs", "positive"):
                reasons = explain(model, Xpos, top_k=3, language="none", rank_by=rank_by)
                hits = driver_hits(reasons, drivers.fillna("baseline"))
                r[f"driver_in_top3_{rank_by}"] = (
                    float(hits[known.to_numpy()].mean()) if known.any() else None
                )
            r["positives"] = int(pos.sum())
            r["positives_with_driver"] = int(known.sum())
            r["driver_mix"] = drivers.fillna("(no event found)").value_counts().to_dict()
            results[name] = r
            print(name, json.dumps(r, default=str))
    results["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps(results, indent=1, default=str))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1, default=str)


if __name__ == "__main__":
    main()

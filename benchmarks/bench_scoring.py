"""Scoring with calibrated probabilities and top-3 reason codes, and training, at 1 M rows.

Run by hand (not a test), on an otherwise quiet machine::

    nice .venv/bin/python benchmarks/bench_scoring.py --rows 1000000 --features 100

What it measures (2 threads unless ``--jobs``):

1. training time of ``PropensityModel`` on ``--rows`` x ``--features`` (or
   ``--train-rows``) for each structure: ``structure="additive"``, ``"pairwise"`` and
   ``"free"`` (31 leaves);
2. holdout AUC of each;
3. scoring + top-3 reason codes (EN and ZH text) with :func:`powerprofile.explain`
   for all rows, in rows per second, for each structure (target >= 20,000/s for the
   additive and pairwise structures);
4. agreement of the top-3 reasons with exact TreeSHAP (LightGBM ``pred_contrib``) of
   the same model, on a sample, for each structure (target >= 99.9 % identical);
5. alternatives on a sample, in rows per second: LightGBM ``pred_contrib`` and
   ``shap.TreeExplainer`` on the unconstrained model, on a depth-6 model, and on the
   additive model; and, when ``--fasttreeshap-python`` points at a throwaway
   environment with fasttreeshap installed, FastTreeSHAP v1/v2 on the same boosters.

The data: numeric features with skewed, count-like and bounded columns, three
categoricals, missing values; the label is drawn from a logistic model with
non-linear main effects and a few weak interactions.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def make_data(n, p, seed):
    rng = np.random.default_rng(seed)
    n_cat = 3
    n_num = p - n_cat
    Z = rng.normal(size=(n, n_num)).astype(np.float64)
    # some skewed and count-like columns
    Z[:, 0::5] = np.exp(Z[:, 0::5])
    Z[:, 1::7] = rng.poisson(1.0, size=Z[:, 1::7].shape)
    Z[rng.random((n, n_num)) < 0.03] = np.nan
    X = pd.DataFrame(Z, columns=[f"f{i:03d}" for i in range(n_num)])
    cats = {
        "customer_type": (
            ["residential", "commercial", "large_industrial", "agricultural"],
            [0.7, 0.2, 0.05, 0.05],
        ),
        "region": ([f"R{i}" for i in range(12)], None),
        "tariff": (["tiered", "general", "two_part"], [0.6, 0.3, 0.1]),
    }
    for name, (levels, prob) in cats.items():
        X[name] = pd.Categorical(rng.choice(levels, n, p=prob), categories=levels)
    z = np.nan_to_num(Z)
    logit = (
        -4.0
        + 0.8 * np.log1p(z[:, 0])
        + 0.6 * np.tanh(z[:, 2])
        - 0.5 * z[:, 3]
        + 0.4 * (z[:, 4] > 1)
        + 0.3 * np.minimum(z[:, 1], 4)
        + 0.3 * np.abs(z[:, 6])
        - 0.3 * z[:, 7]
        + 0.25 * z[:, 8]
        + 0.2 * z[:, 9]
        + 0.6 * (X["customer_type"] == "commercial").to_numpy()
        + 0.1 * z[:, 2] * z[:, 3]  # weak interactions
        + 0.1 * (z[:, 4] > 0) * z[:, 8]
        + 0.05 * z[:, 10:20].sum(axis=1)
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    idx = pd.MultiIndex.from_arrays(
        [
            pd.Index([f"C{i:07d}" for i in range(n)], dtype="string"),
            pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 12, n) * 30, unit="D"),
        ],
        names=["customer_id", "snapshot_date"],
    )
    X.index = idx
    return X, pd.Series(y, index=idx)


def rate(n, seconds):
    return n / seconds if seconds > 0 else float("inf")


def timed(fn, *a, **k):
    t = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t


FASTTREESHAP_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np, lightgbm as lgb
warnings.filterwarnings("ignore")
model_file, data_file, n_jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
out = {}
fasttreeshap = None
for mod in ("fasttreeshap", "fasttreeshap_fixed"):
    try:
        fasttreeshap = __import__(mod)
        out["module"], out["version"] = mod, getattr(fasttreeshap, "__version__", "?")
        break
    except Exception as e:
        out[f"import_error_{mod}"] = repr(e)[:300]
if fasttreeshap is None:
    print(json.dumps(out)); sys.exit(0)
booster = lgb.Booster(model_file=model_file)
X = np.load(data_file)
ref = booster.predict(X, pred_contrib=True)
for algo in ("v1", "v2"):
    try:
        t = time.perf_counter()
        ex = fasttreeshap.TreeExplainer(booster, algorithm=algo, n_jobs=n_jobs)
        phi = ex.shap_values(X, check_additivity=False)
        phi = np.asarray(phi[1] if isinstance(phi, list) else phi)
        dt = time.perf_counter() - t
        out[algo] = {"rows_per_s": len(X) / dt, "max_abs_diff_vs_pred_contrib": float(np.abs(phi - ref[:, :-1]).max())}
    except Exception as e:
        out[algo] = {"error": repr(e)[:300]}
print(json.dumps(out))
"""


def run_fasttreeshap(python, booster, X_numeric, n_jobs, label):
    with tempfile.TemporaryDirectory() as d:
        mf, df, sf = os.path.join(d, "m.txt"), os.path.join(d, "x.npy"), os.path.join(d, "s.py")
        booster.save_model(mf)
        np.save(df, X_numeric)
        with open(sf, "w") as f:
            f.write(FASTTREESHAP_SCRIPT)
        r = subprocess.run(
            [python, sf, mf, df, str(n_jobs)], capture_output=True, text=True, timeout=1800
        )
        try:
            res = json.loads(r.stdout.strip().splitlines()[-1])
        except Exception:
            res = {"error": (r.stderr or r.stdout)[-500:]}
    print(f"  fasttreeshap [{python}] on {label}: {res}", flush=True)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=100)
    ap.add_argument("--holdout", type=int, default=200_000)
    ap.add_argument("--sample", type=int, default=20_000, help="rows for the slow alternatives")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--train-rows", type=int, default=None, help="training rows (default: all)")
    ap.add_argument(
        "--alt-rows", type=int, default=200_000, help="training rows of the alternative shapes"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--fasttreeshap-python",
        action="append",
        default=[],
        help="python of a throwaway venv with fasttreeshap (repeatable)",
    )
    ap.add_argument(
        "--quick", action="store_true", help="skip the alternatives (section 5 and its models)"
    )
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    from powerprofile.explain import explain, select_top_k
    from powerprofile.explain._contrib import raw_contributions
    from powerprofile.models import PropensityModel

    res = {"rows": args.rows, "features": args.features, "jobs": args.jobs}
    (X, y), t = timed(make_data, args.rows, args.features, args.seed)
    Xh, yh = make_data(args.holdout, args.features, args.seed + 1)
    print(f"data {t:.1f}s: {X.shape}, event rate {y.mean():.3f}", flush=True)

    models = {}
    n_alt = min(args.alt_rows, len(X))
    n_train = min(args.train_rows or len(X), len(X))
    numeric = [c for c in X.columns if not isinstance(X[c].dtype, pd.CategoricalDtype)]
    shapes = [
        ("additive", dict(structure="additive"), n_train, list(X.columns)),
        ("pairwise", dict(structure="pairwise"), n_train, list(X.columns)),
        ("unconstrained", dict(structure="free", num_leaves=31), n_train, list(X.columns)),
    ]
    if not args.quick:  # shapes for the explanation alternatives only: fewer rows
        shapes += [
            ("depth6", dict(structure="free", num_leaves=31, max_depth=6), n_alt, list(X.columns)),
            ("unconstrained_numeric", dict(structure="free", num_leaves=31), n_alt, numeric),
        ]
    for name, kw, rows, cols in shapes:
        m, t = timed(
            PropensityModel(n_jobs=args.jobs, **kw).fit, X.iloc[:rows][cols], y.iloc[:rows]
        )
        m.bench_columns = cols
        auc = roc_auc_score(yh, m.predict_proba(Xh[cols])[:, 1])
        models[name] = m
        res[f"train_{name}"] = {
            "rows": rows,
            "seconds": round(t, 1),
            "trees": m.best_iteration_,
            "holdout_auc": round(auc, 5),
            "calibration": m.calibration_,
            "pairs": len(m.pairs_),
        }
        print(f"train {name}: {res[f'train_{name}']}", flush=True)
    res["auc_loss_additive_vs_unconstrained"] = round(
        res["train_unconstrained"]["holdout_auc"] - res["train_additive"]["holdout_auc"], 5
    )

    # 3. scoring + reasons for all rows, and 4. exactness on a sample, per structure
    S = X.sample(args.sample, random_state=0)
    for name in ("additive", "pairwise", "unconstrained"):
        m = models[name]
        for lang in ("both",) if name != "additive" else ("both", "none"):
            c0 = time.process_time()
            out, t = timed(explain, m, X, top_k=3, language=lang, n_jobs=args.jobs)
            cpu = time.process_time() - c0
            res[f"score_reasons_{lang}_{name}"] = {
                "seconds": round(t, 1),
                "rows_per_s": round(rate(len(X), t)),
                # on a shared machine: rows per second of this process's CPU time
                "cpu_seconds": round(cpu, 1),
                "rows_per_cpu_s": round(rate(len(X), cpu)),
            }
            print(f"{name} score + top-3 (text={lang}): {res[f'score_reasons_{lang}_{name}']}")
            del out
        Sp = m._prepare(S)
        phi_a, _ = raw_contributions(m, Sp, "auto", args.jobs)
        phi_e, _ = raw_contributions(m, Sp, "lightgbm", args.jobs)
        res[f"top3_identical_to_exact_treeshap_{name}"] = float(
            (select_top_k(phi_a, 3) == select_top_k(phi_e, 3)).all(axis=1).mean()
        )
        res[f"max_abs_diff_vs_pred_contrib_{name}"] = float(np.abs(phi_a - phi_e).max())
        print({k: res[k] for k in res if k.endswith(name) and k.startswith(("top3", "max_abs"))})
    print(explain(models["pairwise"], X.head(3), top_k=3).T.to_string()[:3000], flush=True)
    if args.quick:
        print(json.dumps(res, indent=1))
        if args.out:
            with open(args.out, "w", encoding="utf-8") as f:
                json.dump(res, f, indent=1)
        return

    # 5. alternatives on the sample
    alts = {}
    for name, m in models.items():
        Mp = m._prepare(S[m.bench_columns])
        for method in ("lightgbm", "shap") + (("lookup",) if m.lookup_ is not None else ()):
            for jobs in sorted({1, args.jobs}):
                _, t = timed(raw_contributions, m, Mp, method, jobs)
                alts[f"{name}/{method}/{jobs}t"] = round(rate(len(S), t))
                print(
                    f"  {name:14s} {method:9s} {jobs} threads: {alts[f'{name}/{method}/{jobs}t']:>10,} rows/s",
                    flush=True,
                )
    res["alternatives_rows_per_s"] = alts
    # fasttreeshap in throwaway environments (numeric copy: categoricals as codes)
    res["fasttreeshap"] = {}
    for py in args.fasttreeshap_python:
        for name in ("unconstrained_numeric", "unconstrained", "depth6", "additive"):
            cols = models[name].bench_columns
            Snum = np.column_stack(
                [
                    S[c].cat.codes.to_numpy().astype(float)
                    if isinstance(S[c].dtype, pd.CategoricalDtype)
                    else S[c].to_numpy(float)
                    for c in cols
                ]
            )
            res["fasttreeshap"][f"{py}:{name}"] = run_fasttreeshap(
                py, models[name].booster_, Snum, args.jobs, name
            )
    res["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps(res, indent=1))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())

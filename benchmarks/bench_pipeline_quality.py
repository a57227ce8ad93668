"""Model quality of a finished `powerprofile run`: every holdout row, against the oracle.

Usage::

    .venv/bin/python benchmarks/bench_pipeline_quality.py --run OUT/run
    .venv/bin/python benchmarks/bench_pipeline_quality.py --run OUT/run --data DATA --json q.json

The job reports holdout metrics on its *sampled* holdout rows, weighted by the sample
weights (an unbiased estimate). This benchmark measures them on **every** holdout row
and against the generator's ground truth, to show whether the training sample costs
model quality:

1. the holdout snapshot is the run's: the newest of the training snapshots planned
   from the run's resolved config (``models.holdout_snapshots`` = 1) and the data's
   ``data_end``;
2. features and labels of every customer at that snapshot are built from the data
   folder with the same engine (``build_training_frame``, partition by partition);
3. the run's saved models score them; ROC AUC over every row, and over the rows the
   oracle covers;
4. the oracle is the generator's true probability of the event within the horizon
   (``truth/`` beside the data, written by ``powerprofile sample``); its AUC on the
   same rows is the ceiling, and the model's share of it is printed (bar: >= 0.97).

``--data`` another generated folder with the same dates scores the run's models on *its*
holdout rows: models trained on different populations (say a 1,000,000-customer run
with its training sample and a 100,000-customer run on every row) are then compared
on the same rows, against the same oracle.

Nothing is written into the run or the data folder; ``--json`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def holdout_snapshot(cfg, data_end) -> pd.Timestamp:
    """The run's out-of-time holdout snapshot (the newest training snapshot)."""
    from powerprofile.pipeline._data import plan_snapshots

    snaps, _ = plan_snapshots(cfg, data_end)
    return pd.Timestamp(snaps[-cfg.models.holdout_snapshots])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", required=True, help="the run's output folder (config.resolved.yaml)")
    ap.add_argument("--data", default=None, help="data folder (default: the run's data.path)")
    ap.add_argument("--jobs", type=int, default=2, help="feature workers")
    ap.add_argument("--json", default=None, help="write the figures here")
    args = ap.parse_args(argv)

    from powerprofile import build_training_frame, load_model
    from powerprofile.config import load_config
    from powerprofile.datasets import load_ground_truth

    run = Path(args.run)
    cfg = load_config(run / "config.resolved.yaml")
    data = Path(args.data or cfg.data.path)
    meta = json.loads((data / "dataset.json").read_text())
    data_end = cfg.data.data_end or meta["data_end"]
    snap = holdout_snapshot(cfg, data_end)
    horizon = int(cfg.labels.horizon_days)
    print(f"holdout snapshot {snap.date()}, horizon {horizon} days, data {data}")

    t0 = time.perf_counter()
    frame = build_training_frame(
        str(data),
        [snap],
        horizon_days=horizon,
        churn_kinds=cfg.labels.churn_kinds,
        churn_usage_collapse=cfg.labels.churn_usage_collapse,
        windows=tuple(cfg.features.windows),
        min_history_days=int(cfg.features.min_history_days),
        n_jobs=args.jobs,
    )
    print(f"features of every holdout row: {len(frame):,} rows in {time.perf_counter() - t0:.0f} s")
    truth = load_ground_truth(data / "truth")
    labels = [c for c in frame.columns if c.startswith("label_")]
    X = frame.drop(columns=labels)
    ids = X.index.get_level_values("customer_id").astype("string")
    summary = json.loads((run / "run_summary.json").read_text())
    out = {"run": str(run), "holdout_snapshot": str(snap.date()), "rows": len(X), "targets": {}}
    print(
        "| target | rows | positives | AUC, every row | AUC, oracle rows | oracle AUC | share of oracle | run's weighted holdout AUC |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for target in cfg.models.targets:
        model = load_model(run / "models" / target / "propensity_model")
        y = frame[f"label_{target}"].astype(int).to_numpy()
        p = model.predict_proba(X)[:, 1]
        f = truth.churn_probability if target == "churn" else truth.complaint_probability
        s = f(snap, horizon_days=horizon)
        s.index = s.index.astype("string")
        p_true = s.reindex(ids).to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(p_true)
        r = {
            "rows": int(len(y)),
            "positives": int(y.sum()),
            "auc": float(roc_auc_score(y, p)),
            "oracle_rows": int(ok.sum()),
            "auc_on_oracle_rows": float(roc_auc_score(y[ok], p[ok])),
            "auc_oracle": float(roc_auc_score(y[ok], p_true[ok])),
            "run_weighted_auc": summary["metrics"][target]["model"]["roc_auc"],
        }
        r["share_of_oracle"] = r["auc_on_oracle_rows"] / r["auc_oracle"]
        out["targets"][target] = r
        print(
            f"| {target} | {r['rows']:,} | {r['positives']:,} | {r['auc']:.4f} | "
            f"{r['auc_on_oracle_rows']:.4f} | {r['auc_oracle']:.4f} | "
            f"{r['share_of_oracle']:.3f} | {r['run_weighted_auc']:.4f} |"
        )
    out["training_sample"] = summary.get("training_sample")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()

"""Segmentation quality and speed against the generator's ground truth.

Reports, for a generated population: the adjusted Rand index between the segments and
the latent archetypes, the share of customers keeping their segment id when the model
is refitted on the next quarter's snapshot (with ``previous=``), the chosen k and its
stability/silhouette table, and the fit time. With ``--scale-rows`` it also times a fit
and a predict on that many rows (the feature frame resampled with a little noise), to
show the k search stays sample-sized at a million customers.

Usage::

    nice python benchmarks/bench_segments.py --customers 20000 --seed 1 --data /tmp/seg20k
    nice python benchmarks/bench_segments.py --data /tmp/seg20k --scale-rows 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=None, help="data-set folder (generated when missing)")
    ap.add_argument("--snapshot", default="2025-07-01")
    ap.add_argument("--next-snapshot", default="2025-10-01")
    ap.add_argument(
        "--scale-rows", type=int, default=0, help="also time fit/predict on this many rows"
    )
    args = ap.parse_args(argv)

    from powerprofile.datasets import load_ground_truth, write_utility_data
    from powerprofile.features import build_features
    from powerprofile.segmentation import CustomerSegmenter, same_segment_share, transition_table

    warnings.simplefilter("ignore")
    data = Path(args.data or f"/tmp/powerprofile-bench-segments-{args.customers}-{args.seed}")
    if not (data / "dataset.json").exists():
        t = time.perf_counter()
        write_utility_data(data, n_customers=args.customers, seed=args.seed, progress=False)
        print(
            f"generated {args.customers:,} customers in {time.perf_counter() - t:.1f} s -> {data}"
        )
    meta = json.loads((data / "dataset.json").read_text())
    truth = load_ground_truth(data).segments.set_index("customer_id")["segment"]

    t = time.perf_counter()
    f1 = build_features(data, args.snapshot)
    f2 = build_features(data, args.next_snapshot)
    print(
        f"features at {args.snapshot} and {args.next_snapshot}: {len(f1):,} / {len(f2):,} rows "
        f"in {time.perf_counter() - t:.1f} s"
    )

    t = time.perf_counter()
    seg1 = CustomerSegmenter(random_state=0).fit(f1)
    fit1 = time.perf_counter() - t
    t = time.perf_counter()
    seg2 = CustomerSegmenter(random_state=0).fit(f2, previous=seg1)
    fit2 = time.perf_counter() - t
    latent = truth.reindex(f1.index.get_level_values("customer_id")).to_numpy()
    ari = adjusted_rand_score(latent, seg1.labels_)
    latent2 = truth.reindex(f2.index.get_level_values("customer_id")).to_numpy()
    ari2 = adjusted_rand_score(latent2, seg2.labels_)
    before = pd.Series(seg1.predict(f1), index=f1.index.get_level_values("customer_id"))
    after = pd.Series(seg2.predict(f2), index=f2.index.get_level_values("customer_id"))
    same = same_segment_share(before, after)

    print(f"\npopulation: {meta['n_customers']:,} customers, seed {meta['seed']}")
    print(f"features used: {', '.join(map(str, seg1.features_))} + one-hot {seg1.categorical_}")
    print(f"k search ({args.snapshot}):\n{seg1.k_scores_.round(3).to_string(index=False)}")
    print(f"\nchosen k: {seg1.n_clusters_} (next quarter: {seg2.n_clusters_})")
    print(
        f"ARI vs latent archetypes: {ari:.3f} at {args.snapshot}, {ari2:.3f} at {args.next_snapshot}  (bar >= 0.8)"
    )
    print(f"same segment id after refit on the next quarter: {same:.3%}  (bar >= 95 %)")
    print(f"fit time: {fit1:.1f} s, refit with previous: {fit2:.1f} s; peak RSS {_rss_gb():.2f} GB")
    print("\nsegments vs latent archetypes:")
    print(
        pd.crosstab(
            pd.Series(latent, name="archetype"), pd.Series(seg1.labels_, name="segment")
        ).to_string()
    )
    print("\nsegment names:")
    for sid, (en, zh) in seg1.names_.items():
        print(f"  {sid}: {en} / {zh}")
    print("\ntransition table:")
    print(transition_table(before, after).to_string())

    if args.scale_rows:
        rng = np.random.default_rng(0)
        cols = list(map(str, seg1.features_)) + list(seg1.categorical_)
        take = rng.integers(0, len(f1), size=args.scale_rows)
        big = f1[cols].iloc[take].reset_index(drop=True)
        num = list(map(str, seg1.features_))
        big[num] = big[num] * np.exp(rng.normal(0, 0.02, size=(len(big), len(num))))
        t = time.perf_counter()
        seg = CustomerSegmenter(random_state=0).fit(big)
        fit_big = time.perf_counter() - t
        t = time.perf_counter()
        seg.predict(big)
        pred_big = time.perf_counter() - t
        print(
            f"\nscale: {args.scale_rows:,} rows x {len(num)} features: fit (k search on a "
            f"{seg.sample_size:,}-row sample + final KMeans n_init={seg.n_init}) {fit_big:.1f} s, "
            f"predict {pred_big:.1f} s, k = {seg.n_clusters_}; peak RSS {_rss_gb():.2f} GB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

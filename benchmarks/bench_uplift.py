"""Uplift on generated data: Qini against the oracle, next-best channel, interval coverage.

Prepare a generated population and its run (about 10 minutes on one core)::

    powerprofile sample --customers 20000 --seed 1 --out /tmp/uplift_big
    powerprofile run --config <a config with data.path: /tmp/uplift_big, output_dir: /tmp/uplift_big_out>

then::

    python benchmarks/bench_uplift.py --data /tmp/uplift_big --run /tmp/uplift_big_out

Measured (docs/uplift.md, "Measured on generated data"): the Qini ratio is 0.605 and
0.598 (model seeds 0, 1) from the 37,784 pilot rows of a 20,000-customer population,
0.713 and 0.714 from the 93,020 of a 50,000-customer one, 0.796 from the 371,576 of
a 200,000-customer one (seed 0) and 0.821 and 0.820 from the 743,164 of a
400,000-customer one (seeds 0, 1):
the 0.80 target is reached from about 740,000 pilot rows; ``--ceiling`` shows the
pilot's size, not the inputs, is the limit.

The uplift model's inputs are the run's, built by
:func:`powerprofile.uplift.uplift_inputs` as in ``powerprofile run``: the scoring
feature frame (``features/scoring.parquet``, or the streamed route's
``features/scoring/`` parts) joined to the portraits' scores (``portraits/``).

1. **Qini**: customers are split in two halves by their key; the uplift model is fitted
   on the pilot responses of one half and ranks the other half; for each channel the
   Qini coefficient of its predicted effects is computed against the true effects and
   divided by the oracle's (the true effects ranking themselves); the figure is the
   ratio of the sums over channels.
2. **Next-best channel vs churn score**: on the held-out half, the same number of
   contacts (``--contacts`` per 1,000 customers) go either to each customer's
   next-best channel by predicted effect, or by churn score with the export's channel
   order; both are scored with the true effects (expected saved customers per 1,000
   contacts); the 95 % interval of the difference comes from 200 bootstrap resamples of
   the held-out customers (the fitted model fixed).
3. **Ceiling** (``--ceiling``): what the inputs allow, without the outcomes' noise. A
   LightGBM regression of the *true* effect of each channel on the same inputs, fitted
   on the pilot half's customers (its rounds chosen by 3-fold cross-validation with
   early stopping, folds by customer), ranks the held-out half: the best a model of
   these inputs could reach with unlimited pilot data. The same regression on the
   generator's drivers of the effect (the baseline churn, the archetype, the
   complaint-sensitive flag, which channels reach the customer; none is in the
   inputs as such) and on the inputs plus each driver says which missing driver
   costs most; the uplift model fitted on the pilot's outcomes with the drivers as its
   only inputs says what the pilot's size allows with perfect inputs. Diagnostics
   only: the uplift model never sees the truth.
4. **Coverage**: ``--campaigns`` simulated campaigns (random customers, channel, size
   and control share) draw their responses from the true effects; the share of
   campaigns whose 95 % Newcombe interval covers the campaign's true effect (the mean
   true effect of its customers) is reported.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from powerprofile.datasets import simulate_responses
from powerprofile.export import CHANNELS, eligibility
from powerprofile.privacy import pseudonymise
from powerprofile.uplift import (
    UpliftModel,
    effect_table,
    next_best_channel,
    pilot_outcomes,
    qini_coefficient,
    saved_per_1000,
    score_targeting,
    uplift_inputs,
)


def _policies(eff, truth, elig, churn, keys, budget):
    nbc = next_best_channel(eff, eligible=elig, budget=budget, keys=keys)
    by_score = score_targeting(churn, eligible=elig, budget=budget, keys=keys)
    return saved_per_1000(nbc["channel"], truth), saved_per_1000(by_score["channel"], truth)


def qini_ratio(effects: pd.DataFrame, truth: pd.DataFrame, channels) -> tuple[float, dict]:
    """Sum over channels of the Qini coefficients of ``effects``, over the oracle's sum.

    Returns
    -------
    (float, dict of str to float)
        The ratio of the sums and each channel's own ratio.
    """
    qm = qo = 0.0
    per = {}
    for ch in channels:
        m = qini_coefficient(effects[f"effect_{ch}"], truth[f"effect_{ch}"])
        o = qini_coefficient(truth[f"effect_{ch}"], truth[f"effect_{ch}"])
        qm, qo = qm + m, qo + o
        per[ch] = m / o
    return qm / qo, per


def effect_regression(train: pd.DataFrame, effects: pd.DataFrame, test: pd.DataFrame, *, seed=0):
    """A noise-free model: LightGBM regressions of the true effects, rounds chosen by CV.

    Parameters
    ----------
    train, test : pandas.DataFrame
        Inputs (numbers, booleans or categories), one row per customer.
    effects : pandas.DataFrame
        ``effect_<channel>`` columns aligned with ``train``.
    seed : int, default=0

    Returns
    -------
    pandas.DataFrame
        The predicted ``effect_<channel>`` of the ``test`` rows.
    """
    import lightgbm as lgb

    params = dict(
        objective="regression",
        learning_rate=0.05,
        num_leaves=15,
        min_data_in_leaf=20,
        seed=int(seed),
        deterministic=True,
        num_threads=1,
        verbosity=-1,
    )
    out = {}
    for col in effects.columns:  # a few channels
        ds = lgb.Dataset(train, label=effects[col].to_numpy(dtype=float), free_raw_data=False)
        hist = lgb.cv(
            params,
            ds,
            num_boost_round=1000,
            nfold=3,
            stratified=False,
            seed=int(seed),
            callbacks=[lgb.early_stopping(30, verbose=False)],
        )
        rounds = max(1, len(next(iter(hist.values()))))
        out[col] = lgb.train(params, ds, num_boost_round=rounds).predict(test)
    return pd.DataFrame(out, index=test.index)


def _drivers(truth: pd.DataFrame) -> pd.DataFrame:
    """The generator's drivers of the true effects (diagnostics only, never a model input)."""
    out = pd.DataFrame(
        {
            "true_baseline_churn": truth["baseline_churn"].to_numpy(dtype=float),
            "true_archetype": pd.Categorical(truth["segment"].astype(str).to_numpy()),
            "true_sensitive": truth["sensitive"].astype(float).to_numpy(),
        }
    )
    for ch in CHANNELS:
        if f"reachable_{ch}" in truth.columns:
            out[f"contactable_{ch}"] = truth[f"reachable_{ch}"].astype(float).to_numpy()
    return out


def _ceiling(model, X, truth, test, pilot_rows, treatment, retained, groups, seed) -> None:
    """Print the ceiling diagnostics (see the module docstring, point 3)."""
    cols = [f"effect_{ch}" for ch in model.channels_]
    F = model._frame(X, fitting=False).reset_index(drop=True)
    D = _drivers(truth.reset_index(drop=True))
    eff_tr = truth.loc[~test, cols].reset_index(drop=True)
    tt = truth[test].reset_index(drop=True)

    def show(label, train, test_rows):
        c0 = time.process_time()
        pred = effect_regression(train, eff_tr, test_rows, seed=seed)
        r, per = qini_ratio(pred, tt, model.channels_)
        chans = ", ".join(f"{c} {v:.2f}" for c, v in per.items())
        print(f"  {label:44s} {r:.3f}  [{chans}]  CPU s {time.process_time() - c0:.0f}")

    print(
        f"ceiling: regressions of the true effects, fitted on the {int((~test).sum()):,} "
        "pilot-half customers, Qini / oracle on the held-out half"
    )
    show("the uplift inputs", F[~test], F[test])
    drivers = ["true_baseline_churn", "true_archetype", "true_sensitive"]
    show("the generator's drivers (+ reachability)", D[~test], D[test])
    for d in drivers:
        G = pd.concat([F, D[[d]]], axis=1)
        show(f"the uplift inputs + {d}", G[~test], G[test])
    c0 = time.process_time()
    latent = UpliftModel(random_state=seed).fit(
        D.iloc[pilot_rows].reset_index(drop=True), treatment, retained, groups=groups
    )
    r, per = qini_ratio(latent.predict_effect(D[test]), tt, latent.channels_)
    chans = ", ".join(f"{c} {v:.2f}" for c, v in per.items())
    print(
        f"  {'uplift model on the pilot, drivers as inputs':44s} {r:.3f}  [{chans}]  "
        f"CPU s {time.process_time() - c0:.0f}"
    )


def main() -> None:
    measured = next(p for p in __doc__.split("\n\n") if p.startswith("Measured"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=measured)
    ap.add_argument("--data", required=True)
    ap.add_argument("--run", required=True, help="the output folder of powerprofile run")
    ap.add_argument("--model-seed", type=int, default=0, help="the uplift model's random_state")
    ap.add_argument("--skip-coverage", action="store_true")
    ap.add_argument(
        "--no-complaint-input",
        action="store_true",
        help="fit without the complaint-after-contact input (the model before it existed)",
    )
    ap.add_argument(
        "--ceiling",
        action="store_true",
        help="also print what noise-free regressions of the true effects reach (diagnostic)",
    )
    ap.add_argument("--contacts", type=int, default=200, help="contacts per 1,000 customers")
    ap.add_argument("--campaigns", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.environ.setdefault(
        "POWERPROFILE_PSEUDONYM_KEY",
        "DEMO-KEY-public-not-secret-H2jXjSKF6dl9YZhm1IErRcvTpA_W5AZwLDkueI1dSr0",
    )
    t0 = time.perf_counter()
    run = Path(args.run)
    single = run / "portraits" / "portraits.parquet"
    parts = [single] if single.is_file() else sorted((run / "portraits").glob("part-*.parquet"))
    portraits = pd.concat([pd.read_parquet(f) for f in parts], ignore_index=True)
    scoring = run / "features" / "scoring.parquet"
    scoring = scoring if scoring.is_file() else run / "features" / "scoring"
    truth = pd.read_parquet(os.path.join(args.data, "truth", "uplift.parquet"))
    truth.index = pseudonymise(truth["customer_id"]).to_numpy()
    keys = portraits["customer_key"].astype(str).to_numpy()
    if not truth.index.isin(set(keys)).any():
        raise SystemExit(
            f"no customer of {args.data} is in the run's portraits under this "
            "POWERPROFILE_PSEUDONYM_KEY: give the key the run used."
        )
    truth = truth.reindex(keys)
    test = pd.util.hash_array(keys.astype(object)) % 2 == 0
    pilot = pilot_outcomes(os.path.join(args.data, "responses.parquet"))
    pilot = pilot[pilot["customer_key"].isin(set(keys[~test]))]
    X = uplift_inputs(portraits, scoring).reset_index(drop=True)
    row = pd.Series(np.arange(len(keys)), index=keys)
    pilot_rows = row.reindex(pilot["customer_key"].to_numpy()).to_numpy()
    Xtr = X.iloc[pilot_rows].reset_index(drop=True)
    treatment = np.where(pilot["group"] == "control", "control", pilot["channel"].astype(str))
    c0 = time.process_time()
    model = UpliftModel(random_state=args.model_seed).fit(
        Xtr,
        treatment,
        pilot["retained"].to_numpy(),
        groups=pilot["customer_key"].to_numpy(),
        complaint=None if args.no_complaint_input else pilot["complaint"].to_numpy(),
    )
    print(f"inputs: {X.shape[1]} columns; fit CPU seconds {time.process_time() - c0:.0f}")
    eff = model.predict_effect(X[test]).reset_index(drop=True)
    tt = truth[test].reset_index(drop=True)
    # 1. Qini against the oracle
    print(f"pilot rows used: {len(pilot):,}; held-out customers: {int(test.sum()):,}")
    for ch in model.channels_:
        m = qini_coefficient(eff[f"effect_{ch}"], tt[f"effect_{ch}"])
        o = qini_coefficient(tt[f"effect_{ch}"], tt[f"effect_{ch}"])
        print(f"  Qini {ch:17s} model {m:8.4f}  oracle {o:8.4f}  ratio {m / o:6.3f}")
    ratio, _ = qini_ratio(eff, tt, model.channels_)
    print(f"Qini of the uplift model / oracle (sum over channels): {ratio:.3f}")
    if args.ceiling:
        _ceiling(
            model,
            X,
            truth,
            test,
            pilot_rows,
            treatment,
            pilot["retained"].to_numpy(),
            pilot["customer_key"].to_numpy(),
            args.model_seed,
        )
    # 2. next-best channel vs churn score, same contacts
    contact = portraits.loc[test, [f"contactable_{c}" for c in CHANNELS]].reset_index(drop=True)
    n = len(contact)
    elig = eligibility(contact.astype(bool), np.zeros(n, bool), np.zeros(n, bool))
    churn = portraits.loc[test, "churn_score"].to_numpy(dtype=float)
    k = test_keys = keys[test]
    budget = int(args.contacts * n / 1000)
    a, b = _policies(eff, tt, elig, churn, k, budget)
    rng = np.random.default_rng(args.seed)
    diffs = []
    for _ in range(200):
        i = rng.integers(0, n, n)
        e_i = {c: v[i] for c, v in elig.items()}
        kk = np.char.add(test_keys[i].astype(str), np.arange(n).astype(str))
        x, y = _policies(
            eff.iloc[i].reset_index(drop=True),
            tt.iloc[i].reset_index(drop=True),
            e_i,
            churn[i],
            kk,
            budget,
        )
        diffs.append(x - y)
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    print(
        f"saved per 1,000 contacts ({budget:,} contacts of {n:,} customers): next-best channel "
        f"{a:.1f}, churn score {b:.1f}, difference {a - b:+.1f} (95 % bootstrap interval "
        f"{lo:+.1f} to {hi:+.1f})"
    )
    # 4. interval coverage over simulated campaigns
    if args.skip_coverage:
        print(f"seconds: {time.perf_counter() - t0:.0f}")
        return
    rng = np.random.default_rng(args.seed + 1)
    ids = truth["customer_id"].dropna().to_numpy()
    base = truth.set_index("customer_id")
    covered = 0
    for c in range(args.campaigns):
        size = int(rng.integers(300, 3000))
        who = rng.choice(ids, size, replace=False)
        ch = CHANNELS[int(rng.integers(0, len(CHANNELS)))]
        share = rng.uniform(0.1, 0.3)
        group = np.where(rng.random(size) < share, "control", "treated")
        assignment = pd.DataFrame(
            {"campaign_id": f"sim{c}", "customer_id": who, "group": group, "channel": ch}
        )
        resp = simulate_responses(
            truth.reset_index(drop=True), assignment, seed=1000 + c, sent_at="2026-01-01"
        )
        t = effect_table(resp, ["campaign_id"]).iloc[0]
        true_effect = base.loc[who, f"effect_{ch}"].mean()
        covered += int(t["ci_low"] <= true_effect <= t["ci_high"])
    print(
        f"95 % interval coverage over {args.campaigns} simulated campaigns: "
        f"{covered / args.campaigns:.3f}"
    )
    print(f"seconds: {time.perf_counter() - t0:.0f}")


if __name__ == "__main__":
    main()

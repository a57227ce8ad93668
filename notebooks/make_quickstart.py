"""Write notebooks/quickstart.ipynb (without outputs) from the cells below.

Run from the repository root after editing a cell:

    .venv/bin/python notebooks/make_quickstart.py

``tests/test_notebook.py`` executes the notebook and checks it is committed without
outputs and in sync with this script.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
TARGET = HERE / "quickstart.ipynb"

CELLS = [
    ("md", """\
# powerprofile quickstart

The path a data scientist takes with **powerprofile**, on the committed sample
(2,000 synthetic customers of an electricity utility, 2024-01-01 to 2025-12-31):

1. load and validate the tables,
2. look at the channel KPIs,
3. build a point-in-time training frame,
4. train the churn model and evaluate it out of time,
5. read the gains chart and the calibration,
6. explain one customer's score,
7. segment the customers,
8. build the portraits (用户画像),
9. export a campaign for the service channels,
10. write the HTML report.

Everything is pandas in, pandas out. Runs in about a minute on a laptop."""),
    ("code", """\
# the library builds matplotlib figures without pyplot: show them inline as images
%matplotlib inline
import os
from pathlib import Path

import pandas as pd

import powerprofile as pp

# works from the repository root or from notebooks/
ROOT = Path.cwd() if (Path.cwd() / "data" / "sample").exists() else Path.cwd().parent
DATA = ROOT / "data" / "sample"
OUT = Path(os.environ.get("POWERPROFILE_NOTEBOOK_OUT", ROOT / "out" / "notebook"))
OUT.mkdir(parents=True, exist_ok=True)
# DEMO ONLY. Portraits and exports pseudonymise customer ids with a keyed hash whose
# secret key comes from the environment. The public demo key below (anyone can reverse
# its pseudonyms; manifests record it as a demo key) is for the synthetic sample only:
# for real data set POWERPROFILE_PSEUDONYM_KEY to your own key (`powerprofile keygen`)
# and delete these two lines.
os.environ["POWERPROFILE_PSEUDONYM_KEY"] = "DEMO-KEY-public-not-secret-H2jXjSKF6dl9YZhm1IErRcvTpA_W5AZwLDkueI1dSr0"
os.environ["POWERPROFILE_KEY_IS_DEMO"] = "1"
pd.set_option("display.max_columns", 12)
pp.__version__"""),
    ("md", """\
## 1. Load and validate

`load_tables` reads the folder (Parquet or CSV), coerces every column to the data
contract's type and checks categories, keys, absurd values, dates, orphans and rows after
the declared end. Strict mode (the default) raises one error listing every problem;
`errors="quarantine"` sets bad rows aside instead and reports them."""),
    ("code", """\
tables = pp.load_tables(DATA)
tables"""),
    ("code", """\
tables.customers.head(3)"""),
    ("code", """\
# one row per problem found (empty when the data is clean)
tables.report"""),
    ("md", """\
## 2. Channel KPIs

Per month and service channel (95598 hotline, app, WeChat, counter, grid manager):
active customers, contacts per 1,000 customers, digital adoption, online payment share,
complaints per 10,000 customers, 7-day repeat-contact rate and satisfaction. Group by
`region`, `grid_unit` or `customer_type` too (see `docs/report.md`)."""),
    ("code", """\
kpis = pp.channel_kpis(tables, by=("month", "channel"))
kpis[kpis["month"] == kpis["month"].max()]"""),
    ("code", """\
pp.channel_kpis(tables, by=("region",))"""),
    ("md", """\
## 3. A point-in-time training frame

One row per (customer, snapshot): features from rows strictly **before** the snapshot,
labels from the 90 days **after** it. Six monthly training snapshots, and a later one
held out for the out-of-time evaluation."""),
    ("code", """\
snapshots = pd.DatetimeIndex([*pd.date_range("2025-01-01", "2025-06-01", freq="MS"), "2025-09-01"])
frame = pp.build_training_frame(tables, snapshots, horizon_days=90)
labels = ["label_churn", "label_complaint"]
print(frame.shape)
frame[labels].groupby(level="snapshot_date").mean()"""),
    ("code", """\
# every source table's latest row used per snapshot: all strictly before it
pp.leakage_report(frame).head()"""),
    ("md", """\
## 4. Train the churn model, evaluate it out of time

The holdout is the latest snapshot; training uses only snapshots whose 90-day label
window closes before it, so no outcome seen in training overlaps the holdout.
`PropensityModel` is a scikit-learn estimator (LightGBM underneath, early stopping on
its own later snapshots, calibrated probabilities)."""),
    ("code", """\
X = frame.drop(columns=labels)
snap = X.index.get_level_values("snapshot_date")
holdout = snap == snap.max()
train = snap <= snap.max() - pd.Timedelta(days=90)

churn_model = pp.PropensityModel(n_estimators=150, learning_rate=0.1, n_jobs=1, random_state=0)
churn_model.fit(X[train], frame.loc[train, "label_churn"])
p_churn = churn_model.predict_proba(X[holdout])[:, 1]

churn_eval = pp.evaluate(
    frame.loc[holdout, "label_churn"], p_churn,
    X_train=X[train], y_train=frame.loc[train, "label_churn"], X_test=X[holdout],
)
churn_eval["metrics"][["roc_auc", "pr_auc", "brier", "ece", "lift_10", "capture_10"]]"""),
    ("md", """\
## 5. The gains chart and the calibration

Customers sorted by score: the share of the churners found when contacting the top x %
— against random selection. `evaluate` returns matplotlib figures; the last expression
of a cell shows one (or use `IPython.display.display(fig)` anywhere in a cell)."""),
    ("code", """\
churn_eval["figures"]["gains"]"""),
    ("code", """\
churn_eval["gains"]"""),
    ("md", """\
The observed churn rate against the mean score, in equal-count bins: points near the
diagonal mean a score can be read as a probability."""),
    ("code", """\
churn_eval["figures"]["calibration"]"""),
    ("md", """\
## 6. Explain one customer

Exact TreeSHAP contributions turned into readable reasons, in English and Chinese."""),
    ("code", """\
reasons = pp.explain(churn_model, X[holdout], top_k=3)
riskiest = reasons.iloc[[int(p_churn.argmax())]]
riskiest[["score", "reason_1_text_en", "reason_2_text_en", "reason_3_text_en"]]"""),
    ("code", """\
riskiest[["reason_1_text_zh", "reason_2_text_zh", "reason_3_text_zh"]]"""),
    ("md", """\
## 7. Segment the customers

Features at the scoring snapshot (the day after the data ends), robust-scaled KMeans with
the number of segments chosen by stability, and a readable name for each segment."""),
    ("code", """\
features = pp.build_features(tables, "2026-01-01")
segmenter = pp.CustomerSegmenter(random_state=0).fit(features)
profile = segmenter.profile(features)
profile[["name_en", "name_zh", "size", "share"]]"""),
    ("md", """\
## 8. Portraits

One row per customer: pseudonymised key, segment, churn and complaint scores with bands
and reasons, tags, risk flags, preferred and contactable channels. No raw id, name or
phone. The campaigns below also need a complaint model, trained the same way."""),
    ("code", """\
complaint_model = pp.PropensityModel(n_estimators=150, learning_rate=0.1, n_jobs=1, random_state=0)
complaint_model.fit(X[train], frame.loc[train, "label_complaint"])

tags = pp.load_rules(ROOT / "configs" / "tags.yaml")
risk_rules = pp.load_rules(ROOT / "configs" / "risk_rules.yaml")
portraits = pp.build_portraits(
    features,
    churn_model=churn_model,
    complaint_model=complaint_model,
    segmenter=segmenter,
    tags=tags,
    risk_rules=risk_rules,
    customers=tables.customers,
)
portraits.head(3).T.head(20)"""),
    ("code", """\
risk_hits = risk_rules.hit_report(features, by="region")
risk_hits[risk_hits["region"] == "(all)"]"""),
    ("md", """\
## 9. Export a campaign

`configs/campaigns.yaml` selects customers from the portrait, fills each channel's
capacity by highest calibrated score, checks eligibility (SMS needs a phone, app push an
app user, WeChat a bound account), caps contacts per customer, masks phones and writes
the files atomically with a manifest. CSV files carry a byte-order mark so Excel shows
the Chinese text."""),
    ("code", """\
result = pp.export_campaigns(
    portraits, OUT / "export", campaigns=ROOT / "configs" / "campaigns.yaml",
    customers=tables.customers,
)
pd.DataFrame(result.manifest["files"])[["file", "campaign", "channel", "rows"]]"""),
    ("code", """\
pd.read_csv(OUT / "export" / "churn_retention__sms.csv").head()"""),
    ("md", """\
## 10. The report

One self-contained HTML file (charts embedded) for the people who look rather than read."""),
    ("code", """\
from powerprofile.explain import global_importance

report = pp.write_report(
    OUT / "report.html",
    tables=tables,
    kpis=kpis,
    segment_profile=profile,
    segment_names=segmenter.names_,
    evaluations={"churn": churn_eval},
    shap_importance={"churn": global_importance(churn_model, X[holdout])},
    scores=portraits,
    risk_hits=risk_hits,
    subtitle="quickstart notebook, sample data",
)
print(report, f"{report.stat().st_size:,} bytes")"""),
]


def build() -> nbformat.NotebookNode:
    """The notebook, without outputs."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, src) in enumerate(CELLS):
        cell = new_markdown_cell(src) if kind == "md" else new_code_cell(src)
        cell["id"] = f"cell-{i:02d}"
        nb.cells.append(cell)
    return nb


def render() -> str:
    """The notebook file's text."""
    return nbformat.writes(build()) + "\n"


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if TARGET.read_text(encoding="utf-8") == text else 1)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")

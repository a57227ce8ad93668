"""Write the feature catalogue as Markdown: ``python -m powerprofile.features.catalog_doc docs/features.md``."""

from __future__ import annotations

import sys
from pathlib import Path

from ._catalog import feature_catalog

__all__ = ["main", "render_catalog"]

_HEADER = """# Feature catalogue (特征目录)

Generated from `powerprofile.feature_catalog()` by
`python -m powerprofile.features.catalog_doc docs/features.md` (`make docs`); do not edit by hand.

Every feature of a snapshot `T` uses only rows dated (and, with `recorded_at`, recorded)
strictly before `T`; a window of `w` days is `[T - w days, T)`. Labels use `[T, T + horizon)`.
Missing history gives `NaN` (counts are 0), never an error. Numeric features are `float32`;
`customer_type`, `tariff` and `region` are `category`; `tou_flag`, `short_history` and
`bank_withholding` are `bool`. The build with the default windows (30, 90, 180, 365 days)
has {n} features.

The templates are `str.format` patterns with a `{{value}}` placeholder, used for reason codes.

## How they are computed

- `build_features(tables, snapshot)` / `build_training_frame(tables, snapshots, horizon_days)` take
  validated `Tables` or a data-set folder. A partitioned folder is streamed part by part, and each
  part in chunks of about 5,000 customers, straight from Parquet, so memory is bounded by a chunk.
- Usage: each chunk's daily reads are scattered into a customers x days `float32` matrix (`NaN` for
  a missing day); every window statistic is a matrix product with a small design matrix (window
  indicators, centred day weights for the slope, weekend and season masks), so extra windows and
  statistics cost columns, not passes over the rows. Zero runs use a cumulative-sum trick.
- `recorded_at`: a row is used at `T` only if recorded before `T`; of several versions of a day or a
  bill, the latest recorded before `T` wins. The leakage report (`leakage_report(frame)` for the
  report a feature frame carries, or `leakage_report(tables, snapshots)`) lists, per snapshot and
  table, the rows used and the latest event and recorded times used.
- Area features need one small cross-partition pre-aggregation (`area_statistics`: per transformer
  area and grid unit, active customers and complainers per window; per transformer area, outage
  counts and minutes), a map-reduce of pure functions (`area_partial`, `combine_area_partials`,
  `outage_stats`).
- `partition_features(tables, snapshots, area_stats=...)` is the pure partition function (one
  partition's rows in, its features out) that a distributed engine can run unchanged in its tasks.
- Generic tables: `reading_features(df, snapshots, mapping)` and `event_features(df, snapshots,
  mapping)` give the same level/trend/seasonality and recency/frequency/value features for any
  reading or event table through a column mapping (`id`, `time`, `value`, `category`,
  `recorded_at`); see below.

## Generic builders for any table

For tables outside the contract (a purchase log, web events, another meter's readings), with
the same point-in-time rules: a snapshot `T` sees rows strictly before `T`, and a label sees
`[T, T + horizon)`, so an event exactly at `T` is a label input and never a feature input.

- `event_features(df, snapshots, mapping, windows=..., prefix=...)`: per window, rows
  (`_count_`), distinct calendar days with an event (`_active_days_`: duplicated rows count
  once), value sums and means (`mapping["value"]` may be one column, named `value` in the
  features, or a list of columns, each named after itself), category counts and shares; recency
  (`_days_since_last`, `_days_since_first`); inter-event gaps over the whole history before `T`,
  between consecutive active days: `_gap_mean`, `_gap_std` (population, needs two gaps),
  `_gap_last` and `_days_since_last_over_mean_gap` (days from the last active day to `T` over the
  mean gap: above 1 means the next event is overdue).
- `reading_features(df, snapshots, mapping, full_count=...)`: readings are summed per day. With
  a `count` column (how many intervals a row covers) a day's value is scaled to a full day,
  `sum(value) * full_count / sum(count)`, so a partly read day does not look like a drop, and
  `_partial_days_` counts the days with `0 < sum(count) < full_count`.
- Windows are days (`90`) or calendar spans (`"3m"`, `"1y"`): `"1y"` at `T` is
  `[T - 1 year, T)` by the calendar, 366 days across 29 February (from 29 February one year back
  is 28 February), so a yearly window loses no day in a leap year; names end in `_90d` or `_1y`.
- `event_label(table, snapshot, horizon, mapping, where=...)`: 1 when an id has an event
  with time in `[T, T + horizon)` (days or a calendar span), else 0; `where` picks the rows
  (an expression of the table's columns in the rule language, a boolean mask, or a function).
- `flat_frame(*frames, snapshot=...)`: joins builder frames and labels (indexed by id and
  `snapshot_date`) and keeps one snapshot: one row per id, ready for a flat-table fit.
- Bad input gets a named error: a missing column, a value column that is not numeric, a time
  column that is not dates (numbers are refused rather than read as nanoseconds), a bad window.

```python
import pandas as pd
from powerprofile.features import event_features, event_label, flat_frame

log = pd.DataFrame({{
    "user": ["u1", "u1", "u1", "u2", "u1"],
    "at": pd.to_datetime(["2025-01-02", "2025-01-02", "2025-01-20", "2025-02-10", "2025-03-05"]),
    "amount": [30.0, 30.0, 12.5, 8.0, 20.0],
    "items": [2, 2, 1, 1, 3],
    "kind": ["buy", "buy", "buy", "buy", "cancel"],
}})
mapping = {{"id": "user", "time": "at"}}
X = event_features(log, "2025-03-01", {{**mapping, "value": ["amount", "items"]}},
                   windows=(30, "1y"), prefix="shop")
y = event_label(log, "2025-03-01", "1m", mapping, where="kind == 'cancel'")
train = flat_frame(X, y.rename("cancelled"))  # one row per user
assert train.loc["u1", "shop_active_days_1y"] == 2 and train.loc["u1", "cancelled"] == 1
```

## Saving feature frames

Feature frames are plain pandas frames: `to_parquet`, `to_feather` and `to_csv` work as for any
frame. The leakage report travels in `frame.attrs["leakage_report"]` as JSON-serialisable records
(ISO timestamps, ints, bools), so Parquet and Feather files keep it and `leakage_report(frame)`
reads it back as a typed frame; CSV keeps no `attrs`. Parquet and Feather restore every column
dtype (`float32`, `category` with its categories, `bool`, `int8` labels); pyarrow gives the
`customer_id` index level back as pandas' default `str` rather than `string` (same values). CSV
keeps only text: `restore_dtypes(pd.read_csv(path), like=frame)` gives the frame that was written,
index and dtypes included (`like` can be any frame built with the same options, or an empty one
kept next to the CSV: `frame.head(0).to_parquet(...)`).

```python
import pandas as pd
from powerprofile.features import build_features, leakage_report, restore_dtypes

features = build_features("data/sample", "2026-01-01")
features.to_parquet("features.parquet")
report = leakage_report(pd.read_parquet("features.parquet"))
features.to_csv("features.csv")
back = restore_dtypes(pd.read_csv("features.csv"), like=features.head(0))
```

"""


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and v != v) or str(v) == "<NA>":
        return ""
    return str(v).replace("|", "\\|")


def render_catalog() -> str:
    """The catalogue as a Markdown document (one table per source)."""
    cat = feature_catalog()
    out = [_HEADER.format(n=len(cat))]
    for source, group in cat.groupby("source", sort=False):
        out.append(f"## {source}\n\n")
        out.append(
            "| name | window (days) | unit | description | 说明 | reason (en) | 理由 (zh) |\n"
        )
        out.append("|---|---|---|---|---|---|---|\n")
        for r in group.itertuples(index=False):
            cells = [
                f"`{r.name}`",
                _cell(r.window_days),
                _cell(r.unit),
                _cell(r.description_en),
                _cell(r.description_zh),
                f"`{r.template_en}`",
                f"`{r.template_zh}`",
            ]
            out.append("| " + " | ".join(cells) + " |\n")
        out.append("\n")
    return "".join(out)


def main(argv=None) -> int:
    """Write the catalogue to the path given (default ``docs/features.md``)."""
    argv = sys.argv[1:] if argv is None else argv
    target = Path(argv[0] if argv else "docs/features.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_catalog(), encoding="utf-8")
    print(f"wrote {target} ({len(feature_catalog())} features)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

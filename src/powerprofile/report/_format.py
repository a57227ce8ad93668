"""Numbers and tables as a manager reads them.

Ratios are shown as percentages (``39.9 %``), probabilities as percentages with the
precision they need (``0.39 %``), counts with thousands separators, rates with one
decimal and their unit in the column name. Column names are plain language in English
and Chinese; the technical term (``Brier score``, ``ECE``, ``lift``) and its meaning
are in the header's hover text (``title``), and feature columns are named by the
feature catalogue's descriptions.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._kpis import KPI_LABELS

__all__ = [
    "Column",
    "column_for",
    "feature_label",
    "fmt_count",
    "fmt_pct",
    "fmt_prob",
    "html_table",
]

DASH = "–"


def _missing(x) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def fmt_pct(x, digits: int = 1) -> str:
    """A ratio as a percentage: ``0.3988 -> "39.9 %"``."""
    if _missing(x):
        return DASH
    return f"{float(x) * 100:,.{digits}f} %"


def fmt_prob(x) -> str:
    """A probability as a percentage with the precision it needs.

    ``0.3988 -> "39.9 %"``, ``0.003929 -> "0.39 %"``, ``0.0000412 -> "0.0041 %"``.
    """
    if _missing(x):
        return DASH
    v = float(x) * 100
    if v == 0 or abs(v) >= 1:
        return f"{v:,.1f} %"
    digits = min(6, 1 - math.floor(math.log10(abs(v))))  # two significant digits
    return f"{v:.{digits}f} %"


def fmt_pp(x, digits: int = 1) -> str:
    """A difference of two ratios in percentage points: ``0.012 -> "+1.2 pp"``."""
    if _missing(x):
        return DASH
    return f"{float(x) * 100:+.{digits}f} pp"


def fmt_count(x) -> str:
    """A count: ``1836 -> "1,836"``."""
    if _missing(x):
        return DASH
    return f"{float(x):,.0f}"


def fmt_num(x) -> str:
    """A measurement with about three significant digits: ``9.7268 -> "9.73"``."""
    if _missing(x):
        return DASH
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    v = float(x)
    a = abs(v)
    if a >= 100 or a == 0:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.{min(6, 2 - math.floor(math.log10(a)))}f}"


def _fixed(digits: int, unit: str = "") -> Callable:
    def fmt(x) -> str:
        if _missing(x):
            return DASH
        return f"{float(x):,.{digits}f}{unit}"

    return fmt


def _text(x) -> str:
    if _missing(x):
        return DASH
    if isinstance(x, pd.Timestamp):
        return x.strftime("%Y-%m-%d") if x == x.normalize() else x.strftime("%Y-%m-%d %H:%M")
    return str(x)


@dataclass(frozen=True)
class Column:
    """How one column is shown.

    Attributes
    ----------
    label : str
        Header (English · Chinese), plain language.
    fmt : callable
        Value -> text.
    title : str
        Hover text of the header (the technical term and its meaning); may be empty.
    numeric : bool
        Right-aligned.
    wrap : bool
        Long text that may wrap over lines.
    """

    label: str
    fmt: Callable = _text
    title: str = ""
    numeric: bool = True
    wrap: bool = False


_PER_MONTH = {
    "contacts_per_1000": ("Contacts per 1,000 customers per month", "千户月均接触量"),
    "complaints_per_10000": ("Complaints per 10,000 customers per month", "万户月均投诉量"),
}
_KPI_FMT = {
    "contacts_per_1000": _fixed(1),
    "complaints_per_10000": _fixed(1),
    "digital_adoption": fmt_pct,
    "online_payment_share": fmt_pct,
    "repeat_contact_rate_7d": fmt_pct,
    "mean_satisfaction": _fixed(2, " / 5"),
}
_KPI_TITLE = {
    "customers": "Customers in service in the period (supply started, no closure before it).",
    "active_customers": "Distinct customers who contacted or paid through the channel.",
    "contacting_customers": "Distinct customers with at least one contact through the channel.",
    "digital_adoption": "Share of contacting customers whose contacts were mostly (more than "
    "half) through the app or WeChat. A customer-level figure: the same for every channel.",
    "online_payment_share": "Share of payments made through app, WeChat, Alipay or bank "
    "withholding. A customer-level figure: the same for every channel.",
    "repeat_contact_rate_7d": "Share of contacts that came within 7 days of the same "
    "customer's previous contact.",
}

_METRICS = {
    "n": ("Customers evaluated", "评估用户数", fmt_count, ""),
    "positive_rate": (
        "Event rate",
        "实际发生率",
        fmt_prob,
        "Share of the evaluated customers who had the event (churned or complained).",
    ),
    "roc_auc": (
        "Ranking quality",
        "排序能力",
        _fixed(3),
        "ROC AUC: the chance that a customer who had the event is scored above one "
        "who did not. 0.5 is a coin toss, 1 is perfect.",
    ),
    "pr_auc": (
        "Precision on rare events",
        "稀有事件精度",
        _fixed(3),
        "PR AUC (average precision): how pure the list is at every length. A random "
        "list scores the event rate, a perfect one 1.",
    ),
    "brier": (
        "Probability error",
        "概率误差",
        _fixed(4),
        "Brier score: mean squared gap between the predicted probability and what "
        "happened (0 or 1). Lower is better.",
    ),
    "log_loss": (
        "Probability penalty",
        "对数损失",
        _fixed(3),
        "Log loss: penalises confident wrong probabilities. Lower is better.",
    ),
    "ece": (
        "Calibration gap",
        "校准偏差",
        lambda x: fmt_pct(x, 2),
        "ECE (expected calibration error), equal-count bins: average gap between "
        "predicted probability and observed rate, in percentage points. Lower is better.",
    ),
    "ece_uniform": (
        "Calibration gap (equal-width bins)",
        "校准偏差（等宽分箱）",
        lambda x: fmt_pct(x, 2),
        "ECE over equal-width probability bins: average gap between predicted "
        "probability and observed rate, in percentage points.",
    ),
}
for _k in (5, 10, 20):
    _METRICS[f"lift_{_k}"] = (
        f"Top {_k} % vs average",
        f"前{_k}%提升倍数",
        _fixed(1, "×"),
        f"Lift: event rate among the {_k} % highest-scored customers divided by the "
        "overall event rate.",
    )
    _METRICS[f"capture_{_k}"] = (
        f"Events caught in top {_k} %",
        f"前{_k}%命中占比",
        fmt_pct,
        f"Capture: share of all events that fall among the {_k} % highest-scored customers.",
    )

METRIC_NAMES = {k: (en, zh, title) for k, (en, zh, _f, title) in _METRICS.items()}
"""Model metric -> (plain English name, Chinese name, technical term and meaning)."""

_OTHER = {
    "share": Column("Share of customers · 用户占比", fmt_pct),
    "size": Column("Customers · 用户数", fmt_count),
    "churn_rate": Column(
        "Churn rate (observed) · 实际流失率",
        fmt_pct,
        "Share of the segment's customers who "
        "churned within the horizon after the latest training snapshot.",
    ),
    "complaint_rate": Column(
        "Complaint rate (observed) · 实际投诉率",
        fmt_pct,
        "Share of the segment's customers "
        "who filed a complaint within the horizon after the latest training snapshot.",
    ),
    "contact_share": Column("Share of contacts · 接触占比", fmt_pct),
    "amount": Column("Amount (yuan) · 金额（元）", fmt_count),
    "count": Column("Customers flagged · 命中用户数", fmt_count),
    "n_rows": Column("Customers checked · 检查用户数", fmt_count),
    "rows": Column("Rows · 行数", fmt_count),
    "lift": Column("Times the average rate · 提升倍数", _fixed(1, "×"), "Lift"),
    "cumulative_lift": Column("Cumulative lift · 累计提升倍数", _fixed(1, "×"), "Lift"),
    "capture": Column("Share of events caught · 命中占比", fmt_pct, "Capture"),
    "cumulative_capture": Column("Share of events caught so far · 累计命中占比", fmt_pct),
    "cumulative_share": Column("Share of customers so far · 累计用户占比", fmt_pct),
    "top_share": Column("Highest-scored share · 高分用户占比", lambda x: fmt_pct(x, 0)),
    "event_rate": Column("Observed rate · 实际发生率", fmt_prob),
    "mean_score": Column("Mean probability · 平均概率", fmt_prob),
    "min_score": Column("Lowest probability · 最低概率", fmt_prob),
    "max_score": Column("Highest probability · 最高概率", fmt_prob),
    "events": Column("Events · 事件数", fmt_count),
    "churn_score": Column(
        "Churn probability · 流失概率", fmt_prob, "churn_score: calibrated probability"
    ),
    "complaint_score": Column(
        "Complaint probability · 投诉概率", fmt_prob, "complaint_score: calibrated probability"
    ),
}


@functools.cache
def _catalog() -> pd.DataFrame | None:
    try:
        from ..features import feature_catalog

        cat = feature_catalog()
    except Exception:  # no catalogue: raw feature names are shown
        return None
    return cat.drop_duplicates("name").set_index("name")


def feature_info(name) -> tuple[str, str | None, str | None]:
    """(English description, Chinese description, unit) of a feature, from the catalogue."""
    cat = _catalog()
    name = str(name)
    if cat is None or name not in cat.index:
        return name, None, None
    row = cat.loc[name]
    unit = row["unit"] if pd.notna(row["unit"]) else None
    return str(row["description_en"]), str(row["description_zh"]), unit


def feature_label(name, sep: str = " · ") -> str:
    """The catalogue's ``"English · 中文"`` description of a feature (its name if unknown)."""
    en, zh, _unit = feature_info(name)
    return f"{en}{sep}{zh}" if zh else en


def fmt_feature_value(name, x) -> str:
    """A feature value with its catalogue unit: share as %, kWh/day, yuan, days."""
    _en, _zh, unit = feature_info(name)
    if _missing(x):
        return DASH
    if isinstance(x, str):
        return x
    if unit == "share":
        return fmt_pct(x)
    if unit in ("kWh/day", "kWh/day per day", "minutes", "days"):
        return f"{fmt_num(x)} {unit}"
    if unit == "CNY":
        return f"{fmt_num(x)} yuan"
    return fmt_num(x)


def column_for(name, series: pd.Series | None = None) -> Column:
    """How column ``name`` is shown (label, format, hover text)."""
    key = str(name)
    if key in _PER_MONTH or key in KPI_LABELS:
        en, zh = _PER_MONTH.get(key, KPI_LABELS.get(key))
        return Column(f"{en} · {zh}", _KPI_FMT.get(key, fmt_count), _KPI_TITLE.get(key, key))
    if key in _METRICS:
        en, zh, fmt, title = _METRICS[key]
        return Column(f"{en} · {zh}", fmt, title)
    if key in _OTHER:
        return _OTHER[key]
    cat = _catalog()
    numeric = series is None or pd.api.types.is_numeric_dtype(series)
    if cat is not None and key in cat.index and numeric and cat.at[key, "unit"] != "category":
        return Column(
            feature_label(key), lambda x, f=key: fmt_feature_value(f, x), f"feature {key}"
        )
    if key.startswith("median_"):
        feat = key[len("median_") :]
        return Column(
            f"Median: {feature_label(feat)}",
            lambda x, f=feat: fmt_feature_value(f, x),
            f"{key}: segment median of the feature {feat}",
        )
    if key.endswith("_score") or key.startswith("mean_score"):
        return Column(key, fmt_prob)
    if key.endswith(("_share", "_rate")) or "_rate_" in key:
        return Column(key, fmt_pct)
    if series is not None and len(series):
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            return Column(key, _text, numeric=False)
        if pd.api.types.is_integer_dtype(series):
            return Column(key, fmt_count)
        return Column(key, fmt_num)
    return Column(key, _text, numeric=False)


def html_table(
    df: pd.DataFrame,
    max_rows: int = 30,
    columns: Mapping[str, Column] | None = None,
    index: bool = False,
) -> str:
    """An escaped HTML table with readable headers and formatted numbers.

    Parameters
    ----------
    df : pandas.DataFrame
        The data; a meaningful (non-range) index becomes the first column.
    max_rows : int, default=30
        Rows shown; a note counts the rest.
    columns : mapping of str to Column, optional
        Overrides of :func:`column_for` per column.
    index : bool, default=False
        Keep a range index as a column.

    Returns
    -------
    str
        ``<div class="scroll"><table class="dataframe">...</table></div>``.
    """
    if df is None or len(df.columns) == 0:
        return "<p>(empty)</p>"
    shown = df.head(max_rows)
    if index or not isinstance(shown.index, pd.RangeIndex):
        shown = shown.reset_index()
    shown.columns = [str(c) for c in shown.columns]
    columns = dict(columns or {})
    specs = [columns.get(c) or column_for(c, shown[c]) for c in shown.columns]
    head = []
    for spec in specs:
        label = html.escape(spec.label)
        if spec.title:
            label = f'<abbr title="{html.escape(spec.title, quote=True)}">{label}</abbr>'
        head.append(f"<th>{label}</th>")
    rows = []
    for values in shown.itertuples(index=False, name=None):  # at most max_rows rows
        cells = []
        for spec, v in zip(specs, values, strict=True):
            text = html.escape(spec.fmt(v))
            if spec.numeric:
                cells.append(f'<td class="n">{text}</td>')
            else:
                cells.append(f'<td class="wrap">{text}</td>' if spec.wrap else f"<td>{text}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    out = (
        '<div class="scroll"><table class="dataframe">\n<thead><tr>'
        + "".join(head)
        + "</tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table></div>"
    )
    if len(df) > max_rows:
        out += f'<p class="meta">First {max_rows} of {len(df):,} rows.</p>'
    return out

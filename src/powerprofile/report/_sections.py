"""The report's sections, each an HTML fragment built from optional inputs.

A section whose input is missing says so; a section never raises for a missing input
(the caller catches anything else and shows it in the section). Every chart is an
inline SVG (:meth:`Labeller.svg`), every table goes through
:func:`~powerprofile.report._format.html_table`, and every feature is named by the
feature catalogue's English and Chinese description.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from functools import cached_property

import numpy as np
import pandas as pd

from ._charts import (
    Labeller,
    bar_figure,
    channel_label,
    channel_mix_figure,
    customer_type_label,
    gains_calibration_figure,
    kpi_trends_figure,
    payment_channel_label,
    score_box_figure,
)
from ._format import (
    Column,
    column_for,
    feature_label,
    fmt_count,
    fmt_feature_value,
    fmt_pct,
    html_table,
)
from ._kpis import KPI_COLUMNS, channel_kpis, payment_channel_mix
from ._summary import metrics_table, model_sentence

__all__ = ["BANDS", "KpiFrames"]

BANDS = (("high", "High", "高"), ("medium", "Medium", "中"), ("low", "Low", "低"))
"""Score bands in reading order: (code, English, Chinese)."""

_FRAME_NAMES = {
    "gains": "Gains by decile · 分十分位增益",
    "gains_baseline": "Gains by decile, simple baseline · 基线分十分位增益",
    "lift": "Lift and capture in the top 5, 10 and 20 % · 高分段提升与命中",
    "calibration": "Calibration table · 校准表",
}
_TARGETS = {"churn": ("Churn", "流失"), "complaint": ("Complaint", "投诉")}
_PER_CHANNEL = (
    "active_customers",
    "contacting_customers",
    "contacts",
    "contacts_per_1000",
    "complaints",
    "complaints_per_10000",
    "repeat_contact_rate_7d",
    "mean_satisfaction",
)
_CUSTOMER_LEVEL = ("customers", "digital_adoption", "payments", "online_payment_share")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def details(summary: str, block: str) -> str:
    """A collapsed block (no script needed): ``<details><summary>…``."""
    return f"<details><summary>{_e(summary)}</summary>\n{block}\n</details>"


def missing(what: str, how: str) -> str:
    """The note of a section whose input was not given."""
    return (
        f'<p class="missing">Not available: {_e(what)} was not given. '
        f"Pass <code>{_e(how)}</code> to <code>write_report</code> to include it.</p>"
    )


def target_label(target) -> str:
    """``"Churn · 流失"`` for a model target."""
    en, zh = _TARGETS.get(str(target), (str(target), None))
    return f"{en} · {zh}" if zh else en


def is_figure(obj) -> bool:
    """Whether ``obj`` is a matplotlib Figure."""
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, Figure)


def as_frame(obj, value_name: str = "value") -> pd.DataFrame | None:
    """A DataFrame from a frame, series, mapping or records."""
    if obj is None:
        return None
    if isinstance(obj, pd.DataFrame):
        return obj
    if isinstance(obj, pd.Series):
        name = obj.name if obj.name is not None else value_name
        return obj.rename(name).rename_axis(obj.index.name or "name").reset_index()
    if isinstance(obj, Mapping):
        return pd.DataFrame({"name": list(obj), value_name: list(obj.values())})
    return pd.DataFrame(obj)


def first_column(columns, *candidates):
    """The first of ``candidates`` among ``columns`` (case-insensitive), else None."""
    cols = {str(c).lower(): c for c in columns}
    for cand in candidates:
        if cand in cols:
            return cols[cand]
    return None


# --------------------------------------------------------------------------- KPI frames
class KpiFrames:
    """The channel KPI frames of one report, each computed once.

    Parameters
    ----------
    tables : Tables or mapping or None
        Validated tables.
    kpis : pandas.DataFrame or None
        A precomputed ``channel_kpis`` frame (by month and channel, or by month).
    """

    def __init__(self, tables, kpis):
        self.tables = tables
        self.kpis = kpis
        self._by: dict[tuple, pd.DataFrame] = {}

    @property
    def available(self) -> bool:
        """Whether any KPI can be shown."""
        return self.tables is not None or self.kpis is not None

    def by(self, *keys) -> pd.DataFrame | None:
        """``channel_kpis(tables, by=keys)`` (cached); None without tables."""
        if self.tables is None:
            return None
        if keys not in self._by:
            self._by[keys] = channel_kpis(self.tables, by=keys)
        return self._by[keys]

    @cached_property
    def month_channel(self) -> pd.DataFrame | None:
        """KPIs by month and channel (None when the given frame has neither)."""
        mc = self.kpis if self.kpis is not None else self.by("month", "channel")
        if mc is None or "channel" not in mc.columns or "month" not in mc.columns:
            return None
        return mc

    @cached_property
    def month(self) -> pd.DataFrame | None:
        """KPIs by month (all channels)."""
        if self.tables is not None:
            return self.by("month")
        if self.kpis is None or "month" not in self.kpis.columns:
            return None
        return _month_totals(self.kpis)


def _month_totals(mc: pd.DataFrame) -> pd.DataFrame:
    """Month-level KPIs from a (month, channel) KPI frame."""
    if "channel" not in mc.columns:
        return mc
    g = mc.groupby("month", sort=True)
    m = g[["contacts", "complaints"]].sum()
    for col in ("customers", "digital_adoption", "payments", "online_payment_share"):
        if col in mc:
            m[col] = g[col].first()
    m["contacts_per_1000"] = m["contacts"] / m["customers"].replace(0, np.nan) * 1_000
    m["complaints_per_10000"] = m["complaints"] / m["customers"].replace(0, np.nan) * 10_000
    if "repeat_contact_rate_7d" in mc:
        rep = (mc["repeat_contact_rate_7d"].fillna(0) * mc["contacts"]).groupby(mc["month"]).sum()
        m["repeat_contact_rate_7d"] = rep / m["contacts"].replace(0, np.nan)
    m = m.reset_index()
    return m[[c for c in ("month", *KPI_COLUMNS) if c in m.columns]]


def _whole_period(frames: KpiFrames, key: str) -> pd.DataFrame:
    """KPIs by ``key`` over the whole period, with rates per customer-month.

    Contacts per 1,000 and complaints per 10,000 are per month: the period's contacts
    (complaints) over the customer-months in service (the sum over months of the
    customers in service), so a two-year period reads like a month.
    """
    whole = frames.by(key).set_index(key)
    cm = frames.by("month", key).groupby(key, observed=True)["customers"].sum()
    cm = cm.reindex(whole.index).replace(0, np.nan)
    whole["contacts_per_1000"] = whole["contacts"] / cm * 1_000
    whole["complaints_per_10000"] = whole["complaints"] / cm * 10_000
    return whole.reset_index()


# --------------------------------------------------------------------------- sections
def section_kpis(frames: KpiFrames, lab: Labeller, max_rows: int) -> str:
    """Channel KPI trends: chart, latest month per channel, monthly totals, breakdowns."""
    if not frames.available:
        return missing("channel KPIs (or the tables to compute them)", "kpis= or tables=")
    m = frames.month
    if m is None:
        return (
            '<p class="note">The KPI frame has no <code>month</code> column, so no trend '
            "can be drawn; it is shown as a table.</p>" + html_table(frames.kpis, max_rows)
        )
    mc = frames.month_channel
    parts = [
        "<p>Per month: contacts per 1,000 and complaints per 10,000 customers in service, "
        "the 7-day repeat-contact rate and mean satisfaction per channel; digital adoption "
        "(share of contacting customers whose contacts were mostly through the app or "
        "WeChat) and online payment share (app, WeChat, Alipay, bank withholding) for all "
        "customers.</p>",
        lab.svg(kpi_trends_figure(mc, m, lab), "Channel KPI trends per month"),
    ]
    last = m["month"].max()
    parts.append(f"<h3>Latest month ({_e(f'{last:%Y-%m}')}) · 最近一个月</h3>")
    if mc is not None:
        latest = mc[mc["month"] == last]
        per_channel = latest[["channel", *[c for c in _PER_CHANNEL if c in latest]]]
        per_channel = per_channel.assign(channel=[channel_label(c) for c in latest["channel"]])
        parts.append("<p class='meta'>Per channel · 分渠道</p>")
        parts.append(
            html_table(
                per_channel,
                max_rows,
                columns={"channel": Column("Channel · 渠道", numeric=False)},
            )
        )
    month_row = m[m["month"] == last]
    cust = month_row[[c for c in _CUSTOMER_LEVEL if c in month_row]]
    parts.append(
        "<p class='meta'>Customer-level figures, all channels together (the same whatever "
        "the channel) · 客户层面指标（全渠道）</p>"
    )
    parts.append(html_table(cust, max_rows))
    monthly = m.sort_values("month", ascending=False).assign(
        month=lambda d: d["month"].dt.strftime("%Y-%m")
    )
    parts.append(
        details(
            "Monthly totals, all channels · 月度汇总",
            html_table(monthly, max_rows, columns={"month": Column("Month · 月份", numeric=False)}),
        )
    )
    if frames.tables is not None:
        for key, en, zh, label in (
            ("region", "By region", "分地区", "Region · 地区"),
            ("customer_type", "By customer type", "分用户类型", "Customer type · 用户类型"),
            ("grid_unit", "By grid unit, busiest first", "分网格", "Grid unit · 网格"),
        ):
            df = _whole_period(frames, key)
            if key == "grid_unit":
                df = df.sort_values("contacts", ascending=False, kind="stable")
            if key == "customer_type":
                df[key] = [customer_type_label(c) for c in df[key]]
            block = html_table(df, max_rows, columns={key: Column(label, numeric=False)})
            head = f"{en} (whole period; rates per month) · {zh}"
            if key == "grid_unit":
                parts.append(details(head, block))
            else:
                parts.append(f"<h3>{_e(head)}</h3>{block}")
    return "\n".join(parts)


def section_mix(frames: KpiFrames, lab: Labeller, max_rows: int) -> str:
    """Channel mix: stacked shares of contacts and payments per channel."""
    if not frames.available:
        return missing("channel KPIs (or the tables to compute them)", "kpis= or tables=")
    mc = frames.month_channel
    pay = payment_channel_mix(frames.tables, by=("month",)) if frames.tables is not None else None
    if mc is None and pay is None:
        return '<p class="missing">Not available: the KPI frame has no month and channel.</p>'
    parts = [lab.svg(channel_mix_figure(mc, pay, lab), "Channel mix per month")]
    if mc is not None:
        tot = mc.groupby("channel", observed=False)[["contacts", "complaints"]].sum()
        tot["contact_share"] = tot["contacts"] / max(tot["contacts"].sum(), 1)
        tot.index = [channel_label(c) for c in tot.index]
        parts.append("<h3>Contacts by channel (whole period) · 各渠道接触量</h3>")
        parts.append(
            html_table(
                tot.rename_axis("channel").reset_index(),
                max_rows,
                columns={"channel": Column("Channel · 渠道", numeric=False)},
            )
        )
    if pay is not None:
        ptot = pay.groupby("payment_channel", observed=False)[["payments", "amount"]].sum()
        ptot["share"] = ptot["payments"] / max(ptot["payments"].sum(), 1)
        ptot.index = [payment_channel_label(c) for c in ptot.index]
        parts.append("<h3>Payments by channel (whole period) · 各缴费渠道</h3>")
        parts.append(
            html_table(
                ptot.rename_axis("payment_channel").reset_index(),
                max_rows,
                columns={
                    "payment_channel": Column("Payment channel · 缴费渠道", numeric=False),
                    "share": Column("Share of payments · 笔数占比", fmt_pct),
                },
            )
        )
    return "\n".join(parts)


def section_segments(profile, names, lab: Labeller, max_rows: int) -> str:
    """Segment profiles: sizes chart and the profile table with feature descriptions."""
    if profile is None:
        return missing("a segment profile", "segment_profile=")
    prof = as_frame(profile)
    seg_col = first_column(prof.columns, "segment", "segment_id", "cluster", "label")
    if seg_col is None:
        prof = prof.rename_axis(prof.index.name or "segment").reset_index()
        seg_col = prof.columns[0]
    else:
        prof = prof.reset_index(drop=True)
    size_col = first_column(prof.columns, "size", "n_customers", "count", "n", "customers")
    en_col = first_column(prof.columns, "name_en", "segment_name_en", "name")
    zh_col = first_column(prof.columns, "name_zh", "segment_name_zh")
    names = dict(names or {})
    pairs = []
    for _, row in prof.iterrows():  # one row per segment: a handful
        en, zh = names.get(row[seg_col], (None, None))
        en = en or (row[en_col] if en_col is not None else None)
        zh = zh or (row[zh_col] if zh_col is not None else None)
        pairs.append((None if pd.isna(en) else str(en), None if pd.isna(zh) else str(zh)))
    is_all = (prof[seg_col].astype(str) == "-1").to_numpy()
    parts = []
    if size_col is not None:
        labels, sizes = [], []
        rows = zip(pairs, prof[seg_col], prof[size_col], is_all, strict=True)
        for (en, zh), sid, size, everyone in rows:
            if everyone:  # the profile's "all customers" row
                continue
            text = f"{sid}" + (f": {en}" if en else "")
            labels.append(text + (f"\n{zh}" if zh else ""))
            sizes.append(size)
        fig = bar_figure(
            labels,
            pd.to_numeric(pd.Series(sizes, dtype=object), errors="coerce").fillna(0).to_numpy(),
            lab("Customers per segment", "各客群用户数"),
        )
        parts.append(lab.svg(fig, "Customers per segment"))
    shown = pd.DataFrame({"segment": prof[seg_col].astype(str).to_numpy()})
    shown["name"] = [" · ".join(x for x in (en, zh) if x) if (en or zh) else "" for en, zh in pairs]
    if size_col is not None:
        shown["size"] = pd.to_numeric(prof[size_col], errors="coerce").to_numpy()
    defining = _defining_features(prof, seg_col)
    if defining is not None:
        shown["defining"] = defining
    med = [c for c in prof.columns if str(c).startswith("median_")]
    skip = {seg_col, size_col, en_col, zh_col, *med}
    for c in prof.columns:
        if c not in skip:
            shown[str(c)] = prof[c].to_numpy()
    parts.append(
        "<p>One row per segment: its size and share, the three features whose segment "
        "median departs most from all customers' median (defining features) and the "
        "observed churn and complaint rates. The medians of every profiled feature follow, "
        "one row per feature.</p>"
    )
    parts.append(
        html_table(
            shown,
            max_rows,
            columns={
                "segment": Column("Segment · 客群", numeric=False),
                "name": Column("Name · 名称", numeric=False, wrap=True),
                "defining": Column("Defining features · 主要特征", numeric=False, wrap=True),
            },
        )
    )
    if med:
        feats = [str(c)[len("median_") :] for c in med]
        ids = ["All · 全部" if x else str(s) for s, x in zip(prof[seg_col], is_all, strict=True)]
        medians = pd.DataFrame(
            {
                "feature": [feature_label(f) for f in feats],
                **{
                    sid: [
                        fmt_feature_value(f, prof[c].iloc[i])
                        for f, c in zip(feats, med, strict=True)
                    ]
                    for i, sid in enumerate(ids)
                },
            }
        )
        cols = {"feature": Column("Median of · 中位数", numeric=False)}
        cols.update({sid: Column(f"Segment {sid}" if sid[0] != "A" else sid) for sid in ids})
        parts.append(
            details(
                "Medians per segment · 各客群特征中位数", html_table(medians, 100, columns=cols)
            )
        )
    return "\n".join(parts)


def _defining_features(prof: pd.DataFrame, seg_col, k: int = 3):
    """Per segment, the ``median_*`` features farthest from the all-customers row (-1)."""
    med = [c for c in prof.columns if str(c).startswith("median_")]
    is_all = prof[seg_col].astype(str) == "-1"
    if not med or is_all.sum() != 1:
        return None
    values = prof[med].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    ref = values[is_all.to_numpy()][0]
    scale = np.where(np.abs(ref) > 0, np.abs(ref), np.nanmax(np.abs(values), axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = np.abs(values - ref) / scale
    dist = np.nan_to_num(dist, nan=-1.0)
    feats = [str(c)[len("median_") :] for c in med]
    out = []
    for i, row in enumerate(dist):  # one row per segment: a handful
        if is_all.iloc[i]:
            out.append("")
            continue
        top = [j for j in np.argsort(-row, kind="stable")[:k] if row[j] > 0]
        out.append(
            "\n".join(
                f"{feature_label(feats[j])}: {fmt_feature_value(feats[j], values[i, j])} "
                f"(all {fmt_feature_value(feats[j], ref[j])})"
                for j in top
            )
        )
    return out


def section_models(evaluations, shap_importance, lab: Labeller, max_rows: int) -> str:
    """Model performance per target, then what drives each score (SHAP)."""
    if not evaluations and shap_importance is None:
        return missing("model evaluations or SHAP importance", "evaluations= or shap_importance=")
    parts = []
    if not evaluations:
        parts.append(missing("model evaluations", "evaluations="))
    else:
        if not isinstance(evaluations, Mapping) or "y_true" in evaluations:
            evaluations = {"model": evaluations}
        for target, ev in evaluations.items():
            parts.append(f"<h3>{_e(target_label(target))}</h3>")
            parts.append(_evaluation(ev, lab, max_rows, str(target)))
    parts.append("<h3>What drives the scores · 主要影响因素 (SHAP)</h3>")
    if shap_importance is None:
        parts.append(missing("SHAP importance", "shap_importance="))
    else:
        items = (
            shap_importance.items()
            if isinstance(shap_importance, Mapping)
            and all(
                isinstance(v, (pd.Series, pd.DataFrame, Mapping)) for v in shap_importance.values()
            )
            else [("", shap_importance)]
        )
        for target, imp in items:
            parts.append(_shap(imp, lab, max_rows, str(target)))
    return "\n".join(parts)


def _evaluation(ev, lab: Labeller, max_rows: int, target: str) -> str:
    if isinstance(ev, pd.DataFrame):
        ev = {"metrics": ev}
    if not isinstance(ev, Mapping):
        return f"<p>{_e(ev)}</p>"
    parts = []
    sentence = model_sentence(target, ev)
    if sentence:
        parts.append(f"<p><strong>{_e(sentence)}</strong></p>")
    parts.append(metrics_table(ev))
    if "y_true" in ev and "y_score" in ev:
        curves = {lab.short("model", "模型"): ev["y_score"]}
        if ev.get("y_baseline") is not None:
            curves[lab.short("baseline", "基线")] = ev["y_baseline"]
        fig = gains_calibration_figure(np.asarray(ev["y_true"]), curves, lab)
        parts.append(lab.svg(fig, f"Gains and calibration: {target}"))
    figs, frames = [], []
    for key, val in ev.items():
        if key in ("y_true", "y_score", "y_baseline", "metrics"):
            continue
        if is_figure(val):
            figs.append(lab.svg(val, f"{target}: {key}"))
        elif isinstance(val, (pd.DataFrame, pd.Series)):
            block = html_table(as_frame(val), max_rows)
            name = _FRAME_NAMES.get(str(key), str(key))
            if str(key) == "gains":
                frames.insert(0, details(name, block))
            else:
                frames.append(details(name, block))
        elif isinstance(val, Mapping):
            figs.extend(
                lab.svg(v2, f"{target}: {key} {k2}") for k2, v2 in val.items() if is_figure(v2)
            )
    if figs:
        parts.append(f'<div class="figs">{"".join(figs)}</div>')
    return "\n".join(p for p in parts + frames if p) or "<p>(nothing to show)</p>"


def _shap(imp, lab: Labeller, max_rows: int, target: str) -> str:
    df = as_frame(imp, "importance")
    feat = first_column(df.columns, "feature", "name", "index")
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    val = first_column(
        numeric, "mean_abs_contribution", "importance", "mean_abs_shap", "mean_abs", "value"
    ) or next((c for c in numeric if "abs" in str(c).lower()), numeric[0] if numeric else None)
    if feat is None or val is None:
        return html_table(df, max_rows)
    magnitude = pd.to_numeric(df[val], errors="coerce").abs()
    df = df.assign(**{str(val): magnitude}).sort_values(str(val), ascending=False, kind="stable")
    df = df[df[str(val)] > 0]
    top = df.head(15)
    if not len(top):
        return "<p>Every feature's importance is zero.</p>"
    en, zh = _TARGETS.get(target, (target, None))
    title = lab(
        f"What moves the {en.lower()} score: mean |SHAP| per feature" if target else "Mean |SHAP|",
        f"{zh}得分主要影响因素（平均SHAP绝对值）" if zh else None,
    )
    labels = [feature_label(x, sep="\n") for x in top[feat]]
    fig = bar_figure(labels, top[str(val)].to_numpy(), title, "mean |SHAP| (log-odds)", width=9)
    total = df[str(val)].sum()
    table = pd.DataFrame(
        {
            "feature": [feature_label(x) for x in df[feat]],
            "code": df[feat].astype(str).to_numpy(),
            "share": (df[str(val)] / total).to_numpy() if total > 0 else np.nan,
        }
    )
    mean = first_column(df.columns, "mean_contribution", "mean_shap")
    if mean is not None:
        signed = pd.to_numeric(df[mean], errors="coerce").to_numpy()
        table["direction"] = np.where(
            signed > 0, "raises it · 推高", np.where(signed < 0, "lowers it · 降低", "–")
        )
    cols = {
        "feature": Column("Feature · 特征", numeric=False),
        "code": Column("Code · 代码", numeric=False),
        "share": Column(
            "Share of the score's movements · 贡献占比",
            fmt_pct,
            "The feature's mean |SHAP| (average size of its push on the score, in "
            "log-odds) over the sum for all features",
        ),
        "direction": Column("On average the feature · 平均影响", numeric=False),
    }
    label = target_label(target) if target else ""
    return lab.svg(fig, f"SHAP summary {target}") + details(
        f"Importance table{' — ' + label if label else ''} · 特征重要性表",
        html_table(table, max_rows, columns=cols),
    )


def section_scores(scores, region_column, score_columns, lab: Labeller, max_rows: int) -> str:
    """Score distribution by region, bands (high, medium, low) and the most common reasons."""
    if scores is None:
        return missing("scores (e.g. the portraits)", "scores=")
    df = as_frame(scores)
    if region_column not in df.columns:
        return (
            f'<p class="missing">Not available: the scores have no {_e(repr(region_column))} '
            f"column (columns: {_e(', '.join(map(str, df.columns[:20])))}).</p>"
        )
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    cols = list(score_columns) if score_columns else None
    if cols is None:
        cols = [c for c in numeric if str(c).endswith("_score")]
        cols = cols or [c for c in numeric if "score" in str(c).lower()]
    if not cols:
        return '<p class="missing">Not available: no numeric score column was found.</p>'
    titles = {c: column_for(c).label for c in cols}
    fig = score_box_figure(df, region_column, cols, lab, titles)
    parts = [
        "<p>Box plots (median, quartiles, whiskers at 1.5 IQR) of each predicted "
        "probability per region.</p>",
        lab.svg(fig, "Score distribution by region"),
    ]
    g = df.groupby(df[region_column].astype(str), sort=True)
    summary = pd.DataFrame({"customers": g.size()})
    for c in cols:
        summary[f"{c}|mean"] = g[c].mean()
        summary[f"{c}|median"] = g[c].median()
    spec = {"customers": Column("Customers · 用户数", fmt_count)}
    for c in cols:
        base = column_for(c)
        spec[f"{c}|mean"] = Column(f"{base.label}, mean · 均值", base.fmt)
        spec[f"{c}|median"] = Column(f"{base.label}, median · 中位数", base.fmt)
    spec[str(region_column)] = Column("Region · 地区", numeric=False)
    parts.append(html_table(summary.rename_axis(str(region_column)), max_rows, columns=spec))
    for band in [c for c in df.columns if str(c).endswith("_band")]:
        parts.append(_band_table(df, region_column, band, max_rows))
    parts.append(_reasons(df, max_rows))
    return "\n".join(p for p in parts if p)


def _band_table(df: pd.DataFrame, region_column, band, max_rows: int) -> str:
    values = df[band].astype("string")
    known = [b for b, _en, _zh in BANDS]
    order = known + sorted(set(values.dropna().unique()) - set(known))
    ct = pd.crosstab(df[region_column].astype(str), values).reindex(columns=order, fill_value=0)
    ct = ct.loc[:, [c for c in order if c in known or ct[c].sum() > 0]]
    names = {b: f"{en} · {zh}" for b, en, zh in BANDS}
    target = str(band)[: -len("_band")]
    spec = {str(region_column): Column("Region · 地区", numeric=False)}
    for c in ct.columns:
        spec[str(c)] = Column(f"{names.get(c, c)}", fmt_count)
    head = f"{target_label(target)} band: customers per region · 风险等级分布"
    return f"<p class='meta'>{_e(head)}</p>" + html_table(
        ct.rename_axis(str(region_column)), max_rows, columns=spec
    )


def _reasons(df: pd.DataFrame, max_rows: int) -> str:
    """Most common first reason per target, among the high band (or everyone)."""
    parts = []
    for col in [c for c in df.columns if re.fullmatch(r".+_reason_1_feature", str(c))]:
        target = str(col)[: -len("_reason_1_feature")]
        band = f"{target}_band"
        sel = df
        who = "all scored customers · 全部用户"
        if band in df.columns and (df[band].astype("string") == "high").any():
            sel = df[df[band].astype("string") == "high"]
            who = "customers in the high band · 高风险用户"
        feats = sel[col].dropna().astype(str)
        if not len(feats):
            continue
        counts = feats.value_counts().head(8)
        direction = f"{target}_reason_1_direction"
        rows = pd.DataFrame(
            {
                "reason": [feature_label(f) for f in counts.index],
                "code": counts.index,
                "customers": counts.to_numpy(),
                "share": counts.to_numpy() / len(sel),
            }
        )
        if direction in sel.columns:
            up = sel[direction].astype("string") == "increase"
            rows["raises"] = [float(up[feats == f].mean()) for f in counts.index]  # <= 8 rows
        cols = {
            "reason": Column("Feature · 特征", numeric=False),
            "code": Column("Code · 代码", numeric=False),
            "customers": Column("Customers · 用户数", fmt_count),
            "share": Column("Share · 占比", fmt_pct),
            "raises": Column(
                "Raises the risk · 推高风险",
                fmt_pct,
                "Share of these customers for whom the feature raises the score",
            ),
        }
        head = f"{target_label(target)}: most common first reason, {who} · 首要原因"
        parts.append(f"<p class='meta'>{_e(head)}</p>" + html_table(rows, max_rows, columns=cols))
    return "\n".join(parts)


def _rule_labels(df: pd.DataFrame, rule) -> dict:
    if "label_en" not in df.columns:
        return {}
    first = df.drop_duplicates(rule).set_index(rule)
    out = {}
    for r in first.index:
        en = first.at[r, "label_en"]
        zh = first.at[r, "label_zh"] if "label_zh" in first.columns else None
        en = str(en) if pd.notna(en) else str(r)
        out[r] = f"{en} · {zh}" if zh is not None and pd.notna(zh) else en
    return out


def section_risk(risk_hits, lab: Labeller, max_rows: int) -> str:
    """Risk-rule hits: customers flagged per rule, share per group, full list."""
    if risk_hits is None:
        return missing("risk-rule hits", "risk_hits=")
    df = as_frame(risk_hits)
    rule = first_column(df.columns, "rule", "name", "risk_rule")
    count = first_column(df.columns, "count", "hits", "n_hits", "n")
    group = next(
        (
            c
            for c in df.columns
            if df[c].dtype != float and (df[c].astype("string") == "(all)").any()
        ),
        None,
    )
    if not len(df):
        return "<p>No risk rule was hit.</p>"
    if rule is None or count is None:
        return html_table(df, max_rows)
    overall = df[df[group].astype("string") == "(all)"] if group is not None else df
    tot = overall.groupby(rule, sort=False)[count].sum().sort_values(ascending=False)
    names = _rule_labels(df, rule)
    label = [names.get(r, str(r)) for r in tot.index]
    fig = bar_figure(
        [x.replace(" · ", "\n") for x in label],
        tot.to_numpy(),
        lab("Customers flagged per risk rule", "各风险规则命中用户数"),
    )
    parts = [lab.svg(fig, "Risk-rule hits")]
    rule_col = {str(rule): Column("Risk rule · 风险规则", numeric=False)}
    if group is not None and "share" in df.columns:
        by = df[df[group].astype("string") != "(all)"]
        if len(by):
            wide = by.pivot_table(index=rule, columns=group, values="share", aggfunc="sum")
            wide = wide.reindex([r for r in tot.index if r in wide.index])
            wide.index = [names.get(r, str(r)) for r in wide.index]
            wide.columns = [str(c) for c in wide.columns]
            spec = {**rule_col, **{c: Column(c, fmt_pct) for c in wide.columns}}
            parts.append(
                f"<h3>Share flagged by {_e(group)} · 分组命中率</h3>"
                + html_table(wide.rename_axis(str(rule)), max_rows, columns=spec)
            )
    table = df.drop(columns=[c for c in ("label_en", "label_zh") if c in df.columns])
    table = table.assign(**{str(rule): [names.get(r, str(r)) for r in df[rule]]})
    parts.append(details("All hits · 命中明细", html_table(table, max_rows, columns=rule_col)))
    return "\n".join(parts)


def _without_examples(rep: pd.DataFrame) -> pd.Series:
    """The report's messages without their ``(examples: ...)`` part, wherever it stands.

    The examples text of a row is cut out exactly; a message that still mentions
    examples (a report written by other code) is reduced to its first clause, so no
    example value can reach the page. One row per problem: a small loop.
    """
    messages = rep["message"].astype("string").fillna("").tolist()
    examples = (
        rep["examples"].astype("string").fillna("").tolist()
        if "examples" in rep.columns
        else [""] * len(messages)
    )
    out = []
    for message, ex in zip(messages, examples, strict=True):
        if ex:
            message = message.replace(f" (examples: {ex})", "")
        if "(examples:" in message:
            message = message.split("(examples:", 1)[0].rstrip()
        out.append(message)
    return pd.Series(out, index=rep.index, dtype="string")


def section_validation(validation_report, tables, max_rows: int) -> str:
    """Data validation: rows and quarantined rows per table, the problems found."""
    report = validation_report
    if report is None and tables is not None:
        report = getattr(tables, "report", None)
    if report is None and tables is None:
        return missing(
            "a validation report (or the validated tables)", "validation_report= or tables="
        )
    parts = []
    if tables is not None and hasattr(tables, "items"):
        quarantine = getattr(tables, "quarantine", {}) or {}
        counts = pd.DataFrame(
            [
                {
                    "table": name,
                    "rows": len(frame),
                    "quarantined": len(quarantine.get(name, ())) if quarantine else 0,
                }
                for name, frame in tables.items()
            ]
        )
        end = getattr(tables, "data_end", None)
        if end is not None and not pd.isna(end):
            parts.append(f"<p>Data declared to end on {_e(f'{pd.Timestamp(end):%Y-%m-%d}')}.</p>")
        parts.append(
            html_table(
                counts,
                max_rows,
                columns={
                    "table": Column("Table · 数据表", numeric=False),
                    "quarantined": Column("Quarantined rows · 隔离行数", fmt_count),
                },
            )
        )
    rep = as_frame(report) if report is not None else None
    if rep is None or not len(rep):
        parts.append("<p>No problem was found: every row passed the data contract.</p>")
        return "\n".join(parts)
    # row examples name raw customer ids (and values): they stay in the validation
    # report file, out of a document that is shared
    if "message" in rep.columns:
        rep = rep.assign(message=_without_examples(rep))
    rep = rep.drop(columns=[c for c in rep.columns if str(c).lower() == "examples"])
    parts.append(
        f"<p>{len(rep):,} problem(s) found; each row names the table, column and "
        "check, the number of rows and what was done with them. Example rows are "
        "in the validation report file (<code>Tables.report</code>), not here, as "
        "they carry raw customer ids.</p>"
    )
    parts.append(html_table(rep, max_rows, columns={"n_rows": Column("Rows · 行数", fmt_count)}))
    return "\n".join(parts)

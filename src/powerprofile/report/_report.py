"""The self-contained HTML report (one file, images embedded, no network)."""

from __future__ import annotations

import datetime as _dt
import html
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ._charts import (
    Labeller,
    bar_figure,
    channel_mix_figure,
    figure_to_img,
    gains_calibration_figure,
    kpi_trends_figure,
    score_box_figure,
)
from ._fonts import FontChoice, find_cjk_font
from ._kpis import KPI_COLUMNS, KPI_LABELS, channel_kpis, payment_channel_mix

__all__ = ["SECTIONS", "write_report"]

log = logging.getLogger(__name__)

SECTIONS = (
    ("kpi-trends", "Channel KPI trends", "渠道指标趋势"),
    ("channel-mix", "Channel mix", "渠道结构"),
    ("segments", "Segment profiles", "客群画像"),
    ("models", "Model performance", "模型表现"),
    ("scores", "Score distribution by region", "分地区得分分布"),
    ("risk", "Risk-rule hits", "风险规则命中"),
    ("validation", "Data validation", "数据校验"),
)
"""Report sections: (anchor id, English heading, Chinese heading), in order."""

_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Zen Hei","Microsoft YaHei",
"PingFang SC",system-ui,sans-serif;margin:0 auto;max-width:1180px;padding:0 24px 48px;color:#1d2630}
h1{font-size:1.6em;margin:24px 0 4px}h2{border-bottom:2px solid #1f6fb2;padding-bottom:4px;margin-top:40px}
h3{margin-bottom:6px}.meta{color:#5f6b73;font-size:.9em}.missing{background:#f5f5f5;border-left:4px solid #aab;
padding:8px 12px;color:#444}.section-error{background:#fdecea;border-left:4px solid #c0392b;padding:8px 12px}
.note{background:#fff8e1;border-left:4px solid #e0a800;padding:8px 12px}
table.dataframe{border-collapse:collapse;font-size:.82em;margin:8px 0 16px}
table.dataframe th,table.dataframe td{border:1px solid #d5dbe0;padding:3px 7px;text-align:right}
table.dataframe th{background:#eef3f8}table.dataframe td{white-space:nowrap}img{max-width:100%;height:auto;display:block;margin:8px 0}
nav ol{columns:2}code{background:#f0f0f0;padding:0 3px}.scroll{overflow-x:auto}
.figs{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
details{margin:6px 0 12px}summary{cursor:pointer;color:#1f6fb2}
"""


# --------------------------------------------------------------------------- helpers
def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _fmt(x) -> str:
    if isinstance(x, (float, np.floating)):
        if np.isnan(x):
            return "–"
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        return f"{x:.4g}"
    return str(x)


def _details(summary: str, html_block: str) -> str:
    """A collapsed block (no script needed): ``<details><summary>…``."""
    return f"<details><summary>{_e(summary)}</summary>\n{html_block}\n</details>"


def _table(df: pd.DataFrame, max_rows: int = 30, index: bool = False) -> str:
    """An escaped HTML table (first ``max_rows`` rows, a note when cut), scrolling sideways."""
    if df is None or len(df.columns) == 0:
        return "<p>(empty)</p>"
    shown = df.head(max_rows).copy()
    if not index and not isinstance(shown.index, pd.RangeIndex):
        shown = shown.reset_index()  # a meaningful index (e.g. scorer, segment_id) is kept
    shown.columns.name = None  # crosstab/pivot column titles would add a stray header cell
    for col in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[col]):
            shown[col] = shown[col].dt.strftime("%Y-%m-%d")
    out = shown.to_html(
        index=index, escape=True, na_rep="–", border=0, float_format=_fmt, justify="center"
    )
    out = f'<div class="scroll">{out}</div>'
    if len(df) > max_rows:
        out += f'<p class="meta">First {max_rows} of {len(df):,} rows.</p>'
    return out


def _missing(what: str, how: str) -> str:
    return (
        f'<p class="missing">Not available: {_e(what)} was not given. '
        f"Pass <code>{_e(how)}</code> to <code>write_report</code> to include it.</p>"
    )


def _is_figure(obj) -> bool:
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, Figure)


def _as_frame(obj, value_name: str = "value") -> pd.DataFrame | None:
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


def _first(columns, *candidates):
    cols = {str(c).lower(): c for c in columns}
    for cand in candidates:
        if cand in cols:
            return cols[cand]
    return None


# --------------------------------------------------------------------------- sections
def _section_kpis(kpis, tables, lab, max_rows):
    if kpis is None and tables is None:
        return _missing("channel KPIs (or the tables to compute them)", "kpis= or tables=")
    mc = kpis if kpis is not None else channel_kpis(tables, by=("month", "channel"))
    if "month" not in mc.columns:
        return (
            '<p class="note">The KPI frame has no <code>month</code> column, so no trend '
            "can be drawn; it is shown as a table.</p>" + _table(mc, max_rows)
        )
    if tables is not None:
        m = channel_kpis(tables, by=("month",))
    else:
        m = _month_totals(mc)
    if "channel" not in mc.columns:
        mc = None
    parts = [
        "<p>Line charts of the channel KPIs per month: contacts and complaints are per 1,000 "
        "and per 10,000 customers in service; digital adoption is the share of contacting "
        "customers whose contacts in the month were mostly (more than half) online "
        "(app, WeChat); online payment share counts app, WeChat, Alipay and bank "
        "withholding payments.</p>",
        figure_to_img(kpi_trends_figure(mc, m, lab), "Channel KPI trends per month"),
    ]
    last = m["month"].max()
    latest = mc if mc is not None else m
    latest = latest[latest["month"] == last].drop(columns="month")
    if "channel" in latest:
        latest = latest.assign(channel=[lab_channel(c) for c in latest["channel"]])
    parts.append(f"<h3>Latest month ({_e(f'{last:%Y-%m}')}) · 最近一个月</h3>")
    parts.append(_table(_labelled(latest), max_rows))
    parts.append(
        _details(
            "Monthly totals · 月度汇总",
            _table(_labelled(m.sort_values("month", ascending=False)), max_rows),
        )
    )
    if tables is not None:
        for key, en, zh in (
            ("region", "By region (whole period)", "分地区"),
            ("customer_type", "By customer type (whole period)", "分用户类型"),
            ("grid_unit", "By grid unit, busiest first (whole period)", "分网格"),
        ):
            df = channel_kpis(tables, by=(key,))
            if key == "grid_unit":
                df = df.sort_values("contacts", ascending=False, kind="stable")
            if key == "grid_unit":
                parts.append(_details(f"{en} · {zh}", _table(_labelled(df), max_rows)))
            else:
                parts.append(f"<h3>{_e(en)} · {_e(zh)}</h3>")
                parts.append(_table(_labelled(df), max_rows))
    return "\n".join(parts)


def lab_channel(code) -> str:
    """Channel code with its Chinese name, for HTML tables (browsers draw CJK)."""
    from ..schema._contract import CHANNEL_ZH

    return f"{code} ({CHANNEL_ZH[code]})" if code in CHANNEL_ZH else str(code)


def _labelled(df: pd.DataFrame) -> pd.DataFrame:
    """KPI columns renamed to their English and Chinese labels."""
    return df.rename(columns={k: f"{en} · {zh}" for k, (en, zh) in KPI_LABELS.items()})


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


def _section_mix(kpis, tables, lab, max_rows):
    if kpis is None and tables is None:
        return _missing("channel KPIs (or the tables to compute them)", "kpis= or tables=")
    mc = kpis if kpis is not None else channel_kpis(tables, by=("month", "channel"))
    if "channel" not in mc.columns or "month" not in mc.columns:
        mc = None
    pay = payment_channel_mix(tables, by=("month",)) if tables is not None else None
    if mc is None and pay is None:
        return '<p class="missing">Not available: the KPI frame has no month and channel.</p>'
    parts = [figure_to_img(channel_mix_figure(mc, pay, lab), "Channel mix per month")]
    if mc is not None:
        tot = mc.groupby("channel", observed=False)[["contacts", "complaints"]].sum()
        tot["contact_share"] = tot["contacts"] / max(tot["contacts"].sum(), 1)
        tot.index = [lab_channel(c) for c in tot.index]
        parts.append("<h3>Contacts by channel (whole period) · 各渠道接触量</h3>")
        parts.append(_table(tot.rename_axis("channel").reset_index(), max_rows))
    if pay is not None:
        ptot = pay.groupby("payment_channel", observed=False)[["payments", "amount"]].sum()
        ptot["share"] = ptot["payments"] / max(ptot["payments"].sum(), 1)
        parts.append("<h3>Payments by channel (whole period) · 各缴费渠道</h3>")
        parts.append(_table(ptot.reset_index(), max_rows))
    return "\n".join(parts)


def _section_segments(profile, names, lab, max_rows):
    if profile is None:
        return _missing("a segment profile", "segment_profile=")
    prof = _as_frame(profile)
    seg_col = _first(prof.columns, "segment", "segment_id", "cluster", "label")
    if seg_col is None:
        prof = prof.rename_axis(prof.index.name or "segment").reset_index()
        seg_col = prof.columns[0]
    size_col = _first(prof.columns, "size", "n_customers", "count", "n", "customers")
    en_col = _first(prof.columns, "name_en", "segment_name_en", "name")
    zh_col = _first(prof.columns, "name_zh", "segment_name_zh")
    names = dict(names or {})

    def _name(row):
        sid = row[seg_col]
        en, zh = names.get(sid, (None, None)) if sid in names else (None, None)
        en = en or (row[en_col] if en_col is not None else None)
        zh = zh or (row[zh_col] if zh_col is not None else None)
        return en, zh

    pairs = [_name(row) for _, row in prof.iterrows()]  # one row per segment: small
    parts = []
    if size_col is not None:
        labels, sizes = [], []
        for (en, zh), (_, row) in zip(pairs, prof.iterrows(), strict=True):
            if str(row[seg_col]) == "-1":  # the profile's "all customers" row
                continue
            text = f"{row[seg_col]}"
            text += f": {lab.short(str(en), None if zh is None else str(zh))}" if en or zh else ""
            labels.append(lab.safe(text))
            sizes.append(row[size_col])
        fig = bar_figure(
            labels,
            pd.to_numeric(pd.Series(sizes, dtype=object), errors="coerce").fillna(0).to_numpy(),
            lab("Customers per segment", "各客群用户数"),
        )
        parts.append(figure_to_img(fig, "Customers per segment"))
    shown = prof.copy()
    if names and en_col is None:
        shown.insert(1, "name_en", [p[0] for p in pairs])
    if names and zh_col is None:
        shown.insert(2, "name_zh", [p[1] for p in pairs])
    defining = _defining_features(shown, seg_col)
    if defining is not None:
        pos = list(shown.columns).index(size_col) if size_col is not None else len(shown.columns)
        shown.insert(pos, "defining_features", defining)
    parts.append(
        "<p>One row per segment: its size and share, the three features whose segment median "
        "departs most from all customers' median (defining features), the medians, and the "
        "churn and complaint rates where given.</p>"
    )
    parts.append(_table(shown, max_rows))
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
    names = [str(c)[len("median_") :] for c in med]
    out = []
    for i, row in enumerate(dist):  # one row per segment: a handful
        if is_all.iloc[i]:
            out.append("")
            continue
        top = [j for j in np.argsort(-row, kind="stable")[:k] if row[j] > 0]
        out.append(", ".join(f"{names[j]} {_fmt(values[i, j])} (all {_fmt(ref[j])})" for j in top))
    return out


def _section_models(evaluations, shap_importance, lab, max_rows):
    if not evaluations and shap_importance is None:
        return _missing("model evaluations or SHAP importance", "evaluations= or shap_importance=")
    parts = []
    if not evaluations:
        parts.append(_missing("model evaluations", "evaluations="))
    else:
        if not isinstance(evaluations, Mapping) or "y_true" in evaluations:
            evaluations = {"model": evaluations}
        for target, ev in evaluations.items():
            parts.append(f"<h3>{_e(target)}</h3>")
            parts.append(_evaluation(ev, lab, max_rows, str(target)))
    parts.append("<h3>SHAP summary · SHAP 特征重要性</h3>")
    if shap_importance is None:
        parts.append(_missing("SHAP importance", "shap_importance="))
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


def _evaluation(ev, lab, max_rows, target):
    parts = []
    if isinstance(ev, pd.DataFrame):
        return _table(ev, max_rows)
    if not isinstance(ev, Mapping):
        return f"<p>{_e(ev)}</p>"
    scalars = {k: v for k, v in ev.items() if np.isscalar(v) and not isinstance(v, str)}
    if "y_true" in ev and "y_score" in ev:
        from sklearn.metrics import roc_auc_score

        y = np.asarray(ev["y_true"])
        curves = {lab.short("model", "模型"): ev["y_score"]}
        if ev.get("y_baseline") is not None:
            curves[lab.short("baseline", "基线")] = ev["y_baseline"]
        if len(np.unique(y)) == 2:
            for name, s in curves.items():
                scalars.setdefault(f"roc_auc ({name})", roc_auc_score(y, np.asarray(s)))
        parts.append(
            figure_to_img(
                gains_calibration_figure(y, curves, lab), f"Gains and calibration: {target}"
            )
        )
    if scalars:
        met = pd.DataFrame({"metric": list(scalars), "value": [float(v) for v in scalars.values()]})
        parts.insert(0, _table(met, max_rows))
    figs, metric_blocks, frames = [], [], []
    for key, val in ev.items():
        if key in ("y_true", "y_score", "y_baseline"):
            continue
        if _is_figure(val):
            figs.append(figure_to_img(val, f"{target}: {key}"))
        elif isinstance(val, (pd.DataFrame, pd.Series)):
            block = _table(_as_frame(val), max_rows)
            if "metric" in str(key):
                metric_blocks += [_auc_headline(_as_frame(val)), block]
            elif str(key) == "gains":
                frames.insert(0, f"<p class='meta'>gains by decile</p>{block}")
            else:
                frames.append(_details(str(key), block))
        elif isinstance(val, Mapping):
            flat = {k: v for k, v in val.items() if np.isscalar(v)}
            if flat:
                frames.append(
                    _details(
                        str(key),
                        _table(pd.DataFrame({"name": list(flat), "value": list(flat.values())})),
                    )
                )
            figs.extend(
                figure_to_img(v2, f"{target}: {key} {k2}")
                for k2, v2 in val.items()
                if _is_figure(v2)
            )
    figs = [f'<div class="figs">{"".join(figs)}</div>'] if figs else []
    parts = metric_blocks + parts + figs + frames
    return "\n".join(parts) or "<p>(nothing to show)</p>"


def _auc_headline(metrics: pd.DataFrame) -> str:
    """'ROC AUC 0.81 against 0.74 for the baseline' from a metrics table."""
    if not isinstance(metrics.index, pd.RangeIndex):
        metrics = metrics.reset_index()
    scorer = _first(metrics.columns, "scorer", "model", "name", "index")
    if scorer is None or "roc_auc" not in metrics.columns or not len(metrics):
        return ""
    auc = dict(zip(metrics[scorer].astype(str), metrics["roc_auc"].astype(float), strict=False))
    model = auc.get("model", next(iter(auc.values())))
    base = next((v for k, v in auc.items() if "baseline" in k), None)
    text = f"ROC AUC {model:.3f}"
    if base is not None:
        text += f" against {base:.3f} for the logistic-regression baseline ({model - base:+.3f})."
    return f"<p><strong>{_e(text)}</strong></p>"


def _shap(imp, lab, max_rows, target):
    df = _as_frame(imp, "importance")
    feat = _first(df.columns, "feature", "name", "index")
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    val = _first(
        numeric, "mean_abs_contribution", "importance", "mean_abs_shap", "mean_abs", "value"
    ) or next((c for c in numeric if "abs" in str(c).lower()), numeric[0] if numeric else None)
    if feat is None or val is None:
        return _table(df, max_rows)
    df = df.sort_values(val, ascending=False, key=lambda s: pd.to_numeric(s, errors="coerce").abs())
    nonzero = pd.to_numeric(df[val], errors="coerce").abs() > 0
    top = df[nonzero.to_numpy()].head(15)
    if not len(top):
        return "<p>Every feature's importance is zero.</p>"
    title = lab("Mean |SHAP| per feature", "平均SHAP绝对值") + (f" — {target}" if target else "")
    fig = bar_figure(
        [lab.safe(x) for x in top[feat]],
        pd.to_numeric(top[val]).abs().to_numpy(),
        lab.safe(title) if not lab.cjk else title,
    )
    table = _with_descriptions(df[nonzero.to_numpy()], feat)
    return figure_to_img(fig, f"SHAP summary {target}") + _details(
        f"importance table{' — ' + target if target else ''} · 特征重要性表",
        _table(table, max_rows),
    )


def _with_descriptions(df: pd.DataFrame, feat) -> pd.DataFrame:
    """Add the feature catalogue's English and Chinese descriptions when available."""
    try:
        from ..features import feature_catalog

        cat = feature_catalog()[["name", "description_en", "description_zh"]]
    except Exception:  # no catalogue: raw feature names are fine
        return df
    lookup = cat.drop_duplicates("name").set_index("name")
    out = df.copy()
    for col in ("description_en", "description_zh"):
        out[col] = out[feat].astype(str).map(lookup[col]).to_numpy()
    return out


def _section_scores(scores, region_column, score_columns, lab, max_rows):
    if scores is None:
        return _missing("scores (e.g. the portraits)", "scores=")
    df = _as_frame(scores)
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
    fig, codes = score_box_figure(df, region_column, cols, lab)
    parts = [
        "<p>Box plots (median, quartiles, whiskers at 1.5 IQR) of each score per region.</p>",
        figure_to_img(fig, "Score distribution by region"),
    ]
    if codes:
        parts.append(
            '<p class="note">No font with Chinese glyphs: chart labels '
            + ", ".join(f"{_e(k)} = {_e(v)}" for k, v in codes.items())
            + ".</p>"
        )
    g = df.groupby(df[region_column].astype(str), sort=True)
    summary = g[cols].agg(["count", "mean", "median"])
    summary.columns = [f"{a} {b}" for a, b in summary.columns]
    parts.append(_table(summary.reset_index(), max_rows))
    bands = [c for c in df.columns if str(c).endswith("_band")]
    for band in bands:
        ct = pd.crosstab(df[region_column].astype(str), df[band].astype(str))
        parts.append(f"<p class='meta'>{_e(band)}</p>" + _table(ct.reset_index(), max_rows))
    return "\n".join(parts)


def _section_risk(risk_hits, lab, max_rows):
    if risk_hits is None:
        return _missing("risk-rule hits", "risk_hits=")
    df = _as_frame(risk_hits)
    rule = _first(df.columns, "rule", "name", "risk_rule")
    count = _first(df.columns, "count", "hits", "n_hits", "n")
    group = next(
        (
            c
            for c in df.columns
            if df[c].dtype != float and (df[c].astype("string") == "(all)").any()
        ),
        None,
    )
    parts = []
    if not len(df):
        parts.append("<p>No risk rule was hit.</p>")
    elif rule is not None and count is not None:
        overall = df[df[group].astype("string") == "(all)"] if group is not None else df
        tot = overall.groupby(rule, sort=False)[count].sum().sort_values(ascending=False)
        names = {}
        if "label_en" in df.columns:
            first = overall.drop_duplicates(rule).set_index(rule)
            for r in tot.index:
                en = first.at[r, "label_en"]
                zh = first.at[r, "label_zh"] if "label_zh" in first.columns else None
                names[r] = lab.short(
                    str(en) if pd.notna(en) else str(r),
                    str(zh) if zh is not None and pd.notna(zh) else None,
                )
        fig = bar_figure(
            [lab.safe(names.get(r, r)) for r in tot.index],
            tot.to_numpy(),
            lab("Customers flagged per risk rule", "各风险规则命中用户数"),
        )
        parts.append(figure_to_img(fig, "Risk-rule hits"))
        if group is not None and "share" in df.columns:
            by = df[df[group].astype("string") != "(all)"]
            if len(by):
                wide = by.pivot_table(index=rule, columns=group, values="share", aggfunc="sum")
                parts.append(
                    f"<h3>Share flagged by {_e(group)} · 分组命中率</h3>"
                    + _table(wide.reset_index(), max_rows)
                )
        parts.append(_details("All hits · 命中明细", _table(df, max_rows)))
    else:
        parts.append(_table(df, max_rows))
    return "\n".join(parts)


def _section_validation(validation_report, tables, max_rows):
    report = validation_report
    if report is None and tables is not None:
        report = getattr(tables, "report", None)
    if report is None and tables is None:
        return _missing(
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
                    "quarantined rows": len(quarantine.get(name, ())) if quarantine else 0,
                }
                for name, frame in tables.items()
            ]
        )
        end = getattr(tables, "data_end", None)
        if end is not None and not pd.isna(end):
            parts.append(f"<p>Data declared to end on {_e(f'{pd.Timestamp(end):%Y-%m-%d}')}.</p>")
        parts.append(_table(counts, max_rows))
    rep = _as_frame(report) if report is not None else None
    if rep is None or not len(rep):
        parts.append("<p>No problem was found: every row passed the data contract.</p>")
    else:
        # row examples name raw customer ids (and values): they stay in the validation
        # report file, out of a document that is shared
        rep = rep.drop(columns=[c for c in rep.columns if str(c).lower() == "examples"])
        if "message" in rep.columns:
            rep = rep.assign(
                message=rep["message"]
                .astype("string")
                .str.replace(r"\s*\(examples: .*\)\s*$", "", regex=True, flags=re.S)
            )
        parts.append(
            f"<p>{len(rep):,} problem(s) found; each row names the table, column and "
            "check, the number of rows and what was done with them. Example rows are "
            "in the validation report file (<code>Tables.report</code>), not here, as "
            "they carry raw customer ids.</p>"
        )
        parts.append(_table(rep, max_rows))
    return "\n".join(parts)


# --------------------------------------------------------------------------- main
def write_report(
    path,
    *,
    tables=None,
    kpis: pd.DataFrame | None = None,
    validation_report: pd.DataFrame | None = None,
    segment_profile: pd.DataFrame | None = None,
    segment_names: Mapping | None = None,
    evaluations: Mapping | None = None,
    shap_importance=None,
    scores: pd.DataFrame | None = None,
    score_columns=None,
    region_column: str = "region",
    risk_hits: pd.DataFrame | None = None,
    title: str = "powerprofile — channel operations and customer portraits",
    subtitle: str | None = None,
    generated_at=None,
    cjk_font: str | bool = "auto",
    max_table_rows: int = 30,
) -> Path:
    """Write the channel-operations and portrait report as one self-contained HTML file.

    Images are PNGs embedded as base64 ``data:`` URIs; the page loads nothing from the
    network. Every section is optional: a section whose input is missing says so. A
    section whose input has an unexpected shape shows the error instead of failing
    the whole report (and logs a warning).

    Parameters
    ----------
    path : str or path-like
        Output file (``.html``); parent folders are created. Written atomically.
    tables : Tables or mapping, optional
        Validated tables: channel KPIs, channel and payment mix, and (for ``Tables``)
        row counts, quarantine counts and ``tables.report`` are taken from them.
    kpis : pandas.DataFrame, optional
        ``channel_kpis(tables, by=("month", "channel"))`` (or by ``("month",)``);
        computed from ``tables`` when omitted.
    validation_report : pandas.DataFrame, optional
        One row per problem (table, column, check, n_rows, examples, action), as in
        ``Tables.report``; default ``tables.report``.
    segment_profile : pandas.DataFrame, optional
        ``CustomerSegmenter.profile(...)``: one row per segment with a ``segment`` (or
        ``segment_id``) column, a ``size`` (or ``n_customers``) column, optional
        ``name_en``/``name_zh`` and any feature medians and rates.
    segment_names : mapping, optional
        Segment id -> (English name, Chinese name), e.g. ``segmenter.names_``.
    evaluations : mapping, optional
        Target name -> what ``powerprofile.evaluate`` returned (a dict of scalars,
        DataFrames and matplotlib figures: scalars become a metrics table, frames
        tables, figures are embedded). A dict with arrays ``y_true``, ``y_score`` and
        optionally ``y_baseline`` gets gains and calibration curves and ROC AUC.
    shap_importance : pandas.Series or DataFrame or mapping, optional
        Global importance (feature -> mean |SHAP|), or a DataFrame with ``feature`` and
        ``importance`` columns, or target name -> either of these.
    scores : pandas.DataFrame, optional
        One row per customer with ``region_column`` and score columns (e.g. the
        portraits: ``churn_score``, ``complaint_score``; ``*_band`` columns are counted).
    score_columns : sequence of str, optional
        Score columns to draw; default every numeric column whose name contains "score".
    region_column : str, default="region"
        Region column of ``scores``.
    risk_hits : pandas.DataFrame, optional
        The risk-rule hit report: ``rule``, ``count``, ``share`` and optionally ``region``.
    title : str, default="powerprofile — channel operations and customer portraits"
        Page title (escaped).
    subtitle : str, optional
        A line under the title (escaped), e.g. the data set and snapshot.
    generated_at : datetime or str, optional
        Timestamp printed in the header; default now (UTC). Fix it for identical bytes.
    cjk_font : "auto" or str or False, default="auto"
        ``"auto"`` finds an installed font with Chinese glyphs; a font file path uses
        that file; ``False`` forces English-only chart text.
    max_table_rows : int, default=30
        Longest table shown (the rest is counted).

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import powerprofile as pp
    >>> tables = pp.load_tables("data/sample")  # doctest: +SKIP
    >>> pp.write_report("out/report.html", tables=tables)  # doctest: +SKIP
    """
    path = Path(path)
    font = _choose_font(cjk_font)
    lab = Labeller(font)
    when = generated_at if generated_at is not None else _dt.datetime.now(_dt.UTC)
    when = when.strftime("%Y-%m-%d %H:%M UTC") if hasattr(when, "strftime") else str(when)

    builders = {
        "kpi-trends": lambda: _section_kpis(kpis, tables, lab, max_table_rows),
        "channel-mix": lambda: _section_mix(kpis, tables, lab, max_table_rows),
        "segments": lambda: _section_segments(segment_profile, segment_names, lab, max_table_rows),
        "models": lambda: _section_models(evaluations, shap_importance, lab, max_table_rows),
        "scores": lambda: _section_scores(
            scores, region_column, score_columns, lab, max_table_rows
        ),
        "risk": lambda: _section_risk(risk_hits, lab, max_table_rows),
        "validation": lambda: _section_validation(validation_report, tables, max_table_rows),
    }
    body = []
    with lab.context():
        for sid, en, zh in SECTIONS:
            try:
                content = builders[sid]()
            except Exception as exc:  # one bad input must not sink the whole report
                log.warning("report section %r could not be built: %s", sid, exc)
                content = (
                    f'<p class="section-error">This section could not be built: '
                    f"{_e(type(exc).__name__)}: {_e(exc)}</p>"
                )
            body.append(
                f'<section id="{sid}">\n<h2>{_e(en)} · {_e(zh)}</h2>\n{content}\n</section>'
            )

    nav = "".join(f'<li><a href="#{sid}">{_e(en)} · {_e(zh)}</a></li>' for sid, en, zh in SECTIONS)
    font_class = "meta" if font.cjk else "note"
    doc = (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header>\n<h1>{_e(title)}</h1>\n"
        + (f'<p class="meta">{_e(subtitle)}</p>\n' if subtitle else "")
        + f'<p class="meta">Generated {_e(when)} by powerprofile {_e(_version())}.</p>\n'
        f'<p class="{font_class}" id="font-note">{_e(font.describe())}</p>\n'
        f"</header>\n<nav>\n<ol>{nav}</ol>\n</nav>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
    _atomic_write(path, doc)
    return path


def _version() -> str:
    from .. import __version__

    return __version__


def _choose_font(cjk_font) -> FontChoice:
    if cjk_font is False or cjk_font is None:
        return FontChoice(None, None, False)
    if cjk_font == "auto":
        return find_cjk_font()
    from matplotlib import font_manager as fm

    from ._fonts import _covers

    fpath = os.fspath(cjk_font)
    if not os.path.exists(fpath) or not _covers(fpath):
        log.warning("font %r has no Chinese glyphs or does not exist; chart text in English", fpath)
        return FontChoice(None, None, False)
    fm.fontManager.addfont(fpath)
    return FontChoice(fm.FontProperties(fname=fpath).get_name(), fpath, True)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the report from readers
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

"""The report's executive summary and its campaign / export section.

Everything here is computed from frames the report already has (the month KPIs, the
KPIs by month and region or grid unit, the model metrics) and from the export
manifest (``manifest.json``), read as data: fields the summary does not know are
ignored, so the manifest may grow.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..export import OUTBOUND_CHANNELS
from ._charts import CHANNEL_EN, bilingual
from ._format import (
    METRIC_NAMES,
    Column,
    fmt_count,
    fmt_pct,
    fmt_pp,
    fmt_prob,
    html_table,
)
from ._kpis import KPI_LABELS

__all__ = ["OUTBOUND_CHANNELS", "load_manifest"]


_MIN_CUSTOMERS = 30
"""Units with fewer customers in service in either month are left out of the
movements (a grid unit of five customers moves by 20 % when one of them calls)."""

_MOVERS = (
    ("contacts_per_1000", lambda x: f"{x:,.1f}", lambda d: f"{d:+,.1f}"),
    ("complaints_per_10000", lambda x: f"{x:,.1f}", lambda d: f"{d:+,.1f}"),
    ("digital_adoption", fmt_pct, fmt_pp),
)


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def outbound_label(code) -> str:
    """Export channel, e.g. ``"SMS · 短信"``."""
    en, zh = OUTBOUND_CHANNELS.get(str(code), (str(code), None))
    return bilingual(en, zh)


def load_manifest(manifest) -> dict | None:
    """The export manifest as a dict.

    Parameters
    ----------
    manifest : dict or str or path-like or None
        The manifest itself, its ``manifest.json`` file, or the export folder.

    Returns
    -------
    dict or None
        None when not given or when the file does not exist.
    """
    if manifest is None:
        return None
    if isinstance(manifest, Mapping):
        return dict(manifest)
    path = Path(manifest)
    if path.is_dir():
        path = path / "manifest.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- channels
def channel_headlines(m: pd.DataFrame, mc: pd.DataFrame | None) -> list[str]:
    """Bullet texts: the latest month's channel KPIs against the month before and the first.

    Parameters
    ----------
    m : pandas.DataFrame
        ``channel_kpis(tables, by=("month",))``.
    mc : pandas.DataFrame or None
        ``channel_kpis(tables, by=("month", "channel"))``.
    """
    if m is None or not len(m) or "month" not in m:
        return []
    m = m.sort_values("month")
    last = m.iloc[-1]
    prev = m.iloc[-2] if len(m) > 1 else None
    first = m.iloc[0]
    lm = f"{last['month']:%Y-%m}"
    pm = f"{prev['month']:%Y-%m}" if prev is not None else None
    out = []
    if "contacts" in m:
        text = f"Contacts · 接触次数: {fmt_count(last['contacts'])} in {lm}"
        if prev is not None and prev["contacts"] > 0:
            change = last["contacts"] / prev["contacts"] - 1
            text += f" ({change * 100:+.1f} % on {pm})"
        if "contacts_per_1000" in m and pd.notna(last["contacts_per_1000"]):
            text += f", {last['contacts_per_1000']:,.1f} per 1,000 customers"
        out.append(text + ".")
    for col in ("digital_adoption", "online_payment_share"):
        if col not in m or pd.isna(last[col]):
            continue
        en, zh = KPI_LABELS[col]
        text = f"{en} · {zh}: {fmt_pct(last[col])} in {lm}"
        moves = []
        if prev is not None and pd.notna(prev[col]):
            moves.append(f"{fmt_pp(last[col] - prev[col])} on {pm}")
        if len(m) > 2 and pd.notna(first[col]):
            moves.append(f"{fmt_pp(last[col] - first[col])} since {first['month']:%Y-%m}")
        out.append(text + (f" ({', '.join(moves)})" if moves else "") + ".")
    if "complaints_per_10000" in m and pd.notna(last["complaints_per_10000"]):
        text = (
            f"Complaints · 投诉: {last['complaints_per_10000']:,.1f} per 10,000 customers in {lm}"
        )
        if prev is not None and pd.notna(prev["complaints_per_10000"]):
            text += f" ({prev['complaints_per_10000']:,.1f} in {pm})"
        out.append(text + ".")
    if mc is not None and len(mc) and {"month", "channel", "contacts"} <= set(mc.columns):
        wide = mc.pivot_table(
            index="month", columns="channel", values="contacts", aggfunc="sum", observed=False
        ).sort_index()
        tot = wide.sum(axis=1)
        share = wide.div(tot.where(tot > 0), axis=0)
        if len(share) > 1 and share.iloc[0].notna().all() and share.iloc[-1].notna().all():
            delta = (share.iloc[-1] - share.iloc[0]).sort_values()
            parts = []
            for ch in (delta.index[-1], delta.index[0]):
                parts.append(
                    f"{CHANNEL_EN.get(str(ch), str(ch))} {fmt_pct(share.iloc[0][ch])} → "
                    f"{fmt_pct(share.iloc[-1][ch])} ({fmt_pp(delta[ch])})"
                )
            out.append(
                f"Channel shift · 渠道变化, share of contacts {share.index[0]:%Y-%m} → "
                f"{share.index[-1]:%Y-%m}: biggest rise {parts[0]}; biggest fall {parts[1]}."
            )
    return out


def movements(frames: Mapping[str, pd.DataFrame], min_customers: int = _MIN_CUSTOMERS):
    """The latest month's biggest movement per KPI, by region and by grid unit.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Level (``"region"``, ``"grid_unit"``) -> ``channel_kpis(tables, by=("month", level))``.
    min_customers : int, default=30
        Units with fewer customers in service in either month are left out.

    Returns
    -------
    pandas.DataFrame
        One row per level and KPI: level, unit, measure, previous month's value,
        latest value and change (as display text), largest absolute change first
        within each level; empty when fewer than two months are covered.
    """
    rows = []
    for level, df in frames.items():
        if df is None or "month" not in df or level not in df or df["month"].nunique() < 2:
            continue
        months = np.sort(df["month"].unique())
        last, prev = months[-1], months[-2]
        a = df[df["month"] == prev].set_index(level)
        b = df[df["month"] == last].set_index(level)
        both = a.index.intersection(b.index)
        big = both[
            (a.loc[both, "customers"] >= min_customers).to_numpy()
            & (b.loc[both, "customers"] >= min_customers).to_numpy()
        ]
        for col, fmt, fmt_d in _MOVERS:
            if col not in df:
                continue
            d = (b.loc[big, col] - a.loc[big, col]).dropna()
            if not len(d):
                continue
            unit = d.abs().sort_values(ascending=False, kind="stable").index[0]
            en, zh = KPI_LABELS[col]
            rows.append(
                {
                    "level": "Region · 地区" if level == "region" else "Grid unit · 网格",
                    "unit": str(unit),
                    "measure": f"{en} · {zh}",
                    "previous": f"{fmt(a.loc[unit, col])} ({pd.Timestamp(prev):%Y-%m})",
                    "latest": f"{fmt(b.loc[unit, col])} ({pd.Timestamp(last):%Y-%m})",
                    "change": fmt_d(d[unit]),
                }
            )
    return pd.DataFrame(rows, columns=["level", "unit", "measure", "previous", "latest", "change"])


MOVEMENT_COLUMNS = {
    "level": Column("Level · 层级", numeric=False),
    "unit": Column("Unit · 单位", numeric=False),
    "measure": Column("Measure · 指标", numeric=False),
    "previous": Column("Month before · 上月"),
    "latest": Column("Latest month · 本月"),
    "change": Column("Change · 变化"),
}


# --------------------------------------------------------------------------- models
def metric_rows(ev) -> dict[str, dict]:
    """Scorer -> {metric: value} from what the report accepts as an evaluation."""
    if isinstance(ev, pd.DataFrame):
        frame = ev
    elif isinstance(ev, Mapping) and isinstance(ev.get("metrics"), pd.DataFrame):
        frame = ev["metrics"]
    else:
        frame = None
    if frame is not None:
        if "scorer" in frame.columns:
            frame = frame.set_index("scorer")
        return {str(k): row.to_dict() for k, row in frame.iterrows()}
    if not isinstance(ev, Mapping):
        return {}
    out = {"model": {k: v for k, v in ev.items() if np.isscalar(v) and not isinstance(v, str)}}
    if "y_true" in ev and "y_score" in ev:
        from sklearn.metrics import roc_auc_score

        y = np.asarray(ev["y_true"], dtype=float)
        if len(np.unique(y)) == 2:
            for name, key in (("model", "y_score"), ("logistic_baseline", "y_baseline")):
                if ev.get(key) is None:
                    continue
                s = np.asarray(ev[key], dtype=float)
                row = out.setdefault(name, {})
                row.setdefault("roc_auc", roc_auc_score(y, s))
                row.setdefault("positive_rate", float(y.mean()))
                k = max(1, int(round(0.1 * len(y))))
                top = np.argsort(-s, kind="stable")[:k]
                row.setdefault("capture_10", float(y[top].sum() / max(y.sum(), 1)))
                row.setdefault("lift_10", float(y[top].mean() / max(y.mean(), 1e-12)))
    return {k: v for k, v in out.items() if v}


_TARGET_NAMES = {
    "churn": ("churn", "流失", "churned"),
    "complaint": ("complaint", "投诉", "complained"),
}


def model_sentence(target: str, ev) -> str | None:
    """Model quality in one sentence, e.g. for the summary; None without metrics."""
    rows = metric_rows(ev)
    model = rows.get("model") or next(iter(rows.values()), None)
    if not model or "roc_auc" not in model or pd.isna(model["roc_auc"]):
        return None
    base = next((v for k, v in rows.items() if "baseline" in k), None)
    en, zh, did = _TARGET_NAMES.get(str(target), (str(target), None, "had the event"))
    auc = float(model["roc_auc"])
    word = (
        "well" if auc >= 0.8 else "fairly" if auc >= 0.7 else "weakly" if auc >= 0.6 else "poorly"
    )
    name = f"The {en} model" + (f" ({zh}模型)" if zh else "")
    text = f"{name} ranks customers {word}: ranking quality (ROC AUC) {auc:.3f}"
    if base is not None and pd.notna(base.get("roc_auc")):
        text += f" against {float(base['roc_auc']):.3f} for a simple baseline"
    if pd.notna(model.get("capture_10", np.nan)):
        text += (
            f"; the 10 % highest-scored customers hold {fmt_pct(model['capture_10'])} "
            f"of those who {did}"
        )
        if pd.notna(model.get("lift_10", np.nan)):
            text += f" ({float(model['lift_10']):.1f}× the average rate"
            if pd.notna(model.get("positive_rate", np.nan)):
                text += f" of {fmt_prob(model['positive_rate'])}"
            text += ")"
    if pd.notna(model.get("ece", np.nan)):
        text += (
            f", and predicted probabilities are off by {fmt_pct(model['ece'], 2)} "
            "on average (calibration gap)"
        )
    return text + "."


def metrics_table(ev) -> str:
    """Metrics as rows (plain name, hover with the technical term), scorers as columns."""
    rows = metric_rows(ev)
    if not rows:
        return ""
    from ._format import column_for

    scorers = list(rows)
    names = {
        "model": "This model · 本模型",
        "logistic_baseline": "Simple baseline (logistic regression) · 逻辑回归基线",
    }
    keys = [k for k in METRIC_NAMES if any(k in r for r in rows.values())]
    keys += sorted({k for r in rows.values() for k in r} - set(keys))
    head = "".join(f"<th>{_e(names.get(s, s))}</th>" for s in scorers)
    body = []
    for k in keys:
        col = column_for(k)
        label = _e(col.label)
        if col.title:
            label = f'<abbr title="{_e(col.title)}">{label}</abbr>'
        cells = "".join(
            f'<td class="n">{_e(col.fmt(rows[s].get(k, np.nan)))}</td>' for s in scorers
        )
        body.append(f'<tr><th scope="row">{label}</th>{cells}</tr>')
    return (
        '<div class="scroll"><table class="dataframe metrics">\n<thead><tr>'
        f"<th>Measure · 指标</th>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + "\n</tbody></table></div>"
        '<p class="meta">Hover over a measure for its technical name and meaning.</p>'
    )


# --------------------------------------------------------------------------- exports
def _campaign_title(entry: Mapping) -> str | None:
    """The campaign's title from the manifest (``title_en``/``title_zh`` or ``title``)."""
    en = entry.get("title_en") or entry.get("title")
    zh = entry.get("title_zh")
    if isinstance(en, Mapping):  # {"en": ..., "zh": ...}
        en, zh = en.get("en"), en.get("zh", zh)
    if en:
        return bilingual(str(en), str(zh) if zh else None)
    return str(zh) if zh else None


def _export_files(manifest: Mapping) -> pd.DataFrame:
    files = pd.DataFrame(list(manifest.get("files") or []))
    for col in ("file", "campaign", "channel", "format", "rows"):
        if col not in files:
            files[col] = None
    files["rows"] = pd.to_numeric(files["rows"], errors="coerce")
    return files


def export_summary(manifest: Mapping | None) -> list[str]:
    """Bullet texts: what was exported, to which channels, how many."""
    if not manifest:
        return []
    files = _export_files(manifest)
    lists = files[files["campaign"].notna() & files["channel"].notna()]
    campaigns = {str(c.get("campaign")): c for c in manifest.get("campaigns") or []}
    out = []
    if len(lists):
        per_channel = (
            lists.groupby("channel", sort=False)["rows"]
            .sum()
            .sort_values(ascending=False, kind="stable")
        )
        n_camp = lists["campaign"].nunique()
        out.append(
            f"Exported {fmt_count(lists['rows'].sum())} customers in {n_camp} campaign "
            f"list{'s' if n_camp != 1 else ''} · 导出名单: "
            + ", ".join(f"{outbound_label(ch)} {fmt_count(n)}" for ch, n in per_channel.items())
            + "."
        )
        for camp, part in lists.groupby("campaign", sort=False):
            title = _campaign_title(campaigns.get(str(camp), {}))
            chans = ", ".join(
                f"{outbound_label(r.channel)} {fmt_count(r.rows)}" for r in part.itertuples()
            )
            name = f"{title} ({camp})" if title else str(camp)
            out.append(f"{name}: {fmt_count(part['rows'].sum())} — {chans}.")
    else:
        out.append("No campaign list was exported · 未导出营销名单.")
    snap = manifest.get("snapshot_date")
    if snap:
        out.append(
            f"Scores as of the snapshot {snap}; customers are identified by pseudonymous keys."
        )
    return out


def section_campaigns(manifest: Mapping | None, max_rows: int) -> str:
    """The campaign / export section from the manifest."""
    if not manifest:
        return (
            '<p class="missing">Not available: an export manifest was not given. Pass '
            "<code>export_manifest=</code> (the manifest, its file or the export folder) "
            "to <code>write_report</code> to include it.</p>"
        )
    files = _export_files(manifest)
    entries = [c for c in manifest.get("campaigns") or [] if isinstance(c, Mapping)]
    rows = []
    for c in entries:
        name = str(c.get("campaign", ""))
        part = files[files["campaign"].astype("string") == name]
        row = {
            "campaign": name,
            "title": _campaign_title(c),
            "selected": c.get("selected"),
            "not_eligible": c.get("not_eligible"),
            "exported": part["rows"].sum() if len(part) else np.nan,
            "control": c.get("control", np.nan),
            "channels": ", ".join(
                f"{outbound_label(r.channel)} {fmt_count(r.rows)}" for r in part.itertuples()
            ),
        }
        purpose = c.get("purpose_en") or c.get("purpose")
        if purpose:
            row["purpose"] = bilingual(str(purpose), c.get("purpose_zh"))
        rows.append(row)
    parts = [f"<ul>{''.join(f'<li>{_e(t)}</li>' for t in export_summary(manifest))}</ul>"]
    if rows:
        table = pd.DataFrame(rows)
        if table["title"].isna().all():
            table = table.drop(columns="title")
        if table["control"].isna().all():  # exports written before control groups
            table = table.drop(columns="control")
        cols = {
            "campaign": Column("Campaign · 活动", numeric=False),
            "title": Column("Title · 名称", numeric=False),
            "purpose": Column("Purpose · 目的", numeric=False),
            "selected": Column(
                "Customers selected · 入选用户",
                fmt_count,
                "Customers matching the campaign's selection, before channel capacity.",
            ),
            "not_eligible": Column(
                "Not reachable · 不可触达",
                fmt_count,
                "Selected customers no channel of the campaign could reach (no consent, "
                "opted out, no phone or app).",
            ),
            "exported": Column("Exported · 导出", fmt_count),
            "control": Column(
                "Control group · 对照组",
                fmt_count,
                "Selected customers held out at random and not contacted (control_group file), "
                "so the campaign's effect can be measured.",
            ),
            "channels": Column("By channel · 分渠道", numeric=False),
        }
        parts.append("<h3>Campaigns · 营销活动</h3>")
        parts.append(html_table(table, max_rows, columns=cols))
    if len(files):
        shown = files.assign(
            campaign=files["campaign"].fillna("—"),
            channel=[outbound_label(c) if pd.notna(c) else "—" for c in files["channel"]],
        )[["file", "campaign", "channel", "format", "rows"]]
        cols = {
            "file": Column("File · 文件", numeric=False),
            "campaign": Column("Campaign · 活动", numeric=False),
            "channel": Column("Channel · 渠道", numeric=False),
            "format": Column("Format · 格式", numeric=False),
            "rows": Column("Rows · 行数", fmt_count),
        }
        parts.append("<h3>Files · 导出文件</h3>")
        parts.append(html_table(shown, max_rows, columns=cols))
    facts = []
    if manifest.get("snapshot_date"):
        facts.append(f"Snapshot date · 快照日期: {manifest['snapshot_date']}")
    if manifest.get("frequency_cap") is not None:
        facts.append(
            f"A customer is in at most {manifest['frequency_cap']} campaign(s) per run "
            "(frequency cap · 频次上限)"
        )
    pii = manifest.get("pii_policy")
    if isinstance(pii, Mapping):
        for k, v in pii.items():
            if isinstance(v, Mapping):
                v = ", ".join(f"{outbound_label(a)}: {b}" for a, b in v.items())
            facts.append(f"Privacy · 隐私 — {str(k).replace('_', ' ')}: {v}")
    versions = manifest.get("model_versions")
    if isinstance(versions, Mapping) and versions:
        facts.append(
            "Model versions · 模型版本: " + ", ".join(f"{k} {v}" for k, v in versions.items())
        )
    if facts:
        parts.append(f"<ul class='meta'>{''.join(f'<li>{_e(f)}</li>' for f in facts)}</ul>")
    return "\n".join(parts)

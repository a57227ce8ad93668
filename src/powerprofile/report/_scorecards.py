"""The report's scorecard section: weak links first, level by level, then cases."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..schema import ORG_LEVEL_ZH
from ._charts import Labeller, new_figure
from ._format import Column, column_for, fmt_count, fmt_pct, html_table
from ._kpis import KPI_LABELS

__all__ = ["section_scorecards"]

_LEVEL_NAMES = {lv: (lv.replace("_", " ").capitalize(), zh) for lv, zh in ORG_LEVEL_ZH.items()}
_STATUS = {
    "weak link": "Weak link · 薄弱环节",
    "below target": "Below target · 未达标",
    "watch": "Watch · 关注",
    "on track": "On track · 正常",
}


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _fixed(digits: int):
    def fmt(x) -> str:
        return "–" if x is None or pd.isna(x) else f"{float(x):,.{digits}f}"

    return fmt


def _columns(labels: dict, frame: pd.DataFrame) -> dict:
    """Bilingual headers with formats for the scorecard tables."""
    pct = {"rate", "expected_rate", "share_of_gap", "value_pct"}
    spec = {}
    for c in frame.columns:
        en, zh = labels.get(c, (c, None))
        label = f"{en} · {zh}" if zh else en
        if c in pct:
            spec[c] = Column(label, fmt_pct)
        elif c in ("ratio", "z", "max_z", "raw_max_z", "lower_998", "upper_998", "centre"):
            spec[c] = Column(label, _fixed(2))
        elif c in ("excess", "observed", "expected"):
            spec[c] = Column(label, _fixed(1))
        elif c in ("open_cases", "overdue_cases", "resolved_cases", "peer_units"):
            spec[c] = Column(label, fmt_count)
        elif c in KPI_LABELS:  # the channel KPIs keep the report's own formats
            spec[c] = column_for(c, frame[c])
        elif frame[c].dtype.kind in "fi":
            spec[c] = Column(label, _fixed(2))
        else:
            spec[c] = Column(label, numeric=False)
    return spec


def _funnel(fair: pd.DataFrame, indicator: str, lab: Labeller, title: str) -> str:
    """Funnel plot: standardised ratio against the expected count, limits drawn."""
    f = fair[(fair["indicator"] == indicator) & np.isfinite(fair["ratio"])]
    if len(f) < 3:
        return ""
    fig = new_figure(8, 3.6)
    ax = fig.subplots()
    e = f["expected"].to_numpy(float)
    x = np.geomspace(max(e.min() * 0.8, 1.0), e.max() * 1.2, 80)
    p = float(f["observed"].sum() / max(f["denominator"].sum(), 1))
    phi = float(f["phi"].iloc[0])
    # the drawn curves use the level's overall rate; each unit's flag uses its own mix
    c = float(np.median((f["centre"] - 1) * np.sqrt(f["expected"] / (1 - p))))
    sd = np.sqrt((1 - p) / x)
    ax.plot(x, 1 + c * sd, color="#5f6b73", lw=1, label="typical · 典型")
    for k, style in ((1.96, "--"), (3.09, "-")):
        ax.plot(x, 1 + (c + k * np.sqrt(phi)) * sd, color="#c0392b", lw=1, ls=style)
        ax.plot(x, 1 + (c - k * np.sqrt(phi)) * sd, color="#3a9d5d", lw=1, ls=style)
    weak = f["status"] == "weak"
    ax.scatter(e[~weak], f["ratio"][~weak], s=14, color="#1f6fb2")
    ax.scatter(e[weak], f["ratio"][weak], s=24, color="#c0392b", marker="D")
    ax.set_xscale("log")
    ax.set_xlabel(lab("Expected count from the customer mix", "按客户结构的期望数"))
    ax.set_ylabel(lab("Observed / expected", "实际/期望"))
    ax.set_title(title)
    return lab.svg(fig, f"Funnel plot: {indicator}")


def section_scorecards(scorecards, lab: Labeller, max_rows: int) -> str:
    """Scorecards by level, weak links first, with drill-down, cases and warnings."""
    if scorecards is None:
        return (
            '<p class="missing">Not available: scorecards were not given. Pass '
            "<code>scorecards=</code> to <code>write_report</code> (the scorecard stage of "
            "<code>powerprofile run</code>) to include them.</p>"
        )
    from ..operations import LABELS

    sc = scorecards
    names = sc.org.set_index(sc.org["unit_id"].astype("string"))["name_zh"].astype("string")
    parts = []
    for note in getattr(sc, "notes", []) or []:
        parts.append(f'<p class="meta">{_e(note)}</p>')
    weak = sc.weak[sc.weak["weak"]]
    counts = ", ".join(
        f"{_LEVEL_NAMES[lv][0]} · {_LEVEL_NAMES[lv][1]}: {int((weak['level'] == lv).sum())}"
        for lv in sc.levels
    )
    parts.append(
        "<p>Units are compared with what their own customer mix predicts (indirect "
        "standardisation over customer type, digital use and segment) with funnel-plot "
        "limits at 99.8 %; "
        "a unit is a <b>weak link</b> when its repeat-contact rate or its dissatisfied "
        f"share lies above the limit. 薄弱环节（按客户结构调整后）: {_e(counts)}.</p>"
    )
    ev = getattr(sc, "evaluation", None)
    if ev:
        text = "; ".join(
            f"{lv}: recall {r['recall']:.2f}, precision {r['precision']:.2f} "
            f"({r['flagged']} flagged, {r['planted']} planted"
            + (
                f", {r['explained_by_a_weak_grid_unit']} explained by a weak grid unit)"
                if "explained_by_a_weak_grid_unit" in r
                else ")"
            )
            for lv, r in ev.items()
        )
        parts.append(
            f'<p class="meta" id="planted-recall">Planted weak units (generated data) · '
            f"预置薄弱单位识别: {_e(text)}</p>"
        )
    fair = sc.fair
    for lv in reversed(sc.levels):  # grid units first: that is where the work is done
        en, zh = _LEVEL_NAMES[lv]
        parts.append(f"<h3>{_e(en)} · {_e(zh)}</h3>")
        w = weak[weak["level"] == lv]
        f = fair[fair["level"] == lv]
        if len(w):
            rows = f[f["unit_id"].isin(w["unit_id"])].assign(
                unit_name=lambda d: d["unit_id"].map(names)
            )
            rows = rows.sort_values("z", ascending=False).reset_index(drop=True)[
                ["unit_id", "unit_name", "indicator", "rate", "expected_rate", "ratio", "z"]
            ]
            rows["indicator"] = [
                " · ".join(LABELS.get(i, (i, ""))).strip(" ·") for i in rows["indicator"]
            ]
            parts.append(
                "<p><b>Weak links · 薄弱环节</b></p>"
                + html_table(rows, max_rows, columns=_columns(LABELS, rows))
            )
        else:
            parts.append("<p>No weak link at this level · 本层级无薄弱环节.</p>")
        for ind in ("repeat_contact_rate_7d", "dissatisfied_share"):
            en_i, zh_i = LABELS[ind]
            parts.append(_funnel(f, ind, lab, lab(en_i, zh_i)))
        cards = sc.scorecards[sc.scorecards["level"] == lv]
        if len(cards):
            wide = cards.pivot_table(
                index="unit_id", columns="indicator", values="value", aggfunc="first"
            )
            status = cards.groupby("unit_id")["status"].agg(
                lambda s: next((x for x in _STATUS if (s == x).any()), "on track")
            )
            wide.insert(0, "status", status.reindex(wide.index).map(_STATUS))
            wide.insert(0, "unit_name", names.reindex(wide.index).to_numpy())
            order = (status.reindex(wide.index) != "weak link").to_numpy()
            wide = wide.iloc[np.lexsort((wide.index.to_numpy(), order))]
            spec = _columns(LABELS, wide.reset_index())
            for c in wide.columns:
                if c in LABELS and c.endswith(("_share", "_rate_7d", "adoption")):
                    spec[c] = Column(spec[c].label, fmt_pct)
            parts.append(
                f"<p><b>Scorecard, latest month · 最新月度记分卡</b> ({len(wide)} units)</p>"
                + html_table(wide.reset_index(), max_rows, columns=spec)
            )
        d = sc.drill[sc.drill["level"] == lv]
        if len(d):
            d = d.assign(unit_name=d["unit_id"].map(names))[
                ["unit_id", "unit_name", "indicator", "by", "part", "excess", "share_of_gap"]
            ]
            parts.append(
                "<details><summary>Drill-down of the weak links · 薄弱环节分解 "
                "(grid units, channels, customer mix)</summary>\n"
                + html_table(d, max_rows * 3, columns=_columns(LABELS, d))
                + "\n</details>"
            )
    if sc.case_kpis is not None:
        parts.append("<h3>Risk cases · 风险工单闭环</h3>")
        c = sc.cases
        counts = c["state"].value_counts()
        parts.append(
            "<p>"
            + ", ".join(
                f"{s}: {int(counts.get(s, 0)):,}" for s in ("new", "open", "overdue", "resolved")
            )
            + "</p>"
        )
        k = sc.case_kpis
        top = k[k["level"] == sc.levels[1 if len(sc.levels) > 1 else 0]].sort_values(
            "overdue_cases", ascending=False
        )
        parts.append(html_table(top, max_rows, columns=_columns(LABELS, top)))
    if sc.warnings is not None:
        n = len(sc.warnings)
        parts.append(
            f"<h3>Public-opinion early warnings · 舆情预警</h3><p>{n:,} customers with "
            "escalating complaints and a high complaint propensity.</p>"
        )
        if n:
            labels = {
                **LABELS,
                "grid_unit": ("Grid unit", "网格"),
                "risk_flags": ("Risk rules hit", "命中风险规则"),
                "risk_reasons_zh": ("Reasons", "风险原因"),
            }
            spec = _columns(labels, sc.warnings)
            if "complaint_score" in sc.warnings.columns:
                spec["complaint_score"] = Column("Complaint probability · 投诉概率", fmt_pct)
            if "risk_reasons_zh" in spec:
                spec["risk_reasons_zh"] = Column(
                    spec["risk_reasons_zh"].label, numeric=False, wrap=True
                )
            parts.append(html_table(sc.warnings, max_rows, columns=spec))
    return "\n".join(p for p in parts if p)

"""Scorecards per unit and level: targets, peers, trend, weak links, drill-down, cases."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..report import KPI_LABELS
from ..schema import ORG_LEVEL_ZH, ORG_LEVELS
from ._cases import case_hits, case_kpis, early_warnings, update_cases
from ._fair import QUALITY_INDICATORS, fair_comparison, weak_links
from ._targets import TargetSet, cascade_targets
from ._units import customer_units, derive_org, quality_tallies, unit_kpis

__all__ = ["LABELS", "Scorecards", "build_scorecards", "planted_recall", "write_scorecards"]

log = logging.getLogger("powerprofile")

LABELS = {
    **KPI_LABELS,
    "dissatisfied_share": ("Dissatisfied share of rated service requests", "服务不满意率"),
    "level": ("Level", "层级"),
    "unit_id": ("Unit", "单位编码"),
    "unit_name": ("Unit name", "单位名称"),
    "month": ("Month", "月份"),
    "indicator": ("Indicator", "指标"),
    "value": ("Value", "指标值"),
    "target": ("Target", "目标值"),
    "direction": ("Direction", "考核方向"),
    "meets_target": ("Meets target", "是否达标"),
    "peer_rank": ("Rank among peers", "同级排名"),
    "peer_units": ("Peer units", "同级单位数"),
    "trend": ("Change vs previous 3 months", "较前三月变化"),
    "status": ("Status", "状态"),
    "weak": ("Weak link", "薄弱环节"),
    "watch": ("Watch", "关注"),
    "max_z": ("Worst mix-adjusted z", "经结构调整后最大z值"),
    "worst_indicator": ("Worst indicator", "最差指标"),
    "raw_weak": ("Flagged without mix adjustment", "未调整结构时判为薄弱"),
    "raw_max_z": ("Worst unadjusted z", "未调整最大z值"),
    "observed": ("Observed", "实际数"),
    "denominator": ("Base", "基数"),
    "rate": ("Rate", "实际率"),
    "expected": ("Expected from mix", "按结构期望数"),
    "expected_rate": ("Expected rate from mix", "按结构期望率"),
    "ratio": ("Standardised ratio", "标准化比"),
    "z": ("Mix-adjusted z", "调整后z值"),
    "raw_z": ("Unadjusted z", "未调整z值"),
    "phi": ("Over-dispersion", "离散度"),
    "centre": ("Funnel centre", "漏斗中线"),
    "lower_998": ("Lower 99.8% limit", "99.8%下限"),
    "upper_998": ("Upper 99.8% limit", "99.8%上限"),
    "upper_95": ("Upper 95% limit", "95%上限"),
    "by": ("Broken down by", "分解维度"),
    "part": ("Part", "分项"),
    "excess": ("Excess over mix (count)", "超出期望数"),
    "share_of_gap": ("Share of the gap", "占差距比例"),
    "high_risk_customers": ("High-risk customers", "高风险用户数"),
    "high_risk_reached": ("High-risk customers in a campaign", "纳入营销的高风险用户数"),
    "high_risk_reach_share": ("Share of high-risk customers reached", "高风险用户触达率"),
    "open_cases": ("Open cases", "在办工单"),
    "overdue_cases": ("Overdue cases", "超期工单"),
    "resolved_cases": ("Resolved cases", "已办结工单"),
    "median_days_to_resolve": ("Median days to resolve", "办结天数中位数"),
    "case_id": ("Case", "工单号"),
    "customer_key": ("Customer key", "用户标识"),
    "rule": ("Risk rule", "风险规则"),
    "severity": ("Severity", "严重程度"),
    "owner_unit": ("Owner unit", "责任单位"),
    "state": ("State", "状态"),
    "opened": ("Opened", "立案日期"),
    "due_date": ("Due", "应办结日期"),
    "last_seen": ("Last seen", "最近命中"),
    "resolved": ("Resolved", "办结日期"),
    "resolved_by": ("Resolved by", "办结方式"),
}
"""Column -> (English, Chinese) header of every scorecard file."""

SCORE_INDICATORS = (
    "complaints_per_10000",
    "repeat_contact_rate_7d",
    "digital_adoption",
    "online_payment_share",
    "mean_satisfaction",
    "dissatisfied_share",
    "high_risk_reach_share",
    "open_cases",
    "overdue_cases",
)
_HIGHER_IS_BETTER = {
    "digital_adoption",
    "online_payment_share",
    "mean_satisfaction",
    "high_risk_reach_share",
}


@dataclass
class Scorecards:
    """Everything the scorecard stage found (see :func:`build_scorecards`)."""

    levels: tuple
    derived: bool
    org: pd.DataFrame
    indicators: pd.DataFrame
    scorecards: pd.DataFrame
    fair: pd.DataFrame
    weak: pd.DataFrame
    drill: pd.DataFrame
    cases: pd.DataFrame | None = None
    case_kpis: pd.DataFrame | None = None
    warnings: pd.DataFrame | None = None
    notes: list = field(default_factory=list)
    evaluation: dict = field(default_factory=dict)

    def metrics(self) -> dict:
        """Scalar metrics for the MLflow run."""
        out = {}
        for lv in self.levels:
            w = self.weak[self.weak["level"] == lv]
            out[f"operations.{lv}.units"] = float(len(w))
            out[f"operations.{lv}.weak_links"] = float(w["weak"].sum())
        if self.cases is not None:
            for s in ("new", "open", "overdue", "resolved"):
                out[f"operations.cases.{s}"] = float((self.cases["state"] == s).sum())
        if self.warnings is not None:
            out["operations.early_warnings"] = float(len(self.warnings))
        return out


def default_strata(customers: pd.DataFrame, segments: pd.Series | None = None) -> pd.Series:
    """Customer type x digital use (app or WeChat) x segment, when segments are known."""
    ctype = customers["customer_type"].astype("string")
    digital = customers.get("app_user", False) | customers.get("wechat_bound", False)
    out = ctype + "/" + pd.Series(np.where(digital, "digital", "offline"), index=customers.index)
    if segments is not None:
        out = out + "/" + segments.astype("string").fillna("?").to_numpy()
    return out


def _trend(values: pd.DataFrame, ind: str) -> pd.Series:
    v = values.pivot_table(index="unit_id", columns="month", values=ind, aggfunc="first")
    v = v.reindex(sorted(v.columns), axis=1)
    if v.shape[1] < 6:
        return pd.Series(np.nan, index=v.index)
    return v.iloc[:, -3:].mean(axis=1) - v.iloc[:, -6:-3].mean(axis=1)


def build_scorecards(
    tables,
    org: pd.DataFrame | None = None,
    *,
    portraits: pd.DataFrame | None = None,
    risk_severity: dict | None = None,
    targets: TargetSet | None = None,
    previous_cases: pd.DataFrame | None = None,
    resolutions: pd.DataFrame | None = None,
    snapshot=None,
    segments: pd.Series | None = None,
    months: int = 12,
    reached=None,
    tallies=None,
) -> Scorecards:
    """Indicators, scorecards, weak links, drill-down and risk cases of every unit.

    Parameters
    ----------
    tables : Tables or mapping
        Validated tables (customers, interactions, payments, events).
    org : pandas.DataFrame, optional
        Checked ``org_units``; default ``tables.org_units``, else derived from the
        customers' region and grid unit (province, city, grid unit only).
    portraits : pandas.DataFrame, optional
        Portraits (``customer_key``, ``grid_unit``, ``risk_<rule>`` flags, bands):
        risk cases and the early-warning list.
    risk_severity : dict, optional
        Risk rule -> severity (needed for cases).
    targets : TargetSet, optional
    previous_cases : pandas.DataFrame, optional
        The previous run's case state.
    resolutions : pandas.DataFrame, optional
        Ingested resolution records.
    snapshot : date-like, optional
        The run's snapshot (default: the day after the data's end).
    segments : pandas.Series, optional
        Segment of each customer (aligned with ``tables["customers"]``) for the mix.
    months : int, default=12
        Months of history the fair comparison sums (the latest ones).
    reached : collection of str, optional
        ``customer_key`` of the customers in this run's campaign files: with the
        portraits, the share of high-risk customers (risk level or a propensity band
        ``high``) reached by a campaign, per unit, for the latest month.
    tallies : callable, optional
        ``tallies(units, strata)`` gives the :func:`quality_tallies` of every customer
        (default: counted from ``tables["interactions"]``). A streamed job, whose
        ``tables`` are per-part KPI counts (:class:`~powerprofile.report.KpiAggregates`),
        sums them part by part.

    Returns
    -------
    Scorecards
    """
    customers = tables["customers"]
    notes = []
    if org is None:
        org = getattr(tables, "org_units", None)
    derived = org is None
    if derived:
        org = derive_org(customers)
        notes.append(
            "org_units absent: hierarchy derived from customers' region and grid unit "
            "(province, city, grid unit)"
        )
    units, levels = customer_units(customers, org)
    ind = unit_kpis(tables, units, levels)
    all_months = np.sort(ind["month"].unique())
    recent = all_months[-months:]
    strata = default_strata(customers, segments)
    tal = quality_tallies(tables, units, strata) if tallies is None else tallies(units, strata)
    tal_recent = tal[tal["month"].isin(recent)]
    # dissatisfied share per unit and month, at every level
    first = units.drop_duplicates("grid_unit")
    grid_map = pd.DataFrame(
        {lv: first[lv].to_numpy() for lv in levels}, index=first["grid_unit"].to_numpy()
    )
    extra = []
    for lv in levels:
        m = tal.assign(unit_id=tal["grid_unit"].map(grid_map[lv]))
        g = m.groupby(["unit_id", "month"])[["dissatisfied", "rated"]].sum().reset_index()
        g["dissatisfied_share"] = g["dissatisfied"] / g["rated"].where(g["rated"] > 0)
        extra.append(g.assign(level=lv)[["level", "unit_id", "month", "dissatisfied_share"]])
    ind = ind.merge(pd.concat(extra), on=["level", "unit_id", "month"], how="left")
    fair = pd.concat(
        [fair_comparison(tal_recent, grid_map[lv], lv) for lv in levels], ignore_index=True
    )
    weak = weak_links(fair)
    drill = drill_down(tal_recent, grid_map, weak, levels)

    cases = ck = warn = None
    snap = snapshot
    if snap is None:
        end = getattr(tables, "data_end", None)
        snap = (pd.Timestamp(end) + pd.Timedelta(days=1)) if end is not None else pd.Timestamp.now()
    if portraits is not None and risk_severity:
        hits = case_hits(portraits, risk_severity)
        cases = update_cases(previous_cases, hits, snap, resolutions)
        ck = pd.concat([case_kpis(cases, grid_map[lv], lv) for lv in levels], ignore_index=True)
        warn = early_warnings(portraits)
        last = ind["month"].max()
        ind = ind.merge(
            ck[["level", "unit_id", "open_cases", "overdue_cases"]].assign(month=last),
            on=["level", "unit_id", "month"],
            how="left",
        )
    elif portraits is None:
        notes.append("no portraits: risk cases and early warnings skipped")
    if portraits is not None and reached is not None:
        ind = ind.merge(
            _reach(portraits, reached, grid_map, levels).assign(month=ind["month"].max()),
            on=["level", "unit_id", "month"],
            how="left",
        )
    for c in ("open_cases", "overdue_cases", "high_risk_reach_share"):
        if c not in ind.columns:
            ind[c] = np.nan
    tgt = cascade_targets(targets or TargetSet(), org, ind)
    cards = _scorecards(ind, tgt, weak, levels)
    return Scorecards(levels, derived, org, ind, cards, fair, weak, drill, cases, ck, warn, notes)


def high_risk(portraits: pd.DataFrame) -> np.ndarray:
    """High-risk customers: risk level ``high`` or a propensity band ``high``."""
    flag = np.zeros(len(portraits), dtype=bool)
    for c in ("risk_level", "churn_band", "complaint_band"):
        if c in portraits.columns:
            flag |= (portraits[c].astype("string") == "high").fillna(False).to_numpy(bool)
    return flag


def _reach(portraits, reached, grid_map: pd.DataFrame, levels) -> pd.DataFrame:
    hr = high_risk(portraits)
    got = portraits["customer_key"].astype("string").isin(set(reached)).to_numpy() & hr
    per_grid = (
        pd.DataFrame(
            {"grid_unit": portraits["grid_unit"].astype("string").to_numpy(), "n": hr, "r": got}
        )
        .groupby("grid_unit")[["n", "r"]]
        .sum()
    )
    out = []
    for lv in levels:
        g = per_grid.groupby(per_grid.index.map(grid_map[lv])).sum()
        out.append(
            pd.DataFrame(
                {
                    "level": lv,
                    "unit_id": pd.array(g.index, dtype="string"),
                    "high_risk_customers": g["n"].to_numpy(np.int64),
                    "high_risk_reached": g["r"].to_numpy(np.int64),
                    "high_risk_reach_share": (g["r"] / g["n"].where(g["n"] > 0)).to_numpy(float),
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def _scorecards(ind, tgt, weak, levels) -> pd.DataFrame:
    last = ind["month"].max()
    rows = []
    for i in SCORE_INDICATORS:
        if i not in ind.columns:
            continue
        cur = ind.loc[ind["month"] == last, ["level", "unit_id", "month", i]].rename(
            columns={i: "value"}
        )
        cur["indicator"] = i
        trend = pd.concat([_trend(ind[ind["level"] == lv], i) for lv in levels])
        cur["trend"] = cur["unit_id"].map(trend)
        better_high = i in _HIGHER_IS_BETTER
        cur["peer_rank"] = cur.groupby("level")["value"].rank(
            ascending=not better_high, method="min"
        )
        cur["peer_units"] = cur.groupby("level")["value"].transform("count")
        rows.append(cur)
    cards = pd.concat(rows, ignore_index=True)
    t = tgt[tgt["month"] == last][["unit_id", "indicator", "target", "direction"]]
    cards = cards.merge(t, on=["unit_id", "indicator"], how="left")
    v = pd.to_numeric(cards["value"], errors="coerce").to_numpy(float)
    tv = pd.to_numeric(cards["target"], errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore"):
        meets = np.where(cards["direction"].to_numpy() == "at_least", v >= tv, v <= tv)
    cards["meets_target"] = pd.array(
        np.where(np.isnan(tv) | np.isnan(v), None, meets), dtype="boolean"
    )
    w = weak.set_index(["level", "unit_id"])
    key = pd.MultiIndex.from_frame(cards[["level", "unit_id"]])
    is_weak = w["weak"].reindex(key).fillna(False).to_numpy(bool)
    is_watch = w["watch"].reindex(key).fillna(False).to_numpy(bool)
    missed = (cards["meets_target"] == False).fillna(False).to_numpy(bool)  # noqa: E712
    cards["status"] = np.select(
        [is_weak, missed, is_watch], ["weak link", "below target", "watch"], "on track"
    )
    order = {lv: i for i, lv in enumerate(ORG_LEVELS)}
    cards["_o"] = cards["level"].map(order)
    cards["_w"] = ~is_weak
    cards = cards.sort_values(["_o", "_w", "unit_id", "indicator"], ignore_index=True)
    return cards.drop(columns=["_o", "_w"])[
        [
            "level",
            "unit_id",
            "month",
            "indicator",
            "value",
            "target",
            "direction",
            "meets_target",
            "peer_rank",
            "peer_units",
            "trend",
            "status",
        ]
    ]


def drill_down(
    tal: pd.DataFrame, grid_map: pd.DataFrame, weak: pd.DataFrame, levels
) -> pd.DataFrame:
    """Decompose each weak unit's excess over its mix into grid units, channels, segments.

    For indicator ``i`` with stratum rates ``p_s``, each cell's excess is
    ``O - n * p_s``; a unit's parts (its grid units, channels, strata) add up to its
    whole excess ``O_u - E_u``.
    """
    out = []
    for ind, (num, den) in QUALITY_INDICATORS.items():
        tot = tal.groupby("stratum")[[num, den]].sum()
        p_s = (tot[num] / tot[den].where(tot[den] > 0)).fillna(0.0)
        cells = tal.assign(excess=tal[num] - tal[den] * tal["stratum"].map(p_s).to_numpy(float))
        for lv in levels:
            wk = weak[(weak["level"] == lv) & weak["weak"]]["unit_id"]
            if not len(wk):
                continue
            c = cells.assign(unit_id=cells["grid_unit"].map(grid_map[lv]).astype("string"))
            c = c[c["unit_id"].isin(wk)]
            for by in ("grid_unit", "channel", "stratum"):
                if by == "grid_unit" and lv == "grid_unit":
                    continue
                g = c.groupby(["unit_id", by])["excess"].sum().reset_index()
                g = g.rename(columns={by: "part"})
                whole = g.groupby("unit_id")["excess"].transform("sum")
                g["share_of_gap"] = g["excess"] / whole.where(whole != 0)
                out.append(g.assign(level=lv, indicator=ind, by=by))
    cols = ["level", "unit_id", "indicator", "by", "part", "excess", "share_of_gap"]
    if not out:
        return pd.DataFrame(columns=cols)
    d = pd.concat(out, ignore_index=True)[cols]
    return d.sort_values(
        ["level", "unit_id", "indicator", "by", "excess"],
        ascending=[True, True, True, True, False],
        ignore_index=True,
    )


def bilingual(frame: pd.DataFrame) -> pd.DataFrame:
    """Headers as ``English · 中文`` (columns without a label keep their name)."""
    return frame.rename(
        columns={c: f"{LABELS[c][0]} · {LABELS[c][1]}" for c in frame.columns if c in LABELS}
    )


def write_scorecards(result: Scorecards, folder) -> list[Path]:
    """Write the scorecard and case files, per level, as CSV (with BOM) and Parquet.

    Files: ``scorecard_<level>``, ``weak_links_<level>``, ``fair_<level>``,
    ``drill_down``, ``indicators``, ``cases``, ``case_kpis_<level>``,
    ``early_warnings``. Headers are bilingual (``English · 中文``).
    """
    from ..export import write_frame

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frames = {}
    names = result.org.set_index(result.org["unit_id"].astype("string"))["name_zh"]
    for lv in result.levels:
        sc = result.scorecards[result.scorecards["level"] == lv]
        sc = sc.assign(unit_name=sc["unit_id"].map(names)).assign(level=ORG_LEVEL_ZH[lv])
        frames[f"scorecard_{lv}"] = sc
        frames[f"weak_links_{lv}"] = result.weak[result.weak["level"] == lv]
        frames[f"fair_{lv}"] = result.fair[result.fair["level"] == lv]
        if result.case_kpis is not None:
            frames[f"case_kpis_{lv}"] = result.case_kpis[result.case_kpis["level"] == lv]
    frames["drill_down"] = result.drill
    frames["indicators"] = result.indicators
    if result.cases is not None:
        frames["cases"] = result.cases
    if result.warnings is not None:
        frames["early_warnings"] = result.warnings
    files = []
    for name, f in frames.items():
        f = bilingual(f.reset_index(drop=True))
        for fmt, ext in (("csv", ".csv"), ("parquet", ".parquet")):
            files.append(write_frame(f, folder / f"{name}{ext}", fmt))
    return files


def planted_recall(result: Scorecards, truth: pd.DataFrame) -> dict:
    """Recall and precision of the weak links against the generator's planted units.

    Grid units: positives are those whose service was planted worse (weak grid units
    and the grid units of the weak service centre). Service centres: the positive is
    the planted weak centre; another flagged centre that holds a planted weak grid unit
    is *explained* by it (its drill-down names the grid unit) and left out of the
    precision, any other flagged centre is a false alarm.
    """
    out = {}
    w = result.weak
    g = w[w["level"] == "grid_unit"].merge(
        truth[["unit_id", "weak_service", "planted"]], on="unit_id", how="left"
    )
    pos = g["weak_service"].fillna(False).astype(bool)
    tp = int((g["weak"] & pos).sum())
    out["grid_unit"] = {
        "recall": tp / max(int(pos.sum()), 1),
        "precision": tp / max(int(g["weak"].sum()), 1),
        "planted": int(pos.sum()),
        "flagged": int(g["weak"].sum()),
        "mix_only_flagged": int((g["weak"] & (g["planted"] == "mix_only")).sum()),
        "mix_only_units": int((g["planted"] == "mix_only").sum()),
    }
    if "service_centre" in result.levels:
        org = result.org
        par = org.set_index(org["unit_id"].astype("string"))["parent_id"]
        grids = truth[truth["level"] == "grid_unit"]
        holds_weak = set(par.reindex(grids.loc[grids["weak_service"], "unit_id"]).dropna())
        planted_c = set(truth.loc[truth["planted"] == "weak_centre", "unit_id"])
        planted_c -= set(grids["unit_id"])
        c = w[w["level"] == "service_centre"]
        is_planted = c["unit_id"].isin(planted_c)
        explained = c["weak"] & ~is_planted & c["unit_id"].isin(holds_weak)
        tp = int((c["weak"] & is_planted).sum())
        judged = int(c["weak"].sum() - explained.sum())
        out["service_centre"] = {
            "recall": tp / max(len(planted_c), 1),
            "precision": tp / max(judged, 1),
            "planted": len(planted_c),
            "flagged": int(c["weak"].sum()),
            "explained_by_a_weak_grid_unit": int(explained.sum()),
        }
    return out

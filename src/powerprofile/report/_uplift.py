"""The report section on measured campaign effects and the next-best-channel choice."""

from __future__ import annotations

import html
from collections.abc import Mapping

import pandas as pd

from ._format import Column, fmt_count, fmt_num, fmt_pct, fmt_pp, html_table

__all__ = ["section_uplift"]


def _e(text) -> str:
    return html.escape(str(text))


def _yes(x) -> str:
    return "yes · 是" if bool(x) else ""


_EFFECT_COLUMNS = {
    "campaign_id": Column("Campaign · 活动批次", numeric=False),
    "breakdown": Column("By · 维度", numeric=False),
    "level": Column("Group · 分组", numeric=False),
    "n_treated": Column("Treated · 实验组", fmt_count),
    "n_control": Column("Control · 对照组", fmt_count),
    "rate_treated": Column("Rate treated · 实验组比例", fmt_pct),
    "rate_control": Column("Rate control · 对照组比例", fmt_pct),
    "uplift": Column(
        "Uplift · 提升", fmt_pp, "Treated rate minus control rate, in percentage points."
    ),
    "ci_low": Column("95 % CI low · 下限", fmt_pp, "Newcombe hybrid score interval."),
    "ci_high": Column("95 % CI high · 上限", fmt_pp, "Newcombe hybrid score interval."),
    "q_value": Column(
        "q (BH) · 校正p值", fmt_num, "Benjamini-Hochberg adjusted p-value over the whole table."
    ),
    "contacts_per_outcome": Column(
        "Contacts per saved · 每挽留一户需触达",
        fmt_num,
        "1 / uplift, when the whole interval is above zero.",
    ),
    "cost_per_outcome": Column("Cost per saved · 每户挽留成本", fmt_num),
    "small_cell": Column(
        "Small cell · 样本少", _yes, "Fewer than min_cell customers or 5 expected events.", False
    ),
}


def section_uplift(uplift: Mapping | None, max_rows: int) -> str:
    """Measured uplift per campaign and channel, and the next-best-channel choice."""
    if not uplift:
        return (
            '<p class="missing">Not available: the closing-the-loop stage did not run '
            "(uplift.enabled) or no results were given.</p>"
        )
    parts = []
    notes = list(uplift.get("notes") or [])
    if notes:
        parts.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    effects = uplift.get("effects")
    if isinstance(effects, pd.DataFrame) and len(effects):
        main = effects[
            (effects["outcome"] == "retained") & effects["breakdown"].isin(["all", "channel"])
        ]
        parts.append("<h3>Measured uplift on retention · 留存提升（实验组 vs 对照组）</h3>")
        parts.append(
            "<p>Uplift = retention rate of the contacted customers minus that of the randomised "
            "control group; 95 % Newcombe intervals; q-values control the false discovery rate "
            "over every cell of <code>uplift/campaign_effects.csv</code> (which also breaks the "
            "effects down by segment, score band and region, and reports complaints and online "
            "conversion). Small cells are flagged: read them with care.</p>"
        )
        cols = [c for c in _EFFECT_COLUMNS if c in main.columns]
        parts.append(
            html_table(main[cols].reset_index(drop=True), max_rows, columns=_EFFECT_COLUMNS)
        )
        comp = effects[(effects["outcome"] == "complaint") & (effects["breakdown"] == "channel")]
        if len(comp):
            parts.append("<h3>Complaints after contact · 接触后投诉</h3>")
            parts.append(
                html_table(
                    comp[
                        [c for c in cols if c not in ("contacts_per_outcome", "cost_per_outcome")]
                    ].reset_index(drop=True),
                    max_rows,
                    columns=_EFFECT_COLUMNS,
                )
            )
    nbc = uplift.get("nbc")
    if nbc:
        parts.append("<h3>Next-best channel · 最佳触达渠道</h3>")
        facts = [
            f"An uplift model (X-learner on LightGBM) learned each channel's effect on each "
            f"customer from {fmt_count(nbc.get('pilot_rows'))} randomised pilot responses.",
            f"{fmt_count(nbc.get('contacts'))} customers get the channel with the largest "
            "expected effect, within channel capacities, eligibility, opt-outs and the frequency "
            "cap (customers in this run's campaigns are not contacted again); nobody is "
            "contacted where the effect is not positive.",
        ]
        if nbc.get("expected_saved_per_1000") is not None:
            facts.append(
                f"Expected saved customers per 1,000 contacts (model): "
                f"{fmt_num(nbc['expected_saved_per_1000'])} by next-best channel, "
                f"{fmt_num(nbc.get('score_expected_saved_per_1000'))} by churn score with the "
                "same number of contacts."
            )
        if nbc.get("true_saved_per_1000") is not None:
            facts.append(
                f"Against the synthetic data's true effects: "
                f"{fmt_num(nbc['true_saved_per_1000'])} per 1,000 contacts by next-best channel "
                f"versus {fmt_num(nbc['score_true_saved_per_1000'])} by churn score."
            )
        parts.append("<ul>" + "".join(f"<li>{_e(f)}</li>" for f in facts) + "</ul>")
        by = pd.DataFrame(
            {"channel": list(nbc["by_channel"]), "contacts": list(nbc["by_channel"].values())}
        )
        parts.append(
            html_table(
                by,
                max_rows,
                columns={
                    "channel": Column("Channel · 渠道", numeric=False),
                    "contacts": Column("Customers · 用户数", fmt_count),
                },
            )
        )
        ex = nbc.get("examples")
        if isinstance(ex, pd.DataFrame) and len(ex):
            parts.append("<h4>First customers of the list · 名单示例</h4>")
            parts.append(
                html_table(
                    ex,
                    10,
                    columns={
                        "customer_key": Column("Customer key · 用户编码", numeric=False),
                        "channel": Column("Channel · 渠道", numeric=False),
                        "rank": Column("Rank · 排名", fmt_count),
                        "expected_effect": Column("Expected effect · 预期提升", fmt_pp),
                        "reasons": Column("Why · 原因", numeric=False, wrap=True),
                    },
                )
            )
    if len(parts) == (1 if notes else 0):
        parts.append("<p>No campaign effects or channel choice to show.</p>")
    return "\n".join(parts)

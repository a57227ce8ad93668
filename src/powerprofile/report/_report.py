"""The self-contained HTML report (one file, charts inline as SVG, no network)."""

from __future__ import annotations

import datetime as _dt
import html
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ._charts import Labeller
from ._fonts import CHART_FONT_FAMILY, cjk_characters, describe_chart_fonts, embedded_cjk_font
from ._format import fmt_count, fmt_pct
from ._scorecards import section_scorecards
from ._sections import (
    KpiFrames,
    as_frame,
    missing,
    section_kpis,
    section_mix,
    section_models,
    section_risk,
    section_scores,
    section_segments,
    section_validation,
)
from ._summary import (
    MOVEMENT_COLUMNS,
    channel_headlines,
    export_summary,
    load_manifest,
    model_sentence,
    movements,
    section_campaigns,
)
from ._uplift import section_uplift

__all__ = ["SECTIONS", "write_report"]

log = logging.getLogger(__name__)

SECTIONS = (
    ("summary", "Summary", "摘要"),
    ("kpi-trends", "Channel KPI trends", "渠道指标趋势"),
    ("channel-mix", "Channel mix", "渠道结构"),
    ("segments", "Segment profiles", "客群画像"),
    ("models", "Model performance", "模型表现"),
    ("scores", "Score distribution by region", "分地区得分分布"),
    ("risk", "Risk-rule hits", "风险规则命中"),
    ("scorecards", "Unit scorecards and weak links", "单位记分卡与薄弱环节"),
    ("campaigns", "Campaigns and exports", "营销活动与导出"),
    ("uplift", "Measured uplift and next-best channel", "活动效果与最佳渠道"),
    ("validation", "Data validation", "数据校验"),
)
"""Report sections: (anchor id, English heading, Chinese heading), in order."""

_FAMILY = ",".join(f'"{f}"' if " " in f else f for f in CHART_FONT_FAMILY)
_CSS = (
    f"body{{font-family:{_FAMILY};margin:0 auto;max-width:1180px;padding:0 24px 48px;"
    "color:#1d2630}"
    """
h1{font-size:1.6em;margin:24px 0 4px}h2{border-bottom:2px solid #1f6fb2;padding-bottom:4px;margin-top:40px}
h3{margin-bottom:6px}.meta{color:#5f6b73;font-size:.9em}.missing{background:#f5f5f5;border-left:4px solid #aab;
padding:8px 12px;color:#444}.section-error{background:#fdecea;border-left:4px solid #c0392b;padding:8px 12px}
.note{background:#fff8e1;border-left:4px solid #e0a800;padding:8px 12px}
.summary{background:#f3f7fb;border-left:4px solid #1f6fb2;padding:4px 16px 12px}
.summary li{margin:3px 0}
table.dataframe{border-collapse:collapse;font-size:.82em;margin:8px 0 16px}
table.dataframe th,table.dataframe td{border:1px solid #d5dbe0;padding:3px 7px;text-align:left}
table.dataframe th{background:#eef3f8;vertical-align:bottom}table.dataframe td{white-space:nowrap}
table.dataframe td.wrap{white-space:pre-line;min-width:16em;max-width:36em}
table.dataframe td.n{text-align:right;font-variant-numeric:tabular-nums}
table.metrics th[scope=row]{text-align:left;font-weight:normal;background:#f7f9fb}
abbr[title]{text-decoration:underline dotted;cursor:help}
svg.chart{max-width:100%;height:auto;display:block;margin:8px 0}
nav ol{columns:3}code{background:#f0f0f0;padding:0 3px}.scroll{overflow-x:auto}
.figs{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}.figs svg.chart{max-width:48%}
details{margin:6px 0 12px}summary{cursor:pointer;color:#1f6fb2}
"""
)


_FONT_FACE = "\x00font-face\x00"
_FONT_NOTE = "\x00font-note\x00"
"""Placeholders, filled once the page's Chinese characters are known."""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _ul(items, ident: str | None = None) -> str:
    if not items:
        return ""
    attr = f' id="{ident}"' if ident else ""
    return f"<ul{attr}>" + "".join(f"<li>{_e(t)}</li>" for t in items) + "</ul>"


def _section_summary(frames, scores, profile, evaluations, manifest, max_rows) -> str:
    """The executive summary: customers, channel headlines, movements, models, exports."""
    parts = []
    customers = []
    tables = frames.tables
    if tables is not None:
        try:
            ids = tables["customers"]["customer_id"]
        except (KeyError, TypeError):
            ids = None
        if ids is not None:
            text = f"{fmt_count(ids.nunique())} customers in the input data · 输入数据用户数"
            m = frames.month
            if m is not None and len(m):
                last = m.sort_values("month").iloc[-1]
                text += f"; {fmt_count(last['customers'])} in service in {last['month']:%Y-%m}"
            customers.append(text + ".")
    if scores is not None:
        sc = as_frame(scores)
        n = sc["customer_key"].nunique() if "customer_key" in sc.columns else len(sc)
        customers.append(f"{fmt_count(n)} customers scored at the snapshot · 已评分用户数.")
    largest = _largest_segment(profile)
    if largest:
        customers.append(largest)
    if customers:
        parts.append("<h3>Customers · 用户</h3>" + _ul(customers, "summary-customers"))
    heads = channel_headlines(frames.month, frames.month_channel)
    if heads:
        parts.append("<h3>Channels · 渠道</h3>" + _ul(heads, "summary-channels"))
    if tables is not None:
        moves = movements({k: frames.by("month", k) for k in ("region", "grid_unit")})
        if len(moves):
            parts.append(
                "<h3>The month's biggest movements · 本月最大变化</h3>"
                "<p class='meta'>Per measure, the region and the grid unit whose value changed "
                "most from the month before (units with at least 30 customers in service).</p>"
                + _html_moves(moves, max_rows)
            )
    sentences = []
    if evaluations:
        evs = evaluations
        if not isinstance(evs, Mapping) or "y_true" in evs:
            evs = {"model": evs}
        for t, ev in evs.items():
            try:
                sentence = model_sentence(str(t), ev)
            except Exception as exc:  # shown in the models section
                log.warning("model %r could not be summarised: %s", t, exc)
                sentence = f"The {t} model could not be summarised (see Model performance)."
            if sentence:
                sentences.append(sentence)
    if sentences:
        parts.append("<h3>Models · 模型</h3>" + _ul(sentences, "summary-models"))
    exported = export_summary(manifest)
    if exported:
        parts.append("<h3>Exports · 导出</h3>" + _ul(exported, "summary-exports"))
    if not parts:
        return missing(
            "anything to summarise", "tables=, scores=, evaluations= or export_manifest="
        )
    return '<div class="summary">' + "\n".join(parts) + "</div>"


def _largest_segment(profile) -> str | None:
    """'7 segments; the largest, <name>, holds 35.9 % of customers.'"""
    if profile is None:
        return None
    prof = as_frame(profile)
    seg_col = next((c for c in ("segment", "segment_id") if c in prof.columns), None)
    ids = prof[seg_col] if seg_col is not None else pd.Series(prof.index, index=prof.index)
    size = next((c for c in ("size", "n_customers") if c in prof.columns), None)
    seg = prof[(ids.astype(str) != "-1").to_numpy()]
    if size is None or not len(seg):
        return None
    sizes = pd.to_numeric(seg[size], errors="coerce")
    big = seg.loc[sizes.idxmax()]
    name = big.get("name_en", big.get("segment_name_en"))
    text = f"{len(seg)} segments · 客群; the largest"
    text += f", {name}," if isinstance(name, str) and name else ""
    return text + f" holds {fmt_pct(sizes.max() / max(sizes.sum(), 1))} of customers."


def _html_moves(moves, max_rows):
    from ._format import html_table

    return html_table(moves, max_rows, columns=MOVEMENT_COLUMNS)


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
    snapshot_date=None,
    export_manifest=None,
    uplift=None,
    max_table_rows: int = 30,
    scorecards=None,
) -> Path:
    """Write the channel-operations and portrait report as one self-contained HTML file.

    The page opens with an executive summary (customers, channel headlines, the
    month's biggest movements by region and grid unit, model quality, exports), then
    one section per topic. Charts are inline SVG whose text stays text, drawn by the
    reader's browser with its own (Chinese-first) fonts, so no font of the machine
    that writes the report is needed; the Chinese characters the page uses are also
    embedded, as a subset of Noto Sans CJK (package ``cvttf-notosanscjk-regular``; the
    report is written without it, and says so, when that package is missing), for
    computers without a Chinese font. The page loads nothing from the network.
    Ratios are shown as percentages, counts and rates rounded with their unit,
    features by their English and Chinese catalogue descriptions, technical metric
    names in hover text. Every section is optional: a section whose input is missing
    says so. A section whose input has an unexpected shape shows the error instead of
    failing the whole report (and logs a warning).

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
        tables, figures are drawn as SVG). A dict with arrays ``y_true``, ``y_score`` and
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
        Generation time printed in the header; default now (UTC). Fix it for
        identical bytes.
    snapshot_date : date or str, optional
        The snapshot the scores describe, printed in the header next to the
        generation time; default the scores' latest ``snapshot_date``, else the
        export manifest's.
    export_manifest : dict or str or path-like, optional
        The export manifest (``manifest.json`` of ``powerprofile.export``), its file
        or the export folder: the summary's export line and the campaign section.
    uplift : dict, optional
        What :func:`powerprofile.uplift.run_uplift_stage` returned: measured campaign
        effects and the next-best-channel choice.
    max_table_rows : int, default=30
        Longest table shown (the rest is counted).
    scorecards : powerprofile.operations.Scorecards, optional
        Unit scorecards, weak links (shown first, per level), their drill-down, risk
        cases and early warnings (``powerprofile.operations.build_scorecards``).

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
    lab = Labeller()
    now = generated_at if generated_at is not None else _dt.datetime.now(_dt.UTC)
    when = now.strftime("%Y-%m-%d %H:%M UTC") if hasattr(now, "strftime") else str(now)
    try:
        manifest = load_manifest(export_manifest)
    except (OSError, ValueError) as exc:  # unreadable manifest: the rest is still useful
        log.warning("export manifest %r could not be read: %s", export_manifest, exc)
        manifest = None
    snapshot = _snapshot_text(snapshot_date, scores, manifest)
    frames = KpiFrames(tables, kpis)
    n = max_table_rows

    builders = {
        "summary": lambda: _section_summary(
            frames, scores, segment_profile, evaluations, manifest, n
        ),
        "kpi-trends": lambda: section_kpis(frames, lab, n),
        "channel-mix": lambda: section_mix(frames, lab, n),
        "segments": lambda: section_segments(segment_profile, segment_names, lab, n),
        "models": lambda: section_models(evaluations, shap_importance, lab, n),
        "scores": lambda: section_scores(scores, region_column, score_columns, lab, n),
        "risk": lambda: section_risk(risk_hits, lab, n),
        "scorecards": lambda: section_scorecards(scorecards, lab, n),
        "campaigns": lambda: section_campaigns(manifest, n),
        "uplift": lambda: section_uplift(uplift, n),
        "validation": lambda: section_validation(validation_report, tables, n),
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
    doc = (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_FONT_FACE}{_CSS}</style>\n</head>\n<body>\n"
        f"<header>\n<h1>{_e(title)}</h1>\n"
        + (f'<p class="meta">{_e(subtitle)}</p>\n' if subtitle else "")
        + f'<p class="meta" id="snapshot-date">Snapshot date · 快照日期: {_e(snapshot)}</p>\n'
        f'<p class="meta" id="generated-at">Generated · 生成时间: {_e(when)} by powerprofile '
        f"{_e(_version())}</p>\n"
        f'<p class="meta" id="font-note">{_FONT_NOTE}</p>\n'
        f"</header>\n<nav>\n<ol>{nav}</ol>\n</nav>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
    # the Chinese characters of the finished page (the note and the font are ASCII)
    font = embedded_cjk_font(cjk_characters(doc))
    doc = doc.replace(_FONT_FACE, font.css(), 1).replace(
        _FONT_NOTE, _e(describe_chart_fonts(font)), 1
    )
    _atomic_write(path, doc)
    return path


def _snapshot_text(snapshot_date, scores, manifest) -> str:
    """The snapshot date as text: given, else the scores' latest, else the manifest's."""
    if snapshot_date is None and scores is not None:
        sc = as_frame(scores)
        if "snapshot_date" in sc.columns and sc["snapshot_date"].notna().any():
            snapshot_date = pd.to_datetime(sc["snapshot_date"]).max()
    if snapshot_date is None and manifest:
        snapshot_date = manifest.get("snapshot_date")
    if snapshot_date is None:
        return "not given"
    if hasattr(snapshot_date, "strftime"):
        return snapshot_date.strftime("%Y-%m-%d")
    return str(snapshot_date)


def _version() -> str:
    from .. import __version__

    return __version__


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

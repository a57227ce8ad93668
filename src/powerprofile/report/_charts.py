"""Matplotlib charts of the report, returned as inline SVG with the text kept as text.

Figures are built with the object-oriented API (``matplotlib.figure.Figure``), never
through pyplot's global state, so building a report does not open windows or leak
figures. Every chart is written as SVG with ``svg.fonttype: none``: each label stays a
``<text>`` element whose font family is the CJK-first list of
:data:`~powerprofile.report._fonts.CHART_FONT_FAMILY`, so the reader's browser draws
Chinese and Latin text with its own fonts and no font of the building machine is
drawn. Matplotlib only measures the text, with fonts bundled with it (see
:mod:`powerprofile.report._fonts`).
"""

from __future__ import annotations

import contextlib
import html
import io
import re

import numpy as np
import pandas as pd

from ..schema._contract import CHANNEL_ZH, CHANNELS, CUSTOMER_TYPE_ZH
from ._fonts import LAYOUT_FAMILIES, css_font_family, layout_font_files

__all__ = ["Labeller", "new_figure"]

CHANNEL_EN = {
    "hotline_95598": "95598 hotline",
    "app": "App",
    "wechat": "WeChat",
    "counter": "Counter",
    "grid_manager": "Grid manager",
}
PAYMENT_CHANNEL_EN = {
    "app": "App",
    "wechat": "WeChat",
    "alipay": "Alipay",
    "bank_withholding": "Bank withholding",
    "counter": "Counter",
}
PAYMENT_CHANNEL_ZH = {
    "app": "网上国网",
    "wechat": "微信",
    "alipay": "支付宝",
    "bank_withholding": "银行代扣",
    "counter": "营业厅",
}
CUSTOMER_TYPE_EN = {
    "residential": "Residential",
    "commercial": "General commercial & industrial",
    "large_industrial": "Large industrial",
    "agricultural": "Agricultural",
}
_COLORS = ("#1f6fb2", "#e07b39", "#3a9d5d", "#c0392b", "#7d5ba6", "#8c6d31", "#d35fb7", "#5f6b73")


def bilingual(en: str, zh: str | None) -> str:
    """``"English · 中文"``, or the English text alone when there is no Chinese."""
    return f"{en} · {zh}" if zh and zh != en else str(en)


def channel_label(code) -> str:
    """Service channel, e.g. ``"App · 网上国网"``."""
    return bilingual(CHANNEL_EN.get(str(code), str(code)), CHANNEL_ZH.get(str(code)))


def payment_channel_label(code) -> str:
    """Payment channel, e.g. ``"Bank withholding · 银行代扣"``."""
    return bilingual(
        PAYMENT_CHANNEL_EN.get(str(code), str(code)), PAYMENT_CHANNEL_ZH.get(str(code))
    )


def customer_type_label(code) -> str:
    """Customer type, e.g. ``"Residential · 居民"``."""
    return bilingual(
        CUSTOMER_TYPE_EN.get(str(code), str(code).replace("_", " ")),
        CUSTOMER_TYPE_ZH.get(str(code)),
    )


class Labeller:
    """Writes chart text (English and Chinese) and renders figures as inline SVG.

    One instance serves one report: it numbers the charts so that the ids inside
    each inline SVG are unique in the page.
    """

    def __init__(self):
        self._n = 0

    def __call__(self, en: str, zh: str | None = None) -> str:
        """Titles: English, then Chinese on a second line."""
        return f"{en}\n{zh}" if zh else en

    short = staticmethod(bilingual)
    channel = staticmethod(channel_label)
    payment_channel = staticmethod(payment_channel_label)
    customer_type = staticmethod(customer_type_label)

    @contextlib.contextmanager
    def context(self):
        """Matplotlib ``rc_context``: layout fonts bundled with matplotlib, SVG text as text."""
        import matplotlib

        with matplotlib.rc_context(
            {
                # an explicit list (not the generic "sans-serif") makes it a per-glyph
                # fallback chain: DejaVu Sans first, Last Resort for the rest
                "font.family": [f for f in LAYOUT_FAMILIES if f in layout_font_files()],
                "font.sans-serif": list(LAYOUT_FAMILIES),
                "svg.fonttype": "none",
                "svg.hashsalt": "powerprofile",
                "text.parse_math": False,
                "axes.unicode_minus": False,
                "axes.spines.top": False,
                "axes.spines.right": False,
                "axes.grid": True,
                "grid.alpha": 0.3,
                "axes.prop_cycle": matplotlib.cycler(color=list(_COLORS)),
                "font.size": 9,
            }
        ):
            yield

    def svg(self, fig, alt: str) -> str:
        """The figure as an inline ``<svg>`` element (see :func:`figure_to_svg`)."""
        self._n += 1
        return figure_to_svg(fig, alt, prefix=f"c{self._n}-")


_ID = re.compile(r'\sid="([^"]*)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]*)')
_FONT_SHORTHAND = re.compile(r"font:\s*([^;\"]*?)([\d.]+px)\s+[^;\"]*")  # matplotlib < 3.9
_FONT_FAMILY = re.compile(r"font-family:[^;\"]*")


def figure_to_svg(fig, alt: str, prefix: str = "c-") -> str:
    """Render a figure to an inline ``<svg>`` element whose text stays text.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure (drawn under :meth:`Labeller.context` for the report's fonts).
    alt : str
        Accessible name (``aria-label`` and ``<title>``; escaped here).
    prefix : str, default="c-"
        Prefix of every id inside the SVG (unique per chart in a page).

    Returns
    -------
    str
        ``<svg class="chart" role="img" ...>...</svg>`` without XML prolog or
        metadata; every ``<text>`` names the CJK-first font families.
    """
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "powerprofile"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = svg.replace('<style type="text/css">*{', '<style type="text/css">svg.chart *{')
    used = {m.group(2) for m in _REF.finditer(svg)}
    svg = _ID.sub(lambda m: f' id="{prefix}{m.group(1)}"' if m.group(1) in used else "", svg)
    svg = _REF.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)
    family = css_font_family()
    svg = _FONT_SHORTHAND.sub(lambda m: f"font: {m.group(1)}{m.group(2)} {family}", svg)
    svg = _FONT_FAMILY.sub(f"font-family: {family}", svg)
    name = html.escape(alt, quote=True)
    svg = svg.replace("<svg ", f'<svg class="chart" role="img" aria-label="{name}" ', 1).replace(
        ">", f"><title>{name}</title>", 1
    )
    return svg


def new_figure(width: float = 10.0, height: float = 4.0):
    """A new matplotlib Figure (not registered with pyplot)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def month_axis(ax) -> None:
    """One tick per month (or every few months), labelled ``YYYY-MM``; call after plotting."""
    import matplotlib.dates as mdates

    lo, hi = ax.get_xlim()
    start, end = mdates.num2date(lo), mdates.num2date(hi)
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    ax.xaxis.set_major_locator(mdates.MonthLocator(interval=max(1, -(-months // 8))))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))


def kpi_trends_figure(mc: pd.DataFrame | None, m: pd.DataFrame, lab: Labeller):
    """Six line charts of the channel KPIs over the months."""
    from ._kpis import KPI_LABELS

    fig = new_figure(11, 6.2)
    axes = fig.subplots(2, 3)
    per_channel = (
        "contacts_per_1000",
        "active_customers",
        "complaints_per_10000",
        "repeat_contact_rate_7d",
        "mean_satisfaction",
    )
    for ax, col in zip(axes.flat, per_channel, strict=False):
        en, zh = KPI_LABELS[col]
        if mc is not None and col in mc:
            for ch in CHANNELS:
                part = mc[mc["channel"] == ch]
                if len(part):
                    ax.plot(part["month"], part[col], marker=".", label=lab.channel(ch))
        elif col in m:
            ax.plot(m["month"], m[col], marker=".", label=lab.short("All channels", "全部渠道"))
        if col.startswith(("contacts_per_", "complaints_per_")):
            en, zh = f"{en} per month", f"{zh}（每月）"
        ax.set_title(lab(en, zh))
        month_axis(ax)
        if col.endswith("rate_7d"):
            ax.yaxis.set_major_formatter(_pct())
    ax = axes.flat[5]
    for col in ("digital_adoption", "online_payment_share"):
        if col in m:
            en, zh = KPI_LABELS[col]
            ax.plot(m["month"], m[col], marker=".", label=lab.short(en, zh))
    ax.set_title(lab("Digital adoption and online payments", "线上化率与线上缴费占比"))
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(_pct())
    month_axis(ax)
    ax.legend(loc="lower right", fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8)
    for ax in axes.flat:
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    return fig


def _pct(decimals=0):
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=decimals, symbol=" %")


def channel_mix_figure(mc: pd.DataFrame | None, pay_mix: pd.DataFrame | None, lab: Labeller):
    """Stacked monthly shares of contacts per channel and payments per channel."""
    panels = [p for p in (mc, pay_mix) if p is not None and len(p)]
    fig = new_figure(11, 3.8)
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    i = 0
    if mc is not None and len(mc):
        wide = mc.pivot_table(
            index="month", columns="channel", values="contacts", aggfunc="sum", observed=False
        ).fillna(0.0)
        share = wide.div(wide.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
        _stack(axes[i], share, [lab.channel(c) for c in share.columns])
        axes[i].set_title(lab("Contacts by channel (share)", "各渠道接触占比"))
        i += 1
    if pay_mix is not None and len(pay_mix):
        wide = pay_mix.pivot_table(
            index="month",
            columns="payment_channel",
            values="payments",
            aggfunc="sum",
            observed=False,
        ).fillna(0.0)
        share = wide.div(wide.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
        _stack(axes[i], share, [lab.payment_channel(c) for c in share.columns])
        axes[i].set_title(lab("Payments by channel (share)", "各缴费渠道占比"))
    return fig


def _stack(ax, share: pd.DataFrame, labels) -> None:
    x = pd.to_datetime(share.index)
    ax.stackplot(x, share.to_numpy().T, labels=labels, alpha=0.9)
    ax.set_ylim(0, 1)
    ax.set_xlim(x.min(), x.max()) if len(x) > 1 else None
    ax.yaxis.set_major_formatter(_pct())
    month_axis(ax)
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)


def bar_figure(labels, values, title: str, xlabel: str = "", width: float = 8.0):
    """Horizontal bar chart (first label on top); labels may have two lines."""
    n = len(labels)
    lines = max((str(x).count("\n") + 1 for x in labels), default=1)
    fig = new_figure(width, max(1.8, (0.2 + 0.16 * lines) * n + 0.9))
    ax = fig.subplots()
    y = np.arange(n)
    ax.barh(y, values, color=_COLORS[0])
    ax.set_yticks(y, labels=labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    return fig


def gains_calibration_figure(y_true, scores: dict, lab: Labeller, n_bins: int = 10):
    """Cumulative gains and reliability curves for one or more score vectors."""
    fig = new_figure(10, 3.8)
    ax_g, ax_c = fig.subplots(1, 2)
    y = np.asarray(y_true, dtype=float)
    n_pos = max(y.sum(), 1.0)
    for name, s in scores.items():
        s = np.asarray(s, dtype=float)
        order = np.argsort(-s, kind="stable")
        cum = np.concatenate([[0.0], np.cumsum(y[order]) / n_pos])
        frac = np.linspace(0, 1, len(cum))
        ax_g.plot(frac, cum, label=name)
        bins = np.clip((s * n_bins).astype(int), 0, n_bins - 1)
        cnt = np.bincount(bins, minlength=n_bins)
        mean_s = np.bincount(bins, weights=s, minlength=n_bins)
        mean_y = np.bincount(bins, weights=y, minlength=n_bins)
        ok = cnt > 0
        ax_c.plot(mean_s[ok] / cnt[ok], mean_y[ok] / cnt[ok], marker="o", label=name)
    ax_g.plot([0, 1], [0, 1], ls="--", color="grey", label=lab.short("Random", "随机"))
    ax_g.set_title(lab("Cumulative gains", "累积增益"))
    ax_g.set_xlabel(lab.short("Share of customers contacted", "触达客户占比"))
    ax_g.set_ylabel(lab.short("Share of positives captured", "命中正例占比"))
    ax_g.xaxis.set_major_formatter(_pct())
    ax_g.yaxis.set_major_formatter(_pct())
    ax_g.legend(fontsize=8)
    hi = max(1e-6, float(np.nanmax([np.max(np.asarray(v, dtype=float)) for v in scores.values()])))
    ax_c.plot([0, hi], [0, hi], ls="--", color="grey", label=lab.short("Perfect", "理想"))
    ax_c.set_title(lab("Calibration", "校准曲线"))
    ax_c.set_xlabel(lab.short("Mean predicted probability", "平均预测概率"))
    ax_c.set_ylabel(lab.short("Observed rate", "实际发生率"))
    ax_c.legend(fontsize=8)
    return fig


def score_box_figure(frame: pd.DataFrame, region: str, score_cols, lab: Labeller, titles=None):
    """Box plots (in %) of each score column per region."""
    fig = new_figure(11, 3.6)
    axes = np.atleast_1d(fig.subplots(1, len(score_cols)))
    regions = sorted(frame[region].dropna().astype(str).unique())
    titles = titles or {}
    for ax, col in zip(axes, score_cols, strict=True):
        groups = [
            pd.to_numeric(frame.loc[frame[region].astype(str) == r, col], errors="coerce")
            .dropna()
            .to_numpy()
            for r in regions
        ]
        ax.boxplot(groups, tick_labels=regions, showfliers=False)
        ax.set_title(titles.get(col, str(col)))
        ax.yaxis.set_major_formatter(_pct(decimals=1))
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    return fig

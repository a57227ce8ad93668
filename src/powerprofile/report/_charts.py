"""Matplotlib charts of the report, returned as embedded PNG ``<img>`` tags.

Figures are built with the object-oriented API (``matplotlib.figure.Figure``), never
through pyplot's global state, so building a report does not open windows or leak
figures. Every text on a chart goes through a :class:`Labeller`, which writes Chinese
only when a font with Chinese glyphs is in use.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..schema._contract import CHANNEL_ZH, CHANNELS, CUSTOMER_TYPE_ZH
from ._fonts import FontChoice

__all__ = ["Labeller", "figure_to_img", "new_figure"]

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
_COLORS = ("#1f6fb2", "#e07b39", "#3a9d5d", "#c0392b", "#7d5ba6", "#8c6d31", "#d35fb7", "#5f6b73")


@dataclass(frozen=True)
class Labeller:
    """Chooses chart text by the font available.

    Parameters
    ----------
    font : FontChoice
        The font found by :func:`find_cjk_font` (``cjk=False`` means English only).
    """

    font: FontChoice

    @property
    def cjk(self) -> bool:
        """Whether Chinese text may be drawn."""
        return self.font.cjk

    def __call__(self, en: str, zh: str | None = None) -> str:
        """Bilingual English and Chinese on two lines with a CJK font, else the English text."""
        if self.cjk and zh:
            return f"{en}\n{zh}"
        return en

    def short(self, en: str, zh: str | None = None) -> str:
        """The Chinese text with a CJK font, else the English one (legends, ticks)."""
        return zh if (self.cjk and zh) else en

    def channel(self, code: str) -> str:
        """Readable service-channel name."""
        return self.short(CHANNEL_EN.get(code, str(code)), CHANNEL_ZH.get(code))

    def payment_channel(self, code: str) -> str:
        """Readable payment-channel name."""
        return self.short(PAYMENT_CHANNEL_EN.get(code, str(code)), PAYMENT_CHANNEL_ZH.get(code))

    def customer_type(self, code: str) -> str:
        """Readable customer type."""
        return self.short(str(code).replace("_", " "), CUSTOMER_TYPE_ZH.get(str(code)))

    def safe(self, text) -> str:
        """Text as given when the font can draw it, else its ASCII characters (or "?")."""
        text = str(text)
        if self.cjk or text.isascii():
            return text
        kept = "".join(ch for ch in text if ch.isascii()).strip()
        return kept or "?"

    def safe_many(self, values, prefix: str = "#") -> tuple[list[str], dict[str, str]]:
        """Chart labels for ``values`` and the codes that replaced undrawable ones.

        Without a CJK font, a value that is not plain ASCII is drawn as
        ``prefix + number``; the returned mapping (code -> value) lets the report
        print what each code stands for.
        """
        labels, codes = [], {}
        for i, v in enumerate(values, start=1):
            v = str(v)
            if self.cjk or v.isascii():
                labels.append(v)
            else:
                code = f"{prefix}{i}"
                labels.append(code)
                codes[code] = v
        return labels, codes

    @contextlib.contextmanager
    def context(self):
        """Matplotlib ``rc_context`` selecting the font."""
        import logging

        import matplotlib

        family = [self.font.name, "DejaVu Sans"] if self.cjk else ["DejaVu Sans"]
        fm_log = logging.getLogger("matplotlib.font_manager")
        level = fm_log.level
        fm_log.setLevel(logging.ERROR)  # "weight normal not found, using 500" for CJK fonts
        with contextlib.ExitStack() as stack:
            stack.callback(fm_log.setLevel, level)
            stack.enter_context(self._rc(matplotlib, family))
            yield

    @staticmethod
    def _rc(matplotlib, family):
        return matplotlib.rc_context(
            {
                "font.family": "sans-serif",
                "font.sans-serif": family,
                "axes.unicode_minus": False,
                "axes.spines.top": False,
                "axes.spines.right": False,
                "axes.grid": True,
                "grid.alpha": 0.3,
                "axes.prop_cycle": matplotlib.cycler(color=list(_COLORS)),
                "font.size": 9,
            }
        )


def new_figure(width: float = 10.0, height: float = 4.0):
    """A new matplotlib Figure (not registered with pyplot)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def figure_to_img(fig, alt: str, dpi: int = 80) -> str:
    """Render a figure to an ``<img>`` tag with the PNG embedded as base64.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    alt : str
        Alternative text (escaped here).
    dpi : int, default=80
        Resolution.

    Returns
    -------
    str
        ``<img src="data:image/png;base64,..." alt="...">``.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def month_axis(ax) -> None:
    """Readable month ticks."""
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=8))
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


def _pct():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)


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
    """Horizontal bar chart (first label on top)."""
    n = len(labels)
    fig = new_figure(width, max(1.8, 0.35 * n + 0.9))
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
        ax_g.plot(frac, cum, label=lab.safe(name))
        bins = np.clip((s * n_bins).astype(int), 0, n_bins - 1)
        cnt = np.bincount(bins, minlength=n_bins)
        mean_s = np.bincount(bins, weights=s, minlength=n_bins)
        mean_y = np.bincount(bins, weights=y, minlength=n_bins)
        ok = cnt > 0
        ax_c.plot(mean_s[ok] / cnt[ok], mean_y[ok] / cnt[ok], marker="o", label=lab.safe(name))
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


def score_box_figure(frame: pd.DataFrame, region: str, score_cols, lab: Labeller):
    """Box plots of each score column per region; returns ``(figure, label codes)``."""
    fig = new_figure(11, 3.6)
    axes = np.atleast_1d(fig.subplots(1, len(score_cols)))
    regions = sorted(frame[region].dropna().astype(str).unique())
    tick_labels, codes = lab.safe_many(regions)
    for ax, col in zip(axes, score_cols, strict=True):
        groups = [
            pd.to_numeric(frame.loc[frame[region].astype(str) == r, col], errors="coerce")
            .dropna()
            .to_numpy()
            for r in regions
        ]
        ax.boxplot(groups, tick_labels=tick_labels, showfliers=False)
        ax.set_title(lab.safe(col))
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    return fig, codes

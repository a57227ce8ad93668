"""Channel KPIs and the self-contained HTML report."""

from ._fonts import FontChoice, find_cjk_font
from ._kpis import KPI_COLUMNS, KPI_LABELS, channel_kpis, contact_type_mix, payment_channel_mix
from ._report import SECTIONS, write_report

__all__ = [
    "KPI_COLUMNS",
    "KPI_LABELS",
    "SECTIONS",
    "FontChoice",
    "channel_kpis",
    "contact_type_mix",
    "find_cjk_font",
    "payment_channel_mix",
    "write_report",
]

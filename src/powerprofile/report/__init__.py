"""Channel KPIs and the self-contained HTML report."""

from ._fonts import CHART_FONT_FAMILY
from ._kpis import (
    KPI_COLUMNS,
    KPI_LABELS,
    REPORT_GROUPINGS,
    KpiAggregates,
    channel_kpi_counts,
    channel_kpis,
    contact_type_mix,
    first_activity_month,
    payment_channel_mix,
)
from ._report import SECTIONS, write_report

__all__ = [
    "CHART_FONT_FAMILY",
    "KPI_COLUMNS",
    "KPI_LABELS",
    "REPORT_GROUPINGS",
    "SECTIONS",
    "KpiAggregates",
    "channel_kpi_counts",
    "channel_kpis",
    "contact_type_mix",
    "first_activity_month",
    "payment_channel_mix",
    "write_report",
]

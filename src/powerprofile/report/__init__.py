"""Channel KPIs and the self-contained HTML report."""

from ._kpis import KPI_COLUMNS, KPI_LABELS, channel_kpis, contact_type_mix, payment_channel_mix

__all__ = [
    "KPI_COLUMNS",
    "KPI_LABELS",
    "channel_kpis",
    "contact_type_mix",
    "payment_channel_mix",
]

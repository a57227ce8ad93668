"""Data contract and validation."""

from ._contract import (
    CHANNELS,
    CONTACT_TYPES,
    CUSTOMER_TYPES,
    EVENT_KINDS,
    ONLINE_CHANNELS,
    ONLINE_PAYMENT_CHANNELS,
    PAYMENT_CHANNELS,
    PII_COLUMNS,
    SCHEMA_VERSION,
    TABLE_ORDER,
    TABLES,
    ColumnSpec,
    TableSpec,
)
from ._tables import Tables

__all__ = [
    "CHANNELS",
    "CONTACT_TYPES",
    "CUSTOMER_TYPES",
    "EVENT_KINDS",
    "ONLINE_CHANNELS",
    "ONLINE_PAYMENT_CHANNELS",
    "PAYMENT_CHANNELS",
    "PII_COLUMNS",
    "SCHEMA_VERSION",
    "TABLES",
    "TABLE_ORDER",
    "ColumnSpec",
    "TableSpec",
    "Tables",
]

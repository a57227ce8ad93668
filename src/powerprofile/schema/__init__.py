"""Data contract, loading, validation and saving of the input tables.

``load_tables`` reads a data-set folder, ``validate_tables`` checks tables already in
memory, ``save_tables`` writes the folder layout back; ``summarize`` and
``format_report`` describe the result. The contract itself (tables, columns, types,
allowed values) lives in ``TABLES`` and is documented in ``docs/data-contract.md``.
"""

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
from ._io import load_tables, read_dataset_info, save_quarantine, save_tables
from ._report import format_report, redact_quarantine, redact_report, summarize
from ._tables import Tables
from ._validate import REPORT_COLUMNS, validate_tables

__all__ = [
    "CHANNELS",
    "CONTACT_TYPES",
    "CUSTOMER_TYPES",
    "EVENT_KINDS",
    "ONLINE_CHANNELS",
    "ONLINE_PAYMENT_CHANNELS",
    "PAYMENT_CHANNELS",
    "PII_COLUMNS",
    "REPORT_COLUMNS",
    "SCHEMA_VERSION",
    "TABLES",
    "TABLE_ORDER",
    "ColumnSpec",
    "TableSpec",
    "Tables",
    "format_report",
    "load_tables",
    "read_dataset_info",
    "redact_quarantine",
    "redact_report",
    "save_quarantine",
    "save_tables",
    "summarize",
    "validate_tables",
]

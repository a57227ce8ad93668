"""Data contract, reading, validation and saving of the input tables.

Reading belongs here, and every read is validated. ``read_parts`` streams a data-set
folder part by part, validating each part as it is read; ``validate_folder`` does the
same keeping only the report; ``load_tables`` keeps every part in memory;
``DataSource`` hands the feature builders one hash partition at a time.
``validate_tables`` checks tables already in memory, with the same per-part
validation. ``save_tables`` writes the folder layout back; ``summarize`` and
``format_report`` describe the result. The contract itself (tables, columns, types,
allowed values) lives in ``TABLES`` and is documented in ``docs/data-contract.md``.
"""

from .._partition import partition_of
from ._contract import (
    CHANNELS,
    CONTACT_TYPES,
    CUSTOMER_TYPES,
    EVENT_KINDS,
    FEEDBACK_TABLES,
    ONLINE_CHANNELS,
    ONLINE_PAYMENT_CHANNELS,
    ORG_LEVEL_ZH,
    ORG_LEVELS,
    PAYMENT_CHANNELS,
    PII_COLUMNS,
    REFERENCE_TABLES,
    SCHEMA_VERSION,
    TABLE_ORDER,
    TABLES,
    ColumnSpec,
    TableSpec,
)
from ._feedback import load_feedback_table
from ._folder import read_dataset_info
from ._io import save_quarantine, save_tables
from ._org import check_hierarchy, org_paths, read_org_units
from ._reader import Part, load_tables, read_parts, validate_folder
from ._report import format_report, redact_quarantine, redact_report, summarize
from ._source import DataSource
from ._tables import Tables
from ._validate import REPORT_COLUMNS, validate_tables

__all__ = [
    "CHANNELS",
    "CONTACT_TYPES",
    "CUSTOMER_TYPES",
    "EVENT_KINDS",
    "FEEDBACK_TABLES",
    "ONLINE_CHANNELS",
    "ONLINE_PAYMENT_CHANNELS",
    "ORG_LEVELS",
    "ORG_LEVEL_ZH",
    "PAYMENT_CHANNELS",
    "PII_COLUMNS",
    "REFERENCE_TABLES",
    "REPORT_COLUMNS",
    "SCHEMA_VERSION",
    "TABLES",
    "TABLE_ORDER",
    "ColumnSpec",
    "DataSource",
    "Part",
    "TableSpec",
    "Tables",
    "check_hierarchy",
    "format_report",
    "load_feedback_table",
    "partition_of",
    "load_tables",
    "org_paths",
    "read_dataset_info",
    "read_org_units",
    "read_parts",
    "redact_quarantine",
    "redact_report",
    "save_quarantine",
    "save_tables",
    "summarize",
    "validate_folder",
    "validate_tables",
]

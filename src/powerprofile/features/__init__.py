"""Point-in-time features, labels and the feature catalogue.

Build one row of features per (customer, snapshot) from rows strictly before the
snapshot, labels from the horizon after it, partition by partition.
"""

from ._area import area_partial, combine_area_partials, outage_stats
from ._catalog import feature_catalog
from ._dtypes import restore_dtypes
from ._engine import area_statistics, build_features, build_training_frame, leakage_report
from ._flat import event_label, flat_frame
from ._generic import event_features, reading_features
from ._interactions import REPEAT_DAYS, contact_codes, repeat_contact_flags
from ._labels import CollapseRule, LabelSpec
from ._partition import FeatureSpec, partition_features

__all__ = [
    "CollapseRule",
    "FeatureSpec",
    "LabelSpec",
    "REPEAT_DAYS",
    "area_partial",
    "area_statistics",
    "build_features",
    "build_training_frame",
    "combine_area_partials",
    "contact_codes",
    "event_features",
    "event_label",
    "feature_catalog",
    "flat_frame",
    "leakage_report",
    "outage_stats",
    "partition_features",
    "reading_features",
    "repeat_contact_flags",
    "restore_dtypes",
]

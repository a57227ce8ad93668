"""Typed, validated job configuration (YAML under ``configs/``, see ``docs/config.md``).

Secrets never live here: the pseudonymisation key comes from
``POWERPROFILE_PSEUDONYM_KEY`` and tracking credentials from MLflow's own environment
variables.
"""

from ._load import config_hash, dump_config, load_config, parse_override
from ._model import (
    Config,
    DataConfig,
    ExportConfig,
    FeaturesConfig,
    LabelsConfig,
    ModelsConfig,
    OperationsConfig,
    PortraitsConfig,
    PrivacyConfig,
    ReportConfig,
    SegmentationConfig,
    SparkConfig,
    TrackingConfig,
    UpliftConfig,
)
from ._typed import bounded, from_mapping, to_mapping
from ._yaml import parse_yaml, read_yaml

__all__ = [
    "Config",
    "DataConfig",
    "ExportConfig",
    "FeaturesConfig",
    "LabelsConfig",
    "ModelsConfig",
    "OperationsConfig",
    "PortraitsConfig",
    "PrivacyConfig",
    "ReportConfig",
    "UpliftConfig",
    "SegmentationConfig",
    "SparkConfig",
    "TrackingConfig",
    "bounded",
    "config_hash",
    "dump_config",
    "from_mapping",
    "load_config",
    "parse_override",
    "parse_yaml",
    "read_yaml",
    "to_mapping",
]

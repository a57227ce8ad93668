"""powerprofile: user portraits (用户画像) for electricity utilities.

Point-in-time features from usage, billing and service-contact histories; calibrated
churn and complaint propensity models with per-customer reasons; segments, tags and
risk rules; portraits; governed exports to the service channels; an HTML report.

Public names are imported lazily, so ``import powerprofile`` stays fast and the CLI
starts quickly; ``dir(powerprofile)`` and ``__all__`` list them all.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    # data
    "load_tables": "powerprofile.schema",
    "save_tables": "powerprofile.schema",
    "validate_tables": "powerprofile.schema",
    "Tables": "powerprofile.schema",
    "partition_of": "powerprofile.schema",
    "read_parts": "powerprofile.schema",
    # features
    "build_features": "powerprofile.features",
    "build_training_frame": "powerprofile.features",
    "feature_catalog": "powerprofile.features",
    "leakage_report": "powerprofile.features",
    # models
    "PropensityModel": "powerprofile.models",
    "UpliftModel": "powerprofile.uplift",
    "campaign_effects": "powerprofile.uplift",
    "ingest_outcomes": "powerprofile.uplift",
    "next_best_channel": "powerprofile.uplift",
    "CustomerSegmenter": "powerprofile.segmentation",
    "evaluate": "powerprofile.models",
    "load_model": "powerprofile.models",
    "explain": "powerprofile.explain",
    # portraits
    "load_rules": "powerprofile.portraits",
    "build_portraits": "powerprofile.portraits",
    # exports and report
    "export_campaigns": "powerprofile.export",
    "channel_kpis": "powerprofile.report",
    "write_report": "powerprofile.report",
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'powerprofile' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

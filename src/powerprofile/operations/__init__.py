"""Smart operation (智慧运营): targets, scorecards, weak links and risk cases by unit.

The organisation (``org_units``) places every grid unit under a service centre,
county, city and the province. For every unit and month the channel KPIs (those of
:func:`powerprofile.channel_kpis`) and the operating indicators are computed;
targets set at any level cascade down (:func:`cascade_targets`); units are compared
fairly, against what their customer mix predicts, with funnel-plot limits
(:func:`fair_comparison`), and a weak unit's gap is split into its grid units,
channels and segments; risk-rule hits become cases carried from run to run
(:func:`update_cases`). See ``docs/operations.md``.
"""

from ._cases import CASE_COLUMNS, DUE_DAYS, case_hits, case_kpis, early_warnings, update_cases
from ._fair import QUALITY_INDICATORS, fair_comparison, weak_links
from ._scorecard import (
    LABELS,
    Scorecards,
    build_scorecards,
    drill_down,
    planted_recall,
    write_scorecards,
)
from ._targets import COUNT_INDICATORS, Target, TargetSet, cascade_targets, load_targets
from ._units import customer_units, derive_org, quality_tallies, unit_kpis

__all__ = [
    "CASE_COLUMNS",
    "COUNT_INDICATORS",
    "DUE_DAYS",
    "LABELS",
    "QUALITY_INDICATORS",
    "Scorecards",
    "Target",
    "TargetSet",
    "build_scorecards",
    "cascade_targets",
    "case_hits",
    "case_kpis",
    "customer_units",
    "derive_org",
    "drill_down",
    "early_warnings",
    "fair_comparison",
    "load_targets",
    "planted_recall",
    "quality_tallies",
    "unit_kpis",
    "update_cases",
    "weak_links",
    "write_scorecards",
]

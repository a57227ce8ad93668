"""Indicator targets set at any level and cascaded down the organisation.

File format (``configs/targets.yaml``)::

    kind: targets
    targets:
      - indicator: complaints_per_10000    # a column of the unit indicators
        level: province                     # the level the target is set at
        unit: null                          # one unit id, or null: every unit of the level
        period: null                        # "YYYY-MM", or null: every month
        value: 6.0
        direction: at_most                  # at_most (lower is better) or at_least

**Cascade rule.** A unit without a target of its own for an indicator and month takes
its nearest ancestor's: rates and shares are inherited unchanged; counts (indicators
listed in :data:`COUNT_INDICATORS`) are apportioned by the unit's share of its
ancestor's customers in service that month. A target set at a lower level wins over
an inherited one; of two targets at the same unit, the one with a ``period`` wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ..config import from_mapping, read_yaml
from ..exceptions import ConfigError
from ..schema import ORG_LEVELS

__all__ = ["COUNT_INDICATORS", "Target", "TargetSet", "cascade_targets", "load_targets"]

COUNT_INDICATORS = ("contacts", "complaints", "payments", "open_cases", "overdue_cases")
"""Indicators that are counts: apportioned by customers when cascaded."""


@dataclass
class Target:
    """One target (see the module docstring)."""

    indicator: str
    level: Literal["province", "city", "county", "service_centre", "grid_unit"]
    value: float
    direction: Literal["at_most", "at_least"] = "at_most"
    unit: str | None = None
    period: str | None = field(default=None)

    def _check(self, source, prefix):
        if self.period is not None:
            try:
                pd.Period(self.period, freq="M")
            except (ValueError, TypeError):
                raise ConfigError(
                    f"config key {prefix + '.period'!r} in {source!r} has the value "
                    f"{self.period!r}: write a month as 'YYYY-MM' or null for every month"
                ) from None


@dataclass
class TargetSet:
    """The targets file."""

    kind: Literal["targets"] = "targets"
    version: int = 1
    description: str = ""
    targets: list[Target] = field(default_factory=list)


def load_targets(path, indicators=None) -> TargetSet:
    """Read and strictly validate a targets file.

    Parameters
    ----------
    path : str or path-like
    indicators : collection of str, optional
        Known indicators; an unknown one is an error naming the closest.

    Raises
    ------
    ConfigError
        Unknown keys, wrong types, a bad level, direction or period, an unknown
        indicator.
    """
    data = read_yaml(path, what="targets")
    ts = from_mapping(TargetSet, data, source=str(path))
    if indicators is not None:
        import difflib

        for i, t in enumerate(ts.targets):
            if t.indicator not in indicators:
                close = difflib.get_close_matches(t.indicator, list(indicators), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(
                    f"config key 'targets[{i}].indicator' in {str(path)!r} has the value "
                    f"{t.indicator!r}: not an indicator{hint}; known: {', '.join(sorted(indicators))}"
                )
    return ts


def cascade_targets(
    targets: TargetSet, org: pd.DataFrame, indicators: pd.DataFrame
) -> pd.DataFrame:
    """The target of every unit and month, set or cascaded.

    Parameters
    ----------
    targets : TargetSet
    org : pandas.DataFrame
        ``org_units`` (``unit_id``, ``parent_id``, ``level``).
    indicators : pandas.DataFrame
        Unit indicators (``level``, ``unit_id``, ``month``, ``customers``).

    Returns
    -------
    pandas.DataFrame
        ``unit_id``, ``month``, ``indicator``, ``target``, ``direction``, ``source``
        (``set`` or ``inherited from <unit>``).
    """
    cols = ["unit_id", "month", "indicator", "target", "direction", "source"]
    if not targets.targets or not len(indicators):
        return pd.DataFrame(columns=cols)
    parent = org.set_index(org["unit_id"].astype("string"))["parent_id"].astype("string")
    level_of = org.set_index(org["unit_id"].astype("string"))["level"].astype("string")
    cells = indicators[["unit_id", "month", "customers"]].copy()
    cust = cells.set_index(["unit_id", "month"])["customers"]
    rank = {lv: i for i, lv in enumerate(ORG_LEVELS)}
    rows = []
    for t in targets.targets:  # a few targets, each vectorised over units and months
        units = level_of.index[level_of == t.level] if t.unit is None else pd.Index([t.unit])
        sel = cells[cells["unit_id"].isin(units)]
        if t.period is not None:
            sel = sel[sel["month"] == pd.Period(t.period, freq="M").start_time]
        rows.append(
            pd.DataFrame(
                {
                    "unit_id": sel["unit_id"].to_numpy(),
                    "month": sel["month"].to_numpy(),
                    "indicator": t.indicator,
                    "target": float(t.value),
                    "direction": t.direction,
                    "source": "set",
                    "_rank": rank[t.level] * 2 + (t.period is not None),
                }
            )
        )
    own = pd.concat(rows, ignore_index=True)
    own = own.sort_values("_rank").drop_duplicates(["unit_id", "month", "indicator"], keep="last")
    known = own.drop(columns="_rank")
    # walk down, level by level: each unit without its own target takes its parent's
    for lv in ORG_LEVELS[1:]:
        kids = cells[cells["unit_id"].map(level_of) == lv][["unit_id", "month"]]
        if not len(kids):
            continue
        kids = kids.assign(parent=kids["unit_id"].map(parent).astype("string"))
        inh = kids.merge(
            known.rename(columns={"unit_id": "parent"}), on=["parent", "month"], how="inner"
        )
        have = pd.MultiIndex.from_frame(known[["unit_id", "month", "indicator"]])
        mine = pd.MultiIndex.from_frame(inh[["unit_id", "month", "indicator"]])
        inh = inh[~mine.isin(have)]
        if not len(inh):
            continue
        count = inh["indicator"].isin(COUNT_INDICATORS).to_numpy()
        kid_c = cust.reindex(pd.MultiIndex.from_frame(inh[["unit_id", "month"]])).to_numpy(float)
        par_c = cust.reindex(pd.MultiIndex.from_frame(inh[["parent", "month"]])).to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(par_c > 0, kid_c / par_c, np.nan)
        inh = inh.assign(
            target=np.where(count, inh["target"].to_numpy(float) * share, inh["target"]),
            source=np.where(
                inh["source"] == "set",
                "inherited from " + inh["parent"].astype(str),
                inh["source"].astype(str),
            ),
        )
        known = pd.concat([known, inh[cols]], ignore_index=True)
    return known[cols].sort_values(["indicator", "unit_id", "month"], ignore_index=True)

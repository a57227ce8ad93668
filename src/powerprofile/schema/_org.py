"""The operating organisation (``org_units``): reading and checking the hierarchy.

``org_units`` is a reference table beside the per-customer tables: one row per unit
(province, city, county, service centre, grid unit), each with its parent. The rows
are validated like every contract table (:func:`~._validate.check_part`); the tree
itself is then checked by :func:`check_hierarchy`:

- exactly one root (a unit without parent), at the top level;
- every parent exists and sits exactly one level above its child (so no cycle);
- every grid unit is placed under the whole chain up to the root;
- every customer's ``grid_unit`` is a grid unit of the table.

Each problem names the unit and says what is wrong and how to fix it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..exceptions import DataValidationError
from ._contract import ORG_LEVELS
from ._files import read_table
from ._folder import find_table_source
from ._problems import raise_problems
from ._validate import PartContext, check_part

__all__ = ["check_hierarchy", "org_paths", "read_org_units"]

_MAX_SHOWN = 5


def _fail(problems: list[str]) -> None:
    shown = "; ".join(problems[:_MAX_SHOWN])
    more = f" (and {len(problems) - _MAX_SHOWN} more)" if len(problems) > _MAX_SHOWN else ""
    raise DataValidationError(f"org_units: {len(problems)} hierarchy problem(s): {shown}{more}")


def check_hierarchy(org: pd.DataFrame, customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Check that ``org`` is one tree over the levels and places every customer.

    Parameters
    ----------
    org : pandas.DataFrame
        Validated ``org_units`` rows (``unit_id``, ``parent_id``, ``level``, names).
    customers : pandas.DataFrame, optional
        ``customers`` rows; every ``grid_unit`` must be a grid unit of ``org``.

    Returns
    -------
    pandas.DataFrame
        ``org`` unchanged (for chaining).

    Raises
    ------
    DataValidationError
        Naming each unit at fault and the problem: more than one root or none, a
        parent that does not exist (orphan), a cycle, a parent at the wrong level,
        a duplicated unit id, a customer grid unit that ``org_units`` does not know.
    """
    problems: list[str] = []
    ids = org["unit_id"].astype("string")
    parent = org["parent_id"].astype("string")
    level = org["level"].astype("string")
    dup = ids[ids.duplicated()].unique()
    for u in dup[:_MAX_SHOWN]:
        problems.append(f"unit {u!r} appears more than once; keep one row per unit")
    rank = {lv: i for i, lv in enumerate(ORG_LEVELS)}
    lv_of = dict(zip(ids, level.map(rank), strict=True))
    par_of = dict(zip(ids, parent, strict=True))
    roots = ids[parent.isna()].tolist()
    if len(roots) != 1:
        problems.append(
            f"the hierarchy has {len(roots)} roots ({roots[:_MAX_SHOWN]!r}); exactly one unit, "
            f"the {ORG_LEVELS[0]}, must have an empty parent_id"
        )
    for r in roots:
        if lv_of.get(r) != 0:
            problems.append(
                f"unit {r!r} has no parent but is at level {level[ids == r].iloc[0]!r}; only "
                f"the {ORG_LEVELS[0]} may lack a parent: set its parent_id"
            )
    known = set(ids)
    # cycles: follow parents at most len(ORG_LEVELS) steps (vectorised over units)
    cur = parent.copy()
    for _ in range(len(ORG_LEVELS)):
        cur = cur.map(par_of).astype("string")
    in_cycle = ids[cur.notna() & cur.isin(known)]
    cyc = set()
    for u in in_cycle:  # few units at fault: walk each to name the cycle
        seen, x = [], u
        while x is not None and not pd.isna(x) and x not in seen:
            seen.append(x)
            x = par_of.get(x)
        if x in seen:
            loop = tuple(sorted(seen[seen.index(x) :]))
            if loop not in cyc:
                cyc.add(loop)
                problems.append(
                    f"unit {x!r} is its own ancestor (cycle {' -> '.join(seen[seen.index(x) :])} "
                    f"-> {x}); give each unit the parent one level above it"
                )
    for u, p in zip(ids, parent, strict=True):
        if pd.isna(p):
            continue
        if p not in known:
            problems.append(
                f"unit {u!r} is an orphan: its parent {p!r} is not in org_units; add the "
                "parent unit or correct parent_id"
            )
        elif lv_of.get(p) is not None and lv_of.get(u) is not None and lv_of[p] != lv_of[u] - 1:
            if not any(u in c for c in cyc):
                problems.append(
                    f"unit {u!r} ({ORG_LEVELS[lv_of[u]]}) has parent {p!r} at level "
                    f"{ORG_LEVELS[lv_of[p]]!r}; its parent must be a "
                    f"{ORG_LEVELS[lv_of[u] - 1] if lv_of[u] else 'none'}"
                )
    if customers is not None and "grid_unit" in customers.columns:
        grids = set(ids[level == "grid_unit"])
        used = pd.Index(customers["grid_unit"].dropna().astype("string").unique())
        unknown = [g for g in used if g not in grids]
        if unknown:
            n = int(customers["grid_unit"].astype("string").isin(unknown).sum())
            problems.append(
                f"customers.grid_unit has {len(unknown)} unknown grid unit(s) ({n:,} customers; "
                f"first: {sorted(unknown)[:_MAX_SHOWN]!r}); add them to org_units as grid units"
            )
    if problems:
        _fail(problems)
    return org


def org_paths(org: pd.DataFrame) -> pd.DataFrame:
    """Each grid unit with its ancestor at every level.

    Parameters
    ----------
    org : pandas.DataFrame
        A checked hierarchy (:func:`check_hierarchy`).

    Returns
    -------
    pandas.DataFrame
        One row per grid unit, one column per level of :data:`ORG_LEVELS` holding the
        unit id of its ancestor at that level (``grid_unit`` is the unit itself).
    """
    par_of = pd.Series(
        org["parent_id"].astype("string").to_numpy(), index=org["unit_id"].astype("string")
    )
    grids = org.loc[org["level"].astype("string") == "grid_unit", "unit_id"].astype("string")
    out = {"grid_unit": grids.to_numpy()}
    cur = pd.Series(grids.to_numpy(), dtype="string")
    for lv in reversed(ORG_LEVELS[:-1]):
        cur = cur.map(par_of).astype("string")
        out[lv] = cur.to_numpy()
    frame = pd.DataFrame({lv: pd.array(out[lv], dtype="string") for lv in ORG_LEVELS})
    return frame.sort_values(list(ORG_LEVELS), ignore_index=True)


def read_org_units(path, customers: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Read, validate and check ``org_units`` from a data-set folder.

    Parameters
    ----------
    path : str or os.PathLike
        The data-set folder (``org_units.parquet`` or ``org_units.csv``).
    customers : pandas.DataFrame, optional
        Validated customers: their grid units must be known.

    Returns
    -------
    pandas.DataFrame or None
        The validated, checked rows; None when the folder has no ``org_units``
        (older data sets).

    Raises
    ------
    DataValidationError
        When a value breaks the contract or the tree is wrong (see
        :func:`check_hierarchy`).
    """
    src = find_table_source(Path(path), "org_units")
    if src is None:
        return None
    raw = read_table(src, "org_units")
    res = check_part("org_units", raw, PartContext(file=str(src)))
    if res.has_errors or res.kept is None:
        raise_problems(res.problems, lenient=False)
    org = res.kept
    return check_hierarchy(org, customers)

"""Reading and validating a table that answers an export (``responses``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..exceptions import DataValidationError
from ._contract import FEEDBACK_TABLES
from ._files import read_table
from ._problems import merge_problems, raise_problems
from ._validate import PartContext, check_part

__all__ = ["load_feedback_table"]


def load_feedback_table(source, name: str = "responses") -> pd.DataFrame:
    """Read (when given a path) and validate a feedback table such as ``responses``.

    The table gets the same checks as every contract table (columns, types, allowed
    values, key); any error raises.

    Parameters
    ----------
    source : pandas.DataFrame or str or path-like
        The rows, or a ``.csv``/``.parquet`` file or a folder of Parquet parts.
    name : str, default="responses"
        One of :data:`FEEDBACK_TABLES`.

    Returns
    -------
    pandas.DataFrame
        Validated rows in the contract's dtypes (optional columns added);
        ``attrs["columns_given"]`` lists the columns the source had.

    Raises
    ------
    DataValidationError
        The file cannot be read or the rows break the contract.
    """
    if name not in FEEDBACK_TABLES:
        raise ValueError(
            f"{name!r} is not a feedback table; feedback tables are {FEEDBACK_TABLES!r}"
        )
    where = None
    if isinstance(source, pd.DataFrame):
        raw = source.copy()
    else:
        path = Path(source)
        if not path.exists():
            raise DataValidationError(
                f"{name} file {str(path)!r} does not exist; give the CSV or Parquet file the "
                "channel systems returned."
            )
        raw, where = read_table(path, name), str(path)
    given = [str(c) for c in raw.columns]
    res = check_part(name, raw, PartContext(file=where))
    raise_problems(merge_problems([res.problems]), lenient=False)
    kept = res.kept
    kept.attrs["columns_given"] = given  # optional columns absent from the source
    return kept

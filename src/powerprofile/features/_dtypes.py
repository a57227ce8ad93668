"""Giving a feature frame read back from a text file its dtypes again.

Parquet and Feather keep every dtype of a feature frame (``float32`` features,
``category`` profile columns with their categories, ``bool`` flags, ``int8`` labels,
the index). CSV keeps only text: :func:`restore_dtypes` casts such a frame back to the
dtypes of a reference frame built with the same options.
"""

from __future__ import annotations

import pandas as pd

from ..exceptions import FeatureMismatchError

__all__ = ["restore_dtypes"]


def _cast(values: pd.Series | pd.Index, dtype):
    if pd.api.types.is_datetime64_dtype(dtype) and not pd.api.types.is_datetime64_dtype(values):
        values = pd.to_datetime(values)
    return values.astype(dtype)


def restore_dtypes(frame: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Cast ``frame`` (e.g. read from CSV) to the index and column dtypes of ``like``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The frame read back, e.g. ``pd.read_csv(path)`` of a file written by
        ``features.to_csv(path)``; the index levels of ``like`` may be columns.
    like : pandas.DataFrame
        A frame with the wanted dtypes: the original frame, any frame built with the
        same options, or an empty one kept for the purpose
        (``features.head(0).to_parquet("features.schema.parquet")``).

    Returns
    -------
    pandas.DataFrame
        ``frame`` with the columns of ``like`` in its order and dtypes (categories
        included) and its index levels; equal to the frame that was written.

    Raises
    ------
    FeatureMismatchError
        ``frame`` lacks columns of ``like`` or has others.

    Examples
    --------
    >>> features.to_csv("features.csv")  # doctest: +SKIP
    >>> back = restore_dtypes(pd.read_csv("features.csv"), like=features.head(0))  # doctest: +SKIP
    """
    names = [n for n in like.index.names if n is not None]
    if names and all(n in frame.columns for n in names):
        frame = frame.set_index(names)
    have, want = list(map(str, frame.columns)), list(map(str, like.columns))
    missing = [c for c in want if c not in set(have)]
    extra = [c for c in have if c not in set(want)]
    if missing or extra:
        raise FeatureMismatchError(
            f"restore_dtypes: the frame has {len(missing)} missing column(s) {missing[:10]!r} and "
            f"{len(extra)} unexpected column(s) {extra[:10]!r}; give as 'like' a frame built "
            "with the same options (windows, builders, labels)."
        )
    if isinstance(like.index, pd.MultiIndex):
        index = pd.MultiIndex.from_arrays(
            [
                _cast(frame.index.get_level_values(i), like.index.levels[i].dtype)
                for i in range(like.index.nlevels)
            ],
            names=like.index.names,
        )
    else:
        index = _cast(frame.index, like.index.dtype).rename(like.index.name)
    out = pd.DataFrame(
        {c: _cast(frame[c], like[c].dtype).array for c in like.columns},
        index=index,
        columns=like.columns,
    )
    out.attrs = dict(frame.attrs)
    return out

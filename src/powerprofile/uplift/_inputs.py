"""What the uplift model learns from: the scoring features joined to the portraits' scores.

One definition, used by the run's stage and the benchmark alike: the point-in-time
feature frame at the scoring snapshot (the propensity models' inputs, ``label_*``
columns left out) joined on ``customer_key`` to the portrait columns of
:func:`uplift_features` (calibrated scores, deciles, segment, tags, risk flags, contact
facts). The feature frame wins where both hold a column (``region``,
``customer_type``).

On the streamed route the feature frame is a folder of parts
(``features/scoring/part-XXXXX.parquet``); :func:`iter_uplift_inputs` reads it part by
part, only the columns asked for, so the stage holds one part's features at a time
plus what it keeps (the pilot customers' rows for fitting, a few effects a customer).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ..privacy import pseudonymise
from ._model import uplift_features

__all__ = ["iter_uplift_inputs", "scoring_feature_names", "uplift_inputs"]

_ID = "customer_id"
_NOT_FEATURES = {_ID, "snapshot_date", "customer_key"}


def _files(scoring) -> list[Path]:
    path = Path(scoring)
    if path.is_dir():
        return sorted(path.glob("part-*.parquet"))
    return [path]


def scoring_feature_names(scoring) -> list[str]:
    """The feature columns of a scoring frame (a file or a folder of parts), no labels or keys.

    Parameters
    ----------
    scoring : pandas.DataFrame or path-like

    Returns
    -------
    list of str
    """
    if isinstance(scoring, pd.DataFrame):
        names = list(scoring.columns)
    else:
        import pyarrow.parquet as pq

        files = _files(scoring)
        names = pq.ParquetFile(files[0]).schema_arrow.names if files else []
    return [c for c in names if c not in _NOT_FEATURES and not str(c).startswith("label_")]


def _keyed(frame: pd.DataFrame, key) -> pd.DataFrame:
    """Features indexed by ``customer_key`` (from the raw id in the index or a column)."""
    if _ID in frame.columns:
        ids = frame[_ID]
    elif _ID in (frame.index.names or []):
        ids = pd.Series(frame.index.get_level_values(_ID))
    else:
        raise ValueError(
            f"the scoring frame has no {_ID!r} column or index level (columns: "
            f"{list(frame.columns)[:5]!r}); give the feature frame of build_features."
        )
    out = frame.drop(columns=[c for c in _NOT_FEATURES if c in frame.columns])
    out.index = pd.Index(pseudonymise(ids.astype("string"), key).to_numpy(), name="customer_key")
    return out


def iter_uplift_inputs(
    portraits: pd.DataFrame, scoring, *, key=None, columns=None, rows=None
) -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
    """The uplift model's inputs, one scoring part at a time.

    Parameters
    ----------
    portraits : pandas.DataFrame
        With ``customer_key`` and the columns :func:`uplift_features` picks.
    scoring : pandas.DataFrame or path-like or None
        The scoring feature frame (indexed by ``customer_id``), its parquet file or the
        folder of its parts; None: the portrait columns only.
    key : str or bytes or PseudonymKey or None, default=None
        The pseudonymisation key that made the portraits' ``customer_key``.
    columns : list of str or None, default=None
        Scoring features to read (default: every feature of the frame).
    rows : array-like of bool or None, default=None
        Only these portrait rows (e.g. the customers of a pilot).

    Yields
    ------
    (numpy.ndarray of int, pandas.DataFrame)
        Positions in ``portraits`` and their inputs (index ``0..k-1``); every wanted
        portrait row comes exactly once (features missing when the frame lacks it).
    """
    keys = portraits["customer_key"].astype("string").to_numpy(dtype=object)
    wanted = np.ones(len(keys), bool) if rows is None else np.asarray(rows, dtype=bool)
    position = pd.Series(np.arange(len(keys)), index=keys)
    own = uplift_features(portraits)
    feats = scoring_feature_names(scoring) if scoring is not None else []
    if columns is not None:
        unknown = sorted(set(columns) - set(feats))
        if unknown:
            raise ValueError(
                f"uplift feature(s) {unknown[:5]!r} are not in the scoring frame; choose from "
                f"its features (e.g. {feats[:5]!r}) or leave the list empty for all of them."
            )
        feats = [c for c in feats if c in set(columns)]
    own = own[[c for c in own.columns if c not in set(feats)]]

    def chunk(pos: np.ndarray, part: pd.DataFrame | None) -> tuple[np.ndarray, pd.DataFrame]:
        left = own.iloc[pos].reset_index(drop=True)
        if part is None:
            right = pd.DataFrame(
                {c: np.full(len(pos), np.nan, dtype=np.float32) for c in feats}, index=left.index
            )
        else:
            right = part.reset_index(drop=True)
        return pos, pd.concat([right, left], axis=1)

    seen = np.zeros(len(keys), bool)
    if scoring is not None:
        sources = (
            [scoring] if isinstance(scoring, pd.DataFrame) else [Path(f) for f in _files(scoring)]
        )
        for src in sources:
            if isinstance(src, pd.DataFrame):
                part = src.reset_index()[[_ID, *feats]]
            else:
                part = pd.read_parquet(src, columns=[_ID, *feats])
            part = _keyed(part, key)
            part = part[~part.index.duplicated(keep="last")]
            pos = position.reindex(part.index).to_numpy()
            hit = ~np.isnan(pos)
            pos = pos[hit].astype(np.int64)
            take = wanted[pos] & ~seen[pos]
            if not take.any():
                continue
            seen[pos[take]] = True
            yield chunk(pos[take], part[hit][take])
    rest = np.flatnonzero(wanted & ~seen)
    if len(rest) or (scoring is None and not wanted.any()):
        yield chunk(rest, None)


def uplift_inputs(
    portraits: pd.DataFrame, scoring=None, *, key=None, columns=None, rows=None
) -> pd.DataFrame:
    """The uplift model's inputs for the portrait rows, in the portraits' order.

    Parameters are those of :func:`iter_uplift_inputs`.

    Returns
    -------
    pandas.DataFrame
        Index of ``portraits`` (the ``rows`` kept): the scoring features, then the
        portrait columns the frame does not hold.

    Examples
    --------
    >>> X = uplift_inputs(portraits, "out/features/scoring.parquet")  # doctest: +SKIP
    >>> UpliftModel().fit(X.iloc[pilot_rows], treatment, retained)  # doctest: +SKIP
    """
    pieces = list(iter_uplift_inputs(portraits, scoring, key=key, columns=columns, rows=rows))
    pos = np.concatenate([p for p, _ in pieces]) if pieces else np.zeros(0, np.int64)
    frame = pd.concat([f for _, f in pieces], ignore_index=True) if pieces else pd.DataFrame()
    order = np.argsort(pos, kind="stable")
    out = frame.iloc[order]
    out.index = portraits.index[pos[order]]
    return out

"""Feature-frame handling shared by fitting, scoring and explaining.

At fit time :func:`capture_schema` records, for every column, whether it is numeric or
categorical and, for categoricals, the categories seen (fixed from then on). At scoring
time :func:`prepare_frame` checks a frame against that record and casts it exactly as
during fit, raising :class:`~powerprofile.exceptions.FeatureMismatchError` that names
every missing, extra or retyped column.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from powerprofile.exceptions import FeatureMismatchError

__all__ = ["capture_schema", "prepare_frame", "to_frame"]


def _is_categorical(dtype) -> bool:
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
    )


def _is_numeric(dtype) -> bool:
    return pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)


def _as_fitted(dtype, spec) -> bool:
    """Whether a column of ``dtype`` needs no conversion for ``spec``."""
    if spec["kind"] == "numeric":
        return dtype == np.float64
    return (
        isinstance(dtype, pd.CategoricalDtype)
        and [str(c) for c in dtype.categories] == spec["categories"]
    )


def to_frame(X, feature_names=None) -> pd.DataFrame:
    """Return ``X`` as a DataFrame, naming the columns of an array ``x0``, ``x1``, …

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
        Input features.
    feature_names : list of str or None, default=None
        Names to give an array's columns (the fitted names at scoring time).

    Returns
    -------
    pandas.DataFrame
    """
    if isinstance(X, pd.DataFrame):
        if all(isinstance(c, str) for c in X.columns):
            return X
        if feature_names is not None and len(feature_names) == X.shape[1]:
            return X.set_axis(list(feature_names), axis=1)
        return X.set_axis([f"x{i}" for i in range(X.shape[1])], axis=1)
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError(
            "PropensityModel needs dense input; got a sparse matrix. "
            "Convert it with X.toarray() or pass a DataFrame."
        )
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(
            f"Expected a 2D array or a DataFrame, got an array of shape {arr.shape!r}. "
            "Reshape your data with array.reshape(-1, 1) if it has a single feature."
        )
    names = (
        list(feature_names)
        if feature_names is not None and len(feature_names) == arr.shape[1]
        else [f"x{i}" for i in range(arr.shape[1])]
    )
    return pd.DataFrame(arr, columns=names)


def capture_schema(X: pd.DataFrame) -> list[dict]:
    """Record each column's kind (numeric/categorical), dtype and categories.

    Parameters
    ----------
    X : pandas.DataFrame
        The training features.

    Returns
    -------
    list of dict
        One entry per column with keys ``name``, ``kind``, ``dtype`` and ``categories``
        (a list of str for categoricals, else None).

    Raises
    ------
    ValueError
        If a column is neither numeric nor categorical/text (e.g. datetimes).
    """
    schema = []
    for name in X.columns:
        dtype = X[name].dtype
        if not isinstance(name, str):
            raise ValueError(
                f"Feature names must be strings; column {name!r} is a {type(name).__name__}. "
                "Rename the columns, e.g. X.columns = X.columns.map(str)."
            )
        if isinstance(dtype, pd.CategoricalDtype):
            cats = [str(c) for c in dtype.categories]
            schema.append(dict(name=name, kind="categorical", dtype=str(dtype), categories=cats))
        elif _is_numeric(dtype) and not pd.api.types.is_object_dtype(dtype):
            schema.append(dict(name=name, kind="numeric", dtype=str(dtype), categories=None))
        elif _is_categorical(dtype):
            values = X[name].dropna()
            cats = sorted({str(v) for v in pd.unique(values)})
            schema.append(dict(name=name, kind="categorical", dtype=str(dtype), categories=cats))
        else:
            raise ValueError(
                f"Feature {name!r} has dtype {str(dtype)!r}, which the model cannot use. "
                "Convert datetimes to ages in days (e.g. days since) or drop the column."
            )
    return schema


def prepare_frame(X, schema: list[dict], *, check_names: bool = True) -> pd.DataFrame:
    """Check ``X`` against the fitted schema and cast it as during fit.

    Numeric columns become ``float64``; categorical or text columns become
    ``category`` with exactly the fitted categories (unseen values become missing).
    Extra columns are an error, as are missing or retyped ones; the message lists them
    all. Columns may come in any order.

    Parameters
    ----------
    X : DataFrame or array-like
        Frame to score. An array is accepted when it has as many columns as the
        fitted features (with a warning if the model was fitted on named columns).
    schema : list of dict
        Output of :func:`capture_schema`.
    check_names : bool, default=True
        Warn when an array is given to a model fitted on a DataFrame.

    Returns
    -------
    pandas.DataFrame
        Columns in the fitted order, with the index of ``X``.

    Raises
    ------
    FeatureMismatchError
        If columns are missing, extra, or of a different kind than during fit.
    """
    names = [s["name"] for s in schema]
    if not isinstance(X, pd.DataFrame) or not all(isinstance(c, str) for c in X.columns):
        arr_frame = to_frame(X, names)
        if arr_frame.shape[1] != len(names):
            raise FeatureMismatchError(
                f"X has {arr_frame.shape[1]} features, but PropensityModel is expecting "
                f"{len(names)} features as input. Pass a frame with columns {names[:10]!r}"
                f"{' …' if len(names) > 10 else ''}."
            )
        if check_names and names != [f"x{i}" for i in range(len(names))]:
            warnings.warn(
                "X does not have valid feature names, but PropensityModel was fitted with "
                "feature names",
                UserWarning,
                stacklevel=3,
            )
        X = arr_frame
    received = [str(c) for c in X.columns]
    missing = [n for n in names if n not in set(received)]
    extra = [c for c in received if c not in set(names)]
    retyped = []
    for spec in schema:
        name = spec["name"]
        if name not in X.columns:
            continue
        dtype = X[name].dtype
        if spec["kind"] == "numeric":
            ok = _is_numeric(dtype) and not pd.api.types.is_object_dtype(dtype)
            if not ok and pd.api.types.is_object_dtype(dtype):
                # an object column of numbers (e.g. from an array) is fine
                ok = pd.api.types.infer_dtype(X[name], skipna=True) in (
                    "integer",
                    "floating",
                    "mixed-integer-float",
                    "boolean",
                    "empty",
                )
        else:
            ok = _is_categorical(dtype)
        if not ok:
            retyped.append((name, spec["dtype"], str(dtype)))
    if missing or extra or retyped:
        parts = []
        if missing:
            parts.append(f"missing columns {missing!r}")
        if extra:
            parts.append(f"unexpected columns {extra!r}")
        if retyped:
            parts.append(
                "wrong dtypes "
                + ", ".join(f"{n!r} (fitted {a!r}, received {b!r})" for n, a, b in retyped)
            )
        raise FeatureMismatchError(
            "The frame does not match the model's features: "
            + "; ".join(parts)
            + ". Build the frame with the same feature code and options as the training "
            "frame (see model.metadata_['features'])."
        )
    if all(_as_fitted(X[spec["name"]].dtype, spec) for spec in schema):
        return X[names]  # already as fitted: no conversion, no copy
    cols = {}
    for spec in schema:
        col = X[spec["name"]]
        if spec["kind"] == "numeric":
            cols[spec["name"]] = col.to_numpy(dtype="float64", na_value=np.nan)
        else:
            cats = spec["categories"]
            if (
                isinstance(col.dtype, pd.CategoricalDtype)
                and [str(c) for c in col.dtype.categories] == cats
            ):
                cols[spec["name"]] = col.array
            else:
                values = col.astype("string")
                values = values.where(values.isin(cats))  # unseen categories -> missing
                cols[spec["name"]] = pd.Categorical(values, categories=cats)
    return pd.DataFrame(cols, index=X.index, columns=names)

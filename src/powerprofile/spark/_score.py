"""Scores and top-k reasons of a Spark DataFrame of features, as a pandas UDF.

The model is loaded once on the driver (a saved model folder or a registered
``models:/`` reference, through :func:`powerprofile.tracking.load_scoring_model`, which
verifies the artefact) and travels to the executors inside the UDF. MLflow's
``spark_udf`` is not used: it would unpickle MLflow's own ``python_model.pkl``, which
the library never loads. Each batch gets the single-machine engine's dtypes back
(:func:`powerprofile.features.restore_dtypes`) and is scored by the same functions as
the portraits, so scores and reason texts equal the single-machine ones.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["score_udf", "score_frame"]

ID_COLUMNS = ("customer_id", "snapshot_date")


def _resolve_model(model, tracking_uri=None):
    if isinstance(model, str) or hasattr(model, "__fspath__"):
        from ..tracking import load_scoring_model

        return load_scoring_model(model, tracking_uri=tracking_uri)
    return model


class _Scorer:
    """Batch of feature rows -> ``score`` and the reason columns (picklable)."""

    def __init__(self, model, like, target, top_k, catalog):
        self.model, self.like, self.target = model, like, target
        self.top_k, self.catalog = top_k, catalog

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from ..features import restore_dtypes
        from ..portraits import model_reasons, model_scores

        X = restore_dtypes(batch, like=self.like)
        out = pd.DataFrame({"score": model_scores(self.model, X)})
        if self.top_k > 0:
            r = model_reasons(self.model, X, self.target, self.top_k, self.catalog)
            if r is not None:
                r.columns = [c[len(self.target) + 1 :] for c in r.columns]
                out = pd.concat([out, r], axis=1)
        return out


def score_udf(model, like: pd.DataFrame, *, target="churn", top_k=3, catalog=None, schema=None):
    """A pandas UDF: a struct of feature columns in, a struct of score and reasons out.

    Parameters
    ----------
    model : estimator, str or os.PathLike
        A fitted :class:`~powerprofile.models.PropensityModel`, a saved model folder or
        a ``models:/NAME@ALIAS`` reference.
    like : pandas.DataFrame
        A frame with the features' index levels and dtypes (an empty one is enough:
        ``features.head(0)``), so each batch is typed as on one machine; the UDF's
        struct holds the index levels, then the feature columns.
    target : str, default="churn"
        Names the reason columns as in the portraits (``reason_1_text_en`` ...).
    top_k : int, default=3
        Reasons per row (0: score only).
    catalog : pandas.DataFrame, optional
        Feature catalogue for the reason texts.
    schema : pyspark.sql.types.StructType
        The output struct's Spark types (:func:`score_frame` finds them by scoring
        one row on the driver).

    Returns
    -------
    pyspark.sql.Column function
        Apply it to ``F.struct(*feature_columns)``.
    """
    from pyspark.sql.functions import pandas_udf

    if schema is None:
        raise ValueError(
            "score_udf needs the output schema; pass schema=... or call score_frame, "
            "which finds it by scoring one row on the driver"
        )
    fn = _Scorer(_resolve_model(model), like, target, int(top_k), catalog)

    def score(features: pd.DataFrame) -> pd.DataFrame:
        return fn(features)

    return pandas_udf(score, returnType=schema)


def score_frame(
    sdf, model, like: pd.DataFrame, *, target="churn", top_k=3, catalog=None, tracking_uri=None
):
    """Add ``score`` and the top-k reason columns to a Spark DataFrame of features.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
        ``customer_id``, ``snapshot_date`` (``like``'s index levels) and the feature
        columns (Spark's types of them: strings for categories).
    model, like, target, top_k, catalog
        As in :func:`score_udf`.
    tracking_uri : str, optional
        Registry of a ``models:/`` reference.

    Returns
    -------
    pyspark.sql.DataFrame
        The id columns, ``score`` (calibrated probability) and, per reason ``i``,
        ``reason_i_feature`` ... ``reason_i_text_en`` / ``_zh``, then ``reasons_en`` and
        ``reasons_zh`` (the joined texts), as in the portraits.
    """
    from pyspark.sql import functions as F

    model = _resolve_model(model, tracking_uri)
    fn = _Scorer(model, like, target, int(top_k), catalog)
    head = sdf.limit(1).toPandas()
    if len(head) == 0:
        raise ValueError("score_frame got an empty DataFrame; there is nothing to score")
    # the output struct's Spark types, from one row scored on the driver
    schema = sdf.sparkSession.createDataFrame(fn(head)).schema
    udf = score_udf(model, like, target=target, top_k=top_k, catalog=catalog, schema=schema)
    ids = [c for c in ID_COLUMNS if c in sdf.columns]
    cols = [*like.index.names, *like.columns]
    out = sdf.select(*ids, udf(F.struct(*cols)).alias("_scored"))
    return out.select(*ids, "_scored.*")

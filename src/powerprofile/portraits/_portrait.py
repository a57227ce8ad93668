"""Portrait assembly (用户画像): one row per customer and snapshot.

The schema is documented in ``docs/portrait.md``; bump :data:`PORTRAIT_SCHEMA_VERSION`
whenever a column is added, renamed or changes meaning.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import ConfigError
from ..privacy import pseudonymise
from ..schema._contract import CHANNELS, PAYMENT_CHANNELS, PII_COLUMNS
from ._contact import CONTACT_COLUMNS, contactability
from ._expr import NUMBER, TEXT
from ._rules import SEVERITIES, RuleSet, load_rules

__all__ = [
    "PORTRAIT_SCHEMA_VERSION",
    "assign_bands",
    "build_portraits",
    "portrait_columns",
    "preferred_channel",
]

PORTRAIT_SCHEMA_VERSION = "1.1"
"""Version of the portrait schema (``docs/portrait.md``)."""

# service-contact channel -> the outreach channel that reaches the customer the same way
_CONTACT_TO_OUTREACH = {
    "hotline_95598": "hotline_callback",
    "app": "app_push",
    "wechat": "wechat",
    "counter": "counter",
    "grid_manager": "grid_manager",
}
# payment channel -> outreach channel
_PAYMENT_TO_OUTREACH = {
    "app": "app_push",
    "wechat": "wechat",
    "alipay": "sms",
    "bank_withholding": "sms",
    "counter": "counter",
}
_PREFERRED_ORDER = ("app_push", "wechat", "sms", "hotline_callback", "grid_manager", "counter")
_BANDS = ("low", "medium", "high")


def _window_of(columns, pattern: str) -> int | None:
    """Largest window ``w`` for which ``pattern.format(w=w)``-style columns exist."""
    found = []
    for c in columns:
        c = str(c)
        if c.startswith(pattern) and c.endswith("d"):
            tail = c[len(pattern) : -1]
            if tail.isdigit():
                found.append(int(tail))
    return max(found) if found else None


def preferred_channel(features: pd.DataFrame) -> pd.Series:
    """The outreach channel each customer is most likely to respond to.

    The customer's share of service contacts per channel (``contacts_<channel>_<w>d``
    over ``contacts_<w>d``, longest window present) and share of payments per channel
    (``payment_share_<channel>_<w>d``) are mapped to outreach channels (app contacts or
    payments -> ``app_push``; WeChat -> ``wechat``; 95598 calls -> ``hotline_callback``;
    Alipay and bank withholding -> ``sms``; counter -> ``counter``; grid manager ->
    ``grid_manager``), added, and the largest wins (ties in the order app push, WeChat,
    SMS, hotline call-back, grid manager, counter).

    Parameters
    ----------
    features : pandas.DataFrame
        Feature frame.

    Returns
    -------
    pandas.Series of str
        Same index; missing when the customer has neither contacts nor payments.
    """
    n = len(features)
    score = {ch: np.zeros(n) for ch in _PREFERRED_ORDER}
    used = False
    w = _window_of(features.columns, "contacts_app_")
    if w is not None:
        counts = {}
        for c in CHANNELS:
            col = f"contacts_{c}_{w}d"
            if col in features.columns:
                counts[c] = features[col].astype("float64").to_numpy(na_value=np.nan)
        if counts:
            total = np.nansum(np.vstack(list(counts.values())), axis=0)
            for c, v in counts.items():
                with np.errstate(all="ignore"):
                    share = np.where(
                        total > 0, np.nan_to_num(v) / np.where(total > 0, total, 1), 0.0
                    )
                score[_CONTACT_TO_OUTREACH[c]] += share
            used = True
    w = _window_of(features.columns, "payment_share_app_")
    if w is not None:
        for c in PAYMENT_CHANNELS:
            col = f"payment_share_{c}_{w}d"
            if col in features.columns:
                v = features[col].astype("float64").to_numpy(na_value=np.nan)
                score[_PAYMENT_TO_OUTREACH[c]] += np.nan_to_num(v)
                used = True
    if not used:
        return pd.Series(pd.NA, index=features.index, dtype="string")
    M = np.vstack([score[ch] for ch in _PREFERRED_ORDER])
    best = np.argmax(M, axis=0)  # first maximum: the tie order above
    out = np.asarray(_PREFERRED_ORDER, dtype=object)[best]
    out = np.where(M.max(axis=0) > 0, out, None)
    return pd.Series(out, index=features.index, dtype="string")


def assign_bands(score: pd.Series, spec="deciles", groups=None) -> tuple[pd.Series, pd.Series]:
    """High/medium/low bands for a score.

    Parameters
    ----------
    score : pandas.Series of float
    spec : "deciles" or mapping, default="deciles"
        ``"deciles"``: decile 10 (the top tenth of the scored customers) is ``high``,
        deciles 8-9 ``medium``, the rest ``low``. A mapping ``{"high": 0.3,
        "medium": 0.1}`` gives score cut-offs instead (score >= cut-off). A mapping
        ``{"high_deciles": 1, "medium_deciles": 2}`` changes how many top deciles each
        band takes.
    groups : array-like or None, default=None
        Deciles are computed within each group (e.g. per snapshot date).

    Returns
    -------
    (pandas.Series, pandas.Series)
        The band (``category`` low < medium < high) and the decile (``Int64``,
        10 = highest scores; missing for missing scores).
    """
    s = pd.Series(score, copy=False).astype("float64")
    if groups is None:
        pct = s.rank(pct=True, method="average")
    else:
        pct = s.groupby(np.asarray(groups)).rank(pct=True, method="average")
    decile = np.ceil(pct * 10).clip(1, 10).astype("Int64")
    if isinstance(spec, str):
        if spec != "deciles":
            raise ConfigError(f"bands must be 'deciles' or a mapping of cut-offs, got {spec!r}")
        spec = {"high_deciles": 1, "medium_deciles": 2}
    if not isinstance(spec, Mapping):
        raise ConfigError(f"bands must be 'deciles' or a mapping of cut-offs, got {spec!r}")
    keys = set(spec)
    if keys == {"high", "medium"}:
        hi, med = float(spec["high"]), float(spec["medium"])
        if not hi >= med:
            raise ConfigError(f"band cut-offs need high >= medium, got {dict(spec)!r}")
        band = np.where(s >= hi, "high", np.where(s >= med, "medium", "low"))
    elif keys == {"high_deciles", "medium_deciles"}:
        h, m = int(spec["high_deciles"]), int(spec["medium_deciles"])
        if h < 0 or m < 0 or h + m > 10:
            raise ConfigError(
                f"band deciles need 0 <= high_deciles + medium_deciles <= 10, got {dict(spec)!r}"
            )
        d = decile.to_numpy(dtype="float64", na_value=np.nan)
        band = np.where(d > 10 - h, "high", np.where(d > 10 - h - m, "medium", "low"))
    else:
        raise ConfigError(
            f"band mapping must have keys {{'high', 'medium'}} (score cut-offs) or "
            f"{{'high_deciles', 'medium_deciles'}}, got {sorted(keys)!r}"
        )
    band = pd.Series(band, index=s.index, dtype=object).where(s.notna().to_numpy(), None)
    return pd.Series(
        pd.Categorical(band, categories=_BANDS, ordered=True), index=s.index
    ), pd.Series(decile.to_numpy(), index=s.index, dtype="Int64")


def _as_ruleset(rules, what: str, feature_names) -> RuleSet | None:
    if rules is None:
        return None
    if isinstance(rules, RuleSet):
        return rules
    if isinstance(rules, (str, Path)):
        return load_rules(rules, features=feature_names)
    raise ConfigError(
        f"{what} must be a RuleSet, a path to a YAML rule file or None, got {type(rules).__name__}"
    )


def _model_features(model, X: pd.DataFrame) -> pd.DataFrame:
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return X
    return X[[str(c) for c in names]] if all(str(c) in X.columns for c in names) else X


def model_scores(model, X: pd.DataFrame) -> np.ndarray:
    """The model's probability of the positive class for each row of ``X``.

    The scores of :func:`build_portraits` (``<target>_score``), for callers that score
    batches of feature rows themselves (the Spark engine's scoring UDF).

    Parameters
    ----------
    model : estimator
        A fitted classifier with ``predict_proba`` (a
        :class:`~powerprofile.models.PropensityModel`); when it has
        ``feature_names_in_``, those columns of ``X`` are used, in that order.
    X : pandas.DataFrame
        Feature rows, with the feature engine's dtypes.

    Returns
    -------
    numpy.ndarray
        One float per row.
    """
    proba = np.asarray(model.predict_proba(_model_features(model, X)))
    return proba[:, 1] if proba.ndim == 2 else proba


def model_reasons(
    model, X: pd.DataFrame, target: str, top_k: int, catalog=None
) -> pd.DataFrame | None:
    """The top-k reason columns of :func:`build_portraits` for each row of ``X``.

    Parameters
    ----------
    model : estimator
        The fitted model whose scores the reasons explain.
    X : pandas.DataFrame
        Feature rows, with the feature engine's dtypes.
    target : str
        Prefix of the column names (``churn`` gives ``churn_reason_1_text_en`` ...).
    top_k : int
        Reasons per row.
    catalog : pandas.DataFrame, optional
        Feature catalogue for the reason texts (default: the built-in one).

    Returns
    -------
    pandas.DataFrame or None
        Per reason ``i``, ``<target>_reason_i_feature`` ... ``<target>_reason_i_text_en``
        / ``_zh``, then ``<target>_reasons_en`` and ``<target>_reasons_zh`` (the
        joined texts), on a fresh ``RangeIndex``; None (with a warning) when
        :mod:`powerprofile.explain` is not available.
    """
    try:
        from ..explain import explain
    except ImportError:  # pragma: no cover - explain not installed
        warnings.warn(
            "powerprofile.explain is not available; portraits carry no reasons",
            UserWarning,
            stacklevel=3,
        )
        return None
    kwargs = {"top_k": top_k, "score": False}
    if catalog is not None:
        kwargs["catalog"] = catalog
    r = explain(model, _model_features(model, X), **kwargs)
    r = r.reset_index(drop=True)
    r = r[[c for c in r.columns if str(c).startswith("reason_")]]
    r.columns = [f"{target}_{c}" for c in r.columns]
    for lang in ("en", "zh"):
        cols = [f"{target}_reason_{i}_text_{lang}" for i in range(1, top_k + 1)]
        cols = [c for c in cols if c in r.columns]
        if cols:
            sep = "; " if lang == "en" else "；"
            txt = r[cols].astype("string").fillna("")
            joined = txt.iloc[:, 0]
            for c in cols[1:]:
                joined = joined.where(txt[c] == "", joined + sep + txt[c]).where(
                    joined != "", txt[c]
                )
            r[f"{target}_reasons_{lang}"] = joined.astype("string")
    return r


def _ids_and_snapshots(features: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    idx = features.index
    if isinstance(idx, pd.MultiIndex) and "customer_id" in idx.names:
        ids = idx.get_level_values("customer_id")
        snaps = idx.get_level_values("snapshot_date") if "snapshot_date" in idx.names else None
    elif "customer_id" in features.columns:
        ids = features["customer_id"]
        snaps = features["snapshot_date"] if "snapshot_date" in features.columns else None
    elif idx.name == "customer_id":
        ids, snaps = idx, None
    else:
        raise ConfigError(
            "build_portraits: features need a 'customer_id' index level or column "
            f"(got index names {list(idx.names)!r}); use the output of build_features"
        )
    ids = pd.Series(np.asarray(ids, dtype=object), dtype="string")
    snaps = (
        pd.Series(pd.NaT, index=ids.index, dtype="datetime64[ns]")
        if snaps is None
        else pd.Series(np.asarray(snaps))
    )
    return ids, snaps


def build_portraits(
    features: pd.DataFrame,
    *,
    churn_model=None,
    complaint_model=None,
    segmenter=None,
    tags=None,
    risk_rules=None,
    customers: pd.DataFrame | None = None,
    key=None,
    bands="deciles",
    top_k: int = 3,
    reasons: bool = True,
    catalog=None,
    include_customer_id: bool = False,
) -> pd.DataFrame:
    """Assemble the user portrait: one row per customer and snapshot.

    Parameters
    ----------
    features : pandas.DataFrame
        Output of :func:`powerprofile.build_features` (indexed by ``customer_id``
        and ``snapshot_date``).
    churn_model, complaint_model : PropensityModel or None, default=None
        Fitted models; each gives ``<target>_score`` (calibrated probability),
        ``<target>_band``, ``<target>_decile`` and top-``top_k`` reasons. None leaves
        those columns out.
    segmenter : CustomerSegmenter or None, default=None
        Gives ``segment_id``, ``segment_name_en``, ``segment_name_zh``.
    tags, risk_rules : RuleSet or str or pathlib.Path or None, default=None
        Tag and risk rules (a :func:`load_rules` result or a YAML path).
    customers : pandas.DataFrame or None, default=None
        The customers table: grid unit and contactability
        (:func:`powerprofile.portraits.contactability`: a valid mobile and no SMS
        opt-out for SMS, a valid phone for the 95598 call-back, app user for push,
        WeChat bound). Only boolean facts are taken from its PII columns.
    key : str or bytes or None, default=None
        Pseudonymisation key (default: the ``POWERPROFILE_PSEUDONYM_KEY`` variable).
    bands : "deciles" or mapping, default="deciles"
        See :func:`assign_bands`; a mapping ``{"churn": spec, "complaint": spec}``
        sets each target separately.
    top_k : int, default=3
        Reasons per score.
    reasons : bool, default=True
        Compute reasons with :func:`powerprofile.explain.explain`.
    catalog : pandas.DataFrame or None, default=None
        Feature catalogue passed to ``explain``.
    include_customer_id : bool, default=False
        Also keep the raw ``customer_id`` (for internal joins only; never export it).

    Returns
    -------
    pandas.DataFrame
        The columns of ``docs/portrait.md`` (schema version in
        ``.attrs["schema_version"]``), one row per input row, in input order.
    """
    if not isinstance(features, pd.DataFrame):
        raise ConfigError(
            f"build_portraits: features must be a DataFrame, got {type(features).__name__}"
        )
    ids, snaps = _ids_and_snapshots(features)
    n = len(features)
    X = features.reset_index(drop=True)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["customer_key"] = pseudonymise(ids.to_numpy(), key).to_numpy()
    out["customer_key"] = out["customer_key"].astype("string")
    out["snapshot_date"] = snaps.to_numpy()
    if include_customer_id:
        out["customer_id"] = ids.to_numpy()

    cust = None
    if customers is not None:
        if "customer_id" not in customers.columns:
            raise ConfigError("build_portraits: customers needs a 'customer_id' column")
        cust = customers.drop_duplicates("customer_id")
        cust.index = pd.Index(cust["customer_id"].astype("string").to_numpy(), dtype="string")
        cust = cust.reindex(pd.Index(ids.to_numpy(), dtype="string"))
        cust.index = out.index
    for col in ("customer_type", "region", "grid_unit", "transformer_area"):
        if col in X.columns:
            out[col] = X[col].array
        elif cust is not None and col in cust.columns:
            out[col] = cust[col].array
        if col in out.columns and not isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype("string")

    if segmenter is not None:
        seg = segmenter.predict(X)
        out["segment_id"] = pd.array(seg, dtype="Int64")
        en = {k: v[0] for k, v in segmenter.names_.items()}
        zh = {k: v[1] for k, v in segmenter.names_.items()}
        out["segment_name_en"] = pd.Series(seg).map(en).astype("string").array
        out["segment_name_zh"] = pd.Series(seg).map(zh).astype("string").array

    band_spec = (
        bands
        if isinstance(bands, Mapping) and set(bands) <= {"churn", "complaint"} and bands
        else None
    )
    for target, model in (("churn", churn_model), ("complaint", complaint_model)):
        if model is None:
            continue
        score = pd.Series(model_scores(model, X), index=out.index, dtype="float64")
        out[f"{target}_score"] = score
        spec = band_spec.get(target, "deciles") if band_spec is not None else bands
        out[f"{target}_band"], out[f"{target}_decile"] = assign_bands(
            score, spec, groups=out["snapshot_date"].astype("string").fillna("").to_numpy()
        )
        if reasons and top_k > 0:
            r = model_reasons(model, X, target, top_k, catalog)
            if r is not None:
                out = pd.concat([out, r.set_axis(out.index)], axis=1)

    feature_names = list(map(str, X.columns))
    for what, rules, prefix in (("tags", tags, "tag_"), ("risk_rules", risk_rules, "risk_")):
        rs = _as_ruleset(rules, what, feature_names)
        if rs is None:
            continue
        hits = rs.evaluate(X)
        if what == "tags":
            out["tags"] = rs.join_hits(hits, "name").array
            out["tags_en"] = rs.join_hits(hits, "en").array
            out["tags_zh"] = rs.join_hits(hits, "zh").array
        else:
            out["risk_flags"] = rs.join_hits(hits, "name").array
            out["risk_flags_en"] = rs.join_hits(hits, "en").array
            out["risk_flags_zh"] = rs.join_hits(hits, "zh").array
            level = np.full(n, 0)
            for r in rs.rules:
                level = np.where(
                    hits[r.name].to_numpy(),
                    np.maximum(level, SEVERITIES.index(r.severity) + 1),
                    level,
                )
            out["risk_level"] = pd.Categorical(
                np.asarray(("none", *SEVERITIES), dtype=object)[level],
                categories=("none", *SEVERITIES),
                ordered=True,
            )
            lab_en = {r.name: r.reason_en for r in rs.rules}
            lab_zh = {r.name: r.reason_zh for r in rs.rules}
            out["risk_reasons_en"] = _join_text(hits, rs.names, lab_en, "; ")
            out["risk_reasons_zh"] = _join_text(hits, rs.names, lab_zh, "；")
        for c in rs.names:
            out[f"{prefix}{c}"] = hits[c].to_numpy()

    out["preferred_channel"] = preferred_channel(X).to_numpy()
    out["preferred_channel"] = out["preferred_channel"].astype("string")
    if cust is not None:
        contact = contactability(cust)
        for c in contact.columns:
            out[c] = contact[c].to_numpy()
        out["contactable_channels"] = out["contactable_channels"].astype("string")

    out["churn_model_version"] = _version(churn_model)
    out["complaint_model_version"] = _version(complaint_model)
    out["segmenter_version"] = _version(segmenter)
    for c in ("churn_model_version", "complaint_model_version", "segmenter_version"):
        out[c] = out[c].astype("string")
    leaked = [
        c
        for c in PII_COLUMNS
        if c in out.columns and not (c == "customer_id" and include_customer_id)
    ]
    if leaked:  # pragma: no cover - guarded by construction
        out = out.drop(columns=leaked)
    out.attrs["schema_version"] = PORTRAIT_SCHEMA_VERSION
    return out


def portrait_columns(
    *,
    targets=("churn", "complaint"),
    segments: bool = True,
    tags: RuleSet | None = None,
    risk_rules: RuleSet | None = None,
    customers: bool = True,
    top_k: int = 3,
    reasons: bool = True,
    include_customer_id: bool = False,
) -> dict[str, str | None]:
    """The columns :func:`build_portraits` writes for these inputs, with their kinds.

    Known before any data is read, so campaign selections can be checked when a job
    starts (``docs/portrait.md`` lists the columns).

    Parameters
    ----------
    targets : iterable of str, default=("churn", "complaint")
        Targets with a model.
    segments : bool, default=True
        A segmenter is given.
    tags, risk_rules : RuleSet or None, default=None
        The rule sets.
    customers : bool, default=True
        A customers table is given (grid unit, transformer area, contactability).
    top_k : int, default=3
    reasons : bool, default=True
    include_customer_id : bool, default=False
        See :func:`build_portraits`.

    Returns
    -------
    dict of str to str or None
        Column name -> ``"number"`` (numbers and booleans), ``"text"`` (text and
        categories), another type name, or None (mixed).
    """
    cols: dict[str, str | None] = {"customer_key": TEXT, "snapshot_date": "datetime64[ns]"}
    if include_customer_id:
        cols["customer_id"] = TEXT
    attrs = ("customer_type", "region", "grid_unit", "transformer_area")
    cols.update(dict.fromkeys(attrs if customers else attrs[:2], TEXT))
    if segments:
        cols.update({"segment_id": NUMBER, "segment_name_en": TEXT, "segment_name_zh": TEXT})
    for t in targets:
        cols.update({f"{t}_score": NUMBER, f"{t}_band": TEXT, f"{t}_decile": NUMBER})
        if reasons and top_k > 0:
            for i in range(1, top_k + 1):
                r = f"{t}_reason_{i}"
                cols.update({f"{r}_feature": TEXT, f"{r}_value": None})
                cols.update({f"{r}_contribution": NUMBER, f"{r}_direction": TEXT})
                cols.update({f"{r}_text_en": TEXT, f"{r}_text_zh": TEXT})
            cols.update({f"{t}_reasons_en": TEXT, f"{t}_reasons_zh": TEXT})
    if tags is not None:
        cols.update(dict.fromkeys(("tags", "tags_en", "tags_zh"), TEXT))
        cols.update({f"tag_{n}": NUMBER for n in tags.names})
    if risk_rules is not None:
        cols.update(dict.fromkeys(("risk_flags", "risk_flags_en", "risk_flags_zh"), TEXT))
        cols.update({"risk_level": TEXT, "risk_reasons_en": TEXT, "risk_reasons_zh": TEXT})
        cols.update({f"risk_{n}": NUMBER for n in risk_rules.names})
    cols["preferred_channel"] = TEXT
    if customers:
        cols.update({c: NUMBER for c in CONTACT_COLUMNS})
        cols["contactable_channels"] = TEXT
    for c in ("churn_model_version", "complaint_model_version", "segmenter_version"):
        cols[c] = TEXT
    return cols


def _version(obj) -> str | None:
    if obj is None:
        return None
    v = getattr(obj, "version_", None)
    return None if v is None else str(v)


def _join_text(hits: pd.DataFrame, names, labels: dict, sep: str) -> np.ndarray:
    m = hits[list(names)].to_numpy(dtype=bool)
    out = np.full(len(hits), "", dtype=object)
    for j, name in enumerate(names):  # loop over rules/channels (few), vectorised over rows
        w = labels[name] or name
        col = m[:, j]
        out[col] = np.where(out[col] == "", w, out[col] + sep + w)
    return pd.array(out, dtype="string")

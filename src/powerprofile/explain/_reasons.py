"""Per-customer reason codes: top-k TreeSHAP contributions with readable phrases."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ._contrib import raw_contributions

__all__ = ["explain", "reason_phrases", "select_top_k"]

_UP_EN, _DOWN_EN = " raises the risk", " lowers the risk"
_UP_ZH, _DOWN_ZH = "，风险上升", "，风险下降"
_DIRECTIONS = pd.Index(["increase", "decrease"], dtype="str")


def _value_zh_map() -> dict:
    try:
        from powerprofile.schema import _contract as c
    except Exception:  # pragma: no cover - the contract ships with the package
        return {}
    out = {}
    for name in dir(c):
        obj = getattr(c, name)
        if name.endswith("_ZH") and isinstance(obj, dict):
            out.update({str(k): str(v) for k, v in obj.items()})
    return out


def _load_catalog(catalog) -> dict:
    """Return {feature name: row dict} from a catalogue DataFrame (or the library's)."""
    if catalog is False:
        return {}
    if catalog is None:
        try:
            from powerprofile.features import feature_catalog

            catalog = feature_catalog()
        except Exception:  # features not installed/usable: generic phrases
            return {}
    cat = pd.DataFrame(catalog)
    if "name" not in cat.columns:
        raise ValueError(
            f"catalog must have a 'name' column (got columns {list(cat.columns)!r}); "
            "pass powerprofile.features.feature_catalog() or False."
        )
    cols = [
        c for c in ("description_en", "description_zh", "template_en", "template_zh") if c in cat
    ]
    return {
        str(r["name"]): {c: (None if pd.isna(r[c]) else str(r[c])) for c in cols}
        for r in cat[["name", *cols]].to_dict("records")
    }


_SPEC = re.compile(r"\{value(?::([^}]*))?\}")


def _display_round(v: np.ndarray, template: str | None) -> np.ndarray:
    """Round values to the precision their phrase shows (fewer distinct phrases to format).

    ``{value:.1f}`` rounds to 1 decimal, ``{value:.0%}`` to whole percent, no template
    (the generic phrase, ``.4g``) to 4 significant digits; other specs are left alone.
    """
    m = _SPEC.search(template) if template else None
    spec = (m.group(1) or "") if m else ".4g"
    d = re.fullmatch(r"[+ ]?,?\.(\d+)([fg%])", spec)
    if not d:
        return v
    p, kind = int(d.group(1)), d.group(2)
    with np.errstate(all="ignore"):
        if kind == "f":
            return np.round(v, p)
        if kind == "%":
            return np.round(v * 100, p) / 100
        mag = np.floor(np.log10(np.abs(v)))
        scale = 10.0 ** (max(p, 1) - 1 - np.where(np.isfinite(mag), mag, 0))
        return np.where(np.isfinite(mag), np.round(v * scale) / scale, v)


def _fmt_generic(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)


def reason_phrases(feature: str, values, kind: str, dtype: str, entry: dict | None, value_zh: dict):
    """English and Chinese phrases (without direction) for one feature's values.

    Parameters
    ----------
    feature : str
        Feature name.
    values : array-like
        Distinct values to phrase (floats for numeric features, str for categorical,
        NaN/None for missing).
    kind : {"numeric", "categorical"}
        Feature kind in the model.
    dtype : str
        Fitted dtype (``"bool"`` gets yes/no phrasing).
    entry : dict or None
        Catalogue row (``description_en/zh``, ``template_en/zh``) or None.
    value_zh : dict
        Chinese names of category values.

    Returns
    -------
    en, zh : list of str
    """
    entry = entry or {}
    desc_en = entry.get("description_en") or feature.replace("_", " ")
    desc_en = desc_en[:1].lower() + desc_en[1:] if desc_en[:2] != desc_en[:2].upper() else desc_en
    desc_zh = entry.get("description_zh") or feature
    t_en, t_zh = entry.get("template_en"), entry.get("template_zh")
    en, zh = [], []
    for v in values:
        missing = v is None or (isinstance(v, (float, np.floating)) and np.isnan(v))
        if missing:
            en.append(f"{desc_en} is missing")
            zh.append(f"{desc_zh}缺失")
            continue
        if kind == "categorical":
            s = str(v)
            en.append(f"{desc_en} is {s.replace('_', ' ')}")
            zh.append(f"{desc_zh}为{value_zh.get(s, s)}")
            continue
        if dtype == "bool":
            yes = bool(v)
            en.append(f"{desc_en}: {'yes' if yes else 'no'}")
            zh.append(f"{desc_zh}：{'是' if yes else '否'}")
            continue
        try:
            e = t_en.format(value=v) if t_en else None
        except (ValueError, KeyError, IndexError, TypeError):
            e = None
        try:
            z = t_zh.format(value=v) if t_zh else None
        except (ValueError, KeyError, IndexError, TypeError):
            z = None
        en.append(e if e else f"{feature} = {_fmt_generic(v)}")
        zh.append(z if z else f"{feature}为{_fmt_generic(v)}")
    return en, zh


def select_top_k(phi: np.ndarray, k: int, rank_by: str = "abs") -> np.ndarray:
    """Column positions of each row's top-k contributions, strongest first.

    Parameters
    ----------
    phi : numpy.ndarray of shape (n, p)
        Contributions.
    k : int
        Number of reasons (capped at p).
    rank_by : {"abs", "positive"}, default="abs"
        Rank by absolute contribution, or by contribution (risk-raising first).

    Returns
    -------
    numpy.ndarray of shape (n, min(k, p)) of int
    """
    if rank_by not in ("abs", "positive"):
        raise ValueError(f"rank_by must be 'abs' or 'positive', got {rank_by!r}.")
    k = min(k, phi.shape[1])
    out = np.zeros((len(phi), k), np.int64)
    if k == 0 or len(phi) == 0:
        return out
    # k passes of argmax (the first maximum wins: ties go to the lower column)
    key = np.abs(phi) if rank_by == "abs" else phi.copy()
    rows = np.arange(len(phi))
    for i in range(k):
        j = np.argmax(key, axis=1)
        out[:, i] = j
        key[rows, j] = -np.inf
    return out


def _slot_values(Xp: pd.DataFrame, feat: np.ndarray, schema) -> tuple[np.ndarray, np.ndarray]:
    """The value of feature ``feat[i]`` in row ``i``, as a number and as a level.

    Returns
    -------
    value : numpy.ndarray of float64
        The feature's value for numeric features (bool as 1.0/0.0); NaN for
        categorical features and missing values.
    level : numpy.ndarray of object
        The category (str) for categorical features; None otherwise and when missing.
    """
    value = np.full(len(feat), np.nan)
    level = np.full(len(feat), None, dtype=object)
    for j in np.unique(feat):
        rows = np.flatnonzero(feat == j)
        col = Xp.iloc[:, j]
        if schema[j]["kind"] == "categorical":
            cats = np.asarray([str(c) for c in col.cat.categories] + [None], dtype=object)
            level[rows] = cats[np.asarray(col.cat.codes)[rows]]  # code -1 -> None
        else:
            value[rows] = col.to_numpy(dtype=float, na_value=np.nan)[rows]
    return value, level


def _slot_texts(feat, value, level, contrib, schema, catalog, value_zh):
    """Phrases of one reason slot as categorical codes (phrases built once per value)."""
    n = len(feat)
    codes = np.full(n, -1, np.int64)
    cats_en, cats_zh = [], []
    for j in np.unique(feat):
        rows = np.flatnonzero(feat == j)
        spec = schema[j]
        if spec["kind"] == "numeric" and spec["dtype"] != "bool":
            entry = catalog.get(spec["name"]) or {}
            # + 0.0 turns -0.0 into 0.0: np.unique merges them, and which sign it kept
            # (so the phrase) would depend on the other rows present
            fv = _display_round(value[rows], entry.get("template_en")) + 0.0
            uniq, inv = np.unique(fv, return_inverse=True)  # NaNs collapse to one
            uniq_list = list(uniq)
        else:
            vals = level[rows] if spec["kind"] == "categorical" else value[rows]
            keys = pd.Series(vals, dtype=object).astype("string").fillna("\x00")
            inv, _ = pd.factorize(keys)
            first = pd.Series(np.arange(len(inv))).groupby(inv).first().to_numpy()
            uniq_list = [vals[i] for i in first]
        p_en, p_zh = reason_phrases(
            spec["name"],
            uniq_list,
            spec["kind"],
            spec["dtype"],
            catalog.get(spec["name"]),
            value_zh,
        )
        base, u = len(cats_en), len(p_en)
        cats_en += [p + _UP_EN for p in p_en] + [p + _DOWN_EN for p in p_en]
        cats_zh += [p + _UP_ZH for p in p_zh] + [p + _DOWN_ZH for p in p_zh]
        codes[rows] = base + np.asarray(inv).reshape(-1) + np.where(contrib[rows] > 0, 0, u)
    out = []
    for cats in (cats_en, cats_zh):
        remap, uniq = pd.factorize(pd.Index(cats, dtype=object))
        out.append(pd.Categorical.from_codes(remap[codes], categories=pd.Index(uniq, dtype="str")))
    return out


def _concat(parts: list) -> pd.DataFrame:
    """Concatenate chunk frames, keeping categorical columns categorical."""
    if len(parts) == 1:
        return parts[0]
    cols = {}
    for c in parts[0].columns:
        if isinstance(parts[0][c].dtype, pd.CategoricalDtype):
            cols[c] = pd.api.types.union_categoricals([p[c] for p in parts])
        elif isinstance(parts[0][c].dtype, pd.StringDtype):
            cols[c] = pd.array(np.concatenate([p[c].to_numpy() for p in parts]), dtype="string")
        else:
            cols[c] = np.concatenate([p[c].to_numpy() for p in parts])
    index = parts[0].index.append([p.index for p in parts[1:]])
    return pd.DataFrame(cols, index=index)


def explain(
    model,
    X,
    top_k: int = 3,
    catalog=None,
    *,
    language: str = "both",
    rank_by: str = "abs",
    method: str = "auto",
    score: bool = True,
    chunk_size: int = 200_000,
    n_jobs=None,
) -> pd.DataFrame:
    """Per-row reason codes: the top-k exact TreeSHAP contributions, phrased.

    Parameters
    ----------
    model : PropensityModel
        Fitted model.
    X : pandas.DataFrame
        Features with the fitted columns (checked; a mismatch raises
        ``FeatureMismatchError``).
    top_k : int, default=3
        Reasons per row.
    catalog : DataFrame, None or False, default=None
        Feature catalogue (``name, description_en, description_zh, template_en,
        template_zh``); None loads :func:`powerprofile.features.feature_catalog`
        when available; False uses generic phrases only. Features not in the
        catalogue get "{feature} = {value} raises the risk" / "{feature}为{value}，风险上升";
        categorical features read "customer type is commercial raises the risk" /
        "用户类型为一般工商业，风险上升".
    language : {"both", "en", "zh", "none"}, default="both"
        Which text columns to build (``"none"``: no text, fastest).
    rank_by : {"abs", "positive"}, default="abs"
        Rank by absolute contribution, or risk-raising contributions first.
    method : {"auto", "lookup", "lightgbm", "shap"}, default="auto"
        TreeSHAP algorithm (all exact).
    score : bool, default=True
        Add ``score`` (calibrated probability) and ``raw_score`` columns, computed
        from the same pass (raw score = base value + sum of contributions).
    chunk_size : int, default=200_000
        Rows per chunk (bounds memory: chunk x features x 8 bytes).
    n_jobs : int or None, default=None
        Threads.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``X``; for i in 1..k: ``reason_i_feature``, ``reason_i_value``,
        ``reason_i_level``, ``reason_i_contribution`` (log-odds),
        ``reason_i_direction`` (``"increase"``/``"decrease"``), ``reason_i_text_en``,
        ``reason_i_text_zh``; with ``score``, first ``score`` and ``raw_score``.
        Feature, direction and text columns are ``category`` (compact: each distinct
        phrase is stored once).

        The feature's value in the row is split by kind so that every column has one
        type whichever feature a reason names (Parquet, CSV and JSON Lines keep it):
        ``reason_i_value`` is ``float64``, the value of a numeric feature (a bool
        feature as 1.0/0.0), NaN for a categorical feature or a missing value;
        ``reason_i_level`` is ``string``, the category of a categorical feature, NA
        for numeric features and missing categories. At most one of the two is set;
        neither when the value is missing.
    """
    if language not in ("both", "en", "zh", "none"):
        raise ValueError(f"language must be 'both', 'en', 'zh' or 'none', got {language!r}.")
    Xp = model._prepare(X)
    schema = model.schema_
    names = pd.Index([s["name"] for s in schema], dtype="str")
    cat = _load_catalog(catalog) if language != "none" else {}
    value_zh = _value_zh_map()
    k = min(int(top_k), Xp.shape[1])
    parts = []
    for start in range(0, max(len(Xp), 1), int(chunk_size)):
        chunk = Xp.iloc[start : start + int(chunk_size)]
        phi, base = raw_contributions(model, chunk, method, n_jobs)
        top = select_top_k(phi, k, rank_by)
        cols = {}
        if score:
            raw = phi.sum(axis=1) + base
            cols["score"] = model.calibrator_.transform(raw)
            cols["raw_score"] = raw
        for i in range(k):
            feat = top[:, i]
            contrib = np.take_along_axis(phi, feat[:, None], axis=1)[:, 0]
            value, level = _slot_values(chunk, feat, schema)
            cols[f"reason_{i + 1}_feature"] = pd.Categorical.from_codes(feat, categories=names)
            cols[f"reason_{i + 1}_value"] = value
            cols[f"reason_{i + 1}_level"] = pd.array(level, dtype="string")
            cols[f"reason_{i + 1}_contribution"] = contrib
            cols[f"reason_{i + 1}_direction"] = pd.Categorical.from_codes(
                (contrib <= 0).astype(np.int8), categories=_DIRECTIONS
            )
            if language != "none":
                en, zh = _slot_texts(feat, value, level, contrib, schema, cat, value_zh)
                if language in ("both", "en"):
                    cols[f"reason_{i + 1}_text_en"] = en
                if language in ("both", "zh"):
                    cols[f"reason_{i + 1}_text_zh"] = zh
        parts.append(pd.DataFrame(cols, index=chunk.index))
    return _concat(parts)

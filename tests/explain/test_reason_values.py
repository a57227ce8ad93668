"""Reason value columns keep one type whatever kind of feature a reason names.

A model over a categorical, a bool and numeric features (with missing values) gives
reasons that name different kinds of feature in different rows; every reason column
must then still write to Parquet, CSV and JSON Lines and read back unchanged.
"""

import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pj
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powerprofile.explain import explain
from powerprofile.export import read_frame, write_frame
from powerprofile.models import PropensityModel
from powerprofile.portraits import build_portraits

LEVELS = ["residential", "commercial", "agricultural", "大工业", "shop, with comma"]
TOP_K = 3
KEY = "reason-values-test-key"


def _pool(n=4000, seed=11):
    """Features whose effects are strong enough that each kind leads in some rows."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(LEVELS, n, p=[0.4, 0.25, 0.15, 0.1, 0.1])
    flag = rng.random(n) < 0.4
    x1 = rng.normal(size=n)
    x2 = rng.gamma(2.0, 3.0, size=n)
    x1[rng.random(n) < 0.15] = np.nan
    x2[rng.random(n) < 0.1] = np.nan
    X = pd.DataFrame(
        {
            "kind": pd.Categorical(kind, categories=LEVELS),
            "flag": flag,
            "x1": x1,
            "x2": x2,
        }
    )
    logit = (
        -1.5
        + 2.5 * (kind == "agricultural")
        - 1.5 * (kind == "residential")
        + 2.0 * flag
        + 1.5 * np.nan_to_num(x1)
        + 0.3 * (np.nan_to_num(x2, nan=6.0) - 6.0)
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def model_and_pool():
    X, y = _pool()
    model = PropensityModel(n_estimators=60, n_jobs=1, random_state=0).fit(X, y)
    return model, X


def _features_frame(X: pd.DataFrame) -> pd.DataFrame:
    """Index a feature frame like build_features does (customer_id, snapshot_date)."""
    idx = pd.MultiIndex.from_arrays(
        [
            [f"C{i:05d}" for i in range(len(X))],
            pd.DatetimeIndex(["2025-10-01"] * len(X)),
        ],
        names=["customer_id", "snapshot_date"],
    )
    return X.set_axis(idx)


def _reason_cols(frame: pd.DataFrame, prefix: str = "") -> list:
    return [
        c
        for c in frame.columns
        if str(c).startswith(f"{prefix}reason_")
        and str(c).endswith(("_feature", "_value", "_level", "_contribution", "_direction"))
    ]


def _mixed_rows(model, X):
    """Two rows of ``X``: the first led by the categorical feature, the second by a number."""
    e = explain(model, X, top_k=1, catalog=False, language="none", score=False)
    first = e["reason_1_feature"].astype(str).to_numpy()
    cat = np.flatnonzero(first == "kind")
    num = np.flatnonzero(np.isin(first, ["x1", "x2"]))
    assert len(cat) and len(num), "the fixture model must lead with both kinds of feature"
    return X.iloc[[cat[0], num[0]]].reset_index(drop=True)


def test_fixture_reasons_name_every_kind(model_and_pool):
    model, X = model_and_pool
    e = explain(model, X.head(500), top_k=TOP_K, catalog=False, language="none")
    named = set()
    for i in range(1, TOP_K + 1):
        named |= set(e[f"reason_{i}_feature"].astype(str))
    assert named == {"kind", "flag", "x1", "x2"}
    first = set(e["reason_1_feature"].astype(str))
    assert {"kind", "flag"} & first and {"x1", "x2"} & first


def test_portraits_with_mixed_reason_kinds_write_to_parquet(model_and_pool, tmp_path):
    """A categorical reason in one row and a numeric one in another: Parquet used to fail."""
    model, X = model_and_pool
    rows = _mixed_rows(model, X)
    p = build_portraits(_features_frame(rows), churn_model=model, top_k=1, key=KEY)
    path = tmp_path / "portraits.parquet"
    p.to_parquet(path, index=False)
    back = pd.read_parquet(path)
    assert back["churn_reason_1_feature"].astype(str).tolist() == [
        "kind",
        p.loc[1, "churn_reason_1_feature"],
    ]
    # by hand: the categorical level is text, its numeric value missing; the number is a float
    assert back.loc[0, "churn_reason_1_level"] == rows.loc[0, "kind"]
    assert np.isnan(back.loc[0, "churn_reason_1_value"])
    assert pd.isna(back.loc[1, "churn_reason_1_level"])
    assert back.loc[1, "churn_reason_1_value"] == rows.loc[1, p.loc[1, "churn_reason_1_feature"]]
    assert back["churn_reason_1_value"].dtype == np.float64
    pd.testing.assert_frame_equal(
        back[_reason_cols(back, "churn_")].astype({"churn_reason_1_feature": "category"}),
        p[_reason_cols(p, "churn_")],
        check_exact=True,
        check_categorical=False,
    )


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
feature_value = st.one_of(finite, st.just(np.nan), st.floats(-10, 10))


@st.composite
def feature_rows(draw, pool):
    """Rows of the pool, some values replaced by drawn ones (levels, bools, any float)."""
    idx = draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=25))
    X = pool.iloc[idx].reset_index(drop=True).copy()
    kind = X["kind"].astype(object).to_numpy(copy=True)
    flag, x1, x2 = (X[c].to_numpy(copy=True) for c in ("flag", "x1", "x2"))
    for r in range(len(X)):
        kind[r] = draw(st.one_of(st.just(kind[r]), st.sampled_from([*LEVELS, None])))
        flag[r] = draw(st.one_of(st.just(bool(flag[r])), st.booleans()))
        x1[r] = draw(st.one_of(st.just(x1[r]), feature_value))
        x2[r] = draw(st.one_of(st.just(x2[r]), feature_value))
    return pd.DataFrame(
        {"kind": pd.Categorical(kind, categories=LEVELS), "flag": flag, "x1": x1, "x2": x2}
    )


def _expected_values(X: pd.DataFrame, e: pd.DataFrame, i: int):
    """Value and level of reason ``i`` computed from the input frame, by feature kind."""
    feat = e[f"reason_{i}_feature"].astype(str).to_numpy()
    rows = np.arange(len(X))
    value = np.full(len(X), np.nan)
    level = pd.array([pd.NA] * len(X), dtype="string")
    is_kind = feat == "kind"
    level[is_kind] = X["kind"].astype("string").to_numpy()[is_kind]
    for name in ("flag", "x1", "x2"):
        m = feat == name
        value[m] = X[name].to_numpy(dtype=float)[rows[m]]
    return value, level


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as ``string`` (files do not keep the category lists)."""
    return frame.astype(
        {c: "string" for c in frame.columns if not pd.api.types.is_float_dtype(frame[c])}
    )


def _declared_dtypes(frame: pd.DataFrame) -> dict:
    return {
        c: ("float64" if pd.api.types.is_float_dtype(frame[c]) else "string") for c in frame.columns
    }


def _jsonl(frame: pd.DataFrame) -> bytes:
    """JSON Lines with every float written exactly (shortest round-trip repr)."""
    lines = []
    for rec in frame.astype(object).to_dict("records"):
        rec = {
            k: (None if v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v)
            for k, v in rec.items()
        }
        lines.append(json.dumps(rec, ensure_ascii=False, allow_nan=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _read_jsonl(data: bytes, dtypes: dict) -> pd.DataFrame:
    """Read JSON Lines with Arrow's reader and an explicit schema (float64 or string)."""
    schema = pa.schema(
        [(c, pa.float64() if d == "float64" else pa.string()) for c, d in dtypes.items()]
    )
    table = pj.read_json(io.BytesIO(data), parse_options=pj.ParseOptions(explicit_schema=schema))
    return table.to_pandas().astype(dtypes)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_reason_columns_round_trip_every_format(model_and_pool, data, tmp_path_factory):
    model, pool = model_and_pool
    X = data.draw(feature_rows(pool))
    chunk = data.draw(st.integers(1, len(X)))
    e = explain(model, X, top_k=TOP_K, catalog=False, chunk_size=chunk)

    # one type per column, whatever feature each row's reason names
    for i in range(1, TOP_K + 1):
        assert e[f"reason_{i}_value"].dtype == np.float64
        assert e[f"reason_{i}_level"].dtype == pd.StringDtype(na_value=pd.NA)
        value, level = _expected_values(X, e, i)
        np.testing.assert_array_equal(e[f"reason_{i}_value"].to_numpy(), value)
        pd.testing.assert_extension_array_equal(e[f"reason_{i}_level"].array, level)

    cols = [c for c in e.columns if str(c).startswith("reason_")]
    want = _as_text(e[cols].reset_index(drop=True))
    dtypes = _declared_dtypes(want)

    # Parquet, CSV and JSON Lines written by pandas: exact
    buf = io.BytesIO()
    e[cols].to_parquet(buf, index=False)
    back = pd.read_parquet(io.BytesIO(buf.getvalue()))
    pd.testing.assert_frame_equal(_as_text(back), want, check_exact=True)

    text = e[cols].to_csv(index=False)
    back = pd.read_csv(io.StringIO(text), dtype=dtypes)
    pd.testing.assert_frame_equal(back, want, check_exact=True)

    back = _read_jsonl(_jsonl(want), dtypes)
    pd.testing.assert_frame_equal(back, want, check_exact=True)

    # the portrait carries the same columns, and Parquet (what the job writes) keeps them
    p = build_portraits(_features_frame(X), churn_model=model, top_k=TOP_K, catalog=False, key=KEY)
    pcols = _reason_cols(p, "churn_")
    assert (
        p[pcols]
        .set_axis([c[len("churn_") :] for c in pcols], axis=1)
        .equals(e[_reason_cols(e)].reset_index(drop=True))
    )
    path = tmp_path_factory.mktemp("portraits") / "portraits.parquet"
    p.to_parquet(path, index=False)
    pd.testing.assert_frame_equal(
        _as_text(pd.read_parquet(path)[pcols]), _as_text(p[pcols]), check_exact=True
    )

    # the export writers: floats rounded to 6 decimals as documented, text exact
    # (JSON Lines keeps 6 decimals only below 1e15: larger numbers are written with
    # fewer significant digits, so those rows stay out of this check)
    floats = [c for c in want.columns if want[c].dtype == np.float64]
    small = (want[floats].abs() < 1e15).to_numpy() | want[floats].isna().to_numpy()
    keep = small.all(axis=1)
    rounded = want[keep].reset_index(drop=True)
    rounded[floats] = rounded[floats].round(6)
    out = tmp_path_factory.mktemp("export")
    for fmt, ext in (("parquet", ".parquet"), ("csv", ".csv"), ("jsonl", ".jsonl")):
        f = write_frame(e[cols][keep], out / f"reasons{ext}", fmt)
        back = read_frame(f).astype(dtypes) if keep.any() else rounded
        pd.testing.assert_frame_equal(back, rounded, check_exact=True, obj=fmt)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_export_writers_keep_six_decimals_exactly(model_and_pool, tmp_path, fmt):
    """Reason values through the export writers read back as the rounded floats, bit for bit."""
    model, pool = model_and_pool
    e = explain(model, pool.head(1000), top_k=TOP_K, catalog=False, language="none")
    cols = _reason_cols(e)
    f = write_frame(e[cols], tmp_path / f"reasons.{fmt}", fmt)
    want = _as_text(e[cols].reset_index(drop=True))
    floats = [c for c in want.columns if want[c].dtype == np.float64]
    want[floats] = want[floats].round(6)
    back = read_frame(f).astype(_declared_dtypes(want))
    pd.testing.assert_frame_equal(back, want, check_exact=True)

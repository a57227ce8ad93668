import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from powerprofile.exceptions import FeatureMismatchError
from powerprofile.explain import (
    BASE_VALUE,
    contributions,
    explain,
    global_importance,
    select_top_k,
)
from powerprofile.models import PropensityModel


@pytest.fixture(scope="module")
def free_model(panel):
    X, y, _ = panel
    return PropensityModel(n_estimators=80, structure="free", num_leaves=31, n_jobs=1).fit(X, y)


@pytest.mark.parametrize("method", ["lookup", "lightgbm", "shap"])
def test_contributions_sum_to_raw_score(fitted, panel, method):
    X = panel[0].iloc[::4]
    c = contributions(fitted, X, method=method)
    raw = fitted.decision_function(X)
    assert list(c.columns[:-1]) == list(X.columns) and c.columns[-1] == BASE_VALUE
    np.testing.assert_allclose(c.to_numpy().sum(axis=1), raw, rtol=0, atol=1e-9)


def test_unconstrained_model_sums_and_agrees_with_shap(free_model, panel):
    X = panel[0].iloc[::6]
    a = contributions(free_model, X, method="lightgbm")
    b = contributions(free_model, X, method="shap")
    np.testing.assert_allclose(a.to_numpy().sum(axis=1), free_model.decision_function(X), atol=1e-9)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), atol=1e-9)
    with pytest.raises(ValueError, match="needs an additive model"):
        contributions(free_model, X.head(3), method="lookup")
    e = explain(free_model, X.head(50), catalog=False)
    assert e["reason_1_feature"].notna().all()


def test_lookup_agrees_with_pred_contrib(fitted, panel):
    X = panel[0].iloc[::3]
    a = contributions(fitted, X, method="lookup").to_numpy()
    b = contributions(fitted, X, method="lightgbm").to_numpy()
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


def _thresholds(model, j):
    return np.asarray(model.lookup_.tables[j][1], float)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_lookup_exact_on_any_values(fitted, data):
    """Split thresholds themselves, NaN, extremes and unseen categories all agree."""
    cols = {}
    n = 20
    for j, spec in enumerate(fitted.schema_):
        if spec["kind"] == "categorical":
            opts = [*spec["categories"], None, "unseen"]
            cols[spec["name"]] = pd.Series(
                data.draw(st.lists(st.sampled_from(opts), min_size=n, max_size=n)), dtype=object
            )
        elif spec["dtype"] == "bool":
            cols[spec["name"]] = np.array(
                data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
            )
        else:
            th = _thresholds(fitted, j)
            # LightGBM reads |x| <= 1e-35 as 0 and puts zero-bin thresholds at +-1e-35
            tiny = [1.0000000180025095e-35, -1.0000000180025095e-35, 1e-36, -1e-36, -1e-300]
            special = [*th.tolist(), np.nan, -1e30, 1e30, 0.0, *tiny, -0.01, 0.01]
            vals = data.draw(
                st.lists(
                    st.one_of(st.sampled_from(special), st.floats(-5, 5, allow_nan=False)),
                    min_size=n,
                    max_size=n,
                )
            )
            cols[spec["name"]] = np.asarray(vals, float)
    Z = pd.DataFrame(cols)
    a = contributions(fitted, Z, method="lookup").to_numpy()
    b = contributions(fitted, Z, method="lightgbm").to_numpy()
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.sum(axis=1), fitted.decision_function(Z), atol=1e-9)


def test_select_top_k_by_hand():
    phi = np.array([[0.1, -0.5, 0.3, 0.0], [0.2, 0.2, -0.1, 0.4]])
    np.testing.assert_array_equal(select_top_k(phi, 3, "abs"), [[1, 2, 0], [3, 0, 1]])
    np.testing.assert_array_equal(select_top_k(phi, 2, "positive"), [[2, 0], [3, 0]])
    np.testing.assert_array_equal(select_top_k(phi, 9, "abs").shape, (2, 4))


def _hand_case():
    """Risk driven by complaints (0..5) and by being a commercial customer only."""
    rng = np.random.default_rng(3)
    n = 6000
    X = pd.DataFrame(
        {
            "complaints_90d": rng.integers(0, 6, n).astype(float),
            "customer_type": pd.Series(
                rng.choice(["residential", "commercial"], n), dtype="category"
            ),
            "noise_feature": rng.normal(size=n),
        }
    )
    logit = -3 + 0.9 * X["complaints_90d"] + 2.0 * (X["customer_type"] == "commercial")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


CATALOG = pd.DataFrame(
    {
        "name": ["complaints_90d", "customer_type"],
        "description_en": ["Complaints in the last 90 days", "Customer type"],
        "description_zh": ["近90天投诉次数", "用户类型"],
        "template_en": ["{value:.0f} complaints in the last 90 days", "{value}"],
        "template_zh": ["近90天投诉{value:.0f}次", "{value}"],
    }
)


def test_reason_texts_hand_case():
    X, y = _hand_case()
    model = PropensityModel(n_estimators=200, n_jobs=1).fit(X, y)
    rows = pd.DataFrame(
        {
            "complaints_90d": [5.0, 0.0, np.nan, 2.0],
            "customer_type": pd.Series(
                ["residential", "commercial", "residential", "residential"], dtype="category"
            ),
            "noise_feature": [0.0, 0.0, 0.0, 0.0],
        }
    )
    e = explain(model, rows, top_k=2, catalog=CATALOG)
    # 5 complaints is far above average: the top reason, raising the risk
    assert e.loc[0, "reason_1_feature"] == "complaints_90d"
    assert e.loc[0, "reason_1_value"] == 5.0
    assert e.loc[0, "reason_1_direction"] == "increase"
    assert e.loc[0, "reason_1_text_en"] == "5 complaints in the last 90 days raises the risk"
    assert e.loc[0, "reason_1_text_zh"] == "近90天投诉5次，风险上升"
    # a commercial customer with no complaint: both reasons present, phrased naturally
    texts = dict(
        zip(
            e.loc[1, ["reason_1_feature", "reason_2_feature"]],
            e.loc[1, ["reason_1_text_en", "reason_2_text_en"]],
            strict=True,
        )
    )
    zh = dict(
        zip(
            e.loc[1, ["reason_1_feature", "reason_2_feature"]],
            e.loc[1, ["reason_1_text_zh", "reason_2_text_zh"]],
            strict=True,
        )
    )
    assert texts["customer_type"] == "customer type is commercial raises the risk"
    # the category is in the level column, the numeric value in the value column
    slot = {e.loc[1, f"reason_{i}_feature"]: i for i in (1, 2)}
    assert e.loc[1, f"reason_{slot['customer_type']}_level"] == "commercial"
    assert np.isnan(e.loc[1, f"reason_{slot['customer_type']}_value"])
    assert e.loc[1, f"reason_{slot['complaints_90d']}_value"] == 0.0
    assert pd.isna(e.loc[1, f"reason_{slot['complaints_90d']}_level"])
    assert zh["customer_type"] == "用户类型为一般工商业，风险上升"
    assert texts["complaints_90d"] == "0 complaints in the last 90 days lowers the risk"
    # missing value and the residential category lower or raise as the model says
    row2 = dict(
        zip(
            e.loc[2, ["reason_1_feature", "reason_2_feature"]],
            e.loc[2, ["reason_1_text_en", "reason_2_text_en"]],
            strict=True,
        )
    )
    assert row2["customer_type"] == "customer type is residential lowers the risk"
    # contribution columns are the exact TreeSHAP values
    c = contributions(model, rows)
    assert e.loc[0, "reason_1_contribution"] == pytest.approx(c.loc[0, "complaints_90d"])
    # scores from the same pass equal predict_proba
    np.testing.assert_allclose(e["score"], model.predict_proba(rows)[:, 1], atol=1e-12)
    # the catalogue is optional: generic phrases
    g = explain(model, rows.head(1), top_k=1, catalog=False)
    assert g.loc[0, "reason_1_text_en"] == "complaints_90d = 5 raises the risk"
    assert g.loc[0, "reason_1_text_zh"] == "complaints_90d为5，风险上升"


def test_generic_phrase_for_features_outside_catalogue(fitted, panel):
    X, _, _ = panel
    e = explain(fitted, X.head(200), top_k=3, catalog=CATALOG)
    num = e["reason_1_feature"].str.startswith("num_")
    assert num.any()
    r = e[num].iloc[0]
    sign = "raises" if r["reason_1_contribution"] > 0 else "lowers"
    value = r["reason_1_value"]
    expected = (
        f"{r['reason_1_feature']} is missing {sign} the risk"
        if pd.isna(value)
        else f"{r['reason_1_feature']} = {value:.4g} {sign} the risk"
    )
    assert r["reason_1_text_en"] == expected


def test_explain_chunking_and_languages(fitted, panel):
    X, _, _ = panel
    a = explain(fitted, X.head(500), chunk_size=10_000)
    b = explain(fitted, X.head(500), chunk_size=37)
    pd.testing.assert_frame_equal(a, b, check_categorical=False)
    for i in (1, 2, 3):  # one type per column, also across chunks
        assert a[f"reason_{i}_value"].dtype == np.float64
        assert b[f"reason_{i}_level"].dtype == "string"
    n = explain(fitted, X.head(5), language="none")
    assert not any(c.startswith("reason_1_text") for c in n.columns)
    assert list(a.index) == list(X.head(500).index)


def test_global_importance_and_mismatch(fitted, panel):
    X, _, _ = panel
    g = global_importance(fitted, X)
    # num_0 carries the largest coefficient of the true logit
    assert g.loc[0, "feature"] == "num_0"
    assert g["share"].sum() == pytest.approx(1.0)
    # features outside the truth (num_4..num_7) rank below the true drivers
    top4 = set(g["feature"].head(4))
    assert top4 == {"num_0", "num_1", "num_2", "customer_type"}
    with pytest.raises(FeatureMismatchError, match="missing columns"):
        explain(fitted, X.head(3).rename(columns={"num_0": "zz"}))


def test_lookup_exact_around_lightgbm_zero_bin():
    """LightGBM puts thresholds at +-1e-35 around its zero bin and reads |x| <= 1e-35 as 0."""
    rng = np.random.default_rng(5)
    n = 4000
    x = rng.normal(scale=0.02, size=n)
    x[rng.random(n) < 0.1] = np.nan
    X = pd.DataFrame({"x": x, "z": rng.normal(size=n)})
    y = (rng.random(n) < np.where(np.nan_to_num(x) < 0, 0.6, 0.2)).astype(int)
    # exact threshold search (small tables randomise thresholds, which rarely hit the
    # zero bin's edges)
    model = PropensityModel(n_estimators=100, n_jobs=1, lgbm_params={"extra_trees": False})
    model.fit(X, y)
    th = _thresholds(model, 0)
    assert np.isclose(np.abs(th), 1e-35, rtol=1e-6, atol=0).any()  # the case arises
    Z = pd.DataFrame({"x": np.r_[np.linspace(-0.03, 0.03, 61), th, -th, np.nan], "z": 0.0})
    a = contributions(model, Z, method="lookup").to_numpy()
    b = contributions(model, Z, method="lightgbm").to_numpy()
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)

"""Portrait assembly: columns, bands, channels, reasons, privacy, order independence."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powerprofile.exceptions import ConfigError
from powerprofile.portraits import (
    PORTRAIT_SCHEMA_VERSION,
    assign_bands,
    build_portraits,
    load_rules,
    model_reasons,
    model_scores,
    preferred_channel,
)
from powerprofile.privacy import pseudonymise
from powerprofile.segmentation import CustomerSegmenter

KEY = "86c6beab9ff83633e0359f18778ba62f9d8c1f3569b30c9f2608dd95b2ec46c0"
N = 60


class FakeModel:
    """A fitted-model stand-in: score = kwh_mean_365d / 100."""

    version_ = "churn-v7"
    feature_names_in_ = np.array(["kwh_mean_365d"], dtype=object)

    def predict_proba(self, X):
        assert list(X.columns) == ["kwh_mean_365d"]  # only the model's own features
        p = np.clip(X["kwh_mean_365d"].to_numpy() / 100.0, 0, 1)
        return np.c_[1 - p, p]


def _features(n=N, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"C{i:06d}" for i in range(n)]
    idx = pd.MultiIndex.from_arrays(
        [ids, np.full(n, np.datetime64("2025-07-01", "ns"))], names=["customer_id", "snapshot_date"]
    )
    f = pd.DataFrame(
        {
            "customer_type": pd.Categorical(rng.choice(["residential", "commercial"], n)),
            "region": pd.Categorical(rng.choice(["north", "south"], n)),
            "kwh_mean_365d": np.arange(n, dtype=float) + 1.0,  # distinct scores 0.01 .. 0.60
            "online_contact_share_365d": rng.choice([0.0, 0.5, 0.9, np.nan], n),
            "contacts_365d": rng.integers(0, 6, n).astype(float),
            "contacts_app_365d": rng.integers(0, 3, n).astype(float),
            "contacts_hotline_95598_365d": rng.integers(0, 3, n).astype(float),
            "payment_share_counter_365d": rng.choice([0.0, 1.0], n),
            "payment_share_app_365d": rng.choice([0.0, 1.0], n),
            "complaints_90d": rng.integers(0, 3, n).astype(float),
            "outage_count_90d": rng.integers(0, 2, n).astype(float),
        },
        index=idx,
    )
    return f


def _customers(n=N):
    ids = [f"C{i:06d}" for i in range(n)]
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "grid_unit": pd.array([f"G{i % 3}" for i in range(n)], dtype="string"),
            "name": pd.array([f"张{i}伟" for i in range(n)], dtype="string"),
            "phone": pd.array(
                [f"1381234{i:04d}" if i % 4 else None for i in range(n)], dtype="string"
            ),
            "address": pd.array([f"幸福路{i}号" for i in range(n)], dtype="string"),
            "app_user": [i % 2 == 0 for i in range(n)],
            "wechat_bound": [i % 3 == 0 for i in range(n)],
            "sms_opt_out": [i % 5 == 0 for i in range(n)],
        }
    )


TAGS = """
kind: tags
rules:
  digital_first:
    expr: online_contact_share_365d >= 0.8
    label_en: Digital-first
    label_zh: 线上偏好
  counter_loyal:
    expr: payment_share_counter_365d >= 0.7
    label_en: Pays at the counter
    label_zh: 柜台缴费
"""
RISK = """
kind: risk
rules:
  public_opinion:
    expr: complaints_90d >= 2 and outage_count_90d >= 1
    label_en: Public-opinion risk
    label_zh: 舆情风险
    severity: high
    reason_en: Complaints after an outage
    reason_zh: 停电后投诉
  frequent:
    expr: contacts_365d >= 4
    label_en: Frequent contact
    label_zh: 高频接触
    severity: low
    reason_en: Many contacts
    reason_zh: 接触频繁
"""


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    d = tmp_path_factory.mktemp("rules")
    (d / "tags.yaml").write_text(TAGS, encoding="utf-8")
    (d / "risk.yaml").write_text(RISK, encoding="utf-8")
    return load_rules(d / "tags.yaml"), load_rules(d / "risk.yaml")


@pytest.fixture(scope="module")
def segmenter():
    return CustomerSegmenter(n_clusters=3, n_init=2, random_state=0).fit(_features(200, seed=1))


@pytest.fixture(scope="module")
def portrait(rules, segmenter):
    tags, risk = rules
    return build_portraits(
        _features(),
        churn_model=FakeModel(),
        complaint_model=FakeModel(),
        segmenter=segmenter,
        tags=tags,
        risk_rules=risk,
        customers=_customers(),
        key=KEY,
        reasons=False,
    )


def test_columns_and_keys(portrait, segmenter):
    f = _features()
    assert len(portrait) == N
    assert portrait.attrs["schema_version"] == PORTRAIT_SCHEMA_VERSION
    expected_keys = pseudonymise(f.index.get_level_values("customer_id"), KEY).tolist()
    assert portrait["customer_key"].tolist() == expected_keys
    for col in (
        "snapshot_date",
        "customer_type",
        "region",
        "grid_unit",
        "segment_id",
        "segment_name_en",
        "segment_name_zh",
        "churn_score",
        "churn_band",
        "churn_decile",
        "complaint_score",
        "tags",
        "tags_en",
        "tags_zh",
        "tag_digital_first",
        "risk_flags",
        "risk_level",
        "risk_public_opinion",
        "preferred_channel",
        "contactable_sms",
        "contactable_channels",
        "churn_model_version",
        "complaint_model_version",
        "segmenter_version",
    ):
        assert col in portrait.columns, col
    assert set(portrait["churn_model_version"]) == {"churn-v7"}
    # segment columns carry the segmenter's own labels and names, row for row
    seg = segmenter.predict(f.reset_index(drop=True))
    assert portrait["segment_id"].tolist() == [int(v) for v in seg]
    assert portrait["segment_name_en"].tolist() == [segmenter.names_[v][0] for v in seg]
    assert portrait["segment_name_zh"].tolist() == [segmenter.names_[v][1] for v in seg]
    assert set(portrait["segmenter_version"]) == {segmenter.version_}
    assert portrait["grid_unit"].tolist() == [f"G{i % 3}" for i in range(N)]


def test_scores_and_decile_bands(portrait):
    # scores are 0.01 .. 0.60 in row order: the top 6 rows are decile 10 (high), the
    # next 12 are deciles 8-9 (medium)
    assert portrait["churn_score"].tolist() == pytest.approx([(i + 1) / 100 for i in range(N)])
    assert portrait["complaint_score"].tolist() == pytest.approx([(i + 1) / 100 for i in range(N)])
    bands = portrait["churn_band"].astype(str).tolist()
    assert bands == ["low"] * 42 + ["medium"] * 12 + ["high"] * 6
    assert portrait["churn_decile"].tolist() == [i // 6 + 1 for i in range(N)]


def test_band_cut_offs():
    s = pd.Series([0.05, 0.1, 0.2, 0.35, np.nan])
    band, decile = assign_bands(s, {"high": 0.3, "medium": 0.1})
    assert band.astype(object).tolist()[:4] == ["low", "medium", "medium", "high"]
    assert pd.isna(band.iloc[4]) and pd.isna(decile.iloc[4])
    with pytest.raises(ConfigError, match=r"band cut-offs need high >= medium"):
        assign_bands(s, {"high": 0.1, "medium": 0.3})
    with pytest.raises(ConfigError, match=r"bands must be 'deciles' or a mapping"):
        assign_bands(s, "quartiles")


def test_tags_and_risk(portrait):
    f = _features()
    digital = (f["online_contact_share_365d"] >= 0.8).to_numpy()
    assert portrait["tag_digital_first"].tolist() == digital.tolist()
    counter = (f["payment_share_counter_365d"] >= 0.7).to_numpy()
    both = digital & counter
    assert (portrait.loc[both, "tags"] == "digital_first;counter_loyal").all()
    assert (portrait.loc[both, "tags_zh"] == "线上偏好;柜台缴费").all()
    assert (portrait.loc[~digital & ~counter, "tags"] == "").all()
    po = ((f["complaints_90d"] >= 2) & (f["outage_count_90d"] >= 1)).to_numpy()
    fr = (f["contacts_365d"] >= 4).to_numpy()
    level = np.where(po, "high", np.where(fr, "low", "none"))
    assert portrait["risk_level"].astype(str).tolist() == level.tolist()
    assert (portrait.loc[po & ~fr, "risk_reasons_zh"] == "停电后投诉").all()


def test_contactability(portrait):
    i = np.arange(N)
    has_phone = i % 4 != 0
    assert portrait["contactable_sms"].tolist() == (has_phone & (i % 5 != 0)).tolist()
    assert portrait["contactable_app_push"].tolist() == (i % 2 == 0).tolist()
    assert portrait["contactable_wechat"].tolist() == (i % 3 == 0).tolist()
    assert portrait["contactable_hotline_callback"].tolist() == has_phone.tolist()
    # row 0: no phone, app user, WeChat bound -> app push, WeChat, grid manager
    assert portrait["contactable_channels"].iloc[0] == "app_push;wechat;grid_manager"


def test_preferred_channel_hand_computed():
    f = pd.DataFrame(
        {
            "contacts_app_365d": [3.0, 0.0, 0.0, 1.0],
            "contacts_hotline_95598_365d": [1.0, 0.0, 2.0, 1.0],
            "contacts_counter_365d": [0.0, 0.0, 0.0, 0.0],
            "payment_share_counter_365d": [0.0, 1.0, 0.0, np.nan],
            "payment_share_app_365d": [1.0, 0.0, 0.0, np.nan],
            "payment_share_wechat_365d": [0.0, 0.0, 0.0, np.nan],
        }
    )
    # row 0: app 0.75 + 1.0; row 1: counter payments only; row 2: hotline only;
    # row 3: app 0.5 vs hotline 0.5, the tie goes to app push; a row with nothing -> missing
    assert preferred_channel(f).tolist() == ["app_push", "counter", "hotline_callback", "app_push"]
    empty = f.iloc[:1] * 0
    assert preferred_channel(empty).isna().all()


def test_no_raw_identifiers_by_default(portrait):
    cust = _customers()
    raw = (
        set(cust["customer_id"])
        | set(cust["name"])
        | set(cust["phone"].dropna())
        | set(cust["address"])
    )
    digits = {p[-8:] for p in cust["phone"].dropna()}
    assert not {"customer_id", "name", "phone", "address"} & set(portrait.columns)
    for col in portrait.columns:
        for v in portrait[col].astype(str):
            assert v not in raw, (col, v)
            assert not any(r in v for r in raw if len(r) >= 6), (col, v)
            assert not any(d in v for d in digits), (col, v)


def test_raw_id_only_on_request(rules):
    p = build_portraits(_features(5), customers=_customers(5), key=KEY, include_customer_id=True)
    assert p["customer_id"].tolist() == [f"C{i:06d}" for i in range(5)]
    assert not {"name", "phone", "address"} & set(p.columns)


def test_reasons_from_explain(monkeypatch, segmenter):
    import powerprofile.explain as explain_mod

    def fake_explain(model, X, top_k=3, catalog=None, **kw):
        n = len(X)
        out = {}
        for i in range(1, top_k + 1):
            out[f"reason_{i}_feature"] = ["kwh_mean_365d"] * n
            out[f"reason_{i}_text_en"] = [f"reason {i}"] * n
            out[f"reason_{i}_text_zh"] = [f"原因{i}"] * n
        out["score"] = np.zeros(n)
        return pd.DataFrame(out, index=X.index)

    monkeypatch.setattr(explain_mod, "explain", fake_explain)
    p = build_portraits(_features(5), churn_model=FakeModel(), key=KEY, top_k=2)
    assert p["churn_reason_1_text_en"].tolist() == ["reason 1"] * 5
    assert p["churn_reasons_en"].tolist() == ["reason 1; reason 2"] * 5
    assert p["churn_reasons_zh"].tolist() == ["原因1；原因2"] * 5
    assert "churn_score_" not in "".join(p.columns) and "score" not in p.columns


def test_model_scores_and_reasons_score_a_batch_of_rows(monkeypatch):
    import powerprofile.explain as explain_mod

    X = _features(4)
    X["kwh_mean_365d"] = [10.0, 50.0, 90.0, 20.0]
    # the model's own feature, whatever else the batch holds: score = kwh / 100
    np.testing.assert_allclose(model_scores(FakeModel(), X), [0.1, 0.5, 0.9, 0.2])

    def fake_explain(model, X, top_k=3, catalog=None, **kw):
        return pd.DataFrame(
            {"reason_1_text_en": ["a", "", "c", "d"], "reason_1_text_zh": ["甲", "", "丙", "丁"]},
            index=X.index,
        )

    monkeypatch.setattr(explain_mod, "explain", fake_explain)
    r = model_reasons(FakeModel(), X, "complaint", 1)
    assert list(r.columns) == [
        "complaint_reason_1_text_en",
        "complaint_reason_1_text_zh",
        "complaint_reasons_en",
        "complaint_reasons_zh",
    ]
    assert r.index.equals(pd.RangeIndex(4))
    assert r["complaint_reasons_en"].tolist() == ["a", "", "c", "d"]


def test_bad_inputs(rules):
    f = _features(5).reset_index(drop=True)
    with pytest.raises(ConfigError, match=r"features need a 'customer_id' index level or column"):
        build_portraits(f, key=KEY)
    with pytest.raises(
        ConfigError, match=r"tags must be a RuleSet, a path to a YAML rule file or None"
    ):
        build_portraits(_features(5), tags=42, key=KEY)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1))
def test_any_permutation_gives_same_portrait_per_customer(rules, segmenter, seed):
    tags, risk = rules
    f = _features()
    kw = dict(
        churn_model=FakeModel(),
        segmenter=segmenter,
        tags=tags,
        risk_rules=risk,
        customers=_customers(),
        key=KEY,
        reasons=False,
    )
    base = build_portraits(f, **kw).set_index("customer_key")
    perm = np.random.default_rng(seed).permutation(N)
    other = build_portraits(f.iloc[perm], **kw).set_index("customer_key").loc[base.index]
    pd.testing.assert_frame_equal(other, base)


def test_portrait_columns_predicts_what_build_portraits_writes(rules, portrait):
    from powerprofile.portraits import column_kinds, portrait_columns

    tags, risk = rules
    want = portrait_columns(tags=tags, risk_rules=risk, reasons=False)
    got = column_kinds(portrait)
    # the test customers table has no transformer_area: everything else is there
    assert set(want) - set(got) == {"transformer_area"}
    assert got == {c: want[c] for c in got}

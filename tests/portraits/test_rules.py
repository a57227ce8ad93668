"""Tag and risk rule files: loading, validation errors, evaluation, hit report."""

import textwrap

import numpy as np
import pandas as pd
import pytest

from powerprofile.exceptions import ConfigError
from powerprofile.portraits import load_rules

GOOD_TAGS = """
kind: tags
rules:
  digital_first:
    expr: online_contact_share_365d >= 0.8
    label_en: Digital-first
    label_zh: 线上偏好
  heavy_user:
    expr: kwh_mean_365d > 20 and not is_missing(kwh_mean_365d)
    label_en: Heavy user
    label_zh: 用电大户
"""

GOOD_RISK = """
kind: risk
rules:
  public_opinion:
    expr: complaints_90d >= 2 and outage_count_90d > 0
    label_en: Public-opinion risk
    label_zh: 舆情风险
    severity: high
    reason_en: Repeated complaints after a recent outage
    reason_zh: 近期停电后多次投诉
"""


def _write(tmp_path, text, name="rules.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


@pytest.fixture
def feats():
    return pd.DataFrame(
        {
            "online_contact_share_365d": [0.9, np.nan, 0.5, 0.8],
            "kwh_mean_365d": [30.0, 25.0, np.nan, 5.0],
            "complaints_90d": [2.0, 3.0, 0.0, 2.0],
            "outage_count_90d": [1.0, 0.0, 2.0, 4.0],
            "region": pd.array(["north", "south", "north", "north"], dtype="string"),
        }
    )


def test_good_files_evaluate(tmp_path, feats):
    tags = load_rules(_write(tmp_path, GOOD_TAGS))
    assert tags.kind == "tags" and tags.names == ("digital_first", "heavy_user")
    hits = tags.evaluate(feats)
    assert hits["digital_first"].tolist() == [True, False, False, True]
    assert hits["heavy_user"].tolist() == [True, True, False, False]
    assert tags.join_hits(hits, "zh").tolist() == ["线上偏好;用电大户", "用电大户", "", "线上偏好"]
    risk = load_rules(_write(tmp_path, GOOD_RISK, "risk.yaml"))
    assert risk.kind == "risk" and risk["public_opinion"].severity == "high"
    assert risk.evaluate(feats)["public_opinion"].tolist() == [True, False, False, True]


def test_hit_report_by_region(tmp_path, feats):
    risk = load_rules(_write(tmp_path, GOOD_RISK))
    rep = risk.hit_report(feats, by="region")
    rows = {r.region: (r.n_rows, r.count, r.share) for r in rep.itertuples()}
    # hits: rows 0 and 3 (both north); north has rows 0, 2, 3
    assert rows["(all)"] == (4, 2, 0.5)
    assert rows["north"] == (3, 2, pytest.approx(2 / 3))
    assert rows["south"] == (1, 0, 0.0)
    assert set(rep["severity"]) == {"high"}


BAD = [
    (
        "rules:\n  x:\n    expr: a > 1\n    label_en: X\n    label_zh: 叉\n    colour: red\n",
        r"rule 'x' has unknown key\(s\) 'colour'",
    ),
    (
        "rules:\n  x:\n    expr: a >\n    label_en: X\n    label_zh: 叉\n",
        r"rule 'x' \('a >'\): invalid syntax",
    ),
    (
        "rules:\n  x:\n    expr: a.__class__ > 1\n    label_en: X\n    label_zh: 叉\n",
        r"rule 'x' \(.*\): attribute access",
    ),
    (
        "rules:\n  x:\n    expr: a > 1\n    label_en: X\n",
        r"rule 'x' is missing key\(s\) 'label_zh'",
    ),
    (
        "kind: risk\nrules:\n  x:\n    expr: a > 1\n    label_en: X\n    label_zh: 叉\n    severity: urgent\n    reason_en: r\n    reason_zh: r\n",
        r"rule 'x' has severity 'urgent'; use one of low, medium, high",
    ),
    (
        "kind: risk\nrules:\n  x:\n    expr: a > 1\n    label_en: X\n    label_zh: 叉\n    severity: high\n",
        r"rule 'x' is missing key\(s\) 'reason_en', 'reason_zh'",
    ),
    ("kind: tag\nrules:\n  x: a > 1\n", r"'kind' must be 'tags' or 'risk', got 'tag'"),
    ("rulez:\n  x: a > 1\n", r"unknown top-level key\(s\) 'rulez'"),
    (
        "rules:\n  Bad-Name:\n    expr: a > 1\n    label_en: X\n    label_zh: 叉\n",
        r"rule name 'Bad-Name' must be snake_case",
    ),
    ("rules: [1, 2]\n", r"'rules' must be a non-empty mapping"),
    ("rules:\n  x: [a\n", r"not valid YAML"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_files_name_rule_and_reason(tmp_path, text, message):
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        load_rules(p)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"rule file '.*nope.yaml' does not exist"):
        load_rules(tmp_path / "nope.yaml")


def test_unknown_feature_at_load_time_with_catalogue(tmp_path):
    p = _write(
        tmp_path, "rules:\n  x:\n    expr: complaint_90d > 1\n    label_en: X\n    label_zh: 叉\n"
    )
    with pytest.raises(
        ConfigError,
        match=r"rule 'x' uses unknown feature 'complaint_90d'; did you mean 'complaints_90d'\?",
    ):
        load_rules(p, features=["complaints_90d", "kwh_mean_365d"])


def test_unknown_feature_at_evaluation(tmp_path, feats):
    p = _write(
        tmp_path, "rules:\n  x:\n    expr: no_such_feature > 1\n    label_en: X\n    label_zh: 叉\n"
    )
    rules = load_rules(p)  # no feature list: checked when evaluated
    with pytest.raises(ConfigError, match=r"rule 'x' uses unknown feature 'no_such_feature'"):
        rules.evaluate(feats)


def test_type_error_at_evaluation_names_rule(tmp_path, feats):
    p = _write(tmp_path, "rules:\n  x:\n    expr: region > 1\n    label_en: X\n    label_zh: 叉\n")
    with pytest.raises(
        ConfigError,
        match=r"rule 'x' \('region > 1'\): 'region > 1': only ==, != and 'in' may compare text",
    ):
        load_rules(p).evaluate(feats)


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("a > 10**10**10", r"the exponent in '10 \*\* 10 \*\* 10' is outside"),
        ("a > 1/0", r"'1 / 0' divides by zero"),
        ("a // 0 > 1", r"'a // 0' divides by zero"),
        ("-" * 5000 + "a > 0", r"nested more than 100 levels deep"),
        ("frobnicate(a) > 1", r"function 'frobnicate' is not allowed"),
        ("a > 1e400", r"outside"),
    ],
)
def test_expression_that_cannot_evaluate_fails_at_load(tmp_path, expr, problem):
    p = _write(
        tmp_path, f'rules:\n  bad_rule:\n    expr: "{expr}"\n    label_en: X\n    label_zh: 叉\n'
    )
    with pytest.raises(ConfigError, match=rf"{p}: rule 'bad_rule' \(.*\): .*{problem}"):
        load_rules(p)


def test_type_error_at_load_time_with_catalogue(tmp_path):
    from powerprofile.features import feature_catalog

    p = _write(
        tmp_path, "rules:\n  x:\n    expr: customer_type == 1\n    label_en: X\n    label_zh: 叉\n"
    )
    with pytest.raises(ConfigError, match=r"rule 'x' .*compares text with a number"):
        load_rules(p, features=feature_catalog())
    load_rules(p)  # the types are not known without the catalogue


def test_runtime_failure_names_the_rule(tmp_path, feats, monkeypatch):
    import powerprofile.portraits._expr as expr_module

    def boom(*args, **kwargs):
        raise MemoryError("out of memory")

    rules = load_rules(_write(tmp_path, GOOD_TAGS))
    monkeypatch.setattr(expr_module, "_eval", boom)
    with pytest.raises(ConfigError, match=r"rule 'digital_first' .*cannot evaluate \(MemoryError"):
        rules.evaluate(feats)

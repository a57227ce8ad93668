"""Campaign selections speak the tag/risk rule language, with the same missing values."""

import numpy as np
import pandas as pd
import pytest

from powerprofile.exceptions import ConfigError
from powerprofile.export import compile_selection, load_campaigns
from powerprofile.portraits import rules_from_mapping


@pytest.fixture
def frame():
    """Portrait-like rows with missing bands, tags and scores."""
    return pd.DataFrame(
        {
            "churn_band": pd.Categorical(
                ["high", "low", None, "medium", None, "high"],
                categories=["low", "medium", "high"],
                ordered=True,
            ),
            "tags": pd.array(
                ["digital_first", None, "counter_loyal;digital_first", "", None, "x"],
                dtype="string",
            ),
            "churn_score": [0.9, 0.1, np.nan, 0.5, 0.7, np.nan],
            "tag_counter_loyal": pd.array([True, False, True, None, False, True], dtype="boolean"),
        }
    )


# expected rows worked out by hand: a comparison with a missing value is unknown and
# selects nothing; is-missing tests are never unknown
CASES = [
    ("churn_band != 'high'", [1, 3]),
    ("churn_band != 'high' and notna(tags)", [3]),  # row 1 has no tags
    ("not (churn_band == 'high')", [1, 3]),
    ("churn_band != 'high' or isna(churn_band)", [1, 2, 3, 4]),
    ("churn_band in ['high', 'medium']", [0, 3, 5]),
    ("churn_band not in ['high']", [1, 3]),
    ("has(tags, 'digital_first')", [0, 2]),
    ("not has(tags, 'digital_first')", [3, 5]),
    ("has(tags, 'digital_first') or churn_score > 0.6", [0, 2, 4]),
    ("churn_score <= 0.6 or isna(churn_score)", [1, 2, 3, 5]),
    ("tag_counter_loyal and not churn_band == 'high'", []),  # row 2: band missing
    ("tag_counter_loyal or churn_score > 0.6", [0, 2, 4, 5]),
    ("not tag_counter_loyal", [1, 4]),
    ("is_missing(tags) and notna(churn_score)", [1, 4]),
]


@pytest.mark.parametrize(("expr", "rows"), CASES)
def test_tag_and_campaign_select_the_same_rows(frame, expr, rows):
    want = np.isin(np.arange(len(frame)), rows)
    as_tag = rules_from_mapping(
        {"rules": {"t": {"expr": expr, "label_en": "T", "label_zh": "标"}}}
    ).evaluate(frame)["t"]
    as_campaign = compile_selection(expr, name="c").evaluate(frame)
    assert as_tag.tolist() == want.tolist()
    assert as_campaign.tolist() == want.tolist()
    assert as_campaign.index.equals(frame.index) and as_campaign.dtype == bool


CAMPAIGN = """
campaigns:
  - name: bad_one
    select: "{select}"
    channels: [sms]
"""


@pytest.mark.parametrize(
    ("select", "problem"),
    [
        ("churn_score > 10**10**10", "exponent"),
        ("churn_score > 1/0", "'1 / 0' divides by zero"),
        ("churn_score % 0 > 1", "divides by zero"),
        ("-" * 5000 + "churn_score > 0", "nested more than 100 levels deep"),
        ("frobnicate(churn_score) > 1", "function 'frobnicate' is not allowed"),
        ("__import__('os').system('x')", "is not allowed"),
        ("has(tags, 1)", "has\\(\\) takes a column and a text value"),
        ("churn_band > 'low'", "only ==, != and 'in' may compare text"),
    ],
)
def test_campaign_expression_that_cannot_evaluate_fails_at_load(tmp_path, select, problem):
    p = tmp_path / "campaigns.yaml"
    p.write_text(CAMPAIGN.format(select=select), encoding="utf-8")
    with pytest.raises(ConfigError, match=f"selection of 'bad_one' in '{p}'.*{problem}"):
        load_campaigns(p)


def test_unknown_or_mistyped_column_with_known_columns(frame):
    with pytest.raises(ConfigError, match="unknown column 'churn_bnd'; did you mean 'churn_band'"):
        compile_selection("churn_bnd == 'high'", name="c", columns=frame)
    with pytest.raises(ConfigError, match="compares text with a number"):
        compile_selection("churn_band == 3", name="c", columns=frame)
    with pytest.raises(ConfigError, match="has\\(\\) needs a text column"):
        compile_selection("has(churn_score, 'x')", name="c").evaluate(frame)

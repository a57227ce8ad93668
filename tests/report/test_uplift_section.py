"""The report section on measured uplift and the next-best channel."""

import pandas as pd

from powerprofile.report._uplift import section_uplift
from powerprofile.uplift import campaign_effects


def test_section_shows_effects_and_the_channel_choice():
    outcomes = pd.DataFrame(
        {
            "campaign_id": "keep@2026-01-01",
            "group": ["treated"] * 200 + ["control"] * 50,
            "channel": "sms",
            "retained": pd.array([True] * 180 + [False] * 20 + [True] * 35 + [False] * 15),
        }
    )
    effects = campaign_effects(outcomes, breakdowns=("channel",))
    nbc = {
        "contacts": 12,
        "by_channel": {"sms": 4, "grid_manager": 8},
        "expected_saved_per_1000": 61.0,
        "score_expected_saved_per_1000": 20.0,
        "pilot_rows": 500,
        "examples": pd.DataFrame(
            {
                "customer_key": ["K0"],
                "channel": ["sms"],
                "rank": [1],
                "expected_effect": [0.1],
                "reasons": ["flag=1 (+0.100)"],
            }
        ),
    }
    html = section_uplift({"effects": effects, "nbc": nbc, "notes": ["simulated"]}, 30)
    assert "keep@2026-01-01" in html and "+20.0 pp" in html  # 90 % vs 70 %
    assert "Next-best channel" in html and "flag=1" in html and "61" in html
    assert "simulated" in html


def test_section_says_when_nothing_ran():
    assert "Not available" in section_uplift(None, 30)
    html = section_uplift({"effects": None, "nbc": None, "notes": ["No responses"]}, 30)
    assert "No responses" in html and "No campaign effects" in html

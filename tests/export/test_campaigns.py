"""Campaign files: every number is checked against its range, naming the campaign."""

import pytest

from powerprofile.exceptions import ConfigError
from powerprofile.export import load_campaigns

ONE = (
    "campaigns:\n"
    "  - name: winback\n"
    "    select: \"churn_band == 'high'\"\n"
    "    channels: [sms, wechat]\n"
)


@pytest.mark.parametrize(
    ("extra", "top", "pattern"),
    [
        (
            "    capacity: -5\n",
            "",
            r"campaign 'winback': config key 'campaigns\[0\]\.capacity' in '.*c\.yaml' has the "
            r"value -5.*an integer from 0 to 1000000000 customers",
        ),
        (
            "    capacity: {sms: 1000000000000}\n",
            "",
            r"campaign 'winback': .*'campaigns\[0\]\.capacity\.sms'.*1000000000000",
        ),
        (
            "    priority: 10000000\n",
            "",
            r"campaign 'winback': .*'campaigns\[0\]\.priority'.*from -1000000 to 1000000",
        ),
        (
            "    priority: 1.5\n",
            "",
            r"campaign 'winback': .*'campaigns\[0\]\.priority'.*got 1\.5 \(float\), expected int",
        ),
        ("    min_score: .nan\n", "", r"campaign 'winback': .*'campaigns\[0\]\.min_score'.*finite"),
        ("", "frequency_cap: 0\n", r"'frequency_cap' in '.*c\.yaml'.*value 0.*from 1 to 1000"),
        ("", "frequency_cap: 1e3\n", r"'frequency_cap'.*got 1000\.0 \(float\), expected int"),
        ("", "channel_capacity: {sms: -1}\n", r"'channel_capacity\.sms'.*value -1.*from 0 to"),
    ],
)
def test_campaign_numbers_out_of_range_name_the_campaign(tmp_path, extra, top, pattern):
    p = tmp_path / "c.yaml"
    p.write_text(top + ONE + extra, encoding="utf-8")
    with pytest.raises(ConfigError, match=pattern):
        load_campaigns(p)


def test_campaign_numbers_at_their_limits_load(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(
        "frequency_cap: 1000\nchannel_capacity: {sms: 0}\n"
        + ONE
        + "    capacity: {sms: 1000000000, wechat: 0}\n    priority: -1000000\n"
        "    min_score: 0.5\n",
        encoding="utf-8",
    )
    cset = load_campaigns(p)
    (c,) = cset.campaigns
    assert (cset.frequency_cap, c.capacity_of("sms"), c.capacity_of("wechat")) == (1000, 10**9, 0)
    assert (c.priority, c.min_score) == (-1_000_000, 0.5)


def test_a_campaign_name_too_long_for_a_file_name_is_refused_at_load(tmp_path):
    # it names files (<name>__<channel>.csv): 300 characters used to fail the export late
    path = tmp_path / "c.yaml"
    path.write_text(ONE.replace("winback", "w" * 300), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"has 300 characters, more than 100.*Shorten it"):
        load_campaigns(path)
    path.write_text(ONE.replace("winback", "w" * 100), encoding="utf-8")
    assert load_campaigns(path).campaigns[0].name == "w" * 100

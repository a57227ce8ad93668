"""Typed config: defaults, unknown keys, wrong types, missing files, overrides."""

import pytest

from powerprofile.config import (
    Config,
    config_hash,
    dump_config,
    load_config,
    parse_override,
    to_mapping,
)
from powerprofile.exceptions import ConfigError


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_default_yaml_documents_exactly_the_builtin_defaults():
    # the committed default file must list every key with the built-in default
    assert to_mapping(load_config("configs/default.yaml")) == to_mapping(Config())


def test_demo_config_extends_default():
    cfg = load_config("configs/demo.yaml")
    assert cfg.output_dir == "out/demo"
    assert cfg.data.path == "data/sample"
    assert cfg.features.windows == [30, 90, 180, 365]
    assert cfg.source == "configs/demo.yaml"


def test_unknown_key_names_key_file_and_suggestion(tmp_path):
    p = write(tmp_path, "bad.yaml", "export:\n  fromat: csv\n")
    with pytest.raises(
        ConfigError,
        match=r"unknown config key 'export\.fromat' in '.*bad\.yaml'.*did you mean 'format'",
    ):
        load_config(p)


def test_unknown_top_level_key(tmp_path):
    p = write(tmp_path, "bad.yaml", "sede: 3\n")
    with pytest.raises(ConfigError, match=r"unknown config key 'sede'.*did you mean 'seed'"):
        load_config(p)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (
            "seed: three\n",
            r"config key 'seed' in '.*bad\.yaml' has the wrong type: got 'three' \(str\), expected int",
        ),
        ("labels:\n  horizon_days: 9.5\n", r"'labels\.horizon_days'.*got 9\.5"),
        ("features:\n  windows: [30, x]\n", r"'features\.windows\[1\]'.*got 'x'"),
        ("data:\n  errors: lenient\n", r"'data\.errors'.*'lenient'.*'raise', 'quarantine'"),
        ("tracking:\n  enabled: yes please\n", r"'tracking\.enabled'.*expected bool"),
        ("models:\n  targets: [churn, upsell]\n", r"'models\.targets\[1\]'.*'upsell'"),
        ("data: [1, 2]\n", r"'data'.*expected mapping"),
        (
            "features:\n  n_training_snapshots: 0\n",
            r"'features\.n_training_snapshots'.*must be >= 1",
        ),
        ("data:\n  data_end: 2025-13-01\n", r"not valid YAML.*month must be in 1..12"),
        ("data:\n  data_end: yesterday\n", r"'data\.data_end'.*ISO date"),
    ],
)
def test_wrong_types_name_key_and_file(tmp_path, text, pattern):
    p = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError, match=pattern):
        load_config(p)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"config file '.*nope\.yaml' does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_not_yaml_or_not_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "a.yaml", "seed: [1, 2\n"))
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(write(tmp_path, "b.yaml", "- 1\n- 2\n"))


def test_overrides_are_typed_and_checked(tmp_path):
    cfg = load_config(
        None, [parse_override("labels.horizon_days=60"), parse_override("export.format=parquet")]
    )
    assert cfg.labels.horizon_days == 60
    assert cfg.export.format == "parquet"
    with pytest.raises(
        ConfigError, match=r"unknown config key 'labels\.horizon'.*overrides given: labels\.horizon"
    ):
        load_config(None, [parse_override("labels.horizon=60")])
    with pytest.raises(ConfigError, match=r"'seed'.*got 'x'"):
        load_config(None, [parse_override("seed=x")])
    with pytest.raises(ConfigError, match="must look like key.path=value"):
        parse_override("seed")


def test_extends_merges_nested_sections(tmp_path):
    write(tmp_path, "base.yaml", "seed: 5\nlabels:\n  horizon_days: 30\n  churn_kinds: [closure]\n")
    top = write(tmp_path, "top.yaml", "extends: base.yaml\nlabels:\n  horizon_days: 45\n")
    cfg = load_config(top)
    assert (cfg.seed, cfg.labels.horizon_days, cfg.labels.churn_kinds) == (5, 45, ["closure"])


def test_extends_cycle_is_reported(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    with pytest.raises(ConfigError, match="extends itself"):
        load_config(tmp_path / "a.yaml")


def test_credentials_in_tracking_uri_are_refused(tmp_path):
    p = write(tmp_path, "c.yaml", "tracking:\n  uri: https://user:secret@mlflow.example\n")
    with pytest.raises(ConfigError, match="credentials must not be written in a config") as info:
        load_config(p)
    assert "secret" not in str(info.value)


def test_raw_phone_needs_named_channels(tmp_path):
    p = write(tmp_path, "c.yaml", "export:\n  allow_raw_phone: true\n")
    with pytest.raises(ConfigError, match="raw_phone_channels"):
        load_config(p)
    ok = write(
        tmp_path, "d.yaml", "export:\n  allow_raw_phone: true\n  raw_phone_channels: [sms]\n"
    )
    assert load_config(ok).export.raw_phone_channels == ["sms"]


def test_dump_round_trip_and_hash(tmp_path):
    cfg = load_config(None, [("seed", 7), ("export.format", "jsonl")])
    text = dump_config(cfg, tmp_path / "resolved.yaml")
    again = load_config(tmp_path / "resolved.yaml")
    assert to_mapping(again) == to_mapping(cfg)
    assert "seed: 7" in text
    assert config_hash(again) == config_hash(cfg)
    assert config_hash(load_config(None, [("seed", 8)])) != config_hash(cfg)

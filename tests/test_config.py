"""Typed config: defaults, unknown keys, wrong types, ranges, dates, YAML limits, overrides."""

import dataclasses
import typing
from pathlib import Path

import pytest

import powerprofile.config as config_module
from powerprofile.config import (
    Config,
    config_hash,
    dump_config,
    load_config,
    parse_override,
    to_mapping,
)
from powerprofile.exceptions import ConfigError
from powerprofile.export import Campaign, CampaignSet


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
            r"'features\.n_training_snapshots'.*has the value 0.*an integer from 1 to 240",
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
        ConfigError,
        match=r"unknown config key 'labels\.horizon' \(set by the override labels\.horizon=60\)",
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
    # the same config, its paths absolute (they resolved from the working folder)
    assert again.output_dir == str(Path("out/default").absolute())
    assert again.data.path == str(Path("data/sample").absolute())
    again.output_dir, again.data.path = cfg.output_dir, cfg.data.path
    again.portraits.tags, again.portraits.risk_rules = cfg.portraits.tags, cfg.portraits.risk_rules
    again.export.campaigns = cfg.export.campaigns
    again.operations.targets = cfg.operations.targets
    assert to_mapping(again) == to_mapping(cfg)
    assert "seed: 7" in text
    assert config_hash(again) == config_hash(cfg)
    assert config_hash(load_config(None, [("seed", 8)])) != config_hash(cfg)


# ---------------------------------------------------------------- the bounded YAML reader

BOMB = "models:\n  params:\n    a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"    {x}: &{x} [{', '.join([f'*{p}'] * 9)}]\n"
    for p, x in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_alias_bomb_is_refused_before_it_expands(tmp_path):
    # nine levels of nine aliases: 9**9 (387 million) strings from about 400 bytes
    assert len(BOMB) < 700
    p = write(tmp_path, "bomb.yaml", BOMB)
    with pytest.raises(
        ConfigError,
        match=r"config file '.*bomb\.yaml' is refused: its aliases .* expand to more than "
        r"10,000 values",
    ):
        load_config(p)


def test_alias_bomb_in_an_override_is_refused():
    value = "{" + BOMB.split("params:\n", 1)[1].replace("\n    ", ", ").strip() + "}"
    with pytest.raises(ConfigError, match=r"override 'models\.params' is refused: its aliases"):
        parse_override(f"models.params={value}")


def test_a_few_aliases_still_work(tmp_path):
    p = write(
        tmp_path,
        "ok.yaml",
        "models:\n  params: &p {n_jobs: 2, random_state: 15}\nsegmentation:\n  params: *p\n",
    )
    cfg = load_config(p)
    assert cfg.segmentation.params == {"n_jobs": 2, "random_state": 15}


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("models:\n  params: &p {a: [1, *p]}\n", r"refused: the alias \*p at line 2 points into"),
        ("models:\n  params: {a: 1, a: 2}\n", r"not valid YAML.*key 'a' a second time"),
        ("models:\n  params: " + "[" * 70 + "]" * 70 + "\n", r"nests deeper than 64 levels"),
        ("seed: 1\n" + "# padding\n" * 120_000, r"has 1,200,008 bytes, more than the 1,048,576"),
    ],
)
def test_yaml_limits_name_the_file(tmp_path, text, pattern):
    p = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError, match=r"(?s)config file '.*bad\.yaml'.*" + pattern):
        load_config(p)


def test_exponent_numbers_are_floats_as_in_yaml_1_2(tmp_path):
    p = write(tmp_path, "f.yaml", "models:\n  params: {learning_rate: 1e-3, reg_lambda: 2E+1}\n")
    assert load_config(p).models.params == {"learning_rate": 0.001, "reg_lambda": 20.0}


# ---------------------------------------------------------------- ranges and dates

BAD_VALUES = [
    (
        "features.windows",
        "[100000000]",
        r"'features\.windows\[0\]'.*100000000.*from 1 to 3660 days",
    ),
    ("features.windows", "[30, 0]", r"'features\.windows\[1\]'.*has the value 0.*from 1 to 3660"),
    ("features.windows", "[30, 30]", r"'features\.windows'.*windows repeat"),
    (
        "seed",
        "1e29",
        r"'seed'.*got 1e\+29 \(float\), expected int \(an integer from 0 to 4294967295\)",
    ),
    ("seed", "4294967296", r"'seed'.*4294967296.*from 0 to 4294967295"),
    ("seed", "-1", r"'seed'.*-1.*from 0 to 4294967295"),
    (
        "labels.horizon_days",
        "1e12",
        r"'labels\.horizon_days'.*expected int \(an integer from 1 to 3660 days\)",
    ),
    ("labels.horizon_days", "1000000000000", r"'labels\.horizon_days'.*from 1 to 3660 days"),
    (
        "tracking.timeout_seconds",
        ".inf",
        r"'tracking\.timeout_seconds'.*inf.*finite number greater than 0 and at most 3600 seconds",
    ),
    ("tracking.timeout_seconds", ".nan", r"'tracking\.timeout_seconds'.*nan.*finite number"),
    (
        "tracking.timeout_seconds",
        "0",
        r"'tracking\.timeout_seconds'.*has the value 0.*greater than 0",
    ),
    ("data.data_end", "20251231", r"'data\.data_end'.*20251231 \(int\), not a date.*'2025-12-31'"),
    ("data.data_end", "'20251231'", r"'data\.data_end'.*'20251231' \(str\).*'2025-12-31'"),
    ("data.data_end", "2025-12-31 10:00:00", r"'data\.data_end'.*datetime.*'2025-12-31'"),
    ("features.scoring_snapshot", "2026/01/01", r"'features\.scoring_snapshot'.*ISO date"),
    # pandas cannot hold these: they used to stop the job late with exit 1
    (
        "features.scoring_snapshot",
        "'9999-12-31'",
        r"'features\.scoring_snapshot'.*'9999-12-31', outside 1900-01-01 to 2200-12-31",
    ),
    ("data.data_end", "1000-01-01", r"'data\.data_end'.*'1000-01-01', outside 1900-01-01"),
    ("features.n_partitions", "0", r"'features\.n_partitions'.*has the value 0.*from 1 to 65536"),
    ("features.n_jobs", "100000", r"'features\.n_jobs'.*from 1 to 1024"),
    ("features.min_history_days", "-1", r"'features\.min_history_days'.*from 0 to 3660 days"),
    ("features.snapshot_interval_months", "0", r"from 1 to 120 months"),
    ("n_threads", "0", r"'n_threads'.*has the value 0.*from 1 to 1024"),
    ("models.top_k_reasons", "-1", r"'models\.top_k_reasons'.*from 0 to 50"),
    (
        "models.holdout_snapshots",
        "12",
        r"'models\.holdout_snapshots'.*smaller than features\.n_training_snapshots \(12\)",
    ),
    ("export.frequency_cap", "0", r"'export\.frequency_cap'.*from 1 to 1000"),
    (
        "labels.churn_usage_collapse",
        "{recent_days: 60}",
        r"'labels\.churn_usage_collapse\.recent_days'.*unknown key.*window_days",
    ),
    (
        "labels.churn_usage_collapse",
        "{ratio: 1.5}",
        r"'labels\.churn_usage_collapse\.ratio'.*1\.5.*greater than 0 and at most 1",
    ),
]


def _nested_yaml(key: str, value: str) -> str:
    *sections, last = key.split(".")
    lines = [f"{'  ' * i}{s}:" for i, s in enumerate(sections)]
    return "\n".join([*lines, f"{'  ' * len(sections)}{last}: {value}"]) + "\n"


@pytest.mark.parametrize(("key", "value", "pattern"), BAD_VALUES)
def test_out_of_range_values_name_key_value_and_range_in_a_file(tmp_path, key, value, pattern):
    p = write(tmp_path, "bad.yaml", _nested_yaml(key, value))
    with pytest.raises(ConfigError, match=pattern + r".*") as info:
        load_config(p)
    assert "bad.yaml" in str(info.value)


@pytest.mark.parametrize(("key", "value", "pattern"), BAD_VALUES)
def test_out_of_range_values_name_key_value_and_range_in_an_override(key, value, pattern):
    with pytest.raises(ConfigError, match=pattern) as info:
        load_config(None, [parse_override(f"{key}={value}")])
    assert f"(set by the override {key}=" in str(info.value)


def test_the_edges_of_each_range_are_allowed(tmp_path):
    p = write(
        tmp_path,
        "edge.yaml",
        "seed: 4294967295\nn_threads: 1024\ndata:\n  data_end: 2025-12-31\n"
        "features:\n  windows: [1, 3660]\n  min_history_days: 0\n  scoring_snapshot: '2026-01-01'\n"
        "labels:\n  horizon_days: 3660\n  churn_usage_collapse: {window_days: 60, ratio: 1}\n"
        "models:\n  top_k_reasons: 0\n  holdout_snapshots: 11\n"
        "tracking:\n  timeout_seconds: 3600\n",
    )
    cfg = load_config(p)
    assert (cfg.seed, cfg.n_threads, cfg.data.data_end) == (2**32 - 1, 1024, "2025-12-31")
    assert cfg.features.windows == [1, 3660]
    assert cfg.features.scoring_snapshot == "2026-01-01"
    assert cfg.labels.churn_usage_collapse == {"window_days": 60, "ratio": 1.0}
    assert cfg.tracking.timeout_seconds == 3600.0


def _numeric(tp) -> bool:
    if tp in (int, float):
        return True
    return any(_numeric(a) for a in typing.get_args(tp))


@pytest.mark.parametrize(
    "cls",
    [c for c in vars(config_module).values() if isinstance(c, type) and dataclasses.is_dataclass(c)]
    + [Campaign, CampaignSet],
)
def test_every_numeric_config_field_declares_its_range(cls):
    # min_score compares with the campaign's own score column, whose scale the config
    # cannot know; it must still be finite (every float is).
    exempt = {(Campaign, "min_score")}
    hints = typing.get_type_hints(cls)
    missing = [
        f.name
        for f in dataclasses.fields(cls)
        if f.init
        and _numeric(hints[f.name])
        and not dataclasses.is_dataclass(hints[f.name])
        and "range" not in f.metadata
        and (cls, f.name) not in exempt
    ]
    assert missing == []


# ---------------------------------------------------------------- paths and where keys came from


def test_paths_in_a_config_file_resolve_from_its_folder(tmp_path, monkeypatch):
    # a job folder moved anywhere: its config names everything relative to itself
    job = tmp_path / "jobs" / "july"
    write_at = job / "configs"
    write_at.mkdir(parents=True)
    (write_at / "job.yaml").write_text(
        "output_dir: ../out\n"
        "data:\n  path: ../../../data/sample\n"
        "portraits:\n  tags: tags.yaml\n  risk_rules: /abs/risk.yaml\n"
        "export:\n  campaigns: ./campaigns.yaml\n  opt_out_list: ~/opt_out.csv\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)  # the working folder is not the config's folder
    cfg = load_config("jobs/july/configs/job.yaml")
    assert cfg.output_dir == "jobs/july/out"
    assert cfg.data.path == "data/sample"
    assert cfg.portraits.tags == "jobs/july/configs/tags.yaml"
    assert cfg.portraits.risk_rules == "/abs/risk.yaml"  # absolute: unchanged
    assert cfg.export.campaigns == "jobs/july/configs/campaigns.yaml"
    assert cfg.export.opt_out_list == "~/opt_out.csv"  # the home folder: unchanged
    # the same file named by an absolute path gives the same places, absolute
    again = load_config(tmp_path / "jobs/july/configs/job.yaml")
    assert again.output_dir == str(tmp_path / "jobs/july/out")
    assert again.data.path == str(tmp_path / "data/sample")
    # overrides (--set, --data, --out) resolve from the working folder, untouched
    cfg = load_config("jobs/july/configs/job.yaml", [("data.path", "mine"), ("output_dir", "o")])
    assert (cfg.data.path, cfg.output_dir) == ("mine", "o")


def test_each_extended_file_resolves_its_own_paths(tmp_path, monkeypatch):
    (tmp_path / "shared").mkdir()
    (tmp_path / "team").mkdir()
    write(tmp_path / "shared", "base.yaml", "data:\n  path: data\nportraits:\n  tags: t.yaml\n")
    write(tmp_path / "team", "job.yaml", "extends: ../shared/base.yaml\noutput_dir: out\n")
    monkeypatch.chdir(tmp_path)
    cfg = load_config("team/job.yaml")
    assert (cfg.data.path, cfg.portraits.tags) == ("shared/data", "shared/t.yaml")
    assert cfg.output_dir == "team/out"


def test_the_shipped_configs_name_files_that_exist_from_any_working_folder(tmp_path, monkeypatch):
    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(tmp_path)
    cfg = load_config(root / "configs" / "demo.yaml")
    assert cfg.output_dir == str(root / "out" / "demo")
    assert Path(cfg.data.path, "dataset.json").is_file()
    for p in (cfg.portraits.tags, cfg.portraits.risk_rules, cfg.export.campaigns):
        assert Path(p).is_file(), p


def test_missing_extends_names_where_it_looked(tmp_path, monkeypatch):
    (tmp_path / "configs").mkdir()
    write(tmp_path, "default.yaml", "seed: 1\n")  # relative to the working folder only
    job = write(tmp_path / "configs", "job.yaml", "extends: default.yaml\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config("configs/job.yaml")
    message = str(info.value)
    assert "'configs/job.yaml' extends 'default.yaml', which does not exist" in message
    assert f"looked for it at {str(tmp_path / 'configs' / 'default.yaml')!r} only" in message
    # the file the author probably meant, and the path that reaches it
    assert "exists relative to the working folder" in message and "'../default.yaml'" in message
    assert job.is_file()


def test_an_override_error_names_the_override_not_the_file(tmp_path):
    p = write(tmp_path, "job.yaml", "seed: 3\nmodels:\n  params: {learning_rate: 0.1}\n")
    label = "--set models.params.lerning_rate=0.2"
    with pytest.raises(ConfigError) as info:
        load_config(p, [("models.params.lerning_rate", 0.2, label)])
    message = str(info.value)
    assert message.startswith(
        f"config key 'models.params.lerning_rate' (set by {label}) has the value 0.2: "
        "PropensityModel has no parameter 'lerning_rate' (did you mean 'learning_rate'?)"
    )
    assert "job.yaml" not in message
    # a bad key in the file itself still names the file
    bad = write(tmp_path, "bad.yaml", "segmentation:\n  params: {n_cluster: 4}\n")
    with pytest.raises(
        ConfigError,
        match=r"'segmentation\.params\.n_cluster' in '.*bad\.yaml'.*did you mean 'n_clusters'",
    ):
        load_config(bad)


def test_uplift_costs_and_capacity_name_outbound_channels():
    from powerprofile.config import load_config

    with pytest.raises(ConfigError, match=r"uplift.capacity.*\['fax'\].*outbound channels"):
        load_config(overrides={"uplift": {"capacity": {"fax": 10}}})

"""Rule and campaign expressions that cannot be evaluated stop `run`/`export` at load: exit 2."""

import pytest

from powerprofile.cli import main

from .conftest import ROOT, fast_config

TAG = 'rules:\n  {name}:\n    expr: "{expr}"\n    label_en: X\n    label_zh: 叉\n'


@pytest.fixture
def no_work(monkeypatch):
    """Fail loudly (exit 1, not 2) if the job gets as far as reading the data."""
    import powerprofile.pipeline as pipeline
    import powerprofile.pipeline._run as run_module

    def boom(*args, **kwargs):
        raise RuntimeError("the data were read: the error came too late")

    monkeypatch.setattr(run_module, "load_data", boom)
    monkeypatch.setattr(pipeline, "load_data", boom)


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("kwh_mean_365d > 10**10**10", "exponent"),
        ("kwh_mean_365d > 1/0", "divides by zero"),
        ("-" * 5000 + "kwh_mean_365d > 0", "nested more than 100 levels"),
        ("frobnicate(kwh_mean_365d) > 1", "function 'frobnicate' is not allowed"),
        ("kwh_mean_36d > 1", "unknown feature 'kwh_mean_36d'; did you mean 'kwh_mean_365d'"),
        ("region > 1", "only ==, != and 'in' may compare text"),
        ("customer_type == 1", "compares text with a number"),
    ],
)
def test_bad_tag_rule_exits_2_before_reading_data(
    tmp_path, capsys, key_env, no_work, sample_data, expr, problem
):
    tags = tmp_path / "tags.yaml"
    tags.write_text(TAG.format(name="bad_rule", expr=expr), encoding="utf-8")
    cfg = fast_config(tmp_path, data=sample_data)
    code = main(["run", "--config", str(cfg), "--set", f"portraits.tags={tags}", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(tags) in err and "rule 'bad_rule'" in err and problem in err
    assert not (tmp_path / "out").exists()


def _campaigns(tmp_path, select):
    text = (ROOT / "configs" / "campaigns.yaml").read_text(encoding="utf-8")
    old = "\"churn_band in ['high', 'medium']\""
    assert old in text
    p = tmp_path / "campaigns.yaml"
    p.write_text(text.replace(old, f'"{select}"'), encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("select", "problem"),
    [
        ("churn_score > 1/0", "divides by zero"),
        ("churn_score > 10**10**10", "exponent"),
        ("-" * 5000 + "churn_score > 0", "nested more than 100 levels"),
        ("frobnicate(churn_score)", "function 'frobnicate' is not allowed"),
        ("churn_bnd == 'high'", "unknown column 'churn_bnd'; did you mean 'churn_band'"),
        ("tag_no_such_tag", "unknown column 'tag_no_such_tag'"),
        ("churn_band > 'low'", "only ==, != and 'in' may compare text"),
    ],
)
def test_bad_campaign_selection_exits_2_before_reading_data(
    tmp_path, capsys, key_env, no_work, sample_data, select, problem
):
    campaigns = _campaigns(tmp_path, select)
    cfg = fast_config(tmp_path, data=sample_data)
    args = ["--config", str(cfg), "--set", f"export.campaigns={campaigns}", "-q"]
    code = main(["run", "--no-tracking", *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "selection of 'churn_retention'" in err and problem in err
    assert not (tmp_path / "out").exists()
    if "unknown column" not in problem:  # export checks the file, before reading data
        assert main(["export", *args]) == 2
        assert "selection of 'churn_retention'" in capsys.readouterr().err


def test_unknown_rank_by_column_exits_2_before_reading_data(
    tmp_path, capsys, key_env, no_work, sample_data
):
    text = (ROOT / "configs" / "campaigns.yaml").read_text(encoding="utf-8")
    old = "    score: churn_score\n    capacity: 150\n"
    assert old in text
    campaigns = tmp_path / "campaigns.yaml"
    campaigns.write_text(
        text.replace(old, old + "    rank_by: [churn_scor]\n", 1), encoding="utf-8"
    )
    cfg = fast_config(tmp_path, data=sample_data)
    args = ["--config", str(cfg), "--set", f"export.campaigns={campaigns}", "-q"]
    code = main(["run", "--no-tracking", *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "'churn_retention'" in err and "'churn_scor'" in err
    assert not (tmp_path / "out").exists()

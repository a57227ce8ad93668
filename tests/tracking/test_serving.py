"""Registered models that serve anywhere: the library's own frames, REST JSON, a fresh venv.

One small fit on the committed sample, logged and registered once per module; the
scoring rows are the demo's (features at 2026-01-01, read back from Parquet as the
demo writes them).
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from importlib import metadata
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from powerprofile import build_features, build_training_frame, load_tables
from powerprofile.exceptions import FeatureMismatchError
from powerprofile.models import PropensityModel
from powerprofile.tracking import (
    build_wheel,
    data_fingerprint,
    log_training_run,
    signature_frame,
)

from .conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
SNAPSHOT = "2026-01-01"
LABELS = ["label_churn", "label_complaint"]
CHURN = "models:/powerprofile-churn@candidate"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Two small models on the sample, logged and registered in a temporary SQLite store."""
    tmp = tmp_path_factory.mktemp("registry")
    tables = load_tables(SAMPLE)
    train = build_training_frame(tables, ["2025-03-01", "2025-06-01", "2025-09-01"], 90)
    X = train.drop(columns=LABELS)
    models = {
        t: PropensityModel(n_estimators=30, learning_rate=0.1, n_jobs=1, random_state=0).fit(
            X, train[f"label_{t}"]
        )
        for t in ("churn", "complaint")
    }
    build_features(tables, SNAPSHOT).to_parquet(tmp / "scoring.parquet")
    score = pd.read_parquet(tmp / "scoring.parquet")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    fingerprint = data_fingerprint(tables)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp)  # MLflow's default artifact root is relative to the working folder
        res = log_training_run(
            tracking_uri=uri,
            experiment="serving",
            config={"seed": 0},
            fingerprint=fingerprint,
            models={t: (m, X) for t, m in models.items()},
            metrics={
                "churn": {"roc_auc": 0.8, "pr_auc": 0.2},
                "churn_baseline": {"roc_auc": 0.7},
                "complaint": {"roc_auc": 0.75},
            },
            alias="candidate",
            data_source=SAMPLE,
            snapshot=SNAPSHOT,
        )
    mlflow.set_tracking_uri(uri)
    return {
        "uri": uri,
        "tmp": tmp,
        "models": models,
        "score": score,
        "result": res,
        "fingerprint": fingerprint,
    }


def _json_rows(frame: pd.DataFrame) -> tuple[list, list]:
    """Columns and rows as a REST client sends them: strings, numbers, booleans, null."""
    plain = signature_frame(frame)
    cols = []
    for c in plain.columns:
        values = plain[c].tolist()  # Python scalars, full float precision
        if pd.api.types.is_float_dtype(plain[c].dtype):
            values = [None if v != v else v for v in values]
        cols.append(values)
    return list(map(str, plain.columns)), [list(r) for r in zip(*cols, strict=True)]


def _payload(frame: pd.DataFrame, orient: str) -> str:
    columns, rows = _json_rows(frame)
    if orient == "split":
        body = {"dataframe_split": {"columns": columns, "data": rows}}
    else:
        body = {"dataframe_records": [dict(zip(columns, r, strict=True)) for r in rows]}
    return json.dumps(body, allow_nan=False)  # strict JSON: missing values are null


def test_pyfunc_scores_the_librarys_own_frames(demo):
    score, model = demo["score"], demo["models"]["churn"]
    expected = model.predict_proba(score)[:, 1]
    pyfunc = mlflow.pyfunc.load_model(CHURN)
    # the scoring frame exactly as the library writes it: categoricals, booleans, NaN
    assert {"category", "bool", "float32"} <= set(map(str, score.dtypes))
    out = pyfunc.predict(score)
    np.testing.assert_array_equal(out["score"].to_numpy(), expected)
    assert out.index.equals(score.index)
    # text instead of categories, missing categories, unseen categories
    other = score.astype({c: "string" for c in ("customer_type", "tariff", "region")})
    other.loc[other.index[:5], "customer_type"] = pd.NA
    other.loc[other.index[5:8], "region"] = "nowhere"
    same = score.copy()
    same.loc[same.index[:5], "customer_type"] = np.nan
    same.loc[same.index[5:8], "region"] = np.nan
    np.testing.assert_array_equal(
        pyfunc.predict(other)["score"].to_numpy(), model.predict_proba(same)[:, 1]
    )
    # the frame as JSON carries it
    np.testing.assert_array_equal(
        pyfunc.predict(signature_frame(score))["score"].to_numpy(), expected
    )
    # the model's own check refuses a frame that does not fit, naming the columns
    with pytest.raises(FeatureMismatchError, match=r"missing columns \['tenure_days'\]"):
        pyfunc.predict(score.drop(columns="tenure_days"))


@pytest.mark.filterwarnings("ignore:.*validate_serving_input.*:FutureWarning")
@pytest.mark.parametrize("orient", ["split", "records"])
def test_rest_json_is_parsed_and_scored_like_the_frame(demo, orient):
    score, model = demo["score"].head(300), demo["models"]["churn"]
    # MLflow's own parsing of a REST request body, in process
    got = mlflow.models.validate_serving_input(CHURN, _payload(score, orient))
    np.testing.assert_allclose(
        pd.DataFrame(got)["score"].to_numpy(), model.predict_proba(score)[:, 1], rtol=0, atol=1e-12
    )


def _model_dir(demo, target="churn") -> Path:
    dst = demo["tmp"] / f"download-{target}"
    if not dst.exists():
        mlflow.artifacts.download_artifacts(
            f"models:/powerprofile-{target}@candidate", dst_path=str(dst)
        )
    return dst


def test_logged_model_carries_its_wheel_and_pinned_requirements(demo):
    folder = _model_dir(demo)
    reqs = (folder / "requirements.txt").read_text(encoding="utf-8").split()
    version = metadata.version("powerprofile")
    wheel_rel = f"code/powerprofile-{version}-py3-none-any.whl"
    assert reqs[0] == wheel_rel  # relative to the model folder, where pip runs
    assert not [r for r in reqs if r.startswith("powerprofile==")]
    # every other line pins a dependency of powerprofile at its installed version
    for line in reqs[1:]:
        name, _, pinned = line.partition("==")
        assert pinned == metadata.version(name), line
    runtime = {
        r.split(">")[0].split("=")[0].split("<")[0] for r in metadata.requires("powerprofile")
    }
    assert {r.partition("==")[0] for r in reqs[1:]} <= runtime
    assert {"lightgbm", "scikit-learn", "pandas", "mlflow"} <= {r.partition("==")[0] for r in reqs}
    # the wheel holds the installed code, byte for byte, and the distribution's metadata
    import powerprofile

    package = Path(powerprofile.__file__).parent
    with zipfile.ZipFile(folder / wheel_rel) as zf:
        names = set(zf.namelist())
        for rel in ("__init__.py", "tracking/_pyfunc.py", "models/_frame.py", "py.typed"):
            assert zf.read(f"powerprofile/{rel}") == (package / rel).read_bytes(), rel
        meta = zf.read(f"powerprofile-{version}.dist-info/METADATA").decode()
        assert "Name: powerprofile" in meta and f"Version: {version}" in meta
        assert f"powerprofile-{version}.dist-info/RECORD" in names
        assert not [n for n in names if n.endswith(".pyc")]
    # the same code gives the same wheel
    assert build_wheel(demo["tmp"] / "w1").read_bytes() == (folder / wheel_rel).read_bytes()


def test_each_model_lists_its_own_metrics_run_is_named_and_data_logged(demo):
    client = mlflow.MlflowClient(demo["uri"])
    run = client.get_run(demo["result"].run_id)
    assert run.info.run_name == "train churn+complaint · sample · 2026-01-01"
    sha = demo["fingerprint"]["sha256"]
    assert run.data.tags["powerprofile.data_fingerprint"] == sha
    # each model's candidate structures and their validation losses come along
    losses = {
        f"{t}.validation_log_loss.{k}": v
        for t, m in demo["models"].items()
        for k, v in m.structure_losses_.items()
    }
    assert set(losses) == {
        f"{t}.validation_log_loss.{k}"
        for t in ("churn", "complaint")
        for k in ("additive", "pairwise", "free")
    }
    assert run.data.metrics == {
        "churn.roc_auc": 0.8,
        "churn.pr_auc": 0.2,
        "churn_baseline.roc_auc": 0.7,
        "complaint.roc_auc": 0.75,
        **losses,
    }
    for t, m in demo["models"].items():
        assert run.data.params[f"{t}.structure"] == m.structure_
    inputs = run.inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset.name == "sample" and inputs[0].dataset.digest == sha[:32]
    assert json.loads(inputs[0].dataset.source)["uri"] == str(SAMPLE.resolve())
    assert [t.value for t in inputs[0].tags if t.key == "mlflow.data.context"] == ["training"]
    listed = {}
    for out in run.outputs.model_outputs:
        logged = client.get_logged_model(out.model_id)
        listed[logged.name] = sorted(m.key for m in logged.metrics)
    assert listed == {
        "churn": sorted(
            ["churn.pr_auc", "churn.roc_auc", "churn_baseline.roc_auc"]
            + [k for k in losses if k.startswith("churn.")]
        ),
        "complaint": sorted(
            ["complaint.roc_auc"] + [k for k in losses if k.startswith("complaint.")]
        ),
    }


# ----------------------------------------------------------------------- REST, fresh venv

NETWORK_TROUBLE = (
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Connection refused",
    "ConnectTimeoutError",
    "ProxyError",
)


def _clean_env(**extra) -> dict:
    """The environment without anything pointing at this checkout or its venv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "MLFLOW_TRACKING_URI")
    }
    return {**env, **extra}


@pytest.fixture(scope="module")
def served_env(demo, tmp_path_factory):
    """A fresh venv built only from the registered model's files (requirements + wheel)."""
    folder = _model_dir(demo)
    venv = tmp_path_factory.mktemp("model-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=_clean_env())
    python = venv / "bin" / "python"
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        + ["-r", "requirements.txt"],
        cwd=folder,  # the wheel is named relative to the model folder, as MLflow runs pip
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if pip.returncode != 0:
        log = pip.stdout + pip.stderr
        if any(s in log for s in NETWORK_TROUBLE):
            pytest.skip(
                f"the package index is unreachable, cannot rebuild the model's env: {log[-500:]}"
            )
        pytest.fail(f"pip could not install the model's requirements.txt:\n{log[-3000:]}")
    # the library comes from the bundled wheel, not from this checkout
    where = subprocess.run(
        [str(python), "-c", "import powerprofile; print(powerprofile.__file__)"],
        cwd=venv,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), where
    return venv


def _post(url: str, body: str, timeout=120) -> dict:
    req = urllib.request.Request(
        url, data=body.encode("utf-8"), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback only
        return json.loads(resp.read())


@pytest.mark.slow
def test_registered_model_serves_over_rest_from_a_fresh_venv(demo, served_env, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [str(served_env / "bin" / "mlflow"), "models", "serve", "-m", CHURN]
    cmd += ["--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)]
    env = _clean_env(
        MLFLOW_TRACKING_URI=demo["uri"],
        PATH=f"{served_env / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"mlflow models serve exited:\n{(tmp_path / 'serve.log').read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(base + "/ping", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    "the scoring server did not answer /ping within 180 s:\n"
                    + (tmp_path / "serve.log").read_text()[-3000:]
                )
            time.sleep(0.5)
        score, model = demo["score"], demo["models"]["churn"]
        expected = model.predict_proba(score)[:, 1]
        got = _post(base + "/invocations", _payload(score, "split"))["predictions"]
        np.testing.assert_allclose([p["score"] for p in got], expected, rtol=0, atol=1e-9)
        head = score.head(200)
        got = _post(base + "/invocations", _payload(head, "records"))["predictions"]
        np.testing.assert_allclose([p["score"] for p in got], expected[:200], rtol=0, atol=1e-9)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=15)
        log.close()

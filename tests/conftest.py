"""Shared fixtures.

The panel fixtures are synthetic feature frames indexed by (customer_id, snapshot_date),
with known truth, shared by the model and explanation tests.

The library has no built-in pseudonymisation key, so the whole session runs with
``TEST_KEY`` in ``POWERPROFILE_PSEUDONYM_KEY`` (set at import, so subprocesses inherit
it too); tests of the refusal remove it with ``monkeypatch.delenv``.
"""

import os

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

TEST_KEY = "7e3c1b9a4f6d2e8c0a5b7d9f1e3c5a7b9d2f4e6a8c0b2d4f6e8a0c2e4f6a8b0d"
"""Test-only pseudonymisation key (64 hex characters, meets the key rule)."""
os.environ["POWERPROFILE_PSEUDONYM_KEY"] = TEST_KEY
os.environ.pop("POWERPROFILE_KEY_IS_DEMO", None)


def make_panel(n_customers=1500, n_snapshots=6, seed=0, n_features=8, rate=0.1):
    """A panel frame: numeric features, a text and a bool column, true probabilities.

    The label is drawn from a known probability: a logistic function of three numeric
    features and of the customer type, so calibration can be checked against truth.
    """
    rng = np.random.default_rng(seed)
    n = n_customers * n_snapshots
    # make_classification gives correlated, clustered columns; the label is redrawn
    # below from a known probability so that truth is available
    X, _ = make_classification(
        n_samples=n, n_features=n_features, n_informative=4, random_state=seed
    )
    X[:, :3] = rng.normal(size=(n, 3))
    df = pd.DataFrame(X, columns=[f"num_{i}" for i in range(n_features)])
    df["customer_type"] = pd.Series(
        rng.choice(["residential", "commercial", "agricultural"], n, p=[0.6, 0.3, 0.1]),
        dtype="str",
    )
    df["tou_flag"] = rng.random(n) < 0.3
    df.loc[rng.random(n) < 0.05, "num_1"] = np.nan
    logit = (
        np.log(rate / (1 - rate))
        + 1.2 * df["num_0"].to_numpy()
        - 0.8 * np.nan_to_num(df["num_1"].to_numpy())
        + 0.6 * np.abs(df["num_2"].to_numpy())
        + np.where(df["customer_type"] == "commercial", 1.0, 0.0)
    )
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(int)
    index = pd.MultiIndex.from_arrays(
        [
            np.repeat([f"C{i:05d}" for i in range(n_customers)], n_snapshots),
            np.tile(pd.date_range("2024-01-01", periods=n_snapshots, freq="MS"), n_customers),
        ],
        names=["customer_id", "snapshot_date"],
    )
    df.index = index
    return df, pd.Series(y, index=index, name="label_churn"), pd.Series(p, index=index)


@pytest.fixture(scope="session")
def panel():
    return make_panel()


@pytest.fixture(scope="session")
def fitted(panel):
    from powerprofile.models import PropensityModel

    X, y, _ = panel
    return PropensityModel(
        n_estimators=300, horizon_days=31, gap_days=31, label="churn", n_jobs=1
    ).fit(X, y)


@pytest.fixture(scope="session")
def panel_maker():
    return make_panel


class _Call:
    """Pickles as a call of ``fn(*args)``: what a crafted pickle runs when it is loaded."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _global_call(module: str, name: str, *args: str) -> bytes:
    """A protocol-4 pickle calling ``module``/``name`` (a dotted name) with string arguments."""

    def text(s: str) -> bytes:
        b = s.encode()
        return b"\x8c" + bytes([len(b)]) + b

    return (
        b"\x80\x04"
        + text(module)
        + text(name)
        + b"\x93("
        + b"".join(text(a) for a in args)
        + b"}tR."
    )


@pytest.fixture
def crafted_pickle(tmp_path):
    """``make(marker, how="os.system") -> bytes``: a pickle whose loading creates ``marker``.

    Every variant is live: plain ``pickle.loads`` of it creates the marker file
    (``tests/test_artefacts.py`` checks that), so a loader that refuses it and leaves
    no marker really did not run it.
    """
    import os
    import pathlib
    import pickle
    import shlex

    def make(marker, how="os.system") -> bytes:
        marker = str(marker)
        code = f"open({marker!r}, 'w').close()"
        if how == "os.system":
            obj = _Call(os.system, f"touch {shlex.quote(marker)}")
        elif how == "pathlib.touch":
            obj = _Call(pathlib.Path.touch, pathlib.Path(marker))
        elif how == "eval":
            obj = _Call(eval, code)
        elif how == "numpy.runstring":
            from numpy.testing._private.utils import runstring

            obj = _Call(runstring, code, {})
        elif how == "numpy.dotted":  # a dotted name reaching a function through numpy
            return _global_call("numpy", "testing._private.utils.runstring", code)
        elif how == "numpy.memmap":  # a numpy class that creates files
            obj = _Call(np.memmap, marker, "uint8", "w+", 0, (1,))
        elif how == "pandas.read_pickle":  # a second, unverified pickle
            inner = tmp_path / f"inner-{abs(hash(marker))}.pkl"
            inner.write_bytes(make(marker, "os.system"))
            obj = _Call(pd.read_pickle, str(inner))
        else:
            raise ValueError(how)
        return pickle.dumps(obj, protocol=5)

    return make


@pytest.fixture
def forge_artefact():
    """``forge(folder, payload, kind, cls, file=...)``: an attacker's artefact folder.

    Writes ``payload`` and a ``metadata.json`` that says powerprofile wrote it, of the
    given kind and class, with the payload's true size and SHA-256 (what anyone who
    can write both files can do without a key).
    """
    import hashlib
    import json

    def forge(folder, payload: bytes, kind: str, cls: str, file="model.pkl"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / file).write_bytes(payload)
        meta = {
            "artefact": {
                "format": "powerprofile-artefact",
                "format_version": 1,
                "library": "powerprofile",
                "kind": kind,
                "class": cls,
                "file": file,
                "size": len(payload),
                "sha256": hashlib.sha256(payload).hexdigest(),
                "signature": None,
            }
        }
        (folder / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
        return folder

    return forge

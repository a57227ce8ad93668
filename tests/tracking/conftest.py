"""A real MLflow tracking server on a free loopback port, and small model frames."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """``mlflow server`` with a temporary SQLite backend and artifact root; always stopped."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    cmd = [
        str(mlflow_bin),
        "server",
        "--backend-store-uri",
        f"sqlite:///{root / 'backend.db'}",
        "--artifacts-destination",
        str(root / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    log = open(root / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, cwd=root, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited: {(root / 'server.log').read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(uri + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("mlflow server did not become healthy in 240 s")
            time.sleep(0.5)
        yield uri
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        log.close()


def model_frame(n_customers=300, n_snapshots=4, seed=0):
    """Features indexed by (customer_id, snapshot_date) with a learnable label."""
    rng = np.random.default_rng(seed)
    snaps = pd.date_range("2025-01-01", periods=n_snapshots, freq="MS")
    idx = pd.MultiIndex.from_product(
        [[f"C{i:04d}" for i in range(n_customers)], snaps], names=["customer_id", "snapshot_date"]
    )
    n = len(idx)
    X = pd.DataFrame(
        {
            "complaints_90d": rng.poisson(0.5, n).astype(float),
            "kwh_mean_90d": rng.gamma(2.0, 5.0, n),
            "customer_type": pd.Categorical(rng.choice(["residential", "commercial"], n)),
        },
        index=idx,
    )
    logit = -2.5 + 1.2 * X["complaints_90d"] - 0.05 * X["kwh_mean_90d"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, pd.Series(y, index=idx, name="label_churn")

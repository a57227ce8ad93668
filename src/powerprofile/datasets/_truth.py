"""Ground truth of a generated data set: latent segments, true propensities, drivers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._simulate import LOG_MIN, LOG_STEP

__all__ = ["GroundTruth", "load_ground_truth"]

_TARGETS = {"churn": "q_churn", "complaint": "q_complaint"}


@dataclass
class _Block:
    """Quantised daily log-hazards of a contiguous run of customers (rows ``start:stop``)."""

    start: int
    stop: int
    q_churn: np.ndarray | None = None
    q_complaint: np.ndarray | None = None
    path: Path | None = None

    def get(self, key: str, day: int) -> np.ndarray:
        if self.path is None:
            return getattr(self, key)[:, day]
        with np.load(self.path) as z:
            return z[key][:, day]


class GroundTruth:
    """What the generator knows and a model can only estimate.

    Parameters
    ----------
    customers : pandas.DataFrame
        One row per customer: ``customer_id``, ``segment`` (latent archetype name),
        ``segment_zh``, ``supply_start``, ``churn_date`` (NaT if none), ``churn_kind``.
    drivers : pandas.DataFrame
        One row per churn event and per complaint: ``customer_id``, ``date``,
        ``target`` ("churn" or "complaint"), ``driver`` (the factor that dominated the
        hazard that day).
    blocks : list
        Quantised daily hazards (internal).
    start : pandas.Timestamp
        First day of the data.
    n_days : int
        Days in the data; hazards are kept for ``n_days + 1`` days (the day after the
        data's end is a valid scoring snapshot).

    Notes
    -----
    The hazard of day ``t`` is computed from history strictly before ``t``. The true
    probability for snapshot ``T`` and horizon ``h`` is
    ``1 - exp(-h * hazard(T))``: the drivers frozen at their value as of ``T``, which is
    the best prediction from the information available at ``T``.
    """

    def __init__(
        self, customers: pd.DataFrame, drivers: pd.DataFrame, blocks: list, start, n_days: int
    ):
        self.customers = customers
        self.drivers = drivers
        self._blocks = blocks
        self.start = pd.Timestamp(start)
        self.n_days = int(n_days)

    def __repr__(self) -> str:
        return f"GroundTruth(customers={len(self.customers):,}, start={self.start.date()}, n_days={self.n_days})"

    @property
    def segments(self) -> pd.DataFrame:
        """Latent segment of every customer: columns ``customer_id``, ``segment``."""
        return self.customers[["customer_id", "segment"]].copy()

    def _day(self, snapshot) -> tuple[pd.Timestamp, int]:
        snap = pd.Timestamp(snapshot).normalize()
        day = (snap - self.start).days
        if not 0 <= day <= self.n_days:
            last = (self.start + pd.Timedelta(days=self.n_days)).date()
            raise ValueError(
                f"snapshot {snap.date()} is outside the generated period; pass a date between "
                f"{self.start.date()} and {last} (the day after the data's end)"
            )
        return snap, day

    def active_mask(self, snapshot) -> np.ndarray:
        """Customers supplied before ``snapshot`` and not churned before it (bool array)."""
        snap, _ = self._day(snapshot)
        c = self.customers
        churn = c["churn_date"]
        return ((c["supply_start"] < snap) & (churn.isna() | (churn >= snap))).to_numpy()

    def _probability(self, target: str, snapshot, horizon_days: int) -> pd.Series:
        if int(horizon_days) < 1:
            raise ValueError(
                f"horizon_days must be a positive number of days, got {horizon_days!r}"
            )
        snap, day = self._day(snapshot)
        q = np.concatenate([b.get(_TARGETS[target], day) for b in self._blocks])
        lam = np.where(q > 0, np.exp(LOG_MIN + LOG_STEP * q.astype(np.float64)), 0.0)
        p = -np.expm1(-float(horizon_days) * lam)
        mask = self.active_mask(snap)
        ids = pd.Index(
            self.customers["customer_id"].to_numpy()[mask], name="customer_id", dtype="string"
        )
        return pd.Series(p[mask], index=ids, name=f"{target}_probability")

    def churn_probability(self, snapshot, horizon_days: int = 90) -> pd.Series:
        """True probability of a churn event (any kind) in ``(snapshot, snapshot + horizon]``.

        Parameters
        ----------
        snapshot : str or pandas.Timestamp
            Snapshot date, between the data's first day and the day after its end.
        horizon_days : int, default=90
            Horizon in days.

        Returns
        -------
        pandas.Series
            Indexed by ``customer_id``; only customers active at the snapshot.
        """
        return self._probability("churn", snapshot, horizon_days)

    def complaint_probability(self, snapshot, horizon_days: int = 90) -> pd.Series:
        """True probability of at least one complaint in ``(snapshot, snapshot + horizon]``.

        Parameters
        ----------
        snapshot : str or pandas.Timestamp
            Snapshot date, between the data's first day and the day after its end.
        horizon_days : int, default=90
            Horizon in days.

        Returns
        -------
        pandas.Series
            Indexed by ``customer_id``; only customers active at the snapshot.
        """
        return self._probability("complaint", snapshot, horizon_days)

    def save(self, path) -> Path:
        """Write the ground truth to folder ``path`` (created if missing).

        Files: ``truth.json``, ``customers.parquet``, ``drivers.parquet`` and
        ``hazards/block-XXXXX.npz`` (quantised daily log-hazards).

        Parameters
        ----------
        path : str or pathlib.Path

        Returns
        -------
        pathlib.Path
        """
        path = Path(path)
        (path / "hazards").mkdir(parents=True, exist_ok=True)
        self.customers.to_parquet(path / "customers.parquet", index=False, compression="zstd")
        self.drivers.to_parquet(path / "drivers.parquet", index=False, compression="zstd")
        meta = []
        for i, b in enumerate(self._blocks):
            f = path / "hazards" / f"block-{i:05d}.npz"
            if b.path is None or Path(b.path).resolve() != f.resolve():
                qc = b.q_churn if b.path is None else np.load(b.path)["q_churn"]
                qp = b.q_complaint if b.path is None else np.load(b.path)["q_complaint"]
                save_block(f, qc, qp)
            meta.append({"file": f"hazards/{f.name}", "start": b.start, "stop": b.stop})
        write_meta(path, self.start, self.n_days, meta)
        return path


def save_block(path: Path, q_churn: np.ndarray, q_complaint: np.ndarray) -> None:
    """Write one block of quantised hazards (compressed)."""
    np.savez_compressed(path, q_churn=q_churn, q_complaint=q_complaint)


def write_meta(path: Path, start, n_days: int, blocks: list) -> None:
    """Write ``truth.json``."""
    meta = {
        "start": pd.Timestamp(start).date().isoformat(),
        "n_days": int(n_days),
        "log_min": LOG_MIN,
        "log_step": LOG_STEP,
        "hazard": "uint8 q: hazard per day = exp(log_min + log_step * q), 0 = not at risk",
        "blocks": blocks,
    }
    (Path(path) / "truth.json").write_text(json.dumps(meta, indent=1))


def load_ground_truth(path) -> GroundTruth:
    """Load a ground truth written by :meth:`GroundTruth.save` or the data writer.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``truth`` folder (or the data set folder that contains it).

    Returns
    -------
    GroundTruth
        Hazards stay on disk and are read one block at a time.
    """
    path = Path(path)
    if not (path / "truth.json").exists() and (path / "truth" / "truth.json").exists():
        path = path / "truth"
    if not (path / "truth.json").exists():
        raise FileNotFoundError(f"no ground truth in {str(path)!r}: 'truth.json' is missing")
    meta = json.loads((path / "truth.json").read_text())
    customers = pd.read_parquet(path / "customers.parquet")
    for c in ("customer_id", "segment", "segment_zh"):
        customers[c] = customers[c].astype("string")
    for c in ("supply_start", "churn_date"):
        customers[c] = customers[c].astype("datetime64[us]")
    drivers = pd.read_parquet(path / "drivers.parquet")
    drivers["customer_id"] = drivers["customer_id"].astype("string")
    drivers["date"] = drivers["date"].astype("datetime64[us]")
    blocks = [_Block(b["start"], b["stop"], path=path / b["file"]) for b in meta["blocks"]]
    return GroundTruth(customers, drivers, blocks, meta["start"], meta["n_days"])

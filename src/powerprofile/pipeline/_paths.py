"""Output layout of a job and the run summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["OutputPaths", "RunSummary"]


@dataclass(frozen=True)
class OutputPaths:
    """Where a job writes (all under ``root``).

    Parameters
    ----------
    root : pathlib.Path
        ``config.output_dir``.
    """

    root: Path

    @property
    def config(self) -> Path:  # noqa: D102
        return self.root / "config.resolved.yaml"

    @property
    def summary(self) -> Path:  # noqa: D102
        return self.root / "run_summary.json"

    @property
    def validation(self) -> Path:  # noqa: D102
        return self.root / "validation" / "validation_report.csv"

    @property
    def training_frame(self) -> Path:  # noqa: D102
        return self.root / "features" / "training.parquet"

    @property
    def scoring_frame(self) -> Path:  # noqa: D102
        return self.root / "features" / "scoring.parquet"

    @property
    def catalog(self) -> Path:  # noqa: D102
        return self.root / "features" / "feature_catalog.csv"

    @property
    def leakage(self) -> Path:  # noqa: D102
        return self.root / "features" / "leakage_report.csv"

    def model(self, target: str) -> Path:
        """Folder of the model for ``target``."""
        return self.root / "models" / target

    @property
    def metrics(self) -> Path:  # noqa: D102
        return self.root / "models" / "metrics.csv"

    @property
    def plots(self) -> Path:  # noqa: D102
        return self.root / "models" / "plots"

    @property
    def segmenter(self) -> Path:
        """Folder of the saved segmenter (``CustomerSegmenter.save``)."""
        return self.root / "segments" / "segmenter"

    @property
    def segment_profile(self) -> Path:  # noqa: D102
        return self.root / "segments" / "segment_profile.csv"

    @property
    def scores(self) -> Path:  # noqa: D102
        return self.root / "scores" / "scores.parquet"

    @property
    def portraits(self) -> Path:  # noqa: D102
        return self.root / "portraits" / "portraits.parquet"

    @property
    def risk_hits(self) -> Path:  # noqa: D102
        return self.root / "portraits" / "risk_hits.csv"

    @property
    def export(self) -> Path:  # noqa: D102
        return self.root / "export"

    @property
    def report(self) -> Path:  # noqa: D102
        return self.root / "report.html"


@dataclass
class RunSummary:
    """What :func:`run_pipeline` did and where it put it.

    Attributes
    ----------
    output_dir : pathlib.Path
    outputs : dict of str to str
        Named output files and folders.
    metrics : dict
        Per target: holdout metrics of the model and of its baseline.
    model_uris : dict of str to str
        Registry references (or local folders when tracking is off).
    export_files : pandas.DataFrame
        Exported files with row counts.
    seconds : float
        Wall time.
    stage_seconds : dict of str to float
        Wall time of each stage.
    notes : list of str
        Stages skipped and why.
    pseudonym_key : dict
        Fingerprint of the pseudonymisation key and whether it was a development or
        demo key (``PseudonymKey.manifest()``), never the key.
    training_sample : dict
        The training sample: ``negative_fraction`` (share of the rows negative for
        every target kept), ``weight_of_negatives``, ``rows_built``, ``rows_kept``,
        ``positives_kept`` per target.
    route : str
        ``"in-memory"`` or ``"streamed"`` (config key ``data.streaming``), or
        ``"spark"`` (config key ``engine``).
    """

    output_dir: Path
    outputs: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    model_uris: dict = field(default_factory=dict)
    export_files: pd.DataFrame | None = None
    seconds: float = 0.0
    stage_seconds: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    pseudonym_key: dict = field(default_factory=dict)
    training_sample: dict = field(default_factory=dict)
    route: str = "in-memory"


def _resolve(path) -> Path:
    return Path(path).expanduser()


def _mkparent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path

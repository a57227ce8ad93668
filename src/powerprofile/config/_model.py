"""The typed configuration of a powerprofile job (see ``docs/config.md``)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Literal

from ..exceptions import ConfigError

__all__ = [
    "Config",
    "DataConfig",
    "ExportConfig",
    "FeaturesConfig",
    "LabelsConfig",
    "ModelsConfig",
    "PortraitsConfig",
    "PrivacyConfig",
    "ReportConfig",
    "SegmentationConfig",
    "TrackingConfig",
]


def _bad(source, key, value, why) -> ConfigError:
    where = f" in {str(source)!r}" if source else ""
    return ConfigError(f"config key {key!r}{where} has the value {value!r}: {why}")


def _check_date(value, source, key):
    if value is None:
        return
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        raise _bad(source, key, value, "expected an ISO date like '2025-12-31'.") from None


@dataclass
class DataConfig:
    """Where the input tables are and how strictly they are validated.

    Parameters
    ----------
    path : str, default="data/sample"
        Folder of the data set (``dataset.json`` plus one file or folder per table).
    errors : {"raise", "quarantine"}, default="raise"
        Strict validation, or set bad rows aside and report them.
    data_end : str or None, default=None
        Last day covered (ISO date); default from ``dataset.json`` or the data.
    quarantine_pii : bool, default=False
        Keep every column of quarantined rows in ``validation/quarantine/*.parquet``,
        raw customer ids and PII (name, phone, address) included. By default those
        files carry the keyed ``customer_key`` instead and no PII column.
    """

    path: str = "data/sample"
    errors: Literal["raise", "quarantine"] = "raise"
    data_end: str | None = None
    quarantine_pii: bool = False

    def _check(self, source, prefix):
        _check_date(self.data_end, source, f"{prefix}.data_end")


@dataclass
class FeaturesConfig:
    """Feature windows and snapshot dates.

    Parameters
    ----------
    windows : list of int, default=[30, 90, 180, 365]
        Look-back windows in days.
    min_history_days : int, default=60
        Customers with fewer days of reads are flagged.
    n_training_snapshots : int, default=12
        Number of training snapshots (the latest one is the last whose label horizon
        ends inside the data).
    snapshot_interval_months : int, default=1
        Months between training snapshots.
    scoring_snapshot : str or None, default=None
        Snapshot date for scoring (ISO); default the day after the data's last day.
    n_partitions : int or None, default=None
        Customer hash partitions processed one at a time (None: the builder decides).
    n_jobs : int, default=1
        Parallel workers for the feature builders.
    """

    windows: list[int] = field(default_factory=lambda: [30, 90, 180, 365])
    min_history_days: int = 60
    n_training_snapshots: int = 12
    snapshot_interval_months: int = 1
    scoring_snapshot: str | None = None
    n_partitions: int | None = None
    n_jobs: int = 1

    def _check(self, source, prefix):
        if not self.windows or any(w < 1 for w in self.windows):
            raise _bad(source, f"{prefix}.windows", self.windows, "give positive day counts.")
        for name in ("n_training_snapshots", "snapshot_interval_months", "n_jobs"):
            if getattr(self, name) < 1:
                raise _bad(source, f"{prefix}.{name}", getattr(self, name), "must be >= 1.")
        if self.n_partitions is not None and self.n_partitions < 1:
            raise _bad(source, f"{prefix}.n_partitions", self.n_partitions, "must be >= 1 or null.")
        _check_date(self.scoring_snapshot, source, f"{prefix}.scoring_snapshot")


@dataclass
class LabelsConfig:
    """Label definitions.

    Parameters
    ----------
    horizon_days : int, default=90
        Labels look at ``(T, T + horizon_days]``.
    churn_kinds : list of str or None, default=None
        Event kinds that count as churn (None: all kinds).
    churn_usage_collapse : bool or dict or None, default=None
        Usage-collapse churn definition passed to the feature builder
        (e.g. ``{recent_days: 60, prior_days: 180, ratio: 0.2}``); None disables it.
    """

    horizon_days: int = 90
    churn_kinds: (
        list[Literal["closure", "supplier_switch", "suspension", "capacity_reduction"]] | None
    ) = None
    churn_usage_collapse: bool | dict[str, Any] | None = None

    def _check(self, source, prefix):
        if self.horizon_days < 1:
            raise _bad(source, f"{prefix}.horizon_days", self.horizon_days, "must be >= 1.")


@dataclass
class ModelsConfig:
    """Propensity models.

    Parameters
    ----------
    targets : list of {"churn", "complaint"}, default=["churn", "complaint"]
        Models to train (label column ``label_<target>``).
    params : dict, default={}
        Keyword parameters of ``PropensityModel`` (``random_state`` defaults to ``seed``).
    top_k_reasons : int, default=3
        Reason codes kept per customer.
    holdout_snapshots : int, default=1
        Latest training snapshots held out for the evaluation (out of time); the
        models train on earlier snapshots whose label horizon ends before them.
    """

    targets: list[Literal["churn", "complaint"]] = field(
        default_factory=lambda: ["churn", "complaint"]
    )
    params: dict[str, Any] = field(default_factory=dict)
    top_k_reasons: int = 3
    holdout_snapshots: int = 1

    def _check(self, source, prefix):
        if self.holdout_snapshots < 1:
            raise _bad(
                source, f"{prefix}.holdout_snapshots", self.holdout_snapshots, "must be >= 1."
            )
        if not self.targets:
            raise _bad(source, f"{prefix}.targets", self.targets, "name at least one target.")
        if len(set(self.targets)) != len(self.targets):
            raise _bad(source, f"{prefix}.targets", self.targets, "targets repeat.")


@dataclass
class SegmentationConfig:
    """Customer segmentation.

    Parameters
    ----------
    enabled : bool, default=True
        Fit the segmenter.
    params : dict, default={}
        Keyword parameters of ``CustomerSegmenter`` (``random_state`` defaults to ``seed``).
    """

    enabled: bool = True
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class PortraitsConfig:
    """Portrait assembly.

    Parameters
    ----------
    tags : str or None, default="configs/tags.yaml"
        Tag rules file (None: no tags; a missing default file is skipped).
    risk_rules : str or None, default="configs/risk_rules.yaml"
        Risk rules file (None: no risk rules; a missing default file is skipped).
    params : dict, default={}
        Extra keyword parameters of ``build_portraits``.
    """

    tags: str | None = "configs/tags.yaml"
    risk_rules: str | None = "configs/risk_rules.yaml"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExportConfig:
    """Channel exports (see ``docs/export.md``).

    Parameters
    ----------
    campaigns : str, default="configs/campaigns.yaml"
        Campaign definitions.
    format : {"csv", "parquet", "jsonl"} or None, default=None
        File format for every campaign (None: each campaign's own, default CSV).
    frequency_cap : int or None, default=None
        Campaigns one customer may appear in per run (None: the campaign file's).
    incremental : bool, default=True
        Also write who entered and who left each segment since the previous export.
    opt_out_list, do_not_contact_list : str or None, default=None
        CSV/Parquet files of customers never to contact (column ``customer_id`` or
        ``customer_key``); opt-out applies to SMS and app push, do-not-contact to all.
    allow_raw_phone : bool, default=False
        Export unmasked phone numbers, but only to ``raw_phone_channels``.
    raw_phone_channels : list of str, default=[]
        Channels allowed raw phones when ``allow_raw_phone`` is true.
    phone_visible_digits : int, default=4
        Last digits left visible in masked phones (0 to 4): ``*******1234``.
    """

    campaigns: str = "configs/campaigns.yaml"
    format: Literal["csv", "parquet", "jsonl"] | None = None
    frequency_cap: int | None = None
    incremental: bool = True
    opt_out_list: str | None = None
    do_not_contact_list: str | None = None
    allow_raw_phone: bool = False
    raw_phone_channels: list[
        Literal["sms", "app_push", "wechat", "hotline_callback", "grid_manager"]
    ] = field(default_factory=list)
    phone_visible_digits: int = 4

    def _check(self, source, prefix):
        if self.frequency_cap is not None and self.frequency_cap < 1:
            raise _bad(source, f"{prefix}.frequency_cap", self.frequency_cap, "must be >= 1.")
        if not 0 <= self.phone_visible_digits <= 4:
            raise _bad(
                source,
                f"{prefix}.phone_visible_digits",
                self.phone_visible_digits,
                "must be from 0 to 4 (raw phones go only through allow_raw_phone and "
                "raw_phone_channels).",
            )
        if self.allow_raw_phone and not self.raw_phone_channels:
            raise _bad(
                source,
                f"{prefix}.raw_phone_channels",
                self.raw_phone_channels,
                "allow_raw_phone is true, so name the channels that receive raw phone numbers.",
            )


@dataclass
class TrackingConfig:
    """MLflow tracking and model registry.

    Parameters
    ----------
    enabled : bool, default=True
        Log training runs.
    uri : str or None, default=None
        Tracking URI; None: ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db`` in the
        working folder. Credentials come only from the environment
        (``MLFLOW_TRACKING_USERNAME``/``PASSWORD``/``TOKEN``).
    experiment : str, default="powerprofile"
        Experiment name.
    register : bool, default=True
        Register models in the model registry.
    model_name_prefix : str, default="powerprofile"
        Registered names are ``<prefix>-<target>``.
    alias : str or None, default="candidate"
        Alias set on each new version.
    timeout_seconds : float, default=5.0
        Connection timeout for a tracking server (fail fast).
    """

    enabled: bool = True
    uri: str | None = None
    experiment: str = "powerprofile"
    register: bool = True
    model_name_prefix: str = "powerprofile"
    alias: str | None = "candidate"
    timeout_seconds: float = 5.0

    def _check(self, source, prefix):
        if self.uri is not None and any(s in self.uri for s in ("@", "token=", "password")):
            raise _bad(
                source,
                f"{prefix}.uri",
                "<redacted>",
                "credentials must not be written in a config; set MLFLOW_TRACKING_USERNAME / "
                "MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN in the environment.",
            )
        if self.timeout_seconds <= 0:
            raise _bad(source, f"{prefix}.timeout_seconds", self.timeout_seconds, "must be > 0.")


@dataclass
class PrivacyConfig:
    """The pseudonymisation key policy (the key itself comes only from the environment).

    Parameters
    ----------
    insecure_development_key : bool, default=False
        Accept a pseudonymisation key that breaks the key rule (see
        ``powerprofile.privacy``), with a warning, recorded in every manifest. For
        development on synthetic data only; a run without any key is still refused.
    """

    insecure_development_key: bool = False


@dataclass
class ReportConfig:
    """HTML report.

    Parameters
    ----------
    enabled : bool, default=True
        Write the report (when the report module is installed).
    params : dict, default={}
        Extra keyword parameters of ``write_report``.
    """

    enabled: bool = True
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Config:
    """A whole job configuration.

    Parameters
    ----------
    seed : int, default=0
        Seed of every random step (models, segmentation).
    output_dir : str, default="out/default"
        Where results go (features, models, portraits, export, report).
    progress : bool, default=True
        Show progress bars on stderr (``--quiet`` turns them off).
    n_threads : int or None, default=None
        Threads for LightGBM, BLAS and OpenMP during the job (None: the libraries'
        defaults). On small data or a busy machine 1 is fastest.
    data, features, labels, models, segmentation, portraits, export, privacy, tracking, report
        The sections, see their classes.
    """

    seed: int = 0
    output_dir: str = "out/default"
    progress: bool = True
    n_threads: int | None = None
    data: DataConfig = field(default_factory=DataConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    labels: LabelsConfig = field(default_factory=LabelsConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    portraits: PortraitsConfig = field(default_factory=PortraitsConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    source: str | None = field(default=None, init=False, metadata={"internal": True}, compare=False)

    def _check(self, source, prefix):
        if self.n_threads is not None and self.n_threads < 1:
            raise _bad(source, "n_threads", self.n_threads, "must be >= 1 or null.")

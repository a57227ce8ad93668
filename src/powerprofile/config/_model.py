"""The typed configuration of a powerprofile job (see ``docs/config.md``)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from ..exceptions import ConfigError
from ..privacy import MAX_PHONE_VISIBLE_DIGITS
from ._typed import ISO_DATE, PATH, Range, _where, bounded

__all__ = [
    "Config",
    "DataConfig",
    "ExportConfig",
    "FeaturesConfig",
    "LabelsConfig",
    "ModelsConfig",
    "OperationsConfig",
    "PortraitsConfig",
    "PrivacyConfig",
    "ReportConfig",
    "SegmentationConfig",
    "SparkConfig",
    "TrackingConfig",
]


MAX_DAYS = 3660
"""Longest span in days a window, horizon or history may have (ten years)."""

MAX_WORKERS = 1024
"""Most threads, processes or partitions a job may ask for."""


def _bad(source, key, value, why) -> ConfigError:
    return ConfigError(f"config key {key!r}{_where(source, key)} has the value {value!r}: {why}")


# keyword arguments the job passes itself: not settable through <section>.params
SET_BY_JOB = {
    "models": {
        "horizon_days": "labels.horizon_days",
        "label": "the target's label definition under labels",
    },
    "portraits": {
        "features": "the scoring frame",
        "churn_model": "the trained model",
        "complaint_model": "the trained model",
        "segmenter": "the segmentation step",
        "tags": "portraits.tags",
        "risk_rules": "portraits.risk_rules",
        "customers": "data.path",
        "catalog": "features.windows",
        "key": "POWERPROFILE_PSEUDONYM_KEY",
    },
    "report": {
        "path": "--output",
        "tables": "data.path",
        "segment_profile": "the segmentation step",
        "segment_names": "the segmentation step",
        "evaluations": "the training step",
        "shap_importance": "the training step",
        "scores": "the portraits",
        "risk_hits": "portraits.risk_rules",
        "subtitle": "data.path",
        "generated_at": "the scoring snapshot",
        "scorecards": "the scorecard stage (operations)",
    },
}
"""Per ``<section>.params``: the keyword arguments the job sets itself, and from where."""


def _check_params(source, key: str, params: dict, target, set_by_job=None) -> None:
    """``params`` must be keyword parameters of ``target`` that the job does not set itself.

    The one check of every ``<section>.params`` mapping (models, segmentation,
    portraits, report), run when the config is loaded, before any work.
    """
    import inspect

    set_by_job = set_by_job or {}
    func = target.__init__ if isinstance(target, type) else target
    signature = inspect.signature(func)
    open_ended = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    allowed = [
        n
        for n, p in signature.parameters.items()
        if n != "self"
        and n not in set_by_job
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    for name, value in params.items():
        if name in set_by_job:
            raise _bad(
                source,
                f"{key}.{name}",
                value,
                f"it cannot be set: the job passes {name!r} itself (from "
                f"{set_by_job[name]}); remove it.",
            )
        if name not in allowed and not open_ended:
            close = difflib.get_close_matches(str(name), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _bad(
                source,
                f"{key}.{name}",
                value,
                f"{getattr(target, '__name__', target)} has no parameter {name!r}{hint}; "
                f"allowed: {', '.join(sorted(allowed))}.",
            )


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
    streaming : {"auto", "always", "never"}, default="auto"
        Route of ``powerprofile run``: ``"always"`` streams the folder part by part
        (memory follows one partition), ``"never"`` loads every table in memory,
        ``"auto"`` streams a partitioned folder whose ``dataset.json`` declares at
        least ``streaming_min_customers`` customers. Both routes give the same results.
    streaming_min_customers : int, default=50000
        Customers from which ``streaming="auto"`` streams.
    """

    path: str = field(default="data/sample", metadata=PATH)
    errors: Literal["raise", "quarantine"] = "raise"
    data_end: str | None = field(default=None, metadata=ISO_DATE)
    quarantine_pii: bool = False
    streaming: Literal["auto", "always", "never"] = "auto"
    streaming_min_customers: int = field(default=50_000, metadata=bounded(1, 10**12))


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
    n_jobs : int or None, default=None
        Parallel workers for the feature builders. None: one on the in-memory route;
        on the streamed route the cores the job may use, at most 2 (each worker holds
        one partition, so two stay within the memory of one job).
    """

    windows: list[int] = field(
        default_factory=lambda: [30, 90, 180, 365], metadata=bounded(1, MAX_DAYS, unit="days")
    )
    min_history_days: int = field(default=60, metadata=bounded(0, MAX_DAYS, unit="days"))
    n_training_snapshots: int = field(default=12, metadata=bounded(1, 240))
    snapshot_interval_months: int = field(default=1, metadata=bounded(1, 120, unit="months"))
    scoring_snapshot: str | None = field(default=None, metadata=ISO_DATE)
    n_partitions: int | None = field(default=None, metadata=bounded(1, MAX_WORKERS * 64))
    n_jobs: int | None = field(default=None, metadata=bounded(1, MAX_WORKERS))

    def _check(self, source, prefix):
        if not self.windows:
            raise _bad(source, f"{prefix}.windows", self.windows, "give at least one window.")
        if len(set(self.windows)) != len(self.windows):
            raise _bad(source, f"{prefix}.windows", self.windows, "windows repeat; list each once.")


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
        (e.g. ``{window_days: 60, baseline_days: 180, ratio: 0.2}``); None disables it.
    """

    horizon_days: int = field(default=90, metadata=bounded(1, MAX_DAYS, unit="days"))
    churn_kinds: (
        list[Literal["closure", "supplier_switch", "suspension", "capacity_reduction"]] | None
    ) = None
    churn_usage_collapse: bool | dict[str, Any] | None = None

    _COLLAPSE: ClassVar[dict[str, tuple[type, Range]]] = {
        "window_days": (int, Range(1, MAX_DAYS, unit="days")),
        "baseline_days": (int, Range(1, MAX_DAYS, unit="days")),
        "ratio": (float, Range(0, 1, lo_open=True)),
    }

    def _check(self, source, prefix):
        from ._typed import _convert

        rule = self.churn_usage_collapse
        if isinstance(rule, dict):
            key = f"{prefix}.churn_usage_collapse"
            for name, value in rule.items():
                if name not in self._COLLAPSE:
                    close = difflib.get_close_matches(str(name), list(self._COLLAPSE), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise _bad(
                        source,
                        f"{key}.{name}",
                        value,
                        f"unknown key{hint}; allowed: {', '.join(self._COLLAPSE)}.",
                    )
                tp, rng = self._COLLAPSE[name]
                rule[name] = _convert(value, tp, f"{key}.{name}", source, rng)


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
    max_training_rows : int or None, default=400000
        Training sample: every row positive for a target is kept, and of the other
        rows a fraction ``f = min(1, max_training_rows / (customers x
        n_training_snapshots))`` chosen by a keyed hash of customer id, snapshot and
        ``seed`` (reproducible, independent of partitioning), weighted ``1 / f`` in
        the fit and the calibration. None keeps every row.
    """

    targets: list[Literal["churn", "complaint"]] = field(
        default_factory=lambda: ["churn", "complaint"]
    )
    params: dict[str, Any] = field(default_factory=dict)
    top_k_reasons: int = field(default=3, metadata=bounded(0, 50))
    holdout_snapshots: int = field(default=1, metadata=bounded(1, 120))
    max_training_rows: int | None = field(default=400_000, metadata=bounded(1, 10**12))

    def _check(self, source, prefix):
        if self.params:
            from ..models import PropensityModel

            _check_params(
                source, f"{prefix}.params", self.params, PropensityModel, SET_BY_JOB["models"]
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
    max_customers : int or None, default=200000
        The segmenter is fitted on at most about this many scored customers, chosen
        by a keyed hash of the customer id and ``seed``; every customer is then
        assigned. None fits on all.
    """

    enabled: bool = True
    params: dict[str, Any] = field(default_factory=dict)
    max_customers: int | None = field(default=200_000, metadata=bounded(1, 10**12))

    def _check(self, source, prefix):
        if self.params:
            from ..segmentation import CustomerSegmenter

            _check_params(source, f"{prefix}.params", self.params, CustomerSegmenter)


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

    tags: str | None = field(default="configs/tags.yaml", metadata=PATH)
    risk_rules: str | None = field(default="configs/risk_rules.yaml", metadata=PATH)
    params: dict[str, Any] = field(default_factory=dict)

    def _check(self, source, prefix):
        if self.params:
            from ..portraits import build_portraits

            _check_params(
                source, f"{prefix}.params", self.params, build_portraits, SET_BY_JOB["portraits"]
            )


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

    campaigns: str = field(default="configs/campaigns.yaml", metadata=PATH)
    format: Literal["csv", "parquet", "jsonl"] | None = None
    frequency_cap: int | None = field(default=None, metadata=bounded(1, 1000))
    incremental: bool = True
    opt_out_list: str | None = field(default=None, metadata=PATH)
    do_not_contact_list: str | None = field(default=None, metadata=PATH)
    allow_raw_phone: bool = False
    raw_phone_channels: list[
        Literal["sms", "app_push", "wechat", "hotline_callback", "grid_manager"]
    ] = field(default_factory=list)
    phone_visible_digits: int = field(
        default=MAX_PHONE_VISIBLE_DIGITS,
        metadata=bounded(0, MAX_PHONE_VISIBLE_DIGITS, unit="digits"),
    )

    def _check(self, source, prefix):
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
    timeout_seconds: float = field(
        default=5.0, metadata=bounded(0, 3600, lo_open=True, unit="seconds")
    )

    def _check(self, source, prefix):
        if self.uri is not None and any(s in self.uri for s in ("@", "token=", "password")):
            raise _bad(
                source,
                f"{prefix}.uri",
                "<redacted>",
                "credentials must not be written in a config; set MLFLOW_TRACKING_USERNAME / "
                "MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN in the environment.",
            )


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

    def _check(self, source, prefix):
        if self.params:
            try:
                from ..report import write_report
            except ImportError:  # pragma: no cover - no report module: nothing takes them
                return
            _check_params(
                source, f"{prefix}.params", self.params, write_report, SET_BY_JOB["report"]
            )


@dataclass
class UpliftConfig:
    """Closing the loop: responses to the export, campaign effects, next-best-channel.

    Parameters
    ----------
    enabled : bool, default=True
        Run the stage (it does nothing but say so when no responses exist).
    responses : str or None, default=None
        A ``responses`` file (CSV/Parquet) answering this run's export (see
        ``docs/uplift.md``); its campaign ids must be in the export's manifest.
    simulate_responses : bool, default=False
        Synthetic data only: draw the responses to this run's export from the data
        folder's ground truth (``truth/uplift.parquet``), write them to
        ``uplift/simulated_responses.csv`` and ingest that file. For ``make demo``.
    pilot_responses : str or None, default=None
        Responses of randomised pilots carrying their ``group`` that train the uplift
        model; None reads ``responses.parquet`` of the data folder when present.
    outcome : str, default="retained"
        The outcome the uplift model and the next-best-channel choice maximise.
    costs : dict of str to float, default={}
        Cost per contact of each channel (cost per outcome in the effects table).
    alpha : float, default=0.05
        Interval level ``1 - alpha`` and false discovery rate of the effects table.
    min_cell : int, default=30
        Smallest treated or control group not flagged as a small cell.
    capacity : dict of str to int, default={}
        Next-best-channel contacts per channel (default: the campaigns file's
        ``channel_capacity``).
    budget : int or None, default=None
        Next-best-channel contacts in total (None: as many as help).
    features : list of str or None, default=None
        Scoring features the uplift model reads besides the portraits' scores (None:
        every feature of the scoring frame; a shorter list reads less per part).
    max_training_rows : int or None, default=400000
        Pilot rows the uplift model is fitted on, about: beyond it, customers are drawn
        by their key and the job's seed, each with all their rows (None: every row).
        The fit holds its inputs in memory and its time grows with the rows (see
        ``docs/uplift.md``, "At scale").
    """

    enabled: bool = True
    responses: str | None = field(default=None, metadata=PATH)
    simulate_responses: bool = False
    pilot_responses: str | None = field(default=None, metadata=PATH)
    outcome: Literal["retained", "converted_online"] = "retained"
    costs: dict[str, float] = field(
        default_factory=dict, metadata=bounded(0.0, 1e9, unit="per contact")
    )
    alpha: float = field(default=0.05, metadata=bounded(0.0, 0.5, lo_open=True))
    min_cell: int = field(default=30, metadata=bounded(1, 10**6))
    capacity: dict[str, int] = field(
        default_factory=dict, metadata=bounded(0, 10**9, unit="customers")
    )
    budget: int | None = field(default=None, metadata=bounded(0, 10**9, unit="customers"))
    features: list[str] | None = None
    max_training_rows: int | None = field(default=400_000, metadata=bounded(1, 10**12))

    def _check(self, source, prefix):
        from ..portraits import CONTACT_CHANNELS

        for name in ("costs", "capacity"):
            bad = sorted(set(getattr(self, name)) - set(CONTACT_CHANNELS))
            if bad:
                raise _bad(
                    source,
                    f"{prefix}.{name}",
                    bad,
                    f"these are not outbound channels; channels are {list(CONTACT_CHANNELS)!r}.",
                )


@dataclass
class SparkConfig:
    """The Apache Spark engine (``engine: spark``; needs the ``spark`` extra and Java 17+).

    Parameters
    ----------
    master : str, default="local[*]"
        Spark master URL (``local[2]``, ``yarn``, ``k8s://...``); ignored when the job
        runs inside ``spark-submit``, whose session is used as it is.
    conf : dict, default={}
        Extra Spark properties (``spark.executor.memory: 4g`` ...). For a ``local``
        master the engine binds to loopback only (``spark.driver.bindAddress`` and
        ``spark.driver.host`` 127.0.0.1) and turns the web UI off unless set here.
    """

    master: str = "local[*]"
    conf: dict[str, str] = field(default_factory=dict)


@dataclass
class OperationsConfig:
    """Scorecards, weak links and risk cases (see ``docs/operations.md``).

    Parameters
    ----------
    enabled : bool, default=True
        Run the scorecard stage in ``run``.
    targets : str or None, default="configs/targets.yaml"
        Indicator targets (None: none; a missing default file is skipped).
    state_dir : str or None, default=None
        Folder keeping the risk-case state (``case_state.parquet``) for the next run,
        owned by powerprofile like every output folder. None: the state is kept in
        ``<output_dir>/scorecards/`` and read from there by the next run.
    resolutions : str or None, default=None
        CSV or Parquet file of resolution records (column ``case_id``, or
        ``customer_key`` and ``rule``): the cases it names are resolved at this run.
    months : int, default=12
        Latest months the fair comparison sums.
    """

    enabled: bool = True
    targets: str | None = field(default="configs/targets.yaml", metadata=PATH)
    state_dir: str | None = field(default=None, metadata=PATH)
    resolutions: str | None = field(default=None, metadata=PATH)
    months: int = field(default=12, metadata=bounded(1, 120))


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
        Show progress bars on stderr when it is a terminal or in a notebook (never in
        a log file or a pipe); ``--quiet`` turns them off.
    n_threads : int or None, default=None
        Threads for LightGBM, BLAS and OpenMP during the job (None: the libraries'
        defaults). On small data or a busy machine 1 is fastest.
    engine : {"local", "spark"}, default="local"
        Where the per-partition stages run: in this process (and its worker processes),
        or as Apache Spark tasks (see ``spark``). The results are the same.
    data, features, labels, models, segmentation, portraits, export, privacy, tracking, report, uplift, spark, operations
        The sections, see their classes.
    """

    seed: int = field(default=0, metadata=bounded(0, 2**32 - 1))
    output_dir: str = field(default="out/default", metadata=PATH)
    progress: bool = True
    n_threads: int | None = field(default=None, metadata=bounded(1, MAX_WORKERS))
    engine: Literal["local", "spark"] = "local"
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
    uplift: UpliftConfig = field(default_factory=UpliftConfig)
    spark: SparkConfig = field(default_factory=SparkConfig)
    operations: OperationsConfig = field(default_factory=OperationsConfig)
    source: str | None = field(default=None, init=False, metadata={"internal": True}, compare=False)

    def _check(self, source, prefix):
        hold, snaps = self.models.holdout_snapshots, self.features.n_training_snapshots
        if hold >= snaps:
            raise _bad(
                source,
                "models.holdout_snapshots",
                hold,
                f"it must be smaller than features.n_training_snapshots ({snaps}), or no "
                "snapshot is left to train on; lower it or raise n_training_snapshots.",
            )

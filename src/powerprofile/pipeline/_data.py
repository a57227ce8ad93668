"""Pre-flight checks, loading, snapshot plan and feature frames."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pandas as pd

from ..config import Config
from ..exceptions import ConfigError
from ._paths import OutputPaths, _resolve

__all__ = [
    "build_feature_frames",
    "load_data",
    "plan_snapshots",
    "preflight",
    "pseudonym_key",
    "snapshot_plan",
    "write_feature_outputs",
    "write_validation_outputs",
]

log = logging.getLogger("powerprofile")


# ------------------------------------------------------------------ preflight and data


def preflight(cfg: Config, *, stages=("data", "tracking", "export")) -> str | None:
    """Check everything that can be checked before any work: files, rule files, tracking.

    Parameters
    ----------
    cfg : Config
        The job config.
    stages : iterable of str, default=("data", "tracking", "export")
        What the job will need: ``data``, ``tracking``, ``export``, ``portraits``,
        ``train``, ``segment``, ``report``. The last four also check the keyword
        arguments under ``models.params``, ``segmentation.params``, ``portraits.params``
        and ``report.params`` against what they are passed to.

    Returns
    -------
    str or None
        The tracking URI when tracking is needed and reachable.

    Raises
    ------
    ConfigError, FileNotFoundError, TrackingError
    """
    from ..artefacts import artefact_key

    artefact_key()  # a too-short POWERPROFILE_ARTEFACT_KEY fails here, not after training
    stages = set(stages)
    if "portraits" in stages and "bands" in cfg.portraits.params:
        _check_bands(cfg.portraits.params["bands"])
    if "data" in stages and not _resolve(cfg.data.path).is_dir():
        raise FileNotFoundError(
            f"data folder {cfg.data.path!r} (config key 'data.path') does not exist; "
            "create it with `powerprofile sample` or point --data at your tables."
        )
    rules = {}
    if "portraits" in stages:
        from ..features import feature_catalog
        from ..portraits import load_rules

        # every rule expression checked now: syntax, bounds, depth, and the feature
        # names and types of the catalogue the job will build
        catalog = feature_catalog(windows=tuple(cfg.features.windows))
        for key in ("tags", "risk_rules"):
            value = getattr(cfg.portraits, key)
            if value is not None and _resolve(value).is_file():
                rules[key] = load_rules(_resolve(value), features=catalog)
            elif value is not None and value != getattr(type(cfg.portraits)(), key):
                raise ConfigError(
                    f"config key 'portraits.{key}' names {value!r}, which does not exist."
                )
    if "export" in stages:
        from ..export import load_campaigns

        campaigns = load_campaigns(cfg.export.campaigns)
        if "portraits" in stages:
            _check_campaign_columns(cfg, campaigns, rules)
        for key in ("opt_out_list", "do_not_contact_list"):
            value = getattr(cfg.export, key)
            if value is not None and not _resolve(value).is_file():
                raise ConfigError(
                    f"config key 'export.{key}' names {value!r}, which does not exist."
                )
    if "tracking" in stages and cfg.tracking.enabled:
        from ..tracking import check_tracking_uri, resolve_tracking_uri

        uri = resolve_tracking_uri(cfg.tracking.uri)
        return check_tracking_uri(uri, timeout=cfg.tracking.timeout_seconds)
    return None


def _check_bands(bands) -> None:
    """``portraits.params.bands`` tried on two scores, so a bad spec fails before any work."""
    from collections.abc import Mapping

    from ..portraits import assign_bands

    per_target = isinstance(bands, Mapping) and bands and set(bands) <= {"churn", "complaint"}
    specs = dict(bands) if per_target else {"": bands}
    for target, spec in specs.items():
        key = "portraits.params.bands" + (f".{target}" if target else "")
        try:
            assign_bands(pd.Series([0.1, 0.9]), spec)
        except (ConfigError, ValueError, TypeError) as exc:
            raise ConfigError(f"config key {key!r}: {exc}") from None


def _check_campaign_columns(cfg: Config, campaigns, rules: dict) -> None:
    """Campaign selections, scores and columns against the portrait the job will build."""
    from ..portraits import portrait_columns

    params = cfg.portraits.params
    columns = portrait_columns(
        targets=tuple(cfg.models.targets),
        segments=cfg.segmentation.enabled,
        tags=rules.get("tags"),
        risk_rules=rules.get("risk_rules"),
        top_k=params.get("top_k", cfg.models.top_k_reasons),
        reasons=params.get("reasons", True),
        include_customer_id=params.get("include_customer_id", False),
    )
    for camp in campaigns.campaigns:
        camp.selection.check(columns)
        for c in (camp.score, *camp.ranking, *camp.columns):
            if c not in columns:
                raise ConfigError(
                    f"campaign {camp.name!r} in {str(cfg.export.campaigns)!r} uses column {c!r}, "
                    "which the portraits of this job will not have; see docs/portrait.md."
                )


def pseudonym_key(cfg: Config):
    """The checked pseudonymisation key of a job, before any work is done.

    Parameters
    ----------
    cfg : Config
        ``privacy.insecure_development_key`` allows a weak key (with a warning).

    Returns
    -------
    PseudonymKey
        Pass it as ``key=`` to every stage; its ``manifest()`` goes in the manifests.

    Raises
    ------
    PseudonymKeyError
        ``POWERPROFILE_PSEUDONYM_KEY`` is missing, or weak without the switch.
    """
    from ..privacy import resolve_pseudonym_key

    return resolve_pseudonym_key(
        None, insecure_development_key=cfg.privacy.insecure_development_key
    )


def write_validation_outputs(
    paths: OutputPaths, tables, key, *, quarantine_pii: bool = False
) -> dict[str, Path]:
    """Write the validation report and the quarantined rows under the PII policy.

    ``validation/validation_report.csv`` names customers by ``customer_key`` and
    redacts shown PII values (:func:`powerprofile.schema.redact_report`);
    ``validation/quarantine/<table>.parquet`` (tables with quarantined rows only) carry
    ``customer_key`` instead of the raw id and no PII column unless ``quarantine_pii``
    (:func:`powerprofile.schema.redact_quarantine`). A quarantine file of an earlier
    validation for a table with no quarantined rows now is removed.

    Parameters
    ----------
    paths : OutputPaths
    tables : Tables
    key : PseudonymKey or str or bytes or None
        See :func:`powerprofile.privacy.resolve_pseudonym_key`.
    quarantine_pii : bool, default=False
        Config key ``data.quarantine_pii``.

    Returns
    -------
    dict of str to pathlib.Path
        ``{"report": path}`` plus one ``"quarantine/<table>"`` entry per file written.
    """
    import dataclasses

    from ..export import write_frame
    from ..schema import TABLE_ORDER, redact_quarantine, redact_report, save_quarantine

    report = tables.report if isinstance(tables.report, pd.DataFrame) else pd.DataFrame()
    paths.validation.parent.mkdir(parents=True, exist_ok=True)
    write_frame(redact_report(report, key), paths.validation, "csv", decimals=None)
    written = {"report": paths.validation}
    folder = paths.validation.parent / "quarantine"
    quarantine = {k: v for k, v in (tables.quarantine or {}).items() if len(v)}
    safe = redact_quarantine(quarantine, key, keep_pii=quarantine_pii)
    for f in save_quarantine(dataclasses.replace(tables, quarantine=safe), folder, "parquet"):
        written[f"quarantine/{f.stem}"] = f
    for name in TABLE_ORDER:
        stale = folder / f"{name}.parquet"
        if name not in safe and stale.is_file():
            stale.unlink()
    return written


def load_data(cfg: Config):
    """Load and validate the tables named by ``cfg.data``.

    Parameters
    ----------
    cfg : Config

    Returns
    -------
    Tables

    Warns
    -----
    UserWarning
        When ``data.errors='quarantine'`` set rows aside, with the count per table.
    """
    from ..schema import load_tables

    log.info("loading %s (errors=%s)", cfg.data.path, cfg.data.errors)
    tables = load_tables(
        _resolve(cfg.data.path), errors=cfg.data.errors, data_end=cfg.data.data_end
    )
    held = {name: len(rows) for name, rows in sorted(tables.quarantine.items()) if len(rows)}
    if held:
        counts = ", ".join(f"{name} {n}" for name, n in held.items())
        warnings.warn(
            f"{sum(held.values())} input rows failed validation and were set aside "
            f"(data.errors='quarantine': {counts}); they are missing from every result. "
            "See the validation report for the reasons and fix the source.",
            UserWarning,
            stacklevel=2,
        )
    return tables


def _data_end(tables, cfg: Config) -> pd.Timestamp:
    if cfg.data.data_end:
        return pd.Timestamp(cfg.data.data_end)
    if getattr(tables, "data_end", None) is not None:
        return pd.Timestamp(tables.data_end)
    return pd.Timestamp(pd.to_datetime(tables.usage["date"]).max())


def snapshot_plan(cfg: Config, tables) -> tuple[list[pd.Timestamp], pd.Timestamp]:
    """Training snapshots (month starts whose label horizon ends inside the data) and the scoring one.

    Parameters
    ----------
    cfg : Config
    tables : Tables

    Returns
    -------
    (list of pandas.Timestamp, pandas.Timestamp)
        ``n_training_snapshots`` month starts, ``snapshot_interval_months`` apart,
        the last being the latest ``T`` with ``T + horizon_days <= data_end + 1 day``;
        and the scoring snapshot (``features.scoring_snapshot`` or the day after the
        data's last day).
    """
    end = _data_end(tables, cfg)
    start = pd.Timestamp(pd.to_datetime(tables.usage["date"]).min()) if len(tables.usage) else None
    return plan_snapshots(cfg, end, start)


def plan_snapshots(cfg: Config, end, start=None) -> tuple[list[pd.Timestamp], pd.Timestamp]:
    """:func:`snapshot_plan` from the data's last day ``end`` and first usage day ``start``."""
    end = pd.Timestamp(end).normalize()
    start = None if start is None else pd.Timestamp(start)
    limit = end + pd.Timedelta(days=1) - pd.Timedelta(days=cfg.labels.horizon_days)
    last = limit.to_period("M").to_timestamp()
    step = cfg.features.snapshot_interval_months
    snaps = [
        last - pd.DateOffset(months=step * i) for i in range(cfg.features.n_training_snapshots)
    ]
    snaps = sorted(pd.Timestamp(s) for s in snaps)
    if start is not None and snaps[0] <= start:
        raise ConfigError(
            f"config key 'features.n_training_snapshots' = {cfg.features.n_training_snapshots!r} puts the "
            f"first snapshot at {snaps[0].date()} but usage starts {start.date()}; use fewer snapshots."
        )
    score = (
        pd.Timestamp(cfg.features.scoring_snapshot)
        if cfg.features.scoring_snapshot
        else end + pd.Timedelta(days=1)
    )
    return snaps, score


# ------------------------------------------------------------------ features


def _feature_kwargs(cfg: Config, progress: bool) -> dict:
    return {
        "windows": tuple(cfg.features.windows),
        "min_history_days": cfg.features.min_history_days,
        "n_partitions": cfg.features.n_partitions,
        "n_jobs": cfg.features.n_jobs or 1,
        "progress": progress,
    }


def build_feature_frames(cfg: Config, tables, *, training=True, scoring=True, progress=False):
    """The training frame (features + labels over the training snapshots) and the scoring frame.

    Parameters
    ----------
    cfg : Config
    tables : Tables
    training, scoring : bool, default=True
        Which frames to build.
    progress : bool, default=False
        Progress bars.

    Returns
    -------
    (pandas.DataFrame or None, pandas.DataFrame or None)
    """
    from ..features import build_features, build_training_frame

    snaps, score_snap = snapshot_plan(cfg, tables)
    train = score = None
    if training:
        log.info(
            "training frame: %d snapshots %s .. %s, horizon %d days",
            len(snaps),
            snaps[0].date(),
            snaps[-1].date(),
            cfg.labels.horizon_days,
        )
        train = build_training_frame(
            tables,
            snaps,
            horizon_days=cfg.labels.horizon_days,
            churn_kinds=cfg.labels.churn_kinds,
            churn_usage_collapse=cfg.labels.churn_usage_collapse,
            **_feature_kwargs(cfg, progress),
        )
    if scoring:
        log.info("scoring frame at %s", score_snap.date())
        # the same churn kinds as the training frame: the same active population and
        # neighbour rates, or the scores would be made on other features than trained on
        score = build_features(
            tables, score_snap, churn_kinds=cfg.labels.churn_kinds, **_feature_kwargs(cfg, progress)
        )
    return train, score


def write_feature_outputs(paths: OutputPaths, train, score, windows=None) -> None:
    """Write the frames, the feature catalogue (for ``windows``) and the leakage report."""
    from ..export import write_frame
    from ..features import feature_catalog, leakage_report

    paths.training_frame.parent.mkdir(parents=True, exist_ok=True)
    if train is not None:
        train.to_parquet(paths.training_frame)  # the leakage report travels in its attrs
        write_frame(leakage_report(train), paths.leakage, "csv", decimals=None)
    if score is not None:
        score.to_parquet(paths.scoring_frame)
    catalog = feature_catalog() if windows is None else feature_catalog(windows=tuple(windows))
    write_frame(catalog, paths.catalog, "csv", decimals=None)

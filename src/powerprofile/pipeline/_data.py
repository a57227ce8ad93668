"""Pre-flight checks, loading, snapshot plan and feature frames."""

from __future__ import annotations

import logging

import pandas as pd

from ..config import Config
from ..exceptions import ConfigError
from ._paths import OutputPaths, _resolve

__all__ = [
    "build_feature_frames",
    "load_data",
    "preflight",
    "snapshot_plan",
    "write_feature_outputs",
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
        What the job will need.

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
        for c in (camp.score, *camp.columns):
            if c not in columns:
                raise ConfigError(
                    f"campaign {camp.name!r} in {str(cfg.export.campaigns)!r} uses column {c!r}, "
                    "which the portraits of this job will not have; see docs/portrait.md."
                )


def load_data(cfg: Config):
    """Load and validate the tables named by ``cfg.data``.

    Parameters
    ----------
    cfg : Config

    Returns
    -------
    Tables
    """
    from ..schema import load_tables

    log.info("loading %s (errors=%s)", cfg.data.path, cfg.data.errors)
    return load_tables(_resolve(cfg.data.path), errors=cfg.data.errors, data_end=cfg.data.data_end)


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
    end = _data_end(tables, cfg).normalize()
    limit = end + pd.Timedelta(days=1) - pd.Timedelta(days=cfg.labels.horizon_days)
    last = limit.to_period("M").to_timestamp()
    step = cfg.features.snapshot_interval_months
    snaps = [
        last - pd.DateOffset(months=step * i) for i in range(cfg.features.n_training_snapshots)
    ]
    snaps = sorted(pd.Timestamp(s) for s in snaps)
    start = pd.Timestamp(pd.to_datetime(tables.usage["date"]).min()) if len(tables.usage) else None
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
        "n_jobs": cfg.features.n_jobs,
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
    from ..features import feature_catalog, leakage_report

    paths.training_frame.parent.mkdir(parents=True, exist_ok=True)
    if train is not None:
        train.to_parquet(paths.training_frame)  # the leakage report travels in its attrs
        leakage_report(train).to_csv(paths.leakage, index=False)
    if score is not None:
        score.to_parquet(paths.scoring_frame)
    catalog = feature_catalog() if windows is None else feature_catalog(windows=tuple(windows))
    catalog.to_csv(paths.catalog, index=False, encoding="utf-8-sig")

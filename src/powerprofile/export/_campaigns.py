"""Campaign definitions (``configs/campaigns.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np
import pandas as pd

from ..config import bounded, from_mapping, read_yaml
from ..exceptions import ConfigError
from ..portraits import CONTACT_CHANNELS
from ..schema import PII_COLUMNS
from ._select import Selection, compile_selection

__all__ = ["CHANNELS", "OUTBOUND_CHANNELS", "Campaign", "CampaignSet", "load_campaigns"]

CHANNELS: tuple[str, ...] = CONTACT_CHANNELS
"""Outbound channels: SMS, 网上国网 app push, WeChat, 95598 call-back, grid-manager visit."""
OUTBOUND_CHANNELS: dict[str, tuple[str, str]] = {
    "sms": ("SMS", "短信"),
    "app_push": ("App push", "网上国网推送"),
    "wechat": ("WeChat", "微信"),
    "hotline_callback": ("95598 call-back", "95598回访"),
    "grid_manager": ("Grid-manager visit", "网格经理走访"),
}
"""Outbound channel code -> (English, Chinese) name: the one bilingual name of each channel."""
Channel = Literal[CONTACT_CHANNELS]
MAX_NAME_LENGTH = 100
"""Longest campaign name: file names ``<name>__<channel>.<ext>`` stay well under 255 bytes."""


@dataclass
class Campaign:
    """One campaign.

    Parameters
    ----------
    name : str
        Identifier (letters, digits, ``_``/``-``, at most 100 characters); used in file
        names.
    select : str
        Selection over portrait columns (see :mod:`powerprofile.export._select`).
    channels : list of str
        Target channels in order of preference; each selected customer goes to the
        first channel they are eligible for that still has capacity.
    score : str, default="churn_score"
        The campaign's calibrated score column: written to every file with its band,
        tested against ``min_score``, and the ranking unless ``rank_by`` says otherwise.
    rank_by : list of str or None, default=None
        Portrait columns (numbers or booleans, booleans count as 1/0) ranking the
        customers, highest first, the first column deciding and the next breaking its
        ties; None ranks by ``score``. Remaining ties go by ``customer_key``. Say it
        when the campaign's target is not what ``score`` predicts (an online-payment
        campaign ranks by what brings a customer close to paying online).
    capacity : int or dict of str to int or None, default=None
        Customers per channel per run (one number for all channels, or per channel);
        None: unlimited.
    priority : int, default=100
        Lower runs first and so wins customers under the frequency cap.
    min_score : float or None, default=None
        Customers scoring below are never selected.
    format : {"csv", "parquet", "jsonl"}, default="csv"
        File format, unless the job config sets one for all.
    columns : list of str, default=[]
        Extra portrait columns written to the file (raw PII columns are refused).
    title_en, title_zh : str, default=""
        Readable titles, written to the manifest, ``README.txt`` and the data dictionary.
    purpose_en, purpose_zh : str, default=""
        What the campaign is for and what the channel team should do with the list.
    control_share : float, default=0.1
        Share of the selected customers held out as a randomised control group (never
        contacted; listed in ``control_group``), 0 to 0.9; see
        :mod:`powerprofile.export._control`.
    control_strata : list of str or None, default=None
        Portrait columns stratifying the control group besides the intended channel;
        None: the score's band and ``region``.
    """

    name: str
    select: str
    channels: list[Channel]
    score: str = "churn_score"
    rank_by: list[str] | None = None
    capacity: int | dict[str, int] | None = field(
        default=None, metadata=bounded(0, 10**9, unit="customers")
    )
    priority: int = field(default=100, metadata=bounded(-1_000_000, 1_000_000))
    min_score: float | None = None
    format: Literal["csv", "parquet", "jsonl"] = "csv"
    columns: list[str] = field(default_factory=list)
    title_en: str = ""
    title_zh: str = ""
    purpose_en: str = ""
    purpose_zh: str = ""
    control_share: float = field(default=0.1, metadata=bounded(0.0, 0.9))
    control_strata: list[str] | None = None

    _config_label: ClassVar[str] = "campaign"  # errors name the campaign

    def _check(self, source, prefix):
        import re

        if not re.fullmatch(r"[A-Za-z0-9_\-]+", self.name):
            raise ConfigError(
                f"campaign name {self.name!r} in {str(source)!r} may use only letters, digits, '_' and '-'."
            )
        if len(self.name) > MAX_NAME_LENGTH:  # it names files: <name>__<channel>.parquet
            raise ConfigError(
                f"campaign name {self.name[:40]!r}... in {str(source)!r} has {len(self.name)} "
                f"characters, more than {MAX_NAME_LENGTH}; the file names built from it would "
                "be too long. Shorten it."
            )
        if not self.channels:
            raise ConfigError(f"campaign {self.name!r} in {str(source)!r} names no channel.")
        if len(set(self.channels)) != len(self.channels):
            raise ConfigError(
                f"campaign {self.name!r} in {str(source)!r} repeats a channel: {self.channels!r}."
            )
        if isinstance(self.capacity, dict):
            extra = sorted(set(self.capacity) - set(self.channels))
            if extra:
                raise ConfigError(
                    f"campaign {self.name!r} in {str(source)!r} gives a capacity for channel(s) "
                    f"{extra!r} it does not target ({self.channels!r})."
                )
        bad = sorted(set(self.columns) & set(PII_COLUMNS))
        if bad:
            raise ConfigError(
                f"campaign {self.name!r} in {str(source)!r} asks for raw PII column(s) {bad!r}; "
                "exports carry the pseudonymised customer_key, and phones only through the "
                "PII policy (export.allow_raw_phone)."
            )
        self._selection = compile_selection(self.select, name=self.name, source=source)

    @property
    def selection(self) -> Selection:
        """The compiled selection."""
        sel = getattr(self, "_selection", None)
        if sel is None:
            sel = self._selection = compile_selection(self.select, name=self.name)
        return sel

    @property
    def ranking(self) -> list[str]:
        """Columns ranking the customers, highest first (``rank_by``, else ``[score]``)."""
        return list(self.rank_by) if self.rank_by else [self.score]

    def rank_values(self, frame) -> list:
        """The ranking columns of ``frame`` as float arrays (booleans 1/0, missing NaN).

        Parameters
        ----------
        frame : pandas.DataFrame
            Portrait rows.

        Returns
        -------
        list of numpy.ndarray of float
            One array per column of :attr:`ranking`, in order.

        Raises
        ------
        ConfigError
            A ranking column is missing or holds text.
        """
        out = []
        for col in self.ranking:
            if col not in frame.columns:
                raise ConfigError(
                    f"campaign {self.name!r} ranks by {col!r}, which the portraits do not have; "
                    f"score columns present: "
                    f"{[c for c in frame.columns if str(c).endswith('_score')]!r}."
                )
            values = frame[col]
            if pd.api.types.is_bool_dtype(values.dtype):
                values = values.astype("Float64")
            elif not pd.api.types.is_numeric_dtype(values.dtype):
                raise ConfigError(
                    f"campaign {self.name!r} ranks by {col!r}, a {values.dtype} column; "
                    "rank_by takes number or yes/no columns."
                )
            out.append(pd.to_numeric(values).to_numpy(dtype=float, na_value=np.nan))
        return out

    def capacity_of(self, channel: str) -> int | None:
        """Capacity of ``channel`` in this campaign (None: unlimited)."""
        if isinstance(self.capacity, dict):
            return self.capacity.get(channel)
        return self.capacity


@dataclass
class CampaignSet:
    """All campaigns of one export.

    Parameters
    ----------
    campaigns : list of Campaign
        The campaigns; they run in ``priority`` order, then by name.
    frequency_cap : int, default=1
        Campaigns one customer may appear in per run.
    channel_capacity : dict of str to int, default={}
        Customers per channel per run across all campaigns.
    schema_version : str, default="1.0"
        Version of this file's format.
    """

    campaigns: list[Campaign]
    frequency_cap: int = field(default=1, metadata=bounded(1, 1000))
    channel_capacity: dict[str, int] = field(
        default_factory=dict, metadata=bounded(0, 10**9, unit="customers")
    )
    schema_version: str = "1.0"

    def _check(self, source, prefix):
        names = [c.name for c in self.campaigns]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigError(f"campaign name(s) {dup!r} appear twice in {str(source)!r}.")
        bad = sorted(set(self.channel_capacity) - set(CHANNELS))
        if bad:
            raise ConfigError(
                f"channel_capacity in {str(source)!r} names unknown channel(s) {bad!r}; channels are {CHANNELS!r}."
            )

    def ordered(self) -> list[Campaign]:
        """Campaigns in run order (priority, then name)."""
        return sorted(self.campaigns, key=lambda c: (c.priority, c.name))


def load_campaigns(path) -> CampaignSet:
    """Read and check a campaigns file.

    Parameters
    ----------
    path : str or path-like
        YAML file (see ``docs/export.md``).

    Returns
    -------
    CampaignSet

    Raises
    ------
    ConfigError
        Missing file, unknown key, wrong type, bad selection expression.
    """
    data = read_yaml(path, what="campaigns")
    return from_mapping(CampaignSet, data, source=str(path))

"""Channel KPIs (渠道运营指标) from interactions, payments and customers.

Everything is vectorised: one pass of ``groupby``/``bincount`` per KPI, no loop over
customers or rows. The public entry point is :func:`channel_kpis`; the helpers
:func:`payment_channel_mix` and :func:`contact_type_mix` give the mixes shown in the
report, and :data:`KPI_LABELS` names every KPI in English and Chinese.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError
from ..features import contact_codes, repeat_contact_flags
from ..schema._contract import (
    CHANNELS,
    CONTACT_TYPES,
    ONLINE_CHANNELS,
    ONLINE_PAYMENT_CHANNELS,
    PAYMENT_CHANNELS,
)

__all__ = [
    "KPI_COLUMNS",
    "KPI_LABELS",
    "REPORT_GROUPINGS",
    "KpiAggregates",
    "channel_kpi_counts",
    "channel_kpis",
    "contact_type_mix",
    "first_activity_month",
    "payment_channel_mix",
]

_CUSTOMER_KEYS = ("region", "grid_unit", "customer_type")
_ALLOWED_BY = ("month", "channel", *_CUSTOMER_KEYS)

KPI_COLUMNS = (
    "customers",
    "active_customers",
    "contacting_customers",
    "contacts",
    "contacts_per_1000",
    "digital_adoption",
    "payments",
    "online_payment_share",
    "complaints",
    "complaints_per_10000",
    "repeat_contact_rate_7d",
    "mean_satisfaction",
)
"""The KPI columns of :func:`channel_kpis`, in output order."""

KPI_LABELS = {
    "customers": ("Customers in service", "在册用户数"),
    "active_customers": ("Active customers", "活跃用户数"),
    "contacting_customers": ("Customers who made contact", "接触用户数"),
    "contacts": ("Contacts", "接触次数"),
    "contacts_per_1000": ("Contacts per 1,000 customers", "千户接触量"),
    "digital_adoption": ("Digital adoption", "线上化率"),
    "payments": ("Payments", "缴费笔数"),
    "online_payment_share": ("Online payment share", "线上缴费占比"),
    "complaints": ("Complaints", "投诉次数"),
    "complaints_per_10000": ("Complaints per 10,000 customers", "万户投诉量"),
    "repeat_contact_rate_7d": ("Repeat-contact rate (7 days)", "7日重复来电率"),
    "mean_satisfaction": ("Mean satisfaction (1-5)", "平均满意度"),
}
"""KPI column -> (English label, Chinese label)."""

# payment channels that are also service channels (a payment there makes the customer
# active on that service channel)
_PAYMENT_TO_SERVICE = {"app": "app", "wechat": "wechat", "counter": "counter"}


def _table(tables, name: str) -> pd.DataFrame:
    try:
        df = tables[name]
    except (KeyError, TypeError) as exc:
        raise DataValidationError(
            f"channel_kpis needs the {name!r} table; got {type(tables).__name__} without it. "
            "Pass the validated Tables from powerprofile.load_tables(...)."
        ) from exc
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(
            f"table {name!r} must be a pandas DataFrame, got {type(df).__name__}; "
            "pass the validated Tables from powerprofile.load_tables(...)."
        )
    return df


def _require(df: pd.DataFrame, table: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"table {table!r} lacks column(s) {missing!r} needed for channel KPIs "
            f"(has {list(df.columns)!r}); validate the data with powerprofile.load_tables first."
        )


def _month_start(values) -> np.ndarray:
    """Month start (datetime64[M]) of each timestamp, NaT preserved."""
    return pd.to_datetime(values).to_numpy().astype("datetime64[M]")


def _positions(ids: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each id in ``index`` (-1 when absent); Arrow's hash lookup is fast."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pos = pc.index_in(pa.array(ids.astype("string")), value_set=pa.array(index.astype("string")))
    return pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _check_by(by) -> tuple[str, ...]:
    if isinstance(by, str):
        by = (by,)
    by = tuple(by)
    bad = [b for b in by if b not in _ALLOWED_BY]
    if bad or len(set(by)) != len(by):
        raise ValueError(
            f"by={by!r} is not valid: each key must be one of {_ALLOWED_BY!r}, without repeats."
        )
    return by


def _customer_periods(
    customers: pd.DataFrame,
    events: pd.DataFrame | None,
    months: np.ndarray,
    exit_kinds: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """First and last month index (into ``months``) each customer is in service.

    A customer is in service in a month when supply started on or before the month's
    last day and no exit event is dated before the month's first day. Returns
    ``(first, last)``; ``first > last`` means never in service in the range.
    """
    n_months = len(months)
    start = _month_start(customers["supply_start"])
    first = np.searchsorted(months, start, side="left").astype(np.int64)
    first[np.isnat(start)] = 0  # unknown supply start: in service from the range start
    last = np.full(len(customers), n_months - 1, dtype=np.int64)
    if events is not None and len(events) and "kind" in events.columns:
        ev = events[events["kind"].astype("string").isin(list(exit_kinds))]
        if len(ev):
            first_exit = ev.groupby(ev["customer_id"].astype("string"), sort=False)["date"].min()
            exit_month = _month_start(first_exit.to_numpy())
            exit_idx = np.searchsorted(months, exit_month, side="left")
            # a customer leaving during month m is still counted in m, not after
            pos = pd.Index(customers["customer_id"].astype("string")).get_indexer(first_exit.index)
            ok = pos >= 0
            # months are contiguous: the exit month is in range (exact) or outside it
            in_range = exit_idx < n_months
            exact = np.zeros(len(exit_idx), dtype=bool)
            exact[in_range] = months[exit_idx[in_range]] == exit_month[in_range]
            last_idx = np.where(exact, exit_idx, exit_idx - 1)
            last[pos[ok]] = np.minimum(last[pos[ok]], last_idx[ok])
    return first, last


def channel_kpis(
    tables,
    by: Sequence[str] | str = ("month", "channel"),
    *,
    start=None,
    end=None,
    mostly_online: float = 0.5,
    repeat_window_days: float = 7.0,
    exit_kinds: Sequence[str] = ("closure",),
) -> pd.DataFrame:
    """Channel operation KPIs per month, channel, region, grid unit or customer type.

    Parameters
    ----------
    tables : Tables or mapping of str to DataFrame
        Validated tables (``powerprofile.load_tables``); uses ``customers``,
        ``interactions``, ``payments`` and, when present, ``events``.
    by : sequence of str, default=("month", "channel")
        Grouping keys, any of ``"month"`` (calendar month of the contact or payment,
        as the month's first day), ``"channel"`` (service channel: hotline_95598,
        app, wechat, counter, grid_manager), ``"region"``, ``"grid_unit"`` and
        ``"customer_type"`` (the customer's attributes in ``customers``). An empty
        tuple gives one row for the whole period.
    start, end : str or Timestamp or None, default=None
        First and last day to cover (inclusive). Default: the first month with a
        contact or payment, and ``tables.data_end`` (or the last contact or payment).
        Whole calendar months are used.
    mostly_online : float, default=0.5
        A contacting customer counts as digitally adopted in a period when **strictly
        more than** this share of their contacts in the period came through the online
        channels (app, WeChat). With the default, 2 online out of 3 contacts is
        adopted, 1 out of 2 is not.
    repeat_window_days : float, default=7.0
        A contact is a repeat contact when the same customer's previous contact
        (through any channel) happened at most this many days earlier. Contacts with
        the same timestamp are ordered by channel, then type, in the contract's order
        (the later one is the repeat). The rule is
        :func:`powerprofile.features.repeat_contact_flags`, the one the
        ``repeat_contacts_<w>d`` features use.
    exit_kinds : sequence of str, default=("closure",)
        Event kinds that end a customer's service.

    Returns
    -------
    pandas.DataFrame
        Tidy frame, one row per combination of the ``by`` keys (every month in range
        and every channel appear, with zero counts where nothing happened; groups of
        region, grid unit and customer type appear when they have a customer in
        service), sorted by the keys. Columns: the keys, then

        ``customers``
            customers in service (supply started on or before the month's last day, no
            exit event before its first day; without ``month`` in ``by``: in service
            in any month of the range). Never split by channel.
        ``active_customers``
            distinct customers who contacted the utility **or paid** through the
            channel in the period (payments through app, WeChat and counter count for
            those service channels; without ``channel`` in ``by`` every contact and
            payment counts).
        ``contacting_customers``
            distinct customers with at least one contact (through the channel).
        ``contacts``, ``contacts_per_1000``
            contacts (through the channel), and per 1,000 customers in service.
        ``digital_adoption``
            share of contacting customers (any channel) whose contacts in the period
            are mostly online (see ``mostly_online``). Not split by channel: with
            ``channel`` in ``by`` each channel row repeats its cell's value.
        ``payments``, ``online_payment_share``
            payments, and the share of them made through app, WeChat, Alipay or bank
            withholding (by count). Not split by channel (repeated, as above).
        ``complaints``, ``complaints_per_10000``
            contacts of type complaint (through the channel), and per 10,000 customers
            in service.
        ``repeat_contact_rate_7d``
            share of contacts (through the channel) that are repeat contacts; the
            previous contact may lie before the period.
        ``mean_satisfaction``
            mean of the non-missing satisfaction scores (1-5) of the contacts.

        Ratios with a zero denominator are NaN. ``month`` is ``datetime64``,
        ``channel`` and ``customer_type`` are ``category``.

    Raises
    ------
    DataValidationError
        If a needed table or column is missing.
    ValueError
        If ``by`` names an unknown key.

    Examples
    --------
    >>> import powerprofile as pp
    >>> tables = pp.load_tables("data/sample")  # doctest: +SKIP
    >>> pp.channel_kpis(tables, by=("month", "region"))  # doctest: +SKIP
    """
    by = _check_by(by)
    if isinstance(tables, KpiAggregates):
        return tables.kpis(by)
    counts = channel_kpi_counts(
        tables,
        by,
        start=start,
        end=end,
        mostly_online=mostly_online,
        repeat_window_days=repeat_window_days,
        exit_kinds=exit_kinds,
    )
    return _kpis_from_counts(counts, by, _key_dtypes(_table(tables, "customers"), by))


_COUNT_COLUMNS = (
    "customers",
    "active_customers",
    "contacting_customers",
    "contacts",
    "complaints",
    "repeats",
    "sat_n",
    "sat_sum",
    "adopters",
    "contacting_any",
    "payments",
    "online_payments",
)
"""What :func:`channel_kpi_counts` counts per group: every KPI is a ratio of these."""


def _key_dtypes(customers: pd.DataFrame, by) -> dict:
    return {k: customers[k].dtype for k in by if k in _CUSTOMER_KEYS}


def first_activity_month(tables):
    """The first month with a contact or a payment (``numpy.datetime64[M]``), or None.

    The default ``start`` of :func:`channel_kpis`; the smallest over a partition's
    parts is that of the whole folder.
    """
    i_month = _month_start(_table(tables, "interactions")["timestamp"])
    p_month = _month_start(_table(tables, "payments")["date"])
    cand = np.concatenate([i_month[~np.isnat(i_month)], p_month[~np.isnat(p_month)]])
    return cand.min() if len(cand) else None


def channel_kpi_counts(
    tables,
    by: Sequence[str] | str = ("month", "channel"),
    *,
    start=None,
    end=None,
    mostly_online: float = 0.5,
    repeat_window_days: float = 7.0,
    exit_kinds: Sequence[str] = ("closure",),
) -> pd.DataFrame:
    """The counts behind :func:`channel_kpis`, additive over customer partitions.

    Parameters and defaults as for :func:`channel_kpis`. Counts of tables holding
    disjoint sets of customers (the parts of a partitioned folder) add up, per
    group, to the counts of their union, provided ``start`` and ``end`` are the
    same for every part (:func:`first_activity_month`); :class:`KpiAggregates`
    sums them and turns them into the KPIs.

    Returns
    -------
    pandas.DataFrame
        One row per group of the full grid (every month, cell and channel, before
        empty cells are dropped): the keys (customer keys as plain values) and the
        counts of :data:`_COUNT_COLUMNS` (``sat_sum`` a float sum).
    """
    by = _check_by(by)
    customers = _table(tables, "customers")
    inter = _table(tables, "interactions")
    pays = _table(tables, "payments")
    try:
        events = tables["events"]
    except (KeyError, TypeError):
        events = None
    _require(customers, "customers", ("customer_id", "supply_start", *_CUSTOMER_KEYS))
    _require(inter, "interactions", ("customer_id", "timestamp", "channel", "type"))
    _require(pays, "payments", ("customer_id", "date", "channel"))

    # ---- the month range -------------------------------------------------------
    i_month = _month_start(inter["timestamp"])
    p_month = _month_start(pays["date"])
    if start is None:
        cand = np.concatenate([i_month[~np.isnat(i_month)], p_month[~np.isnat(p_month)]])
        start_m = cand.min() if len(cand) else None
    else:
        start_m = np.datetime64(pd.Timestamp(start).to_period("M").start_time, "M")
    if end is None:
        data_end = getattr(tables, "data_end", None)
        if data_end is not None and not pd.isna(data_end):
            end_m = np.datetime64(pd.Timestamp(data_end).to_period("M").start_time, "M")
        else:
            cand = np.concatenate([i_month[~np.isnat(i_month)], p_month[~np.isnat(p_month)]])
            end_m = cand.max() if len(cand) else None
    else:
        end_m = np.datetime64(pd.Timestamp(end).to_period("M").start_time, "M")
    if start_m is None or end_m is None or end_m < start_m:
        months = np.array([], dtype="datetime64[M]")
    else:
        months = np.arange(start_m, end_m + 1, dtype="datetime64[M]")
    n_months = len(months)
    per_month = "month" in by
    n_periods = n_months if per_month else 1

    # ---- customer attribute codes ----------------------------------------------
    cust_keys = [k for k in by if k in _CUSTOMER_KEYS]
    cust_ids = pd.Index(customers["customer_id"].astype("string"))
    if cust_keys:
        key_frame = customers[cust_keys].reset_index(drop=True)
        cell_codes, cell_uniques = pd.MultiIndex.from_frame(key_frame).factorize(sort=True)
        cell_codes = np.asarray(cell_codes, dtype=np.int64)
        cell_uniques = pd.MultiIndex.from_tuples(list(cell_uniques), names=cust_keys)
    else:
        cell_codes = np.zeros(len(customers), dtype=np.int64)
        cell_uniques = None
    n_cells = 1 if cell_uniques is None else len(cell_uniques)
    n_ch = len(CHANNELS) if "channel" in by else 1
    shape = (n_periods, n_cells, n_ch)
    size = int(np.prod(shape))

    # ---- customers in service per (period, cell) --------------------------------
    first, last = _customer_periods(customers, events, months, exit_kinds)
    valid_cell = cell_codes >= 0
    if per_month:
        diff = np.zeros((n_months + 1, n_cells), dtype=np.int64)
        ok = (first <= last) & valid_cell
        np.add.at(diff, (first[ok], cell_codes[ok]), 1)
        np.add.at(diff, (last[ok] + 1, cell_codes[ok]), -1)
        base = np.cumsum(diff, axis=0)[:n_months]
    else:
        ok = (first <= last) & valid_cell
        base = np.bincount(cell_codes[ok], minlength=n_cells)[None, :]

    # ---- contacts ----------------------------------------------------------------
    def _locate(ids, month_values):
        """Period index and cell code per row; -1 when outside range/unknown."""
        pos = _positions(ids, cust_ids)
        cell = np.where(pos >= 0, cell_codes[np.maximum(pos, 0)], -1)
        if n_months == 0:
            period = np.full(len(ids), -1, dtype=np.int64)
        else:
            idx = np.searchsorted(months, month_values, side="left")
            inside = (~np.isnat(month_values)) & (idx < n_months)
            inside[inside] &= months[idx[inside]] == month_values[inside]
            period = np.where(inside, idx if per_month else 0, -1)
        return pos, period.astype(np.int64), cell

    # repeat flag over the whole table (previous contact may precede the period), by
    # the one repeat-contact rule of the features (ties ordered by channel, then type)
    ch_all = contact_codes(inter["channel"], CHANNELS)
    ty_all = contact_codes(inter["type"], CONTACT_TYPES)
    i_pos, i_period, i_cell = _locate(inter["customer_id"], i_month)
    cid_codes = i_pos.astype(np.int64)  # ints sort fast; orphans get their own codes
    if (i_pos < 0).any():
        orphan = i_pos < 0
        cid_codes[orphan] = len(cust_ids) + pd.factorize(inter["customer_id"][orphan])[0]
    repeat = repeat_contact_flags(
        cid_codes, inter["timestamp"], ch_all, ty_all, window_days=repeat_window_days
    )

    ch_code = ch_all
    keep = (i_period >= 0) & (i_cell >= 0) & (ch_code >= 0)
    i_ch = ch_code if "channel" in by else np.zeros(len(inter), dtype=np.int64)
    flat = (
        np.ravel_multi_index((i_period[keep], i_cell[keep], np.asarray(i_ch)[keep]), shape)
        if size
        else np.array([], dtype=np.int64)
    )
    is_complaint = (ty_all == CONTACT_TYPES.index("complaint"))[keep]
    sat = (
        pd.to_numeric(inter["satisfaction"], errors="coerce").to_numpy(float)[keep]
        if "satisfaction" in inter.columns
        else np.full(int(keep.sum()), np.nan)
    )
    contacts = np.bincount(flat, minlength=size)
    complaints = np.bincount(flat, weights=is_complaint, minlength=size)
    repeats = np.bincount(flat, weights=repeat[keep], minlength=size)
    has_sat = ~np.isnan(sat)
    sat_n = np.bincount(flat[has_sat], minlength=size)
    sat_sum = np.bincount(flat[has_sat], weights=sat[has_sat], minlength=size)

    # distinct customers per (period, cell, channel) with a contact
    c_pos = i_pos[keep].astype(np.int64)
    n_cust = max(len(cust_ids), 1)
    pair = pd.unique(flat.astype(np.int64) * n_cust + c_pos)  # distinct (cell, customer)
    contacting = np.bincount(pair // n_cust, minlength=size)

    # ---- digital adoption: per (customer, period), over every channel ------------
    is_online = np.isin(ch_code, [CHANNELS.index(c) for c in ONLINE_CHANNELS])[keep]
    cp_codes, cp_keys = pd.factorize(c_pos * n_periods + i_period[keep])
    n_online = np.bincount(cp_codes, weights=is_online, minlength=len(cp_keys))
    n_all = np.bincount(cp_codes, minlength=len(cp_keys))
    adopted = n_online / np.maximum(n_all, 1) > mostly_online
    cp_keys = np.asarray(cp_keys, dtype=np.int64)
    cell2 = (cp_keys % n_periods) * n_cells + cell_codes[cp_keys // n_periods]
    adopters = np.bincount(cell2, weights=adopted, minlength=n_periods * n_cells)
    contacting_any = np.bincount(cell2, minlength=n_periods * n_cells)

    # ---- payments -----------------------------------------------------------------
    p_pos, p_period, p_cell = _locate(pays["customer_id"], p_month)
    pch = contact_codes(pays["channel"], PAYMENT_CHANNELS)
    p_keep = (p_period >= 0) & (p_cell >= 0) & (pch >= 0)
    p_cell2 = (
        np.ravel_multi_index((p_period[p_keep], p_cell[p_keep]), (n_periods, n_cells))
        if (n_periods * n_cells)
        else np.array([], dtype=np.int64)
    )
    online_pay = np.isin(pch, [PAYMENT_CHANNELS.index(c) for c in ONLINE_PAYMENT_CHANNELS])[p_keep]
    payments = np.bincount(p_cell2, minlength=n_periods * n_cells)
    online_payments = np.bincount(p_cell2, weights=online_pay, minlength=n_periods * n_cells)

    # ---- active customers: contacts or payments through the channel --------------
    if "channel" in by:
        to_service = np.array(
            [
                CHANNELS.index(_PAYMENT_TO_SERVICE[c]) if c in _PAYMENT_TO_SERVICE else -1
                for c in PAYMENT_CHANNELS
            ]
            + [-1]
        )  # payment-channel code -> service-channel code (last entry: missing, code -1)
        svc = to_service[pch][p_keep]
        has_svc = svc >= 0
        pay_flat = (
            np.ravel_multi_index(
                (p_period[p_keep][has_svc], p_cell[p_keep][has_svc], svc[has_svc]), shape
            )
            if size
            else np.array([], dtype=np.int64)
        )
        pay_cust = p_pos[p_keep][has_svc]
    else:
        pay_flat = (
            np.ravel_multi_index(
                (p_period[p_keep], p_cell[p_keep], np.zeros(int(p_keep.sum()), dtype=np.int64)),
                shape,
            )
            if size
            else np.array([], dtype=np.int64)
        )
        pay_cust = p_pos[p_keep]
    act = pd.unique(
        np.concatenate([pair, pay_flat.astype(np.int64) * n_cust + pay_cust.astype(np.int64)])
    )
    active = np.bincount(act // n_cust, minlength=size)

    # ---- counts per group ---------------------------------------------------------------
    def _cellwise(values):  # (n_periods * n_cells) -> broadcast over channels
        return np.repeat(np.asarray(values), n_ch)

    out = {
        "customers": np.repeat(base.reshape(-1), n_ch).astype(np.int64),
        "active_customers": active.astype(np.int64),
        "contacting_customers": contacting.astype(np.int64),
        "contacts": contacts.astype(np.int64),
        "complaints": complaints.astype(np.int64),
        "repeats": repeats.astype(np.int64),
        "sat_n": sat_n.astype(np.int64),
        "sat_sum": sat_sum.astype(float),
        "adopters": _cellwise(adopters).astype(np.int64),
        "contacting_any": _cellwise(contacting_any).astype(np.int64),
        "payments": _cellwise(payments).astype(np.int64),
        "online_payments": _cellwise(online_payments).astype(np.int64),
    }
    keys: dict[str, np.ndarray] = {}
    p_idx, c_idx, ch_idx = np.unravel_index(np.arange(size), shape)
    if per_month:
        keys["month"] = months[p_idx].astype("datetime64[us]")
    if cell_uniques is not None:
        for j, name in enumerate(cust_keys):
            level = cell_uniques.get_level_values(j)
            keys[name] = np.asarray(level)[c_idx]
    if "channel" in by:
        keys["channel"] = np.asarray(CHANNELS, dtype=object)[ch_idx]
    frame = pd.DataFrame({**keys, **out})
    if per_month:
        frame["month"] = pd.to_datetime(frame["month"])
    return frame


def _kpis_from_counts(counts: pd.DataFrame, by: tuple, key_dtypes: dict) -> pd.DataFrame:
    """The KPI frame of :func:`channel_kpis` from (summed) :func:`channel_kpi_counts`."""
    cust_keys = [k for k in by if k in _CUSTOMER_KEYS]
    c = {k: counts[k].to_numpy() for k in _COUNT_COLUMNS}
    base = c["customers"].astype(float)
    contacts, complaints = c["contacts"], c["complaints"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "customers": c["customers"].astype(np.int64),
            "active_customers": c["active_customers"].astype(np.int64),
            "contacting_customers": c["contacting_customers"].astype(np.int64),
            "contacts": contacts.astype(np.int64),
            "contacts_per_1000": np.where(base > 0, contacts / base * 1_000, np.nan),
            "digital_adoption": np.where(
                c["contacting_any"] > 0,
                c["adopters"] / np.maximum(c["contacting_any"], 1),
                np.nan,
            ),
            "payments": c["payments"].astype(np.int64),
            "online_payment_share": np.where(
                c["payments"] > 0,
                c["online_payments"] / np.maximum(c["payments"], 1),
                np.nan,
            ),
            "complaints": complaints.astype(np.int64),
            "complaints_per_10000": np.where(base > 0, complaints / base * 10_000, np.nan),
            "repeat_contact_rate_7d": np.where(
                contacts > 0, c["repeats"] / np.maximum(contacts, 1), np.nan
            ),
            "mean_satisfaction": np.where(
                c["sat_n"] > 0, c["sat_sum"] / np.maximum(c["sat_n"], 1), np.nan
            ),
        }
    frame = pd.DataFrame({**{k: counts[k].to_numpy() for k in by}, **out})
    if "month" in by:
        frame["month"] = pd.to_datetime(frame["month"])
    if "channel" in frame:
        frame["channel"] = pd.Categorical(frame["channel"], categories=CHANNELS)
    for name in cust_keys:
        dtype = key_dtypes.get(name)
        if isinstance(dtype, pd.CategoricalDtype):
            frame[name] = pd.Categorical(frame[name], categories=dtype.categories)
        else:
            frame[name] = frame[name].astype("string")
    # drop customer cells with nobody in service and no activity at all
    if cust_keys:
        cell_tot = (
            frame.groupby(cust_keys, observed=True, sort=False)[
                ["customers", "contacts", "payments"]
            ]
            .transform("sum")
            .sum(axis=1)
        )
        frame = frame[cell_tot.to_numpy() > 0]
    return frame[[*by, *KPI_COLUMNS]].sort_values(list(by), kind="stable").reset_index(drop=True)


class KpiAggregates:
    """Channel KPIs and the payment mix summed from the parts of a partitioned folder.

    Stands in for the tables wherever the report computes KPIs
    (:func:`channel_kpis` and :func:`payment_channel_mix` accept it), so the report
    of a streamed job comes from per-part counts: :meth:`add` takes one part's
    tables at a time and keeps only its counts per group.

    Parameters
    ----------
    by : sequence of tuple of str
        The groupings to keep (:data:`REPORT_GROUPINGS` for the report).
    start, end : date-like
        The months covered, the same for every part (see :func:`channel_kpi_counts`).
    customers : pandas.DataFrame
        The whole ``customers`` table (customer-key types, and the report's
        customer count).
    rows : dict of str to int, default={}
        Rows per table (the report's validation section).
    data_end : date-like or None, default=None
    **kwargs
        ``mostly_online``, ``repeat_window_days``, ``exit_kinds`` of
        :func:`channel_kpis`.
    """

    def __init__(self, by, *, start, end, customers, rows=None, data_end=None, **kwargs):
        self.groupings = [_check_by(b) for b in by]
        self.start, self.end, self.kwargs = start, end, kwargs
        self.customers = customers
        self.rows = dict(rows or {})
        self.data_end = data_end
        self._counts: dict[tuple, list] = {b: [] for b in self.groupings}
        self._pay: list = []

    def add(self, tables) -> None:
        """Count one part (a mapping with ``customers``, ``interactions``, ``payments``, ``events``)."""
        for b in self.groupings:
            counts = channel_kpi_counts(tables, b, start=self.start, end=self.end, **self.kwargs)
            # the part's counts per group, summed with the earlier parts' (small)
            self._counts[b] = [_sum_groups([*self._counts[b], counts], b)]
        mix = payment_channel_mix(tables, by=("month",), _counts_only=True)
        self._pay = [_sum_groups([*self._pay, mix], ("month", "payment_channel"))]

    def kpis(self, by) -> pd.DataFrame:
        """The :func:`channel_kpis` frame of the whole folder for grouping ``by``."""
        by = _check_by(by)
        if by not in self._counts:
            raise ValueError(
                f"KPIs by {by!r} were not counted; counted groupings: {self.groupings!r}."
            )
        if not self._counts[by]:
            raise ValueError("no part was added to the KPI aggregates.")
        return _kpis_from_counts(self._counts[by][0], by, _key_dtypes(self.customers, by))

    def kpis_regrouped(self, by, key: str, mapping) -> pd.DataFrame:
        """:meth:`kpis` by ``by`` after each value of ``key`` is replaced by ``mapping``'s.

        The counts are summed per new group before the KPIs are taken, so the KPIs of
        a coarser unit made of whole groups of ``key`` (a city's grid units: a customer
        belongs to one of each) are those of its customers, as :func:`channel_kpis`
        would give with the coarser unit in the customers' ``key`` column.

        Parameters
        ----------
        by : tuple of str
            A counted grouping holding ``key``.
        key : str
            A customer key of ``by`` (e.g. ``"grid_unit"``).
        mapping : pandas.Series
            The new value of each value of ``key`` (index: the old values, as text).

        Returns
        -------
        pandas.DataFrame
            As :meth:`kpis`, ``key`` holding the new values as text.
        """
        by = _check_by(by)
        counts = self.counts(by).copy()
        counts[key] = counts[key].astype("string").map(mapping).astype("string")
        summed = counts.groupby(list(by), sort=False, dropna=False, observed=True).sum()
        return _kpis_from_counts(summed.reset_index(), by, {})

    @classmethod
    def from_counts(cls, counts, payment_counts, **kwargs) -> KpiAggregates:
        """Aggregates from counts summed elsewhere (a Spark aggregation of the parts' counts).

        Parameters
        ----------
        counts : mapping of tuple of str to pandas.DataFrame
            Per grouping, the :meth:`counts` of every part summed per group.
        payment_counts : pandas.DataFrame
            The :meth:`payment_counts` of every part summed per month and channel.
        **kwargs
            As for the constructor (``start``, ``end``, ``customers``, ...).

        Returns
        -------
        KpiAggregates
        """
        agg = cls(list(counts), **kwargs)
        agg._counts = {_check_by(b): [c] for b, c in counts.items()}
        pay = payment_counts.copy()
        pay["payment_channel"] = pd.Categorical(
            pay["payment_channel"].astype("string"), categories=PAYMENT_CHANNELS
        )
        agg._pay = [pay]
        return agg

    def counts(self, by) -> pd.DataFrame:
        """The counts per group behind :meth:`kpis` (:func:`channel_kpi_counts`, summed)."""
        by = _check_by(by)
        if not self._counts.get(by):
            raise ValueError(f"KPIs by {by!r} were not counted; counted: {self.groupings!r}.")
        return self._counts[by][0]

    def payment_counts(self) -> pd.DataFrame:
        """Payments and amount per month and payment channel (summed, before shares)."""
        if not self._pay:
            raise ValueError("no part was added to the KPI aggregates.")
        return self._pay[0]

    def payment_mix(self) -> pd.DataFrame:
        """The :func:`payment_channel_mix` frame by month of the whole folder."""
        pay = self._pay[0].sort_values(["month", "payment_channel"], kind="stable")
        return _mix_shares(pay, ("month",), "payments")

    def __getitem__(self, name):
        if name == "customers":
            return self.customers
        raise KeyError(name)

    def items(self):
        """(table, rows) pairs, the rows as a sized range (for row counts)."""
        return [(k, range(n)) for k, n in self.rows.items()]


REPORT_GROUPINGS = (
    ("month", "channel"),
    ("month",),
    ("month", "region"),
    ("month", "grid_unit"),
    ("month", "customer_type"),
    ("region",),
    ("customer_type",),
    ("grid_unit",),
)
"""The KPI groupings the report shows."""


def _sum_groups(frames: list, by) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0]
    df = pd.concat(frames, ignore_index=True)
    if not by:
        return df.sum(numeric_only=True).to_frame().T
    keys = list(by)
    return df.groupby(keys, sort=False, dropna=False, observed=True).sum().reset_index()


def payment_channel_mix(
    tables, by: Sequence[str] | str = ("month",), *, _counts_only: bool = False
) -> pd.DataFrame:
    """Share of payments per payment channel.

    Parameters
    ----------
    tables : Tables or mapping of str to DataFrame
        Validated tables; uses ``payments`` (and ``customers`` for customer keys).
    by : sequence of str, default=("month",)
        Any of ``"month"``, ``"region"``, ``"grid_unit"``, ``"customer_type"``.

    Returns
    -------
    pandas.DataFrame
        Tidy frame: the keys, ``payment_channel`` (app, wechat, alipay,
        bank_withholding, counter), ``payments`` (count), ``amount`` (sum) and
        ``share`` (of the count within the keys' group; NaN when the group has none).
    """
    by = tuple(b for b in _check_by(by) if b != "channel")
    if isinstance(tables, KpiAggregates) and by == ("month",):
        return tables.payment_mix()
    pays = _table(tables, "payments")
    _require(pays, "payments", ("customer_id", "date", "channel", "amount"))
    df = pd.DataFrame(
        {
            "payment_channel": pd.Categorical(
                pays["channel"].astype("string"), categories=PAYMENT_CHANNELS
            ),
            "amount": pd.to_numeric(pays["amount"], errors="coerce"),
        }
    )
    df = _attach_keys(df, tables, pays, "date", by)
    g = df.groupby([*by, "payment_channel"], observed=False, sort=True)
    out = g.agg(payments=("amount", "size"), amount=("amount", "sum")).reset_index()
    return out if _counts_only else _mix_shares(out, by, "payments")


def _mix_shares(out: pd.DataFrame, by, count: str) -> pd.DataFrame:
    """Add ``share``: each row's ``count`` over its ``by`` group's total (NaN for none)."""
    out = out.reset_index(drop=True)
    tot = out.groupby(list(by), observed=True)[count].transform("sum") if by else out[count].sum()
    out["share"] = np.where(np.asarray(tot) > 0, out[count] / np.maximum(tot, 1), np.nan)
    return out


def contact_type_mix(tables, by: Sequence[str] | str = ("channel",)) -> pd.DataFrame:
    """Contacts per contact type (inquiry, outage report, …, complaint).

    Parameters
    ----------
    tables : Tables or mapping of str to DataFrame
        Validated tables; uses ``interactions`` (and ``customers`` for customer keys).
    by : sequence of str, default=("channel",)
        Any of ``"month"``, ``"channel"``, ``"region"``, ``"grid_unit"``,
        ``"customer_type"``.

    Returns
    -------
    pandas.DataFrame
        Tidy frame: the keys, ``type``, ``contacts`` and ``share`` (within the keys'
        group; NaN when the group has none).
    """
    by = _check_by(by)
    inter = _table(tables, "interactions")
    _require(inter, "interactions", ("customer_id", "timestamp", "channel", "type"))
    df = pd.DataFrame(
        {"type": pd.Categorical(inter["type"].astype("string"), categories=CONTACT_TYPES)}
    )
    if "channel" in by:
        df["channel"] = pd.Categorical(inter["channel"].astype("string"), categories=CHANNELS)
    df = _attach_keys(df, tables, inter, "timestamp", tuple(b for b in by if b != "channel"))
    out = df.groupby([*by, "type"], observed=False, sort=True).size().rename("contacts")
    out = out.reset_index()
    tot = (
        out.groupby(list(by), observed=True)["contacts"].transform("sum")
        if by
        else out["contacts"].sum()
    )
    out["share"] = np.where(np.asarray(tot) > 0, out["contacts"] / np.maximum(tot, 1), np.nan)
    return out


def _attach_keys(df, tables, src, time_col, by):
    """Add month and customer-attribute key columns of ``src`` rows to ``df``."""
    if "month" in by:
        df["month"] = pd.to_datetime(_month_start(src[time_col]).astype("datetime64[us]"))
    cust_keys = [k for k in by if k in _CUSTOMER_KEYS]
    if cust_keys:
        customers = _table(tables, "customers")
        _require(customers, "customers", ("customer_id", *cust_keys))
        lookup = customers.set_index(customers["customer_id"].astype("string"))[cust_keys]
        pos = lookup.index.get_indexer(pd.Index(src["customer_id"].astype("string")))
        for k in cust_keys:
            col = lookup[k].iloc[np.maximum(pos, 0)].reset_index(drop=True)
            col = col.where(pd.Series(pos >= 0))
            df[k] = col.to_numpy() if not isinstance(col.dtype, pd.CategoricalDtype) else col.array
    return df

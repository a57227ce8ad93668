"""Campaign ground truth: each customer's true effect of each outbound channel, and responses.

A retention contact changes whether a customer stays over the campaign's horizon. The
generator knows by how much, per customer and channel, so uplift models and
next-best-channel policies are scored against the oracle.

The true effect
---------------
- ``baseline_churn``: the probability of leaving over the campaign's horizon without a
  contact, ``0.05 + 0.45 r**2`` where ``r`` is the customer's rank (0 to 1) of the true
  one-year churn probability at the campaign's date: the customers the hazards put at
  risk are the ones a retention campaign can save.
- ``effect_<channel>``: the change in the probability of staying when the campaign
  assigns that channel (an intention-to-treat effect: zero when the customer cannot be
  reached on it, and scaled by the channel's delivery rate). It is
  ``baseline_churn x save rate of the channel x the archetype's response to it``, minus
  a **backfire** for complaint-sensitive customers (the top 15 % of the true one-year
  complaint probability): a call, an SMS or a visit annoys them and they leave
  *more* often; SMS also backfires mildly on small shops.
- ``complaint_effect_<channel>``: the change in the probability of a complaint after the
  contact: positive (more complaints) for the sensitive customers on the same channels.

Nothing here draws from the streams of the history tables: every draw comes from
``numpy.random.default_rng([seed, 1701, ...])``, so adding campaigns leaves the
customers, usage, bills, payments, interactions and events unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "CAMPAIGN_CHANNELS",
    "PILOT_WAVES",
    "simulate_pilot",
    "simulate_responses",
    "true_effects",
    "write_campaign_truth",
]

CAMPAIGN_CHANNELS = ("sms", "app_push", "wechat", "hotline_callback", "grid_manager")
"""Outbound channels (the export's; repeated here to keep the generator free of the library)."""
_STREAM = 1701  # label of this module's random streams
_SAVE = {
    "sms": 0.15,
    "app_push": 0.12,
    "wechat": 0.18,
    "hotline_callback": 0.40,
    "grid_manager": 0.50,
}
_DELIVERY = {
    "sms": 0.95,
    "app_push": 0.85,
    "wechat": 0.9,
    "hotline_callback": 0.75,
    "grid_manager": 0.9,
}
# archetype -> multiplier of each channel's save rate (sms, app, wechat, call-back, visit)
_RESPONSE = {
    "digital_young_household": (0.6, 3.0, 2.0, 0.4, 0.3),
    "elderly_counter_payer": (0.5, 0.2, 0.4, 1.3, 1.6),
    "heating_rural_home": (0.8, 0.3, 0.6, 1.0, 1.4),
    "small_shop": (0.0, 0.8, 1.2, 1.3, 0.9),
    "weekday_office_service": (1.0, 1.0, 1.2, 1.4, 0.8),
    "tou_industrial_plant": (0.3, 0.5, 0.5, 1.2, 1.8),
    "agricultural_irrigation": (0.7, 0.2, 0.4, 0.9, 1.5),
}
# churn added by a contact to a complaint-sensitive customer (the backfire), per channel
_BACKFIRE = {
    "sms": 0.05,
    "app_push": 0.0,
    "wechat": 0.02,
    "hotline_callback": 0.12,
    "grid_manager": 0.05,
}
_SHOP_SMS_BACKFIRE = 0.02
_COMPLAINT_UP = {
    "sms": 0.05,
    "app_push": 0.0,
    "wechat": 0.02,
    "hotline_callback": 0.12,
    "grid_manager": 0.04,
}
_BASE_COMPLAINT = 0.03
_BASE_ONLINE = 0.05
_ONLINE_UP = {
    "sms": 0.02,
    "app_push": 0.06,
    "wechat": 0.05,
    "hotline_callback": 0.01,
    "grid_manager": 0.02,
}
SENSITIVE_SHARE = 0.15
"""Share of customers (highest true complaint probability) for whom contact backfires."""
PILOT_WAVES = 4
"""Randomised pilot campaigns written to the sample's ``responses`` table."""


def _reach(customers: pd.DataFrame) -> dict[str, np.ndarray]:
    """Who can be reached on each channel (the contactability rule of the portraits)."""
    from powerprofile.portraits import contactability

    c = contactability(customers.reset_index(drop=True))
    return {ch: c[f"contactable_{ch}"].to_numpy(dtype=bool) for ch in CAMPAIGN_CHANNELS}


def _rank(x: np.ndarray) -> np.ndarray:
    order = np.argsort(np.argsort(x, kind="stable"), kind="stable")
    return order / max(len(x) - 1, 1)


def true_effects(truth, customers: pd.DataFrame, snapshot) -> pd.DataFrame:
    """Each active customer's true baseline and per-channel effects at ``snapshot``.

    Parameters
    ----------
    truth : GroundTruth
        The generator's ground truth.
    customers : pandas.DataFrame
        The ``customers`` table (contactability, customer type).
    snapshot : date-like
        The campaign's date.

    Returns
    -------
    pandas.DataFrame
        One row per customer active at ``snapshot``: ``customer_id``, ``segment``,
        ``sensitive``, ``baseline_churn``, ``effect_<channel>``,
        ``complaint_effect_<channel>`` (see the module docstring).
    """
    p = truth.churn_probability(snapshot, 365)
    q = truth.complaint_probability(snapshot, 365).reindex(p.index).fillna(0.0)
    ids = p.index.astype("string")
    seg = (
        truth.customers.set_index("customer_id")["segment"]
        .reindex(ids)
        .astype("string")
        .to_numpy(dtype=object)
    )
    cust = customers.set_index("customer_id").reindex(ids).reset_index()
    reach = _reach(cust)
    base = 0.05 + 0.45 * _rank(p.to_numpy()) ** 2
    sensitive = _rank(q.to_numpy()) >= 1 - SENSITIVE_SHARE
    out = pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "segment": pd.array(seg, dtype="string"),
            "sensitive": sensitive,
            "baseline_churn": base,
        }
    )
    shop = seg == "small_shop"
    for j, ch in enumerate(CAMPAIGN_CHANNELS):
        mult = np.array([_RESPONSE.get(s, (1.0,) * 5)[j] for s in _RESPONSE], dtype=float)
        names = np.array(list(_RESPONSE), dtype=object)
        m = pd.Series(mult, index=names).reindex(seg).fillna(1.0).to_numpy()
        save = base * _SAVE[ch] * m
        eff = np.where(sensitive, -_BACKFIRE[ch], save)
        if ch == "sms":
            eff = eff - np.where(shop & ~sensitive, _SHOP_SMS_BACKFIRE, 0.0)
        deliver = _DELIVERY[ch] * reach[ch]
        out[f"effect_{ch}"] = np.clip(eff, -base, 1 - base) * deliver
        out[f"complaint_effect_{ch}"] = np.where(sensitive, _COMPLAINT_UP[ch], 0.0) * deliver
        out[f"reachable_{ch}"] = reach[ch]
    return out


def simulate_responses(
    effects: pd.DataFrame, assignment: pd.DataFrame, *, seed: int, sent_at
) -> pd.DataFrame:
    """Responses of a campaign whose assignment is known, drawn from the true effects.

    Parameters
    ----------
    effects : pandas.DataFrame
        :func:`true_effects`.
    assignment : pandas.DataFrame
        ``campaign_id``, ``customer_id``, ``group`` (``treated``/``control``) and
        ``channel`` (the channel used, or intended for a control customer).
    seed : int
        Seed of this campaign's draws.
    sent_at : date-like
        When the contacts went out (outcomes observed 90 days later).

    Returns
    -------
    pandas.DataFrame
        Rows of the ``responses`` contract table plus ``group``.
    """
    a = assignment.reset_index(drop=True)
    e = effects.set_index("customer_id").reindex(a["customer_id"].astype("string"))
    n = len(a)
    rng = np.random.default_rng([int(seed), _STREAM, 2])
    treated = (a["group"].astype("string") == "treated").to_numpy(dtype=bool)
    ch = a["channel"].astype("string").fillna("").to_numpy(dtype=object)
    eff = np.zeros(n)
    ceff = np.zeros(n)
    online = np.zeros(n)
    reach = np.zeros(n, dtype=bool)
    for c in CAMPAIGN_CHANNELS:
        at = ch == c
        eff[at] = e[f"effect_{c}"].to_numpy()[at]
        ceff[at] = e[f"complaint_effect_{c}"].to_numpy()[at]
        reach[at] = e[f"reachable_{c}"].to_numpy(dtype=bool)[at]
        online[at] = _ONLINE_UP[c]
    u = rng.random((4, n))
    delivered = treated & reach & (u[0] < 0.9)
    base = e["baseline_churn"].to_numpy()
    p_stay = 1 - base + np.where(treated, eff, 0.0)
    p_complaint = _BASE_COMPLAINT + np.where(treated, ceff, 0.0)
    p_online = _BASE_ONLINE + np.where(treated & reach, online, 0.0)
    sent_at = pd.Timestamp(sent_at)
    return pd.DataFrame(
        {
            "campaign_id": a["campaign_id"].astype("string").to_numpy(),
            "customer_id": a["customer_id"].astype("string").to_numpy(),
            "channel": pd.array(np.where(treated, ch, None), dtype="string"),
            "group": pd.array(np.where(treated, "treated", "control"), dtype="string"),
            "sent": treated,
            "sent_at": pd.Series(np.where(treated, sent_at, pd.NaT), dtype="datetime64[us]"),
            "delivered": delivered,
            "responded": delivered & (u[1] < 0.4),
            "retained": u[2] < p_stay,
            "converted_online": rng.random(n) < p_online,
            "complaint": u[3] < p_complaint,
            "outcome_at": pd.Series([sent_at + pd.Timedelta(days=90)] * n, dtype="datetime64[us]"),
        }
    )


def simulate_pilot(effects: pd.DataFrame, *, seed: int, snapshot, waves: int = PILOT_WAVES):
    """Randomised pilot campaigns over every customer: control or one reachable channel.

    Each wave assigns each customer to the control group with probability 1/6, else to
    one of the channels they can be reached on, uniformly; the waves are independent.

    Returns
    -------
    pandas.DataFrame
        :func:`simulate_responses` rows of every wave (``campaign_id`` ``pilot_<k>@<date>``).
    """
    snap = pd.Timestamp(snapshot).date().isoformat()
    frames = []
    reach = np.column_stack(
        [effects[f"reachable_{c}"].to_numpy(dtype=bool) for c in CAMPAIGN_CHANNELS]
    )
    n = len(effects)
    for w in range(int(waves)):
        rng = np.random.default_rng([int(seed), _STREAM, 1, w])
        u = rng.random((2, n))
        # a uniform pick among the reachable channels (the visit is always reachable)
        k = reach.sum(axis=1)
        pick = np.floor(u[1] * k).astype(int)
        cum = np.cumsum(reach, axis=1) - 1
        idx = np.argmax((cum == pick[:, None]) & reach, axis=1)
        chosen = np.asarray(CAMPAIGN_CHANNELS, dtype=object)[idx]
        control = u[0] < 1 / 6
        assignment = pd.DataFrame(
            {
                "campaign_id": f"pilot_{w + 1}@{snap}",
                "customer_id": effects["customer_id"].to_numpy(),
                "group": np.where(control, "control", "treated"),
                "channel": chosen,
            }
        )
        frames.append(
            simulate_responses(effects, assignment, seed=seed * 100 + w, sent_at=snapshot)
        )
    return pd.concat(frames, ignore_index=True)


def write_campaign_truth(out, seed: int) -> Path:
    """Write a generated folder's campaign truth and pilot responses.

    ``out/truth/uplift.parquet`` holds :func:`true_effects` at the day after the data's
    end; ``out/responses.parquet`` the :func:`simulate_pilot` responses (with their
    ``group``), dated that day.

    Parameters
    ----------
    out : str or pathlib.Path
        A folder written by :func:`write_utility_data`.
    seed : int
        The data set's seed.

    Returns
    -------
    pathlib.Path
        ``out/responses.parquet``.
    """
    from ._truth import load_ground_truth

    out = Path(out)
    truth = load_ground_truth(out)
    customers = pd.read_parquet(out / "customers.parquet")
    snapshot = truth.start + pd.Timedelta(days=truth.n_days)
    effects = true_effects(truth, customers, snapshot)
    effects.to_parquet(out / "truth" / "uplift.parquet", index=False)
    pilot = simulate_pilot(effects, seed=seed, snapshot=snapshot)
    path = out / "responses.parquet"
    pilot.to_parquet(path, index=False)
    return path

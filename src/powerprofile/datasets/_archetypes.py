"""Latent customer archetypes (the generator's true segments).

Each archetype fixes a customer type and the behaviour that a segmenter can recover
from long-window features: usage level, seasonality, weekday/weekend pattern,
peak/flat/valley shares, contact-channel and payment-channel mix, and the baseline
churn and complaint hazards.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerprofile.schema._contract import CHANNELS, CUSTOMER_TYPES, PAYMENT_CHANNELS

__all__ = ["ARCHETYPES", "archetype_table"]

# contact channels: hotline_95598, app, wechat, counter, grid_manager
# payment channels: app, wechat, alipay, bank_withholding, counter
ARCHETYPES: tuple[dict, ...] = (
    dict(
        name="digital_young_household",
        name_zh="线上年轻家庭",
        customer_type="residential",
        share=0.33,
        area_kind=("urban", 1.0),
        level=7.0,
        summer=1.0,
        winter=0.3,
        season="normal",
        weekend=1.2,
        spring=0.7,
        holiday=0.95,
        tou_p=0.1,
        tou=(0.44, 0.36, 0.20),
        contacts=5.0,
        contact_mix=(0.04, 0.55, 0.38, 0.02, 0.01),
        pay_mix=(0.50, 0.30, 0.17, 0.03, 0.00),
        app=0.97,
        wechat=0.9,
        sms_opt_out=0.12,
        phone=0.99,
        late=0.08,
        chronic=0.01,
        unresolved=0.16,
        outage_report=0.22,
        churn=-9.7,
        complaint=-9.3,
        disengage=-10.2,
    ),
    dict(
        name="elderly_counter_payer",
        name_zh="老年柜台缴费户",
        customer_type="residential",
        share=0.25,
        area_kind=("urban", 0.55),
        level=4.0,
        summer=0.5,
        winter=0.35,
        season="normal",
        weekend=1.0,
        spring=1.2,
        holiday=1.0,
        tou_p=0.05,
        tou=(0.33, 0.40, 0.27),
        contacts=4.0,
        contact_mix=(0.35, 0.01, 0.04, 0.47, 0.13),
        pay_mix=(0.01, 0.04, 0.01, 0.04, 0.90),
        app=0.06,
        wechat=0.2,
        sms_opt_out=0.04,
        phone=0.72,
        late=0.05,
        chronic=0.01,
        unresolved=0.22,
        outage_report=0.30,
        churn=-10.2,
        complaint=-9.6,
        disengage=-10.6,
    ),
    dict(
        name="heating_rural_home",
        name_zh="农村采暖大户",
        customer_type="residential",
        share=0.22,
        area_kind=("rural", 1.0),
        level=10.0,
        summer=0.3,
        winter=1.25,
        season="normal",
        weekend=1.02,
        spring=1.25,
        holiday=1.02,
        tou_p=0.85,
        tou=(0.22, 0.30, 0.48),
        contacts=3.0,
        contact_mix=(0.45, 0.04, 0.18, 0.05, 0.28),
        pay_mix=(0.03, 0.06, 0.02, 0.85, 0.04),
        app=0.3,
        wechat=0.6,
        sms_opt_out=0.06,
        phone=0.9,
        late=0.12,
        chronic=0.03,
        unresolved=0.2,
        outage_report=0.28,
        churn=-10.0,
        complaint=-9.5,
        disengage=-10.4,
    ),
    dict(
        name="small_shop",
        name_zh="小微商户",
        customer_type="commercial",
        share=0.08,
        area_kind=("urban", 0.8),
        level=45.0,
        summer=0.75,
        winter=0.25,
        season="normal",
        weekend=0.85,
        spring=0.35,
        holiday=0.8,
        tou_p=0.12,
        tou=(0.50, 0.38, 0.12),
        contacts=6.0,
        contact_mix=(0.33, 0.25, 0.27, 0.10, 0.05),
        pay_mix=(0.10, 0.28, 0.55, 0.03, 0.04),
        app=0.75,
        wechat=0.9,
        sms_opt_out=0.15,
        phone=0.98,
        late=0.16,
        chronic=0.04,
        unresolved=0.18,
        outage_report=0.35,
        churn=-9.2,
        complaint=-9.2,
        disengage=-9.8,
    ),
    dict(
        name="weekday_office_service",
        name_zh="工作日办公服务企业",
        customer_type="commercial",
        share=0.04,
        area_kind=("urban", 0.7),
        level=320.0,
        summer=0.6,
        winter=0.3,
        season="normal",
        weekend=0.35,
        spring=0.3,
        holiday=0.4,
        tou_p=0.92,
        tou=(0.58, 0.36, 0.06),
        contacts=4.0,
        contact_mix=(0.30, 0.30, 0.08, 0.04, 0.28),
        pay_mix=(0.08, 0.02, 0.02, 0.86, 0.02),
        app=0.85,
        wechat=0.5,
        sms_opt_out=0.2,
        phone=0.98,
        late=0.06,
        chronic=0.01,
        unresolved=0.16,
        outage_report=0.3,
        churn=-9.6,
        complaint=-9.4,
        disengage=-10.2,
    ),
    dict(
        name="tou_industrial_plant",
        name_zh="分时大工业",
        customer_type="large_industrial",
        share=0.025,
        area_kind=("industrial", 1.0),
        level=9000.0,
        summer=0.15,
        winter=0.1,
        season="normal",
        weekend=0.82,
        spring=0.25,
        holiday=0.7,
        tou_p=1.0,
        tou=(0.30, 0.32, 0.38),
        contacts=6.0,
        contact_mix=(0.30, 0.15, 0.04, 0.04, 0.47),
        pay_mix=(0.03, 0.00, 0.00, 0.95, 0.02),
        app=0.8,
        wechat=0.4,
        sms_opt_out=0.3,
        phone=0.99,
        late=0.05,
        chronic=0.01,
        unresolved=0.15,
        outage_report=0.5,
        churn=-9.6,
        complaint=-9.3,
        disengage=-10.6,
    ),
    dict(
        name="agricultural_irrigation",
        name_zh="农业灌溉",
        customer_type="agricultural",
        share=0.055,
        area_kind=("rural", 1.0),
        level=22.0,
        summer=1.8,
        winter=0.0,
        season="irrigation",
        weekend=1.0,
        spring=0.6,
        holiday=1.0,
        tou_p=0.9,
        tou=(0.16, 0.26, 0.58),
        contacts=3.0,
        contact_mix=(0.50, 0.03, 0.10, 0.12, 0.25),
        pay_mix=(0.03, 0.45, 0.05, 0.07, 0.40),
        app=0.25,
        wechat=0.55,
        sms_opt_out=0.08,
        phone=0.93,
        late=0.2,
        chronic=0.05,
        unresolved=0.2,
        outage_report=0.3,
        churn=-9.9,
        complaint=-9.6,
        disengage=-10.4,
    ),
)


def _compile() -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    keys = [k for k in ARCHETYPES[0] if k not in ("area_kind", "tou", "contact_mix", "pay_mix")]
    for k in keys:
        out[k] = np.array([a[k] for a in ARCHETYPES])
    out["type_code"] = np.array([CUSTOMER_TYPES.index(a["customer_type"]) for a in ARCHETYPES])
    out["tou"] = np.array([a["tou"] for a in ARCHETYPES], dtype=float)
    out["contact_mix"] = np.array([a["contact_mix"] for a in ARCHETYPES], dtype=float)
    out["pay_mix"] = np.array([a["pay_mix"] for a in ARCHETYPES], dtype=float)
    out["irrigation_season"] = np.array([a["season"] == "irrigation" for a in ARCHETYPES])
    kinds = ("urban", "rural", "industrial")
    out["area_kind"] = np.array([kinds.index(a["area_kind"][0]) for a in ARCHETYPES])
    out["area_kind_p"] = np.array([a["area_kind"][1] for a in ARCHETYPES])
    assert out["contact_mix"].shape[1] == len(CHANNELS)
    assert out["pay_mix"].shape[1] == len(PAYMENT_CHANNELS)
    return out


A = _compile()
"""Archetype parameters as arrays indexed by archetype code."""

ARCHETYPE_NAMES = tuple(a["name"] for a in ARCHETYPES)


def archetype_table() -> pd.DataFrame:
    """Return the archetypes as a DataFrame (one row each, code as index).

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``name_zh``, ``customer_type``, ``share``, ``level`` (median
        kWh per day) and the other behaviour parameters.
    """
    rows = [{k: v for k, v in a.items()} for a in ARCHETYPES]
    return pd.DataFrame(rows).rename_axis("code")

"""The feature catalogue: one entry per concrete feature name.

Each entry has English and Chinese descriptions, the source table, the window and
unit, and reason-phrase templates with a ``{value}`` placeholder used by the
explanation module (``"{value:.0f} complaints in the last 90 days"`` /
``"近90天投诉{value:.0f}次"``).
"""

from __future__ import annotations

import pandas as pd

from ..schema._contract import (
    CHANNEL_ZH,
    CHANNELS,
    CONTACT_TYPE_ZH,
    CONTACT_TYPES,
    PAYMENT_CHANNELS,
)
from ._interactions import TYPE_NAMES

__all__ = ["CATALOG_COLUMNS", "feature_catalog"]

CATALOG_COLUMNS = [
    "name",
    "description_en",
    "description_zh",
    "source",
    "window_days",
    "unit",
    "template_en",
    "template_zh",
]
DEFAULT_WINDOWS = (30, 90, 180, 365)

PAYMENT_CHANNEL_ZH = {
    "app": "网上国网",
    "wechat": "微信",
    "alipay": "支付宝",
    "bank_withholding": "银行代扣",
    "counter": "营业厅",
}
PAYMENT_CHANNEL_EN = {
    "app": "the app",
    "wechat": "WeChat",
    "alipay": "Alipay",
    "bank_withholding": "bank withholding",
    "counter": "the counter",
}
CHANNEL_EN = {
    "hotline_95598": "the 95598 hotline",
    "app": "the app",
    "wechat": "WeChat",
    "counter": "the counter",
    "grid_manager": "the grid manager",
}
TYPE_EN = {
    "inquiry": "inquiries",
    "outage_report": "outage reports",
    "payment": "payment contacts",
    "business_request": "business requests",
    "complaint": "complaints",
    "opinion": "opinions",
    "praise": "praises",
}

F0, F1, F2, P0 = "{value:.0f}", "{value:.1f}", "{value:.2f}", "{value:.0%}"

# windowed families: (name, en, zh, source, unit, template_en, template_zh); {w} = window
_USAGE_W = [
    (
        "kwh_mean_{w}d",
        "Mean daily kWh over the last {w} days",
        "近{w}天日均用电量",
        "kWh/day",
        f"{F1} kWh a day on average over the last {{w}} days",
        f"近{{w}}天日均用电{F1}千瓦时",
    ),
    (
        "kwh_cv_{w}d",
        "Coefficient of variation of daily kWh over the last {w} days",
        "近{w}天日用电量变异系数",
        "ratio",
        f"daily usage variability {F2} over the last {{w}} days",
        f"近{{w}}天用电波动系数{F2}",
    ),
    (
        "kwh_slope_{w}d",
        "Trend of daily kWh over the last {w} days (least-squares slope)",
        "近{w}天日用电量趋势（最小二乘斜率）",
        "kWh/day per day",
        f"usage trend {F2} kWh/day per day over the last {{w}} days",
        f"近{{w}}天用电趋势每日变化{F2}千瓦时",
    ),
    (
        "kwh_read_days_{w}d",
        "Days with a meter reading in the last {w} days",
        "近{w}天有抄表数据的天数",
        "days",
        f"{F0} days with readings in the last {{w}} days",
        f"近{{w}}天有抄表数据{F0}天",
    ),
    (
        "kwh_zero_days_{w}d",
        "Days with zero usage in the last {w} days",
        "近{w}天零电量天数",
        "days",
        f"{F0} zero-usage days in the last {{w}} days",
        f"近{{w}}天零电量{F0}天",
    ),
    (
        "kwh_longest_zero_run_{w}d",
        "Longest run of consecutive zero-usage days in the last {w} days",
        "近{w}天最长连续零电量天数",
        "days",
        f"{F0} consecutive zero-usage days in the last {{w}} days",
        f"近{{w}}天最长连续零电量{F0}天",
    ),
    (
        "kwh_weekend_ratio_{w}d",
        "Mean weekend kWh / mean weekday kWh over the last {w} days",
        "近{w}天周末与工作日日均用电比",
        "ratio",
        f"weekend usage {F2} times weekday usage (last {{w}} days)",
        f"近{{w}}天周末用电为工作日的{F2}倍",
    ),
    (
        "estimated_read_share_{w}d",
        "Share of estimated reads in the last {w} days",
        "近{w}天估抄比例",
        "share",
        f"{P0} of reads estimated in the last {{w}} days",
        f"近{{w}}天估抄占比{P0}",
    ),
    (
        "peak_share_{w}d",
        "Peak-period share of time-of-use kWh over the last {w} days",
        "近{w}天峰段电量占比",
        "share",
        f"{P0} of usage at peak hours (last {{w}} days)",
        f"近{{w}}天峰段用电占比{P0}",
    ),
    (
        "flat_share_{w}d",
        "Flat-period share of time-of-use kWh over the last {w} days",
        "近{w}天平段电量占比",
        "share",
        f"{P0} of usage at flat hours (last {{w}} days)",
        f"近{{w}}天平段用电占比{P0}",
    ),
    (
        "valley_share_{w}d",
        "Valley-period share of time-of-use kWh over the last {w} days",
        "近{w}天谷段电量占比",
        "share",
        f"{P0} of usage at valley hours (last {{w}} days)",
        f"近{{w}}天谷段用电占比{P0}",
    ),
]
_BILL_W = [
    (
        "late_payments_{w}d",
        "Bills due in the last {w} days paid late or still unpaid",
        "近{w}天逾期缴费账单数",
        "bills",
        f"{F0} late payments in the last {{w}} days",
        f"近{{w}}天逾期缴费{F0}次",
    ),
    (
        "late_payment_rate_{w}d",
        "Share of bills due in the last {w} days paid late or unpaid",
        "近{w}天逾期缴费比例",
        "share",
        f"{P0} of bills paid late in the last {{w}} days",
        f"近{{w}}天逾期缴费比例{P0}",
    ),
]
_PAY_W = [
    (
        "payments_{w}d",
        "Payments in the last {w} days",
        "近{w}天缴费次数",
        "payments",
        f"{F0} payments in the last {{w}} days",
        f"近{{w}}天缴费{F0}次",
    ),
    (
        "payment_amount_{w}d",
        "Amount paid in the last {w} days",
        "近{w}天缴费金额",
        "CNY",
        f"{F0} CNY paid in the last {{w}} days",
        f"近{{w}}天缴费{F0}元",
    ),
    (
        "online_payment_share_{w}d",
        "Share of payments made online (app, WeChat, Alipay, bank withholding), last {w} days",
        "近{w}天线上缴费占比",
        "share",
        f"{P0} of payments online in the last {{w}} days",
        f"近{{w}}天线上缴费占比{P0}",
    ),
]
_INT_W = [
    (
        "contacts_{w}d",
        "Service contacts in the last {w} days",
        "近{w}天服务接触次数",
        "contacts",
        f"{F0} service contacts in the last {{w}} days",
        f"近{{w}}天服务接触{F0}次",
    ),
    (
        "online_contact_share_{w}d",
        "Share of contacts through online channels (app, WeChat), last {w} days",
        "近{w}天线上渠道接触占比",
        "share",
        f"{P0} of contacts online in the last {{w}} days",
        f"近{{w}}天线上接触占比{P0}",
    ),
    (
        "repeat_contacts_{w}d",
        "Contacts within 7 days of the previous contact, last {w} days",
        "近{w}天7日内重复来电次数",
        "contacts",
        f"{F0} repeat contacts within 7 days in the last {{w}} days",
        f"近{{w}}天7日内重复接触{F0}次",
    ),
    (
        "satisfaction_mean_{w}d",
        "Mean satisfaction score (1-5) of contacts in the last {w} days",
        "近{w}天平均满意度（1-5分）",
        "score",
        f"mean satisfaction {F1} of 5 in the last {{w}} days",
        f"近{{w}}天平均满意度{F1}分",
    ),
]
_AREA_W = [
    (
        "neighbour_complaint_rate_{w}d",
        "Share of the other active customers in the transformer area who complained in the last {w} days",
        "近{w}天同台区其他用户投诉率",
        "share",
        f"{P0} of neighbours complained in the last {{w}} days",
        f"近{{w}}天同台区邻居投诉率{P0}",
    ),
    (
        "grid_complaint_rate_{w}d",
        "Share of the other active customers in the grid unit who complained in the last {w} days",
        "近{w}天同网格其他用户投诉率",
        "share",
        f"{P0} of the grid unit complained in the last {{w}} days",
        f"近{{w}}天同网格用户投诉率{P0}",
    ),
    (
        "outage_count_{w}d",
        "Outages of the transformer area started in the last {w} days",
        "近{w}天台区停电次数",
        "outages",
        f"{F0} outages in the last {{w}} days",
        f"近{{w}}天停电{F0}次",
    ),
    (
        "outage_minutes_{w}d",
        "Outage minutes of the transformer area in the last {w} days",
        "近{w}天台区停电时长",
        "minutes",
        f"{F0} minutes without power in the last {{w}} days",
        f"近{{w}}天停电{F0}分钟",
    ),
    (
        "planned_outages_{w}d",
        "Planned outages of the transformer area in the last {w} days",
        "近{w}天计划停电次数",
        "outages",
        f"{F0} planned outages in the last {{w}} days",
        f"近{{w}}天计划停电{F0}次",
    ),
    (
        "unplanned_outages_{w}d",
        "Unplanned (fault) outages of the transformer area in the last {w} days",
        "近{w}天故障停电次数",
        "outages",
        f"{F0} unplanned outages in the last {{w}} days",
        f"近{{w}}天故障停电{F0}次",
    ),
]

_SINGLE = [
    (
        "customer_type",
        "Customer type",
        "用户类型",
        "customers",
        None,
        "category",
        "customer type {value}",
        "用户类型为{value}",
    ),
    (
        "tariff",
        "Tariff",
        "电价类别",
        "customers",
        None,
        "category",
        "tariff {value}",
        "电价类别为{value}",
    ),
    (
        "region",
        "Region",
        "地区",
        "customers",
        None,
        "category",
        "region {value}",
        "所属地区{value}",
    ),
    (
        "tou_flag",
        "On a time-of-use tariff",
        "执行分时电价",
        "customers",
        None,
        "bool",
        "time-of-use tariff: {value}",
        "分时电价：{value}",
    ),
    (
        "tenure_days",
        "Days since supply started",
        "立户以来天数",
        "customers",
        None,
        "days",
        f"customer for {F0} days",
        f"立户{F0}天",
    ),
    (
        "usage_drop_ratio",
        "Mean daily kWh of the last 30 days / mean of the 90 days before",
        "近30天日均用电量与之前90天之比",
        "usage",
        None,
        "ratio",
        f"last 30 days' usage at {P0} of the previous 90 days",
        f"近30天用电为此前90天的{P0}",
    ),
    (
        "kwh_yoy_change",
        "Change of mean daily kWh of the last 90 days vs the same 90 days a year earlier",
        "近90天日均用电量同比变化",
        "usage",
        455,
        "ratio",
        "usage {value:+.0%} year on year",
        "用电量同比{value:+.0%}",
    ),
    (
        "kwh_summer_ratio",
        "Mean summer (Jun-Aug) kWh / mean shoulder-month kWh over the last 365 days",
        "近365天夏季（6-8月）与春秋季日均用电比",
        "usage",
        365,
        "ratio",
        f"summer usage {F2} times spring/autumn usage",
        f"夏季用电为春秋季的{F2}倍",
    ),
    (
        "kwh_winter_ratio",
        "Mean winter (Dec-Feb) kWh / mean shoulder-month kWh over the last 365 days",
        "近365天冬季（12-2月）与春秋季日均用电比",
        "usage",
        365,
        "ratio",
        f"winter usage {F2} times spring/autumn usage",
        f"冬季用电为春秋季的{F2}倍",
    ),
    (
        "days_since_last_read",
        "Days since the last meter reading",
        "距最近一次抄表天数",
        "usage",
        None,
        "days",
        f"no reading for {F0} days",
        f"{F0}天无抄表数据",
    ),
    (
        "short_history",
        "Too little usage history: fewer reads than the minimum in the longest window",
        "用电历史不足（最长窗口内抄表天数少于阈值）",
        "usage",
        None,
        "bool",
        "short usage history: {value}",
        "用电历史不足：{value}",
    ),
    (
        "bill_amount_latest",
        "Amount of the latest bill",
        "最近一期电费",
        "bills",
        None,
        "CNY",
        f"latest bill {F0} CNY",
        f"最近一期电费{F0}元",
    ),
    (
        "bill_amount_median",
        "Median of the customer's previous 12 bills",
        "此前12期电费中位数",
        "bills",
        None,
        "CNY",
        f"usual bill {F0} CNY",
        f"以往电费中位数{F0}元",
    ),
    (
        "bill_shock_ratio",
        "Latest bill / median of the customer's previous 12 bills",
        "最近一期电费与以往中位数之比",
        "bills",
        None,
        "ratio",
        f"latest bill {F1} times the usual amount",
        f"最近电费为以往的{F1}倍",
    ),
    (
        "arrears_amount",
        "Amount overdue and unpaid (bills past their due date, paid first-in first-out)",
        "逾期欠费金额",
        "bills",
        None,
        "CNY",
        f"{F0} CNY in arrears",
        f"欠费{F0}元",
    ),
    (
        "arrears_age_days",
        "Days since the due date of the oldest unpaid bill (0 when none)",
        "最早欠费账单逾期天数",
        "bills",
        None,
        "days",
        f"arrears {F0} days overdue",
        f"欠费已逾期{F0}天",
    ),
    (
        "bank_withholding",
        "Paid by bank withholding in the longest window",
        "最长窗口内使用银行代扣",
        "payments",
        None,
        "bool",
        "bank withholding: {value}",
        "银行代扣：{value}",
    ),
    (
        "days_since_last_payment",
        "Days since the last payment",
        "距最近一次缴费天数",
        "payments",
        None,
        "days",
        f"last payment {F0} days ago",
        f"距上次缴费{F0}天",
    ),
    (
        "days_since_last_contact",
        "Days since the last service contact",
        "距最近一次服务接触天数",
        "interactions",
        None,
        "days",
        f"last contact {F0} days ago",
        f"距上次接触{F0}天",
    ),
    (
        "days_since_last_complaint",
        "Days since the last complaint",
        "距最近一次投诉天数",
        "interactions",
        None,
        "days",
        f"last complaint {F0} days ago",
        f"距上次投诉{F0}天",
    ),
    (
        "days_since_last_outage",
        "Days since the last outage of the transformer area started",
        "距台区最近一次停电天数",
        "outages",
        None,
        "days",
        f"last outage {F0} days ago",
        f"距上次停电{F0}天",
    ),
]


def _row(name, en, zh, source, window, unit, ten, tzh):
    return {
        "name": name,
        "description_en": en,
        "description_zh": zh,
        "source": source,
        "window_days": window,
        "unit": unit,
        "template_en": ten,
        "template_zh": tzh,
    }


def _expand(family, source, windows):
    rows = []
    for w in windows:
        for name, en, zh, unit, ten, tzh in family:
            rows.append(
                _row(
                    name.format(w=w),
                    en.format(w=w),
                    zh.format(w=w),
                    source,
                    w,
                    unit,
                    ten.replace("{w}", str(w)),
                    tzh.replace("{w}", str(w)),
                )
            )
    return rows


def feature_catalog(windows=DEFAULT_WINDOWS) -> pd.DataFrame:
    """The catalogue of every feature :func:`build_features` produces for ``windows``.

    Parameters
    ----------
    windows : sequence of int, default=(30, 90, 180, 365)
        The windows the features were built with.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, description_en, description_zh, source, window_days, unit,
        template_en, template_zh``; one row per concrete feature name. Templates are
        ``str.format`` patterns with a ``{value}`` placeholder.

    Examples
    --------
    >>> cat = feature_catalog()
    >>> row = cat.set_index("name").loc["complaints_90d"]
    >>> row["template_en"].format(value=3), row["template_zh"].format(value=3)
    ('3 complaints in the last 90 days', '近90天投诉3次')
    """
    windows = tuple(sorted({int(w) for w in windows}))
    rows = [_row(*r) for r in _SINGLE[:5]]
    rows += _expand(_USAGE_W, "usage", windows)
    rows += [_row(*r) for r in _SINGLE[5:11]]
    rows += _expand(_BILL_W, "bills", windows)
    rows += [_row(*r) for r in _SINGLE[11:18]]
    rows += _expand(_PAY_W, "payments", windows)
    for w in windows:
        for c in PAYMENT_CHANNELS:
            rows.append(
                _row(
                    f"payment_share_{c}_{w}d",
                    f"Share of payments through {PAYMENT_CHANNEL_EN[c]} in the last {w} days",
                    f"近{w}天{PAYMENT_CHANNEL_ZH[c]}缴费占比",
                    "payments",
                    w,
                    "share",
                    f"{P0} of payments through {PAYMENT_CHANNEL_EN[c]} in the last {w} days",
                    f"近{w}天{PAYMENT_CHANNEL_ZH[c]}缴费占比{P0}",
                )
            )
    rows += _expand(_INT_W, "interactions", windows)
    for w in windows:
        for c in CHANNELS:
            rows.append(
                _row(
                    f"contacts_{c}_{w}d",
                    f"Contacts through {CHANNEL_EN[c]} in the last {w} days",
                    f"近{w}天{CHANNEL_ZH[c]}接触次数",
                    "interactions",
                    w,
                    "contacts",
                    f"{F0} contacts through {CHANNEL_EN[c]} in the last {w} days",
                    f"近{w}天{CHANNEL_ZH[c]}接触{F0}次",
                )
            )
            rows.append(
                _row(
                    f"contact_share_{c}_{w}d",
                    f"Share of contacts through {CHANNEL_EN[c]} in the last {w} days",
                    f"近{w}天{CHANNEL_ZH[c]}接触占比",
                    "interactions",
                    w,
                    "share",
                    f"{P0} of contacts through {CHANNEL_EN[c]} in the last {w} days",
                    f"近{w}天{CHANNEL_ZH[c]}接触占比{P0}",
                )
            )
        for t in CONTACT_TYPES:
            zh = CONTACT_TYPE_ZH[t]
            rows.append(
                _row(
                    f"{TYPE_NAMES[t]}_{w}d",
                    f"{TYPE_EN[t].capitalize()} in the last {w} days",
                    f"近{w}天{zh}次数",
                    "interactions",
                    w,
                    "contacts",
                    f"{F0} {TYPE_EN[t]} in the last {w} days",
                    f"近{w}天{zh}{F0}次",
                )
            )
    rows += [_row(*r) for r in _SINGLE[18:20]]
    for c in CHANNELS:
        rows.append(
            _row(
                f"days_since_last_{c}_contact",
                f"Days since the last contact through {CHANNEL_EN[c]}",
                f"距最近一次{CHANNEL_ZH[c]}接触天数",
                "interactions",
                None,
                "days",
                f"last contact through {CHANNEL_EN[c]} {F0} days ago",
                f"距上次{CHANNEL_ZH[c]}接触{F0}天",
            )
        )
    rows += _expand(_AREA_W[:2], "interactions", windows)
    rows += _expand(_AREA_W[2:], "outages", windows)
    rows.append(_row(*_SINGLE[20]))
    df = pd.DataFrame(rows, columns=CATALOG_COLUMNS)
    df["window_days"] = df["window_days"].astype("Int64")
    return df

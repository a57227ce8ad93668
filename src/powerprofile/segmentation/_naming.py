"""Readable segment names (English and Chinese) from the features that set a segment apart."""

from __future__ import annotations

import re

import numpy as np

__all__ = ["FEATURE_WORDS", "describe_feature", "segment_names"]

# feature stem (window suffix removed) -> (high_en, low_en, high_zh, low_zh)
FEATURE_WORDS: dict[str, tuple[str, str, str, str]] = {
    "kwh_mean": ("high-usage", "low-usage", "高用电", "低用电"),
    "kwh_median": ("high-usage", "low-usage", "高用电", "低用电"),
    "kwh_total": ("high-usage", "low-usage", "高用电", "低用电"),
    "kwh_sum": ("high-usage", "low-usage", "高用电", "低用电"),
    "kwh_cv": ("volatile-usage", "steady-usage", "用电波动大", "用电平稳"),
    "kwh_trend": ("growing-usage", "shrinking-usage", "用电上升", "用电下降"),
    "kwh_slope": ("growing-usage", "shrinking-usage", "用电上升", "用电下降"),
    "kwh_summer_ratio": ("summer-peaking", "summer-light", "夏季高峰", "夏季平稳"),
    "kwh_winter_ratio": ("winter-heating", "winter-light", "冬季采暖", "冬季平稳"),
    "kwh_weekend_ratio": ("weekend-active", "weekday-business", "周末用电多", "工作日用电"),
    "kwh_zero_days": ("often-idle", "always-on", "零电量多", "持续用电"),
    "payment_share_counter": ("counter-payer", "online-payer", "柜台缴费", "线上缴费"),
    "payment_share_bank_withholding": ("auto-debit", "manual-payer", "银行代扣", "自主缴费"),
    "payment_share_app": ("app-payer", "non-app-payer", "网上国网缴费", "少用网上国网缴费"),
    "payment_share_wechat": ("wechat-payer", "non-wechat-payer", "微信缴费", "少用微信缴费"),
    "payment_share_alipay": ("alipay-payer", "non-alipay-payer", "支付宝缴费", "少用支付宝缴费"),
    "contact_share_hotline_95598": (
        "hotline-caller",
        "rarely-calls-95598",
        "95598来电多",
        "少打95598",
    ),
    "contact_share_grid_manager": (
        "grid-manager-served",
        "self-served",
        "网格经理服务",
        "自助服务",
    ),
    "contact_share_counter": (
        "counter-visitor",
        "rarely-visits-counter",
        "营业厅到访多",
        "少去营业厅",
    ),
    "contact_share_app": ("app-contact", "non-app-contact", "网上国网接触多", "少用网上国网"),
    "contact_share_wechat": ("wechat-contact", "non-wechat-contact", "微信接触多", "少用微信"),
    "summer_ratio": ("summer-peaking", "summer-light", "夏季高峰", "夏季平稳"),
    "winter_ratio": ("winter-heating", "winter-light", "冬季采暖", "冬季平稳"),
    "peak_share": ("peak-heavy", "peak-light", "峰时用电多", "峰时用电少"),
    "flat_share": ("flat-period-heavy", "flat-period-light", "平段用电多", "平段用电少"),
    "valley_share": ("night-shifting", "daytime-bound", "谷时用电多", "谷时用电少"),
    "weekend_ratio": ("weekend-active", "weekday-business", "周末用电多", "工作日用电"),
    "zero_days": ("often-idle", "always-on", "零电量多", "持续用电"),
    "zero_usage_days": ("often-idle", "always-on", "零电量多", "持续用电"),
    "online_contact_share": ("digital-first", "offline-contact", "线上偏好", "线下偏好"),
    "digital_share": ("digital-first", "offline-contact", "线上偏好", "线下偏好"),
    "online_payment_share": ("online-payer", "counter-payer", "线上缴费", "柜台缴费"),
    "counter_payment_share": ("counter-payer", "online-payer", "柜台缴费", "线上缴费"),
    "bank_withholding_share": ("auto-debit", "manual-payer", "银行代扣", "自主缴费"),
    "withholding_share": ("auto-debit", "manual-payer", "银行代扣", "自主缴费"),
    "contacts": ("frequent-contact", "quiet", "高频接触", "低频接触"),
    "contact_count": ("frequent-contact", "quiet", "高频接触", "低频接触"),
    "complaints": ("complaint-prone", "complaint-free", "投诉倾向", "少投诉"),
    "late_payment_rate": ("late-payer", "punctual-payer", "常逾期", "按时缴费"),
    "late_payments": ("late-payer", "punctual-payer", "常逾期", "按时缴费"),
    "arrears_amount": ("in-arrears", "paid-up", "有欠费", "无欠费"),
    "bill_shock_ratio": ("bill-sensitive", "bill-stable", "电费敏感", "电费平稳"),
    "amount_mean": ("high-bill", "low-bill", "高电费", "低电费"),
    "bill_amount_mean": ("high-bill", "low-bill", "高电费", "低电费"),
    "tenure_days": ("long-standing", "new", "老用户", "新用户"),
    "outage_count": ("outage-exposed", "reliable-supply", "停电多", "供电稳定"),
    "satisfaction_mean": ("satisfied", "dissatisfied", "满意度高", "满意度低"),
}

_WINDOW_RE = re.compile(r"_\d+d$")


def _stem(name: str) -> str:
    return _WINDOW_RE.sub("", name)


def describe_feature(name: str, high: bool, catalog=None) -> tuple[str, str]:
    """English and Chinese phrase for a feature being high (or low) in a segment.

    Parameters
    ----------
    name : str
        Feature name.
    high : bool
        Whether the segment is above (True) or below (False) the population.
    catalog : pandas.DataFrame or None, default=None
        Feature catalogue (``name, description_en, description_zh`` …) used for
        features outside the built-in vocabulary.

    Returns
    -------
    (str, str)
        English and Chinese phrases.
    """
    words = FEATURE_WORDS.get(_stem(name))
    if words is None:
        for stem, w in FEATURE_WORDS.items():  # e.g. contacts_app_365d -> contacts
            if _stem(name).startswith(stem + "_"):
                words = w
                break
    if words is not None:
        return (words[0], words[2]) if high else (words[1], words[3])
    en, zh = name, name
    if catalog is not None and len(catalog) and name in set(catalog["name"]):
        row = catalog.loc[catalog["name"] == name].iloc[0]
        en = str(row.get("description_en", name) or name)
        zh = str(row.get("description_zh", name) or name)
    return (f"high {en}" if high else f"low {en}", f"{zh}高" if high else f"{zh}低")


def segment_names(
    deviations: np.ndarray,
    feature_names: list[str],
    segment_ids: list[int],
    *,
    max_words: int = 3,
    threshold: float = 0.4,
    catalog=None,
) -> dict[int, tuple[str, str]]:
    """Name each segment after the features on which it deviates most.

    Parameters
    ----------
    deviations : ndarray of shape (n_segments, n_features)
        Segment median minus population median, in robust-scaled units.
    feature_names : list of str
    segment_ids : list of int
        Id of each row of ``deviations``.
    max_words : int, default=3
        Features named per segment.
    threshold : float, default=0.4
        Minimum absolute deviation for a feature to be named.
    catalog : pandas.DataFrame or None, default=None
        Feature catalogue for features outside the vocabulary.

    Returns
    -------
    dict of int to (str, str)
        English (comma-separated) and Chinese (``·``-separated) names, unique.
    """
    names: dict[int, tuple[str, str]] = {}
    used: set[str] = set()
    order = np.argsort(-np.abs(deviations), axis=1, kind="stable")
    for row, sid in enumerate(segment_ids):
        phrases: list[tuple[str, str]] = []
        seen_en: set[str] = set()
        for j in order[row]:
            d = deviations[row, j]
            if abs(d) < threshold and phrases:
                break
            en, zh = describe_feature(feature_names[j], bool(d > 0), catalog)
            if en in seen_en:  # two features with the same word (kwh_mean and kwh_total)
                continue
            seen_en.add(en)
            phrases.append((en, zh))
            if len(phrases) >= max_words:
                en_name = ", ".join(p[0] for p in phrases)
                if en_name not in used:
                    break
        en_name = ", ".join(p[0] for p in phrases) or "typical"
        zh_name = "·".join(p[1] for p in phrases) or "普通"
        if abs(deviations[row]).max(initial=0.0) < threshold:
            en_name, zh_name = "typical", "普通"
        if en_name in used:
            en_name, zh_name = f"{en_name} ({sid})", f"{zh_name}（{sid}）"
        used.add(en_name)
        names[int(sid)] = (en_name, zh_name)
    return names

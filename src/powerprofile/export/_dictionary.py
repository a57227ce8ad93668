"""The data dictionary and ``README.txt`` of an export: every column and code, in two languages.

Generated from one source per fact: customer types from the data contract
(:data:`powerprofile.schema` ``CUSTOMER_TYPE_ZH``), channel names from
:data:`~powerprofile.export.OUTBOUND_CHANNELS`, campaign titles and purposes from the
campaign file, segment, tag and risk-flag labels from the portraits being exported,
band definitions from the exported scores themselves, and the column descriptions
below (the export's view of ``docs/portrait.md``).
"""

from __future__ import annotations

import re

import pandas as pd

from ..schema._contract import CHANNEL_ZH, CUSTOMER_TYPE_ZH
from ._campaigns import OUTBOUND_CHANNELS

__all__ = ["DICTIONARY_COLUMNS", "build_dictionary", "build_readme", "describe_column"]

DICTIONARY_COLUMNS = (
    "kind",
    "column",
    "code",
    "name_zh",
    "name_en",
    "type",
    "files",
    "meaning_zh",
    "meaning_en",
)
"""Columns of ``data_dictionary.csv``: one row per exported column (``kind`` ``column``),
then one per code a column takes (``kind`` ``code``)."""

_TYPES_ZH = {
    "string": "文本",
    "integer": "整数",
    "number": "数值",
    "boolean": "是/否",
    "date": "日期",
}

_TARGETS = {
    "churn": ("churn", "流失", "leaving (account closure, move-out, supplier switch, suspension)"),
    "complaint": ("complaint", "投诉", "filing a formal complaint"),
}

_PREFERRED = (
    "The channel the customer uses most for contacts and payments (docs/portrait.md): a fact "
    "about the customer, not the channel of this list. The list's channel is chosen by the "
    "campaign's channel order among the channels the customer can be reached on and that "
    "still have capacity, so it differs from preferred_channel when that channel is not in "
    "the campaign, not reachable, or full."
)
_PREFERRED_ZH = (
    "用户办理业务和缴费最常用的渠道（见 docs/portrait.md），描述用户习惯，并非本名单的渠道。"
    "名单渠道按活动设定的渠道顺序，在用户可触达且尚有容量的渠道中选第一个；当偏好渠道不在"
    "活动渠道中、不可触达或已满时，两者不同。"
)

# column -> (name_zh, name_en, meaning_zh, meaning_en)
_FIXED = {
    "campaign": (
        "营销活动",
        "Campaign",
        "活动代码，标题和目的见代码表和 README.txt",
        "Campaign code; its title and purpose are in the code list and README.txt",
    ),
    "channel": ("触达渠道", "Channel", "本名单的触达渠道", "The channel this list is for"),
    "campaign_id": (
        "活动批次编号",
        "Campaign id",
        "活动代码@快照日期：回执文件（responses）按此编号对应本次导出",
        "<campaign>@<snapshot date>: response files name this id to answer this export",
    ),
    "intended_channel": (
        "拟触达渠道",
        "Intended channel",
        "对照组用户若不留出本应进入的渠道（对照组用户不被联系）",
        "The channel a control customer would have been contacted on (control customers are not contacted)",
    ),
    "stratum": (
        "分层",
        "Stratum",
        "对照组分层：拟触达渠道|风险等级|地区",
        "Control-group stratum: intended channel|score band|region",
    ),
    "score_band": (
        "风险等级",
        "Score band",
        "该活动评分的风险等级（high/medium/low）",
        "Band of the campaign's score (high/medium/low)",
    ),
    "rank": (
        "排名",
        "Rank",
        "本文件内的联系顺序，1 为最先联系",
        "Order of contact within this file, 1 first",
    ),
    "customer_key": (
        "用户编码（假名）",
        "Customer key (pseudonym)",
        "K 加 16 位十六进制字符的密钥哈希假名；同一密钥下同一用户在各次导出中编码相同；不含户号，无法反推",
        "K followed by 16 hex characters, a keyed hash of the customer id; the same customer has the same key in every run with the same secret key; the customer id cannot be recovered from it",
    ),
    "snapshot_date": (
        "快照日期",
        "Snapshot date",
        "评分所依据数据的截止日期（不含当日）",
        "Scores use data strictly before this day",
    ),
    "customer_type": ("用户类型", "Customer type", "见代码表", "See the code list"),
    "region": ("地区", "Region", "用户所在地市", "The customer's city"),
    "grid_unit": ("网格", "Grid unit", "服务该用户的网格", "The grid unit serving the customer"),
    "transformer_area": (
        "台区",
        "Transformer area",
        "用户所在台区",
        "The customer's transformer area",
    ),
    "segment_id": (
        "客群编号",
        "Segment number",
        "客群编号，名称见代码表",
        "Segment number; names in the code list",
    ),
    "segment_name_en": (
        "客群名称（英文）",
        "Segment name (English)",
        "客群的英文名称",
        "The segment's English name",
    ),
    "segment_name_zh": (
        "客群名称（中文）",
        "Segment name (Chinese)",
        "客群的中文名称",
        "The segment's Chinese name",
    ),
    "preferred_channel": ("偏好渠道", "Preferred channel", _PREFERRED_ZH, _PREFERRED),
    "phone": (
        "电话（脱敏）",
        "Phone (masked)",
        "按隐私策略脱敏的电话，仅保留末几位（见 manifest.json 的 pii_policy）",
        "Phone masked by the privacy policy, last digits only (see pii_policy in manifest.json)",
    ),
    "tags": (
        "标签代码",
        "Tag codes",
        "符合的标签代码，以 ; 分隔，含义见代码表",
        "Codes of the tags that hold, ';'-separated; see the code list",
    ),
    "tags_en": (
        "标签（英文）",
        "Tags (English)",
        "符合的标签英文名称",
        "English names of the tags that hold",
    ),
    "tags_zh": (
        "标签（中文）",
        "Tags (Chinese)",
        "符合的标签中文名称",
        "Chinese names of the tags that hold",
    ),
    "risk_flags": (
        "风险标记代码",
        "Risk flag codes",
        "触发的风险规则代码，以 ; 分隔",
        "Codes of the risk rules that hold, ';'-separated",
    ),
    "risk_flags_en": (
        "风险标记（英文）",
        "Risk flags (English)",
        "触发的风险规则英文名称",
        "English names of the risk rules that hold",
    ),
    "risk_flags_zh": (
        "风险标记（中文）",
        "Risk flags (Chinese)",
        "触发的风险规则中文名称",
        "Chinese names of the risk rules that hold",
    ),
    "risk_level": (
        "风险级别",
        "Risk level",
        "触发规则中的最高级别",
        "Highest severity among the risk rules that hold",
    ),
    "risk_reasons_en": (
        "风险原因（英文）",
        "Risk reasons (English)",
        "触发规则的原因说明",
        "Why each risk rule holds",
    ),
    "risk_reasons_zh": (
        "风险原因（中文）",
        "Risk reasons (Chinese)",
        "触发规则的原因说明",
        "Why each risk rule holds",
    ),
    "contactable_channels": (
        "可触达渠道",
        "Reachable channels",
        "用户可被触达的渠道，以 ; 分隔",
        "Channels the customer can be reached on, ';'-separated",
    ),
    "has_phone": (
        "有有效电话",
        "Has a valid phone",
        "有有效的手机或固话",
        "Holds a valid mobile or fixed-line number",
    ),
    "sms_opt_out": ("短信退订", "Opted out of SMS", "已退订短信", "Has opted out of SMS"),
    "app_user": (
        "网上国网用户",
        "App (网上国网) user",
        "已注册网上国网",
        "Registered user of the 网上国网 app",
    ),
    "wechat_bound": ("微信绑定", "WeChat bound", "已绑定微信", "Has bound a WeChat account"),
    "change": ("变动", "Change", "进入或离开该客群", "Entered or left the segment"),
    "previous_segment_id": (
        "原客群编号",
        "Previous segment",
        "上次导出时的客群",
        "Segment at the previous export",
    ),
    "current_segment_id": (
        "现客群编号",
        "Current segment",
        "本次导出的客群",
        "Segment at this export",
    ),
    "churn_model_version": (
        "流失模型版本",
        "Churn model version",
        "评分所用模型版本",
        "Version of the scoring model",
    ),
    "complaint_model_version": (
        "投诉模型版本",
        "Complaint model version",
        "评分所用模型版本",
        "Version of the scoring model",
    ),
    "segmenter_version": (
        "客群模型版本",
        "Segmenter version",
        "客群划分所用模型版本",
        "Version of the segmentation model",
    ),
}
_REASON_PARTS = {
    "feature": ("因素", "factor", "原因涉及的特征代码", "Code of the feature behind the reason"),
    "value": ("数值", "value", "该特征的数值", "The feature's value"),
    "level": ("类别", "category", "该特征的类别值", "The feature's category"),
    "contribution": (
        "贡献",
        "contribution",
        "对风险得分（对数几率）的贡献",
        "Contribution to the risk score (log-odds)",
    ),
    "direction": ("方向", "direction", "升高或降低风险", "Raises or lowers the risk"),
    "text_en": (
        "说明（英文）",
        "text (English)",
        "原因的英文说明",
        "The reason as an English phrase",
    ),
    "text_zh": (
        "说明（中文）",
        "text (Chinese)",
        "原因的中文说明",
        "The reason as a Chinese phrase",
    ),
}
_UNDOCUMENTED_ZH = "（未登记说明）"


def _channel_names(code: str) -> tuple[str, str]:
    if code in OUTBOUND_CHANNELS:
        return OUTBOUND_CHANNELS[code]
    if code == "counter":
        return "Service counter", CHANNEL_ZH["counter"]
    return code, code


def describe_column(column: str, labels: dict | None = None) -> tuple[str, str, str, str]:
    """The (name_zh, name_en, meaning_zh, meaning_en) of an exported column.

    Parameters
    ----------
    column : str
        Column name.
    labels : dict or None, default=None
        ``{"tag": {code: (en, zh)}, "risk": {code: (en, zh)}}`` for the ``tag_<code>``
        and ``risk_<code>`` columns.

    Returns
    -------
    tuple of str
        A column the export does not document gets its own name as English name and a
        Chinese name marking it as undocumented.
    """
    labels = labels or {}
    if column in _FIXED:
        return _FIXED[column]
    for t, (en_t, zh_t, event) in _TARGETS.items():
        if column == f"{t}_score":
            return (
                f"{zh_t}概率",
                f"{en_t.capitalize()} probability",
                f"模型校准后的{zh_t}概率（0–1，0.05 即 5%），在模型预测期内",
                f"Calibrated probability of {event} within the model's horizon (0-1; 0.05 is 5 %)",
            )
        if column == f"{t}_band":
            return (
                f"{zh_t}风险等级",
                f"{en_t.capitalize()} band",
                f"按{zh_t}得分分组，定义见代码表（不是概率阈值时为排名分组）",
                "Group of the score; the code list gives each band's definition and its probability range",
            )
        if column == f"{t}_decile":
            return (
                f"{zh_t}得分十分位",
                f"{en_t.capitalize()} decile",
                "本快照全部用户中得分的十分位，10 为最高的 10%",
                "Decile of the score among all customers of the snapshot, 10 = the top tenth",
            )
        for lang, lzh in (("en", "英文"), ("zh", "中文")):
            if column == f"{t}_reasons_{lang}":
                return (
                    f"{zh_t}风险原因（{lzh}）",
                    f"{en_t.capitalize()} reasons ({'English' if lang == 'en' else 'Chinese'})",
                    "仅列出使风险升高的主要原因",
                    "The main reasons that raise the risk (reasons that lower it are left out)",
                )
        m = re.fullmatch(rf"{t}_reason_(\d+)_(\w+)", column)
        if m and m.group(2) in _REASON_PARTS:
            i, (pzh, pen, mzh, men) = m.group(1), _REASON_PARTS[m.group(2)]
            return (
                f"{zh_t}原因{i}·{pzh}",
                f"{en_t.capitalize()} reason {i} {pen}",
                mzh,
                men,
            )
    for prefix, kind, what_zh, what_en in (
        ("contactable_", None, "可通过{}触达", "Reachable by {}"),
        ("tag_", "tag", "标签：{}", "Tag: {}"),
        ("risk_", "risk", "风险：{}", "Risk: {}"),
    ):
        if column.startswith(prefix):
            code = column[len(prefix) :]
            if kind is None:
                if code not in OUTBOUND_CHANNELS:
                    continue
                en, zh = OUTBOUND_CHANNELS[code]
            else:
                en, zh = labels.get(kind, {}).get(code, (code, code))
            return (
                what_zh.format(zh),
                what_en.format(en),
                "是否成立",
                "Whether it holds",
            )
    return (column + _UNDOCUMENTED_ZH, column, _UNDOCUMENTED_ZH, "Not documented")


def _pairs(frame: pd.DataFrame, codes: str) -> dict[str, tuple[str, str]]:
    """Code -> (English, Chinese) label from ``<codes>``, ``<codes>_en``, ``<codes>_zh``."""
    cols = [codes, f"{codes}_en", f"{codes}_zh"]
    if not set(cols) <= set(frame.columns) or not len(frame):
        return {}
    # rows repeat a few label sets: split each distinct set once (first rows kept, in order)
    distinct = frame[cols].drop_duplicates()
    parts = [distinct[c].astype("string").fillna("").str.split(";") for c in cols]
    lengths = [p.str.len() for p in parts]
    same = (lengths[0] == lengths[1]) & (lengths[0] == lengths[2])
    exploded = [p[same].explode().reset_index(drop=True) for p in parts]
    table = pd.DataFrame(dict(zip(("code", "en", "zh"), exploded, strict=True)))
    table = table[table["code"].str.len() > 0].drop_duplicates("code").sort_values("code")
    return {r.code: (r.en, r.zh) for r in table.itertuples()}


def _pct(x: float) -> str:
    return f"{x * 100:.2f} %" if x < 0.1 else f"{x * 100:.1f} %"


def _band_stats(frame: pd.DataFrame, target: str) -> dict | None:
    """Per band code of ``target``: rows, score and decile ranges (mergeable over parts)."""
    band, score, decile = f"{target}_band", f"{target}_score", f"{target}_decile"
    if band not in frame.columns or score not in frame.columns:
        return None
    categorical = isinstance(frame[band].dtype, pd.CategoricalDtype)
    cats = (
        list(frame[band].cat.categories)[::-1]
        if categorical
        else sorted(frame[band].dropna().astype(str).unique())
    )
    stats = {}
    for code in cats:
        at = (frame[band].astype("string") == str(code)).fillna(False).to_numpy(dtype=bool)
        k = int(at.sum())
        if not k:
            continue
        s = frame.loc[at, score].astype(float)
        d = frame.loc[at, decile].dropna().astype(int) if decile in frame.columns else ()
        lo, hi = (int(d.min()), int(d.max())) if len(d) else (None, None)
        stats[str(code)] = (k, float(s.min()), float(s.max()), lo, hi)
    return {
        "n": int(frame[score].notna().sum()),
        "codes": [str(c) for c in cats],
        "categorical": categorical,
        "stats": stats,
    }


def _merge_band_stats(items: list) -> dict | None:
    items = [i for i in items if i is not None]
    if not items:
        return None
    first = next((i for i in items if i["categorical"]), None)
    codes = first["codes"] if first is not None else sorted({c for i in items for c in i["codes"]})
    stats: dict = {}
    for i in items:
        for code, (k, smin, smax, lo, hi) in i["stats"].items():
            if code not in stats:
                stats[code] = (k, smin, smax, lo, hi)
                continue
            k0, a, b, lo0, hi0 = stats[code]
            los = [x for x in (lo0, lo) if x is not None]
            his = [x for x in (hi0, hi) if x is not None]
            stats[code] = (
                k0 + k,
                min(a, smin),
                max(b, smax),
                min(los) if los else None,
                max(his) if his else None,
            )
    return {
        "n": sum(i["n"] for i in items),
        "codes": codes,
        "categorical": first is not None,
        "stats": stats,
    }


def _band_codes(frame: pd.DataFrame, target: str, stats: dict | None = None) -> list[dict]:
    stats = _band_stats(frame, target) if stats is None else stats
    if stats is None:
        return []
    band = f"{target}_band"
    en_t, zh_t, _ = _TARGETS.get(target, (target, target, target))
    n = stats["n"]
    rows = []
    for code in stats["codes"]:
        if code not in stats["stats"]:
            continue
        k, smin, smax, lo, hi = stats["stats"][code]
        share = k / n if n else 0.0
        en = (
            f"{_pct(share)} of the customers ({k}); {en_t} probability {_pct(smin)} to {_pct(smax)}"
        )
        zh = f"占用户的 {_pct(share)}（{k} 户）；{zh_t}概率 {_pct(smin)} 至 {_pct(smax)}"
        if lo is not None:
            rng = str(lo) if lo == hi else f"{lo}-{hi}"
            en = f"deciles {rng} of this snapshot's scores: " + en
            zh = f"本快照得分十分位 {rng}：" + zh
        rows.append(
            {
                "column": band,
                "code": str(code),
                "name_en": str(code),
                "name_zh": {"high": "高", "medium": "中", "low": "低"}.get(str(code), str(code)),
                "meaning_en": en,
                "meaning_zh": zh,
            }
        )
    return rows


def dictionary_facts(frame: pd.DataFrame) -> dict:
    """What the data dictionary reads of the portrait rows, mergeable over parts.

    Tag and risk-flag labels, segment names and, per target, the band codes' counts
    and score and decile ranges; :func:`merge_dictionary_facts` combines the facts of
    several parts into those of their concatenation.

    Parameters
    ----------
    frame : pandas.DataFrame
        Portrait rows.

    Returns
    -------
    dict
    """
    segments: dict = {}
    if "segment_id" in frame.columns:
        seg = frame[
            [c for c in ("segment_id", "segment_name_en", "segment_name_zh") if c in frame.columns]
        ]
        seg = seg.dropna(subset=["segment_id"]).drop_duplicates("segment_id")
        segments = {
            int(r["segment_id"]): (
                str(r.get("segment_name_en", r["segment_id"])),
                str(r.get("segment_name_zh", r["segment_id"])),
            )
            for _, r in seg.iterrows()  # one row per segment (a handful)
        }
    return {
        "tag": _pairs(frame, "tags"),
        "risk": _pairs(frame, "risk_flags"),
        "segments": segments if "segment_id" in frame.columns else None,
        "bands": {t: _band_stats(frame, t) for t in _TARGETS},
    }


def merge_dictionary_facts(parts: list[dict]) -> dict:
    """The :func:`dictionary_facts` of the concatenation of the parts' rows.

    Parameters
    ----------
    parts : list of dict
        Facts of each part, in part order.

    Returns
    -------
    dict
    """
    out: dict = {"tag": {}, "risk": {}, "segments": None, "bands": {}}
    for f in parts:
        for what in ("tag", "risk"):
            for code, pair in f[what].items():
                out[what].setdefault(code, pair)
        if f["segments"] is not None:
            out["segments"] = out["segments"] or {}
            for sid, pair in f["segments"].items():
                out["segments"].setdefault(sid, pair)
    for what in ("tag", "risk"):
        out[what] = dict(sorted(out[what].items()))
    out["bands"] = {t: _merge_band_stats([f["bands"][t] for f in parts]) for t in _TARGETS}
    return out


def build_dictionary(
    frame: pd.DataFrame,
    schema: dict[str, str],
    files_of: dict[str, list[str]],
    campaigns,
    *,
    facts: dict | None = None,
) -> pd.DataFrame:
    """The data dictionary of an export (see :data:`DICTIONARY_COLUMNS`).

    Parameters
    ----------
    frame : pandas.DataFrame
        The portrait rows exported (labels of segments, tags, risk flags and bands).
    schema : dict of str to str
        Column -> type of every exported column.
    files_of : dict of str to list of str
        Column -> the files holding it.
    campaigns : list of Campaign
        The campaigns exported.
    facts : dict or None, default=None
        :func:`dictionary_facts` of the whole population when ``frame`` holds only
        some of its rows (a streamed export); default computed from ``frame``.

    Returns
    -------
    pandas.DataFrame
    """
    facts = dictionary_facts(frame) if facts is None else facts
    labels = {"tag": facts["tag"], "risk": facts["risk"]}
    rows = []
    for col, typ in schema.items():
        zh, en, mzh, men = describe_column(col, labels)
        rows.append(
            {
                "kind": "column",
                "column": col,
                "code": "",
                "name_zh": zh,
                "name_en": en,
                "type": f"{typ} {_TYPES_ZH.get(typ, '')}".strip(),
                "files": "; ".join(files_of.get(col, [])),
                "meaning_zh": mzh,
                "meaning_en": men,
            }
        )
    codes: list[dict] = []

    def add(column, items):
        if column in schema:
            codes.extend(
                {
                    "column": column,
                    "code": c,
                    "name_en": en,
                    "name_zh": zh,
                    "meaning_en": en,
                    "meaning_zh": zh,
                }
                for c, (en, zh) in items
            )

    add("customer_type", [(c, (c.replace("_", " "), zh)) for c, zh in CUSTOMER_TYPE_ZH.items()])
    for col in ("channel", "preferred_channel"):
        add(col, [(c, _channel_names(c)) for c in (*OUTBOUND_CHANNELS, "counter")])
    add(
        "campaign",
        [(c.name, (c.title_en or c.name, c.title_zh or c.title_en or c.name)) for c in campaigns],
    )
    if facts["segments"] is not None:
        items = [(str(sid), pair) for sid, pair in sorted(facts["segments"].items())]
        for col in ("segment_id", "previous_segment_id", "current_segment_id"):
            add(col, items)
    add("tags", sorted(labels["tag"].items()))
    add("risk_flags", sorted(labels["risk"].items()))
    add(
        "change",
        [
            ("entered", ("entered the segment", "进入客群")),
            ("left", ("left the segment", "离开客群")),
        ],
    )
    add(
        "risk_level",
        [
            (c, (c, zh))
            for c, zh in (("high", "高"), ("medium", "中"), ("low", "低"), ("none", "无"))
        ],
    )
    for t in _TARGETS:
        if f"{t}_band" in schema:
            codes.extend(_band_codes(frame, t, facts["bands"][t]))
        for col in [c for c in schema if re.fullmatch(rf"{t}_reason_\d+_direction", c)]:
            add(
                col,
                [
                    ("increase", ("raises the risk", "风险上升")),
                    ("decrease", ("lowers the risk", "风险下降")),
                ],
            )
    for r in codes:
        r.update(kind="code", type="", files="")
    out = pd.DataFrame(rows + codes, columns=list(DICTIONARY_COLUMNS))
    return out.astype("string")


def build_readme(manifest: dict, campaigns, files: list[dict]) -> str:
    """The bilingual ``README.txt`` of an export.

    Parameters
    ----------
    manifest : dict
        The manifest (snapshot date, policies).
    campaigns : list of Campaign
        The campaigns exported, in run order.
    files : list of dict
        The manifest's file entries.

    Returns
    -------
    str
    """
    by_campaign: dict[str, list[dict]] = {}
    for f in files:
        by_campaign.setdefault(str(f.get("campaign")), []).append(f)
    out = [
        "营销名单导出说明 · About this export",
        "=" * 40,
        "",
        f"快照日期 Snapshot date: {manifest.get('snapshot_date')}",
        "每个名单文件是一个营销活动在一个渠道上的用户名单，按排名列（rank）从 1 开始联系。",
        "Each list file holds one campaign's customers for one channel; contact them in the order of the rank column (1 first).",
        "列和代码的中英文说明见 data_dictionary.csv（Excel 可直接打开，中文不乱码）。",
        "Every column and code is explained in Chinese and English in data_dictionary.csv (opens in Excel with Chinese intact).",
        "",
        "营销活动 Campaigns",
        "-" * 40,
    ]
    for c in campaigns:
        out.append(f"[{c.name}] {c.title_zh or ''} · {c.title_en or ''}".rstrip(" ·"))
        if c.purpose_zh or c.purpose_en:
            out.append(f"  目的 Purpose: {c.purpose_zh} {c.purpose_en}".rstrip())
        out.append(f"  选择条件 Selection: {c.select}")
        ranked = ", ".join(c.ranking)
        if not c.rank_by:
            ranked += "（模型校准概率 calibrated probability）"
        out.append(f"  排序 Ranked by (highest first): {ranked}")
        chans = " > ".join(f"{ch} ({' / '.join(OUTBOUND_CHANNELS[ch])})" for ch in c.channels)
        out.append(f"  渠道顺序 Channel order: {chans}")
        for f in by_campaign.get(c.name, []):
            out.append(f"  文件 File: {f['file']} — {f['rows']} 户 customers")
        out.append("")
    out += [
        "渠道如何选择 How the channel is chosen",
        "-" * 40,
        "活动按优先级依次执行；每个入选用户进入活动渠道顺序中第一个可触达、未退订/未列入免打扰、且仍有容量的渠道。"
        f"每位用户每次最多进入 {manifest.get('frequency_cap')} 个活动。",
        "Campaigns run in priority order; each selected customer goes to the first channel in the campaign's "
        "channel order they can be reached on (not opted out, not on the do-not-contact list) that still has "
        f"capacity. A customer is in at most {manifest.get('frequency_cap')} campaign(s) per run.",
        "preferred_channel（偏好渠道）是用户自己最常用的渠道，仅供参考：若该渠道不在活动渠道中、不可触达或已满，名单渠道会不同。",
        "preferred_channel is the channel the customer uses most (a habit, for reference); the list's channel "
        "differs when that channel is not one of the campaign's, cannot reach the customer, or is full.",
        "",
        "风险等级 Bands",
        "-" * 40,
        "high/medium/low 为评分分组；默认按本快照得分排名（high = 得分最高的 10%，medium = 其后 20%），不是概率阈值。"
        "各等级的实际概率范围见 data_dictionary.csv。",
        "high/medium/low group the scores; by default by rank within this snapshot (high = the top 10 % of "
        "scores, medium = the next 20 %), not by a probability threshold. The probability range of each band "
        "is in data_dictionary.csv.",
        "原因列只列出使风险升高的因素。The reason columns list only factors that raise the risk.",
        "",
        "用户编码 Customer keys",
        "-" * 40,
        "customer_key 为 K 开头的假名（K + 16 位十六进制），电子表格不会把它当作数字；不含户号、姓名、地址。",
        "customer_key is a pseudonym starting with K (K + 16 hex characters), so no spreadsheet turns it into "
        "a number; no customer id, name or address is exported.",
        "",
        "manifest.json 记录文件校验值、列类型（columns）和隐私策略。",
        "manifest.json records each file's checksum, the column types (columns) and the privacy policy.",
    ]
    return "\r\n".join(out) + "\r\n"

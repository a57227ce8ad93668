"""The data contract: tables, columns, types and allowed categories.

This module is the single source of truth for column names. Every other module
(generator, validation, features, KPIs, exports) refers to these names.

Kinds of column
---------------
``id``        text identifier (pandas string dtype)
``text``      free text (pandas string dtype)
``category``  one of ``categories`` (validated, then pandas ``category`` dtype with
              exactly the contract's categories, in the contract's order)
``date``      calendar day (``datetime64``, normalised to midnight)
``datetime``  timestamp (``datetime64``)
``float``     floating point number (``float64``)
``bool``      boolean (``bool``; CSV spellings true/false/1/0/yes/no accepted)
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CHANNELS",
    "CONTACT_TYPES",
    "CUSTOMER_TYPES",
    "DATE_MAX",
    "DATE_MIN",
    "EVENT_KINDS",
    "FEEDBACK_TABLES",
    "ONLINE_CHANNELS",
    "ORG_LEVELS",
    "ORG_LEVEL_ZH",
    "REFERENCE_TABLES",
    "ONLINE_PAYMENT_CHANNELS",
    "PAYMENT_CHANNELS",
    "PER_CUSTOMER",
    "PII_COLUMNS",
    "SCHEMA_VERSION",
    "TABLES",
    "TABLE_ORDER",
    "ColumnSpec",
    "TableSpec",
]

SCHEMA_VERSION = "1.0"

DATE_MIN = "1900-01-01"
"""Earliest plausible date or date-time in any table (earlier ones are ``out_of_range``)."""
DATE_MAX = "2100-12-31"
"""Latest plausible day (inclusive) in any table; ``data_end`` must lie in the same range."""

CUSTOMER_TYPES = ("residential", "commercial", "large_industrial", "agricultural")
"""居民, 一般工商业, 大工业, 农业."""
CUSTOMER_TYPE_ZH = {
    "residential": "居民",
    "commercial": "一般工商业",
    "large_industrial": "大工业",
    "agricultural": "农业",
}
TARIFFS = ("residential_tiered", "general_commercial", "large_industrial_two_part", "agricultural")
STATUSES = ("active", "suspended", "closed")
CHANNELS = ("hotline_95598", "app", "wechat", "counter", "grid_manager")
"""Service-contact channels: 95598 hotline, 网上国网 app, WeChat, counter (营业厅), grid manager (网格经理)."""
CHANNEL_ZH = {
    "hotline_95598": "95598热线",
    "app": "网上国网",
    "wechat": "微信",
    "counter": "营业厅",
    "grid_manager": "网格经理",
}
ONLINE_CHANNELS = ("app", "wechat")
CONTACT_TYPES = (
    "inquiry",
    "outage_report",
    "payment",
    "business_request",
    "complaint",
    "opinion",
    "praise",
)
CONTACT_TYPE_ZH = {
    "inquiry": "咨询",
    "outage_report": "故障报修",
    "payment": "缴费",
    "business_request": "业务办理",
    "complaint": "投诉",
    "opinion": "意见",
    "praise": "表扬",
}
PAYMENT_CHANNELS = ("app", "wechat", "alipay", "bank_withholding", "counter")
ONLINE_PAYMENT_CHANNELS = ("app", "wechat", "alipay", "bank_withholding")
EVENT_KINDS = ("closure", "supplier_switch", "suspension", "capacity_reduction")
"""销户/迁出, 更换售电公司, 暂停, 减容."""
READ_QUALITY = ("actual", "estimated")
ORG_LEVELS = ("province", "city", "county", "service_centre", "grid_unit")
"""Levels of the operating organisation, top first: 省/网级, 地市, 区县, 供电服务中心, 网格."""
ORG_LEVEL_ZH = {
    "province": "省公司",
    "city": "地市公司",
    "county": "区县公司",
    "service_centre": "供电服务中心",
    "grid_unit": "网格",
}


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a contract table.

    Parameters
    ----------
    name : str
        Column name.
    kind : {"id", "text", "category", "date", "datetime", "float", "bool"}
        Logical type (see the module docstring).
    required : bool, default=True
        Whether the column must be present.
    categories : tuple of str, default=()
        Allowed values for ``kind="category"``.
    nullable : bool, default=False
        Whether missing values are allowed.
    min_value, max_value : float or None, default=None
        Inclusive bounds for ``kind="float"``; values outside are "absurd".
    pii : bool, default=False
        Personally identifying information.
    description : str, default=""
        English description; ``description_zh`` the Chinese one.
    """

    name: str
    kind: str
    required: bool = True
    categories: tuple[str, ...] = ()
    nullable: bool = False
    min_value: float | None = None
    max_value: float | None = None
    pii: bool = False
    description: str = ""
    description_zh: str = ""


@dataclass(frozen=True)
class TableSpec:
    """One contract table.

    Parameters
    ----------
    name : str
        Table name; also the file stem (``customers.parquet`` or ``customers.csv``,
        or a folder ``usage/`` of Parquet parts).
    columns : tuple of ColumnSpec
        The columns.
    key : tuple of str
        Columns that identify a row uniquely (``recorded_at`` joins the key when the
        optional column is present, since a corrected row is a new version).
    customer_column : str or None
        Column referring to ``customers.customer_id`` (orphans are errors).
    time_column : str or None
        The column that dates the row, checked against the data's declared end and
        used as the point-in-time cutoff column.
    """

    name: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()
    customer_column: str | None = "customer_id"
    time_column: str | None = None
    description: str = ""
    extra: dict = field(default_factory=dict)

    def column(self, name: str) -> ColumnSpec:
        """Return the spec of column ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        """All column names, required first in contract order."""
        return tuple(c.name for c in self.columns)


_KWH_MAX_PER_DAY = 5_000_000.0  # a large industrial plant of ~200 MW; anything above is absurd

TABLES: dict[str, TableSpec] = {
    "customers": TableSpec(
        name="customers",
        description="One row per customer account (用户档案).",
        key=("customer_id",),
        customer_column=None,
        time_column=None,
        columns=(
            ColumnSpec(
                "customer_id",
                "id",
                description="Customer account number",
                description_zh="户号",
                pii=True,
            ),
            ColumnSpec(
                "customer_type",
                "category",
                categories=CUSTOMER_TYPES,
                description="Customer type",
                description_zh="用户类型",
            ),
            ColumnSpec(
                "region",
                "id",
                description="City or county the customer belongs to",
                description_zh="地区",
            ),
            ColumnSpec(
                "grid_unit",
                "id",
                description="Grid unit served by one grid manager",
                description_zh="网格",
            ),
            ColumnSpec(
                "transformer_area",
                "id",
                description="Transformer area (customers behind one distribution transformer)",
                description_zh="台区",
            ),
            ColumnSpec(
                "tariff",
                "category",
                categories=TARIFFS,
                description="Tariff",
                description_zh="电价类别",
            ),
            ColumnSpec(
                "tou_flag",
                "bool",
                description="On a time-of-use (peak/flat/valley) tariff",
                description_zh="分时电价",
            ),
            ColumnSpec(
                "supply_start", "date", description="Date supply started", description_zh="立户日期"
            ),
            ColumnSpec(
                "status",
                "category",
                categories=STATUSES,
                description="Account status at the data's end (not point-in-time: features use events)",
                description_zh="账户状态",
            ),
            ColumnSpec(
                "name",
                "text",
                required=False,
                nullable=True,
                pii=True,
                description="Customer name",
                description_zh="户名",
            ),
            ColumnSpec(
                "phone",
                "text",
                required=False,
                nullable=True,
                pii=True,
                description="Mobile phone number",
                description_zh="手机号",
            ),
            ColumnSpec(
                "address",
                "text",
                required=False,
                nullable=True,
                pii=True,
                description="Supply address",
                description_zh="用电地址",
            ),
            ColumnSpec(
                "app_user",
                "bool",
                required=False,
                description="Registered on the utility app (网上国网)",
                description_zh="网上国网用户",
            ),
            ColumnSpec(
                "wechat_bound",
                "bool",
                required=False,
                description="WeChat account bound",
                description_zh="微信绑定",
            ),
            ColumnSpec(
                "sms_opt_out",
                "bool",
                required=False,
                description="Opted out of SMS",
                description_zh="短信退订",
            ),
        ),
    ),
    "outages": TableSpec(
        name="outages",
        description="Outages per transformer area (停电事件).",
        key=("outage_id",),
        customer_column=None,
        time_column="start",
        columns=(
            ColumnSpec(
                "outage_id", "id", description="Outage identifier", description_zh="停电编号"
            ),
            ColumnSpec(
                "transformer_area",
                "id",
                description="Affected transformer area",
                description_zh="台区",
            ),
            ColumnSpec("start", "datetime", description="Outage start", description_zh="停电开始"),
            ColumnSpec("end", "datetime", description="Power restored", description_zh="恢复送电"),
            ColumnSpec(
                "planned",
                "bool",
                description="Planned (scheduled maintenance) rather than a fault",
                description_zh="计划停电",
            ),
        ),
    ),
    "usage": TableSpec(
        name="usage",
        description="Daily smart-meter readings (日用电量).",
        key=("customer_id", "date"),
        time_column="date",
        columns=(
            ColumnSpec(
                "customer_id",
                "id",
                description="Customer account number",
                description_zh="户号",
                pii=True,
            ),
            ColumnSpec("date", "date", description="Day of consumption", description_zh="日期"),
            ColumnSpec(
                "kwh",
                "float",
                min_value=0.0,
                max_value=_KWH_MAX_PER_DAY,
                description="kWh consumed that day",
                description_zh="日用电量",
            ),
            ColumnSpec(
                "peak_kwh",
                "float",
                required=False,
                nullable=True,
                min_value=0.0,
                max_value=_KWH_MAX_PER_DAY,
                description="Peak-period kWh",
                description_zh="峰电量",
            ),
            ColumnSpec(
                "flat_kwh",
                "float",
                required=False,
                nullable=True,
                min_value=0.0,
                max_value=_KWH_MAX_PER_DAY,
                description="Flat-period kWh",
                description_zh="平电量",
            ),
            ColumnSpec(
                "valley_kwh",
                "float",
                required=False,
                nullable=True,
                min_value=0.0,
                max_value=_KWH_MAX_PER_DAY,
                description="Valley-period kWh",
                description_zh="谷电量",
            ),
            ColumnSpec(
                "read_quality",
                "category",
                required=False,
                categories=READ_QUALITY,
                description="Actual or estimated read",
                description_zh="抄表质量",
            ),
            ColumnSpec(
                "recorded_at",
                "datetime",
                required=False,
                description="When the row became known (corrections are new versions)",
                description_zh="入库时间",
            ),
        ),
    ),
    "bills": TableSpec(
        name="bills",
        description="Monthly bills (电费账单). A bill is known from its issue date.",
        key=("customer_id", "bill_month"),
        time_column="issue_date",
        columns=(
            ColumnSpec(
                "customer_id",
                "id",
                description="Customer account number",
                description_zh="户号",
                pii=True,
            ),
            ColumnSpec(
                "bill_month",
                "date",
                description="First day of the billed month",
                description_zh="账期",
            ),
            ColumnSpec(
                "issue_date",
                "date",
                description="Day the bill was issued",
                description_zh="出账日期",
            ),
            ColumnSpec(
                "due_date", "date", description="Payment due date", description_zh="缴费截止日"
            ),
            ColumnSpec(
                "amount",
                "float",
                min_value=0.0,
                max_value=1e9,
                description="Amount billed (CNY)",
                description_zh="电费金额",
            ),
            ColumnSpec(
                "kwh",
                "float",
                min_value=0.0,
                max_value=_KWH_MAX_PER_DAY * 31,
                description="kWh billed",
                description_zh="结算电量",
            ),
            ColumnSpec(
                "recorded_at",
                "datetime",
                required=False,
                description="When the row became known (re-bills are new versions)",
                description_zh="入库时间",
            ),
        ),
    ),
    "payments": TableSpec(
        name="payments",
        description="Payments received (缴费记录).",
        key=("payment_id",),
        time_column="date",
        columns=(
            ColumnSpec(
                "payment_id",
                "id",
                required=False,
                description="Payment identifier",
                description_zh="缴费流水号",
            ),
            ColumnSpec(
                "customer_id",
                "id",
                description="Customer account number",
                description_zh="户号",
                pii=True,
            ),
            ColumnSpec(
                "date", "date", description="Day the payment arrived", description_zh="缴费日期"
            ),
            ColumnSpec(
                "amount",
                "float",
                min_value=0.0,
                max_value=1e9,
                description="Amount paid (CNY)",
                description_zh="缴费金额",
            ),
            ColumnSpec(
                "channel",
                "category",
                categories=PAYMENT_CHANNELS,
                description="Payment channel",
                description_zh="缴费渠道",
            ),
        ),
    ),
    "interactions": TableSpec(
        name="interactions",
        description="Service contacts across channels (服务接触记录).",
        key=("interaction_id",),
        time_column="timestamp",
        columns=(
            ColumnSpec(
                "interaction_id",
                "id",
                required=False,
                description="Contact identifier (work-order number)",
                description_zh="工单号",
            ),
            ColumnSpec(
                "customer_id",
                "id",
                description="Customer account number",
                description_zh="户号",
                pii=True,
            ),
            ColumnSpec(
                "timestamp",
                "datetime",
                description="When the contact happened",
                description_zh="接触时间",
            ),
            ColumnSpec(
                "channel",
                "category",
                categories=CHANNELS,
                description="Channel",
                description_zh="渠道",
            ),
            ColumnSpec(
                "type",
                "category",
                categories=CONTACT_TYPES,
                description="Contact type",
                description_zh="诉求类型",
            ),
            ColumnSpec(
                "satisfaction",
                "float",
                required=False,
                nullable=True,
                min_value=1.0,
                max_value=5.0,
                description="Satisfaction score 1-5",
                description_zh="满意度",
            ),
        ),
    ),
    "events": TableSpec(
        name="events",
        description="Account events that can define churn (业务事件).",
        key=("customer_id", "date", "kind"),
        time_column="date",
        columns=(
            ColumnSpec(
                "customer_id",
                "id",
                description="Customer account number",
                description_zh="户号",
                pii=True,
            ),
            ColumnSpec("date", "date", description="Effective date", description_zh="生效日期"),
            ColumnSpec(
                "kind",
                "category",
                categories=EVENT_KINDS,
                description="closure / move-out, retail supplier switch, suspension, capacity reduction",
                description_zh="事件类型",
            ),
        ),
    ),
    "org_units": TableSpec(
        name="org_units",
        description="The operating organisation (组织机构): one row per unit, each grid unit "
        "placed under a service centre, county, city and the province.",
        key=("unit_id",),
        customer_column=None,
        time_column=None,
        columns=(
            ColumnSpec("unit_id", "id", description="Unit identifier", description_zh="单位编码"),
            ColumnSpec(
                "parent_id",
                "id",
                nullable=True,
                description="Parent unit (empty for the root, the province)",
                description_zh="上级单位编码",
            ),
            ColumnSpec(
                "level",
                "category",
                categories=ORG_LEVELS,
                description="Level: province, city, county, service centre, grid unit",
                description_zh="层级",
            ),
            ColumnSpec("name_zh", "text", description="Chinese name", description_zh="中文名称"),
            ColumnSpec("name_en", "text", description="English name", description_zh="英文名称"),
        ),
    ),
}

_BOOL = {"kind": "bool", "required": False}

TABLES["responses"] = TableSpec(
    name="responses",
    description=(
        "What came back from an exported campaign (活动回执): one row per customer of the "
        "campaign, treated or control, keyed to the campaign id of the export's manifest."
    ),
    key=("campaign_id", "customer_id"),
    time_column=None,
    columns=(
        ColumnSpec(
            "campaign_id",
            "id",
            description="Campaign id from the export's manifest (<campaign>@<snapshot date>)",
            description_zh="活动批次编号",
        ),
        ColumnSpec(
            "customer_id",
            "id",
            description="Customer account number (mapped to customer_key with the keyed hash)",
            description_zh="户号",
            pii=True,
        ),
        ColumnSpec(
            "channel",
            "id",
            required=False,
            nullable=True,
            description="Outbound channel used (empty for control customers); one of the export's channels",
            description_zh="触达渠道",
        ),
        ColumnSpec(
            "group",
            "category",
            required=False,
            nullable=True,
            categories=("treated", "control"),
            description=(
                "Treated or control as the campaign system recorded it; checked against the "
                "export's manifest when one is given, the assignment itself when none is "
                "(a pilot run outside powerprofile)"
            ),
            description_zh="实验组或对照组",
        ),
        ColumnSpec("sent", **_BOOL, description="Contact attempted", description_zh="已发送"),
        ColumnSpec(
            "sent_at",
            "datetime",
            required=False,
            nullable=True,
            description="When the contact was attempted",
            description_zh="发送时间",
        ),
        ColumnSpec(
            "delivered",
            **_BOOL,
            description="Contact reached the customer",
            description_zh="已送达",
        ),
        ColumnSpec(
            "responded",
            **_BOOL,
            description="Message opened or call answered",
            description_zh="已读或已接听",
        ),
        ColumnSpec(
            "retained",
            **_BOOL,
            description="Still a customer at the end of the campaign's horizon",
            description_zh="留存",
        ),
        ColumnSpec(
            "converted_online",
            **_BOOL,
            description="Paid online (app, WeChat, Alipay, bank) after the contact",
            description_zh="转为线上缴费",
        ),
        ColumnSpec(
            "complaint",
            **_BOOL,
            description="Filed a complaint after the contact",
            description_zh="接触后投诉",
        ),
        ColumnSpec(
            "outcome_at",
            "datetime",
            required=False,
            nullable=True,
            description="When the outcomes were observed",
            description_zh="结果观测时间",
        ),
    ),
)

TABLE_ORDER = ("customers", "outages", "usage", "bills", "payments", "interactions", "events")
"""The history tables a data set folder holds, in validation order."""
FEEDBACK_TABLES = ("responses",)
"""Contract tables that answer an export (read by ``powerprofile outcomes``, not by the
feature builders): validated by the same checks, never part of the history."""

REFERENCE_TABLES = ("org_units",)
"""Optional reference tables outside the per-customer flow: read and checked on their own
(``powerprofile.schema.read_org_units``), never partitioned; old data sets lack them."""

PII_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(c.name for t in TABLE_ORDER for c in TABLES[t].columns if c.pii)
)
"""Columns that identify a person (the columns flagged ``pii``, in contract order):
``customer_id``, ``name``, ``phone``, ``address``. The one list every output policy
uses; never written raw unless a config says so."""

PER_CUSTOMER = tuple(name for name in TABLE_ORDER if TABLES[name].customer_column is not None)
"""Tables whose rows belong to one customer (stored as hash partitions of customers)."""

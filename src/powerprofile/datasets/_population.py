"""Customers of one chunk: archetypes, area hierarchy, tariffs, contact details."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._archetypes import A

__all__ = ["REGIONS", "Population", "make_population"]

REGIONS = ("hangzhou", "ningbo", "wenzhou", "jiaxing", "huzhou", "lishui")
_REGION_ZH = ("杭州", "宁波", "温州", "嘉兴", "湖州", "丽水")
# region weights per area kind (urban, rural, industrial)
_REGION_P = np.array(
    [
        [0.34, 0.24, 0.18, 0.10, 0.08, 0.06],
        [0.12, 0.14, 0.20, 0.18, 0.16, 0.20],
        [0.25, 0.30, 0.15, 0.15, 0.10, 0.05],
    ]
)
_AREA_SIZE = ((25, 60), (20, 45), (6, 20))  # customers per transformer area, per kind
_GRID_SIZE = (6, 14)  # transformer areas per grid unit
_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
_GIVEN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红文辉鹏飞婷雪琳浩宇欣怡子轩梓涵"
)
_SHOP = list("鑫福源兴盛隆昌达发顺和泰丰祥瑞华美佳")
_SUFFIX = (
    ("便利店", "餐饮店", "五金商行", "理发店", "超市"),  # small shop
    ("科技有限公司", "物业服务有限公司", "酒店管理有限公司", "教育咨询有限公司"),  # office
    ("制造有限公司", "机械有限公司", "纺织有限公司", "化工有限公司"),  # plant
    ("家庭农场", "种植专业合作社", "水稻种植户"),  # agriculture
)
_ROADS = (
    "中山",
    "人民",
    "解放",
    "建设",
    "文化",
    "新华",
    "和平",
    "友谊",
    "胜利",
    "环城",
    "学院",
    "凤起",
)


@dataclass
class Population:
    """Arrays describing the customers of one chunk (row ``i`` is one customer)."""

    n: int
    ids: pa.Array  # customer_id strings
    number: np.ndarray  # integer part of the id
    arch: np.ndarray
    ctype: np.ndarray
    area: np.ndarray  # chunk-local area index
    area_kind: np.ndarray  # per area: 0 urban, 1 rural, 2 industrial
    area_ids: pa.Array
    grid_of_area: np.ndarray
    grid_ids: pa.Array
    region_of_grid: np.ndarray
    region: np.ndarray  # per customer
    supply_start: np.ndarray  # day index relative to the period start (may be negative)
    level: np.ndarray
    growth: np.ndarray
    tou: np.ndarray
    tou_shares: np.ndarray  # n x 3
    contact_rate: np.ndarray  # contacts per day
    contact_mix: np.ndarray  # n x 5
    pay_mix: np.ndarray  # n x 5
    withholding: np.ndarray
    late_p: np.ndarray
    chronic: np.ndarray
    app_user: np.ndarray
    wechat_bound: np.ndarray
    sms_opt_out: np.ndarray
    has_phone: np.ndarray
    capacity_kva: np.ndarray
    issue_offset: np.ndarray  # bill issue day after month end, by region
    due_gap: np.ndarray  # days from issue to due date, by region
    text: dict  # name / phone / address as pyarrow arrays


def _dirichlet(rng, alpha: np.ndarray) -> np.ndarray:
    g = rng.standard_gamma(np.maximum(alpha, 1e-3))
    g = np.where(alpha > 0, g, 0.0)
    return g / g.sum(axis=1, keepdims=True)


def _cut(rng, members: np.ndarray, lo: int, hi: int) -> list[np.ndarray]:
    """Split ``members`` into consecutive groups of random size in [lo, hi]."""
    if len(members) == 0:
        return []
    sizes = rng.integers(lo, hi + 1, size=len(members) // lo + 2)
    bounds = np.cumsum(sizes)
    bounds = bounds[bounds < len(members)]
    return np.split(members, bounds)


def _pick(rng, options, n) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def make_population(
    rng: np.random.Generator, n: int, first_number: int, chunk: int, n_days: int
) -> Population:
    """Draw the customers of one chunk.

    Parameters
    ----------
    rng : numpy.random.Generator
        The chunk's generator.
    n : int
        Number of customers in the chunk.
    first_number : int
        Number of the chunk's first customer (ids are ``C`` + 7 digits).
    chunk : int
        Chunk number (makes area and grid ids unique across chunks).
    n_days : int
        Length of the simulated period.

    Returns
    -------
    Population
    """
    arch = rng.choice(len(A["share"]), size=n, p=A["share"] / A["share"].sum())
    ctype = A["type_code"][arch]
    # area kind: the archetype's main kind with its probability, else the other one
    main = A["area_kind"][arch]
    alt = np.where(main == 0, 1, np.where(main == 1, 0, 0))
    kind = np.where(rng.random(n) < A["area_kind_p"][arch], main, alt)
    area = np.empty(n, dtype=np.int64)
    area_kind_list, grid_list = [], []
    n_area = 0
    n_grid = 0
    grid_kind = []
    for k in range(3):  # loop over the three area kinds (not over customers)
        members = rng.permutation(np.flatnonzero(kind == k))
        groups = _cut(rng, members, *_AREA_SIZE[k])
        for g_idx, grp in enumerate(groups):  # groups are few (n / 40)
            area[grp] = n_area + g_idx
        n_k = len(groups)
        area_kind_list.append(np.full(n_k, k))
        # areas -> grid units
        ga = _cut(rng, np.arange(n_k), *_GRID_SIZE)
        g_of_a = np.empty(n_k, dtype=np.int64)
        for j, grp in enumerate(ga):
            g_of_a[grp] = n_grid + j
        grid_list.append(g_of_a)
        grid_kind.append(np.full(len(ga), k))
        n_area += n_k
        n_grid += len(ga)
    area_kind = np.concatenate(area_kind_list)
    grid_of_area = np.concatenate(grid_list)
    grid_kind = np.concatenate(grid_kind)
    u = rng.random(n_grid)
    region_of_grid = (u[:, None] > np.cumsum(_REGION_P[grid_kind], axis=1)).sum(axis=1)
    region_of_grid = np.minimum(region_of_grid, len(REGIONS) - 1)
    region = region_of_grid[grid_of_area[area]]

    number = first_number + np.arange(n, dtype=np.int64)
    ids = pc.binary_join_element_wise(
        "C", pc.utf8_lpad(pa.array(number).cast(pa.string()), 7, padding="0"), ""
    )
    reg_names = pa.array(REGIONS)
    grid_ids = pc.binary_join_element_wise(
        pc.take(reg_names, pa.array(region_of_grid)),
        pc.binary_join_element_wise(
            "G",
            pc.utf8_lpad(
                pa.array(chunk * 10_000 + np.arange(n_grid)).cast(pa.string()), 7, padding="0"
            ),
            "",
        ),
        "-",
    )
    area_ids = pc.binary_join_element_wise(
        "TA",
        pc.utf8_lpad(
            pa.array(chunk * 100_000 + np.arange(n_area)).cast(pa.string()), 8, padding="0"
        ),
        "",
    )

    # supply start: most before the period (tenure up to ~25 years), some during it
    new = rng.random(n) < 0.14
    tenure = np.floor(rng.exponential(7.0 * 365, n)).astype(np.int64) + 60
    tenure = np.minimum(tenure, 30 * 365)
    supply_start = np.where(new, rng.integers(0, max(n_days - 90, 1), n), -tenure)

    level = A["level"][arch] * np.exp(rng.normal(0.0, 0.3, n))
    growth = rng.normal(0.02, 0.04, n)
    tou = (rng.random(n) < A["tou_p"][arch]) | (ctype == 2)
    tou_shares = _dirichlet(rng, 80.0 * A["tou"][arch])
    contact_rate = A["contacts"][arch] * np.exp(rng.normal(0.0, 0.35, n)) / 365.0
    app_user = rng.random(n) < A["app"][arch]
    wechat_bound = rng.random(n) < A["wechat"][arch]
    sms_opt_out = rng.random(n) < A["sms_opt_out"][arch]
    has_phone = rng.random(n) < A["phone"][arch]
    cmix = A["contact_mix"][arch].copy()
    cmix[:, 1] *= app_user
    cmix[:, 2] *= wechat_bound
    cmix[:, 0] += 0.01
    contact_mix = _dirichlet(rng, 40.0 * cmix / cmix.sum(axis=1, keepdims=True))
    pmix = A["pay_mix"][arch].copy()
    pmix[:, 0] *= app_user
    pmix[:, 1] *= wechat_bound
    withholding = rng.random(n) < pmix[:, 3] / pmix.sum(axis=1)
    pmix[:, 3] = 0.0
    pmix[:, 4] += 0.01
    pay_mix = _dirichlet(rng, 40.0 * pmix / pmix.sum(axis=1, keepdims=True))
    late_p = np.clip(A["late"][arch] * np.exp(rng.normal(0.0, 0.6, n)), 0.0, 0.8)
    chronic = rng.random(n) < A["chronic"][arch]
    capacity_kva = np.round(level / 24.0 / 0.45 / 10.0) * 10.0 + 10.0
    issue_offset = np.array([3, 4, 5, 3, 6, 4])[region]
    due_gap = np.array([15, 18, 20, 16, 17, 19])[region]

    text = _make_text(rng, n, arch, ctype, region, has_phone)
    return Population(
        n=n,
        ids=ids,
        number=number,
        arch=arch,
        ctype=ctype,
        area=area,
        area_kind=area_kind,
        area_ids=area_ids,
        grid_of_area=grid_of_area,
        grid_ids=grid_ids,
        region_of_grid=region_of_grid,
        region=region,
        supply_start=supply_start,
        level=level,
        growth=growth,
        tou=tou,
        tou_shares=tou_shares,
        contact_rate=contact_rate,
        contact_mix=contact_mix,
        pay_mix=pay_mix,
        withholding=withholding,
        late_p=late_p,
        chronic=chronic,
        app_user=app_user,
        wechat_bound=wechat_bound,
        sms_opt_out=sms_opt_out,
        has_phone=has_phone,
        capacity_kva=capacity_kva,
        issue_offset=issue_offset,
        due_gap=due_gap,
        text=text,
    )


def _make_text(rng, n, arch, ctype, region, has_phone) -> dict:
    """Names (Chinese), 11-digit mobile phones and addresses, built column-wise."""
    surname = _pick(rng, _SURNAMES, n)
    given = _pick(rng, _GIVEN, n) + np.where(rng.random(n) < 0.6, _pick(rng, _GIVEN, n), "")
    person = pd.Series(surname + given, dtype="str")
    city = pd.Series(np.asarray(_REGION_ZH, dtype=object)[region], dtype="str")
    shop = pd.Series(_pick(rng, _SHOP, n) + _pick(rng, _SHOP, n), dtype="str")
    suffix_group = np.select([arch == 3, arch == 4, ctype == 2, ctype == 3], [0, 1, 2, 3], 0)
    suffix = np.empty(n, dtype=object)
    for g, options in enumerate(_SUFFIX):  # four suffix groups
        m = suffix_group == g
        suffix[m] = _pick(rng, options, int(m.sum()))
    business = city + shop + pd.Series(suffix, dtype="str")
    name = person.where(ctype == 0, business)
    prefix = np.array(["13", "15", "18"])[rng.integers(0, 3, n)]
    digits = pd.Series(rng.integers(0, 1_000_000_000, n)).astype("str").str.zfill(9)
    phone = (pd.Series(prefix, dtype="str") + digits).where(has_phone, None)
    road = pd.Series(_pick(rng, _ROADS, n), dtype="str")
    num = pd.Series(rng.integers(1, 400, n)).astype("str")
    room = pd.Series(rng.integers(101, 2600, n)).astype("str")
    address = city + "市" + road + "路" + num + "号"
    address = address.where(ctype != 0, address + room + "室")
    return {
        "name": pa.array(name.to_numpy(dtype=object), type=pa.string(), from_pandas=True),
        "phone": pa.array(phone.to_numpy(dtype=object), type=pa.string(), from_pandas=True),
        "address": pa.array(address.to_numpy(dtype=object), type=pa.string(), from_pandas=True),
    }

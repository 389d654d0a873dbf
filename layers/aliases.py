"""Header aliases (保护区名称, 功能区, 经度, 纬度, 线索编号 ...) and value aliases.

Headers are matched after normalisation: case folded, spaces, underscores and full-width
punctuation removed, and a unit in brackets split off (``面积(亩)`` -> ``面积`` with unit 亩).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from layers.errors import FieldError
from layers.i18n import _
from layers.schema import LAYER_FIELDS, STATUS_LABELS, Level, Status, Zone

__all__ = [
    "COORD_ALIASES",
    "FIELD_ALIASES",
    "candidate_headers",
    "map_headers",
    "normalize_header",
    "normalize_level",
    "normalize_status",
    "normalize_zone",
    "split_unit",
]

#: Canonical field -> header spellings seen in bureau files (normalised form is compared).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "reserve_code": ("reserve_code", "保护区编码", "保护区代码", "保护地编码", "code", "wdpa_id"),
    "reserve_name": (
        "reserve_name", "保护区名称", "保护区", "保护地名称", "自然保护区名称", "保护区名",
        "name", "名称",
    ),
    "level": ("level", "级别", "保护区级别", "保护级别", "等级"),
    "zone": ("zone", "功能区", "功能分区", "分区", "功能区划", "zone_type"),
    "wetland_id": ("wetland_id", "湿地编码", "湿地编号", "湿地代码"),
    "wetland_name": ("wetland_name", "湿地名称", "湿地名", "名称", "name"),
    "wetland_level": ("wetland_level", "湿地级别", "级别", "重要程度", "level"),
    "wetland_type": ("wetland_type", "湿地类型", "类型", "type"),
    "manager": ("manager", "管护单位", "管理单位", "管理机构"),
    "supervisor": ("supervisor", "监管单位", "主管单位", "主管部门", "监督单位"),
    "extent_text": (
        "extent_text", "范围", "湿地范围", "范围描述", "四至", "四至范围", "地理位置", "所在位置",
        "分布范围", "位置",
    ),
    "centre": ("centre", "中心坐标", "中心点坐标", "中心位置坐标", "坐标"),
    "mine_id": ("mine_id", "许可证号", "采矿许可证号", "矿山编号", "gem_mine_id", "mine_id"),
    "mine_name": (
        "矿山名称", "矿山名", "矿名", "mine_name_non_eng", "minenamenoneng", "mine_name",
        "名称", "name",
    ),
    "mineral": ("mineral", "矿种", "开采矿种", "主矿种", "coal_type"),
    "method": ("method", "开采方式", "mining_method", "mine_type"),
    "mine_status": ("mine_status", "矿山状态", "状态", "status"),
    "closed_year": (
        "closed_year", "关闭年份", "闭坑年份", "关闭年度", "closing_year", "year_closed",
    ),
    "restoration_mode": ("restoration_mode", "修复模式", "治理模式", "恢复模式"),
    "restoration_progress": ("restoration_progress", "治理进度", "修复进度", "治理状态"),
    "responsible_party": (
        "responsible_party", "责任主体", "治理责任主体", "修复责任主体", "矿业权人", "采矿权人",
        "责任单位", "企业名称",
    ),
    "closed_date": ("closed_date", "关闭日期", "闭坑日期", "关闭时间", "闭坑时间"),
    "deposit_yuan": (
        "deposit_yuan", "保证金", "治理恢复保证金", "地质环境治理恢复保证金", "治理恢复基金",
        "保证金金额", "保证金余额",
    ),
    "deposit_used_yuan": (
        "deposit_used_yuan", "保证金已使用", "已使用保证金", "保证金使用", "动用保证金",
        "保证金动用", "已动用保证金", "基金已使用",
    ),
    "reclamation_fund_yuan": (
        "reclamation_fund_yuan", "土地复垦费", "复垦费", "土地复垦费用", "复垦资金",
    ),
    "reclamation_used_yuan": (
        "reclamation_used_yuan", "土地复垦费已使用", "复垦费已使用", "已使用复垦费",
        "复垦费使用", "土地复垦费使用", "复垦资金已使用",
    ),
    "last_checked": (
        "last_checked", "最近巡查日期", "上次巡查日期", "最近监测日期", "上次监测日期",
        "最近检查日期", "巡查日期", "监测日期",
    ),
    "lead_id": (
        "lead_id", "线索编号", "图斑编号", "点位编号", "编号", "斑块编号", "问题编号", "id",
        "name",
    ),
    "batch": ("batch", "批次", "监测批次", "监测期", "年度", "round"),
    "activity_type": ("activity_type", "活动类型", "人类活动类型", "类型", "activity"),
    "change_type": ("change_type", "变化类型", "变化情况", "change"),
    "area_m2": ("area_m2", "面积", "图斑面积", "占地面积", "area"),
    "date_before": ("date_before", "前时相", "前时相日期", "前期影像时间"),
    "date_after": ("date_after", "后时相", "后时相日期", "后期影像时间"),
    "county_sent": ("county_sent", "所在县", "县区", "所在区县", "县", "区县", "county"),
    "reserve_sent": ("reserve_sent", "所在保护区", "保护区名称", "保护区"),
    "zone_sent": ("zone_sent", "所在功能区", "功能区", "功能分区"),
    "note": ("note", "备注", "说明", "描述", "description", "remark"),
    "adcode": ("adcode", "行政区划代码", "区划代码", "代码", "code"),
    "admin_name": ("admin_name", "district", "名称", "县名", "区县名称", "name"),
    "admin_level": ("admin_level", "level", "级别", "行政级别"),
    "province": ("province", "省", "省份"),
    "city": ("city", "市", "地市"),
}

#: Coordinate columns: longitude / easting and latitude / northing.
COORD_ALIASES: dict[str, tuple[str, ...]] = {
    "x": (
        "x", "lon", "lng", "long", "longitude", "经度", "中心点经度", "中心经度", "东经",
        "横坐标", "x坐标", "东坐标",
    ),
    "y": (
        "y", "lat", "latitude", "纬度", "中心点纬度", "中心纬度", "北纬", "纵坐标", "y坐标",
        "北坐标",
    ),
}

_UNIT_RE = re.compile(r"^(?P<name>.*?)[\(（\[【](?P<unit>[^\)）\]】]*)[\)）\]】]\s*$")


def normalize_header(header: object) -> str:
    """Return a header in the form aliases are compared in.

    Examples
    --------
    >>> normalize_header(" 线索 编号 ")
    '线索编号'
    >>> normalize_header("Mine Name (Non-ENG)")
    'minenamenoneng'
    """
    text = unicodedata.normalize("NFKC", str(header)).strip().casefold()
    return re.sub(r"[\s_\-\.\(\)\[\]（）【】/:：]+", "", text)


def split_unit(header: object) -> tuple[str, str | None]:
    """Split ``面积(亩)`` into ``("面积", "亩")``; headers without a unit give ``None``.

    Examples
    --------
    >>> split_unit("面积（公顷）")
    ('面积', '公顷')
    >>> split_unit("经度")
    ('经度', None)
    """
    text = unicodedata.normalize("NFKC", str(header)).strip()
    match = _UNIT_RE.match(text)
    if match and match.group("name").strip():
        return match.group("name").strip(), match.group("unit").strip()
    return text, None


def candidate_headers(headers: Iterable[object], canon: str) -> list[str]:
    """Return every header that is an alias of ``canon``, in alias order.

    The first is the column :func:`map_headers` picks; the others fill its blank cells
    (a Chinese name column with gaps falls back to the English one).

    Examples
    --------
    >>> candidate_headers(["Mine Name", "Mine Name (Non-ENG)"], "mine_name")
    ['Mine Name (Non-ENG)', 'Mine Name']
    """
    by_norm: dict[str, str] = {}
    for header in map(str, headers):
        by_norm.setdefault(normalize_header(split_unit(header)[0]), header)
        by_norm.setdefault(normalize_header(header), header)
    aliases = COORD_ALIASES[canon] if canon in COORD_ALIASES else FIELD_ALIASES[canon]
    found = [by_norm.get(normalize_header(a)) for a in aliases]
    return list(dict.fromkeys(h for h in found if h is not None))


def map_headers(
    headers: Iterable[object],
    layer: str,
    *,
    overrides: Mapping[str, str] | None = None,
    file: str | None = None,
) -> dict[str, str]:
    """Map a file's headers to canonical field names of ``layer`` (plus ``x``/``y``).

    Each canonical field takes the first header that matches one of its aliases, in alias
    order; a header serves one field only. ``overrides`` (``--field CANON=COLUMN``) win.

    Parameters
    ----------
    headers : iterable
        The file's column headers (turned into text).
    layer : str
        One of ``layers.schema.LAYERS``.
    overrides : mapping of str to str, optional
        ``--field CANON=COLUMN`` mappings, canonical name -> header.
    file : str, optional
        File name, for messages.

    Returns
    -------
    dict
        Canonical name -> the file's header.

    Raises
    ------
    FieldError
        When an override names an unknown canonical field or a column the file lacks.
    """
    headers = [str(h) for h in headers]
    fields = [*LAYER_FIELDS[layer], "x", "y"]
    found: dict[str, str] = {}
    used: set[str] = set()
    for canon, column in (overrides or {}).items():
        if canon not in fields:
            raise FieldError(
                _("图层 {layer} 没有字段 {canon!r}；可用的字段：{known}").format(
                    canon=canon, layer=layer, known=_("、").join(fields)),
                file=file,
                field=canon,
            )
        if column not in headers:
            raise FieldError(
                _("--field {canon}={column}：文件中没有列 {column!r}；"
                  "文件中的列：{columns}").format(
                    canon=canon, column=column, columns=_("、").join(headers)),
                file=file,
                field=column,
            )
        found[canon] = column
        used.add(column)
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(normalize_header(split_unit(header)[0]), header)
        by_norm.setdefault(normalize_header(header), header)
    for canon in fields:
        if canon in found:
            continue
        aliases = COORD_ALIASES[canon] if canon in COORD_ALIASES else FIELD_ALIASES[canon]
        for alias in aliases:
            header = by_norm.get(normalize_header(alias))
            if header is not None and header not in used:
                found[canon] = header
                used.add(header)
                break
    return found


_ZONE_VALUES: dict[str, Zone] = {
    "核心区": Zone.CORE,
    "核心": Zone.CORE,
    "core": Zone.CORE,
    "corezone": Zone.CORE,
    "缓冲区": Zone.BUFFER,
    "缓冲": Zone.BUFFER,
    "buffer": Zone.BUFFER,
    "bufferzone": Zone.BUFFER,
    "实验区": Zone.EXPERIMENTAL,
    "试验区": Zone.EXPERIMENTAL,
    "实验": Zone.EXPERIMENTAL,
    "experimental": Zone.EXPERIMENTAL,
    "experiment": Zone.EXPERIMENTAL,
    "experimentalzone": Zone.EXPERIMENTAL,
    "核心保护区": Zone.CORE_PROTECTION,
    "核心保护": Zone.CORE_PROTECTION,
    "coreprotection": Zone.CORE_PROTECTION,
    "一般控制区": Zone.GENERAL_CONTROL,
    "一般控制": Zone.GENERAL_CONTROL,
    "一般区": Zone.GENERAL_CONTROL,
    "generalcontrol": Zone.GENERAL_CONTROL,
    "未分区": Zone.UNZONED,
    "unzoned": Zone.UNZONED,
    "无": Zone.UNZONED,
    "外围保护地带": Zone.UNZONED,
    "保护区外": Zone.OUTSIDE,
    "outside": Zone.OUTSIDE,
}


def normalize_zone(value: object) -> Zone | None:
    """Return the zone for a spelling of either zoning system, or None when unknown.

    Empty values mean a reserve outline without zones (``unzoned``).

    Examples
    --------
    >>> normalize_zone("核心区"), normalize_zone("一般控制区 "), normalize_zone("")
    (<Zone.CORE: 'core'>, <Zone.GENERAL_CONTROL: 'general_control'>, <Zone.UNZONED: 'unzoned'>)
    """
    if value is None or (isinstance(value, float) and value != value):
        return Zone.UNZONED
    key = normalize_header(value)
    if not key:
        return Zone.UNZONED
    return _ZONE_VALUES.get(key)


_LEVEL_VALUES: dict[str, Level] = {
    "国家级": Level.NATIONAL,
    "国家": Level.NATIONAL,
    "国级": Level.NATIONAL,
    "national": Level.NATIONAL,
    "省级": Level.PROVINCIAL,
    "省": Level.PROVINCIAL,
    "provincial": Level.PROVINCIAL,
    "市级": Level.MUNICIPAL,
    "市": Level.MUNICIPAL,
    "地市级": Level.MUNICIPAL,
    "municipal": Level.MUNICIPAL,
    "县级": Level.COUNTY,
    "县": Level.COUNTY,
    "county": Level.COUNTY,
}


def normalize_level(value: object) -> Level | None:
    """Return the reserve level for 国家级/省级/市级/县级 and their spellings, else None.

    Examples
    --------
    >>> normalize_level("国家级自然保护区")
    <Level.NATIONAL: 'national'>
    """
    key = normalize_header(value)
    if key in _LEVEL_VALUES:
        return _LEVEL_VALUES[key]
    for prefix in ("国家", "省", "市", "县"):
        if key.startswith(prefix):
            return _LEVEL_VALUES[prefix]
    return None


def normalize_status(value: object) -> Status | None:
    """Return the verification status for its code or Chinese label, else None.

    Examples
    --------
    >>> normalize_status("已销号"), normalize_status("problem")
    (<Status.CLOSED: 'closed'>, <Status.PROBLEM: 'problem'>)
    """
    key = normalize_header(value)
    for status, label in STATUS_LABELS.items():
        if key in (status.value.replace("_", ""), normalize_header(label)):
            return status
    extra = {"销号": Status.CLOSED, "待查": Status.PENDING, "不是问题": Status.NOT_PROBLEM}
    return extra.get(key)

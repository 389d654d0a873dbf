"""Canonical fields, enumerations and Chinese labels of every layer.

The strictness of zones and the verification workflow live here; the rest of the project
refers to these names, never to raw strings.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACTIVITY_TYPES",
    "CHANGE_TYPES",
    "LAYERS",
    "LAYER_FIELDS",
    "LEVEL_LABELS",
    "LEVEL_RANK",
    "NOT_PROBLEM_REASONS",
    "NO_COUNTY",
    "OUTSIDE_NAME",
    "REASON_REQUIRED",
    "SQM_PER_MU",
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "TRANSITIONS",
    "ZONE_LABELS",
    "ZONE_ORDER",
    "ZONE_RANK",
    "Level",
    "Status",
    "Zone",
    "zone_priority",
]


class Zone(StrEnum):
    """Functional zones of both zoning systems, plus the two non-zones."""

    CORE = "core"
    BUFFER = "buffer"
    EXPERIMENTAL = "experimental"
    CORE_PROTECTION = "core_protection"
    GENERAL_CONTROL = "general_control"
    UNZONED = "unzoned"
    OUTSIDE = "outside"


#: Strictness: 核心区 = 核心保护区 > 缓冲区 > 实验区 = 一般控制区 > outline without zones > outside.
ZONE_RANK: dict[Zone, int] = {
    Zone.CORE: 4,
    Zone.CORE_PROTECTION: 4,
    Zone.BUFFER: 3,
    Zone.EXPERIMENTAL: 2,
    Zone.GENERAL_CONTROL: 2,
    Zone.UNZONED: 1,
    Zone.OUTSIDE: 0,
}

#: Zones from the strictest, in the order ledgers, reports and packets list them.
ZONE_ORDER: tuple[Zone, ...] = (
    Zone.CORE, Zone.CORE_PROTECTION, Zone.BUFFER, Zone.EXPERIMENTAL, Zone.GENERAL_CONTROL,
    Zone.UNZONED, Zone.OUTSIDE,
)

#: How the leads outside every reserve, and outside every county, are shown.
OUTSIDE_NAME = "保护区外"
NO_COUNTY = "县界外"

#: Square metres in one 亩 (1 亩 = 10000/15 m²).
SQM_PER_MU = 10000.0 / 15.0

ZONE_LABELS: dict[Zone, str] = {
    Zone.CORE: "核心区",
    Zone.BUFFER: "缓冲区",
    Zone.EXPERIMENTAL: "实验区",
    Zone.CORE_PROTECTION: "核心保护区",
    Zone.GENERAL_CONTROL: "一般控制区",
    Zone.UNZONED: "未分区",
    Zone.OUTSIDE: "保护区外",
}


class Level(StrEnum):
    """Reserve levels."""

    NATIONAL = "national"
    PROVINCIAL = "provincial"
    MUNICIPAL = "municipal"
    COUNTY = "county"


LEVEL_RANK: dict[Level, int] = {
    Level.NATIONAL: 4,
    Level.PROVINCIAL: 3,
    Level.MUNICIPAL: 2,
    Level.COUNTY: 1,
}

LEVEL_LABELS: dict[Level, str] = {
    Level.NATIONAL: "国家级",
    Level.PROVINCIAL: "省级",
    Level.MUNICIPAL: "市级",
    Level.COUNTY: "县级",
}


def zone_priority(zone: str, level: str | None) -> int:
    """Return one integer ordering (zone, level): stricter zone first, then higher level.

    Examples
    --------
    >>> zone_priority("core", "provincial") > zone_priority("buffer", "national")
    True
    >>> zone_priority("buffer", "national") > zone_priority("buffer", "provincial")
    True
    """
    level_rank = LEVEL_RANK.get(Level(level), 0) if level else 0
    return ZONE_RANK[Zone(zone)] * 10 + level_rank


class Status(StrEnum):
    """Verification states (实地核查 → 整改 → 销号)."""

    PENDING = "pending"
    IN_FIELD = "in_field"
    NOT_PROBLEM = "not_problem"
    PROBLEM = "problem"
    RECTIFYING = "rectifying"
    RECTIFIED = "rectified"
    CLOSED = "closed"


STATUS_LABELS: dict[Status, str] = {
    Status.PENDING: "待核查",
    Status.IN_FIELD: "核查中",
    Status.NOT_PROBLEM: "非问题",
    Status.PROBLEM: "问题",
    Status.RECTIFYING: "整改中",
    Status.RECTIFIED: "已整改",
    Status.CLOSED: "已销号",
}

#: One colour per verification state, the same on the map, in QGIS and in field apps.
STATUS_COLOURS: dict[Status, str] = {
    Status.PENDING: "#8c8c8c",
    Status.IN_FIELD: "#1f78b4",
    Status.NOT_PROBLEM: "#33a02c",
    Status.PROBLEM: "#e31a1c",
    Status.RECTIFYING: "#ff7f00",
    Status.RECTIFIED: "#6a3d9a",
    Status.CLOSED: "#000000",
}

#: Legal transitions. 非问题 and 已销号 can be reopened, always with a reason.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.PENDING: (Status.IN_FIELD, Status.NOT_PROBLEM, Status.PROBLEM),
    Status.IN_FIELD: (Status.NOT_PROBLEM, Status.PROBLEM, Status.PENDING),
    Status.NOT_PROBLEM: (Status.PROBLEM, Status.IN_FIELD),
    Status.PROBLEM: (Status.RECTIFYING, Status.NOT_PROBLEM),
    Status.RECTIFYING: (Status.RECTIFIED, Status.PROBLEM),
    Status.RECTIFIED: (Status.CLOSED, Status.RECTIFYING),
    Status.CLOSED: (Status.PROBLEM,),
}

#: Transitions that need a reason: judging no-problem, and every reopening or step back.
REASON_REQUIRED: frozenset[tuple[Status, Status]] = frozenset(
    {
        (Status.PENDING, Status.NOT_PROBLEM),
        (Status.IN_FIELD, Status.NOT_PROBLEM),
        (Status.PROBLEM, Status.NOT_PROBLEM),
        (Status.NOT_PROBLEM, Status.PROBLEM),
        (Status.NOT_PROBLEM, Status.IN_FIELD),
        (Status.CLOSED, Status.PROBLEM),
        (Status.RECTIFIED, Status.RECTIFYING),
        (Status.RECTIFYING, Status.PROBLEM),
        (Status.IN_FIELD, Status.PENDING),
    }
)

#: Reason codes for 非问题.
NOT_PROBLEM_REASONS: tuple[str, ...] = (
    "保护区设立前已存在",
    "手续合法",
    "自然变化",
    "解译错误",
    "重复线索",
    "位于保护区外",
    "其他",
)

#: Activity types (MEE usage) with their common sub-types.
ACTIVITY_TYPES: dict[str, tuple[str, ...]] = {
    "矿产资源开发": ("采矿场", "采石场", "采砂"),
    "工业开发": ("工矿用地",),
    "能源开发": ("水电站", "风电", "光伏"),
    "旅游开发": ("旅游设施",),
    "交通开发": ("道路", "码头"),
    "养殖开发": ("养殖场", "网箱养殖"),
    "农业用地": (),
    "居民点": (),
    "其他人工设施": (),
}

CHANGE_TYPES: tuple[str, ...] = ("新增", "扩大")

LAYERS: tuple[str, ...] = ("reserves", "wetlands", "mines", "leads", "admin")

#: Canonical fields per layer: name -> (type, required). Types: str, float, int, date.
LAYER_FIELDS: dict[str, dict[str, tuple[str, bool]]] = {
    "reserves": {
        "reserve_code": ("str", False),
        "reserve_name": ("str", True),
        "level": ("str", False),
        "zone": ("str", False),
        "area_m2": ("float", False),
    },
    "wetlands": {
        "wetland_id": ("str", False),
        "wetland_name": ("str", True),
        "wetland_level": ("str", False),
        "wetland_type": ("str", False),
        "area_m2": ("float", False),
        "manager": ("str", False),
        "supervisor": ("str", False),
        "extent_text": ("str", False),
        "centre": ("str", False),
    },
    "mines": {
        "mine_id": ("str", False),
        "mine_name": ("str", True),
        "mineral": ("str", False),
        "method": ("str", False),
        "mine_status": ("str", False),
        "closed_year": ("int", False),
        "restoration_mode": ("str", False),
        "restoration_progress": ("str", False),
        "area_m2": ("float", False),
        "responsible_party": ("str", False),
        "closed_date": ("date", False),
        "deposit_yuan": ("float", False),
        "deposit_used_yuan": ("float", False),
        "reclamation_fund_yuan": ("float", False),
        "reclamation_used_yuan": ("float", False),
        "last_checked": ("date", False),
    },
    "leads": {
        "lead_id": ("str", False),
        "batch": ("str", False),
        "activity_type": ("str", False),
        "change_type": ("str", False),
        "area_m2": ("float", False),
        "date_before": ("date", False),
        "date_after": ("date", False),
        "county_sent": ("str", False),
        "reserve_sent": ("str", False),
        "zone_sent": ("str", False),
        "note": ("str", False),
    },
    "admin": {
        "adcode": ("str", True),
        "admin_name": ("str", False),
        "admin_level": ("str", False),
        "province": ("str", False),
        "city": ("str", False),
    },
}

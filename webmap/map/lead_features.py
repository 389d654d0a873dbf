"""The leads layer of the map: popup cells, filter indices and drawing order of each lead.

Every value that comes from the data is passed through :func:`html.escape` here, before it
is written into the page (a lead note holding ``<script>`` shows as text). Cells repeated
across leads (batch, reserve, zone, status...) are written once per layer; each lead also
carries its index in each in-page filter, so that the browser filters 10^5 leads without
reading their cells.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable, Collection, Mapping
from typing import Any

import geopandas as gpd
import numpy as np

from layers.schema import (
    ACTIVITY_TYPES,
    SQM_PER_MU,
    STATUS_LABELS,
    ZONE_LABELS,
    ZONE_RANK,
    Status,
    Zone,
)
from pipelines.escape import html_text
from webmap.map.features import LayerData, geojson_text, number, parse_zone, text
from webmap.map.style import POINT_KEY, UNKNOWN_STATUS, activity_shape

__all__ = [
    "LEAD_EXTRA_LABELS",
    "LEAD_FILTERS",
    "LEAD_POPUP_FIELDS",
    "activity_group",
    "lead_cells",
    "lead_features",
    "status_code",
]


#: (label, column) of the lead popup, in display order.
LEAD_POPUP_FIELDS: tuple[tuple[str, str], ...] = (
    ("线索编号", "lead_id"),
    ("批次", "batch"),
    ("活动类型", "activity_type"),
    ("变化类型", "change_type"),
    ("保护区", "reserve_name"),
    ("功能区", "zone_label"),
    ("重叠", "overlaps"),
    ("湿地", "wetland_names"),
    ("矿山", "mine_ids"),
    ("县", "county_name"),
    ("面积(m²)", "area_m2"),
    ("状态", "status"),
    ("距边界(m)", "dist_boundary_m"),
    ("备注", "note"),
)
#: Labels of the cells that follow :data:`LEAD_POPUP_FIELDS`: the last history entries and
#: the before/after image chips. They never come from a column of the leads frame (a
#: column could hold any HTML); :func:`history_cells` and :func:`chip_cells` build them.
LEAD_EXTRA_LABELS: tuple[str, ...] = ("最近记录", "前后影像")
#: The in-page filters besides status, in the order of each feature's ``f`` indices.
LEAD_FILTERS: tuple[str, ...] = ("activity", "batch", "reserve", "zone")
#: Label of an empty filter value (no batch, no reserve...).
_EMPTY_VALUE = "（空）"
_SUBTYPE_GROUP = {sub: group for group, subs in ACTIVITY_TYPES.items() for sub in subs}
_STATUS_BY_LABEL = {label: status for status, label in STATUS_LABELS.items()}
_ZONE_BY_LABEL = {label: zone for zone, label in ZONE_LABELS.items()}


def status_code(value: Any) -> str:
    """Return the status code of a cell: a code, a Chinese label, or :data:`UNKNOWN_STATUS`.

    A missing status is a lead nobody has checked yet: ``pending``.

    Examples
    --------
    >>> status_code("problem"), status_code("已销号"), status_code(None), status_code("x")
    ('problem', 'closed', 'pending', 'unknown')
    """
    raw = text(value)
    if raw is None:
        return Status.PENDING.value
    if raw in Status._value2member_map_:
        return raw
    if raw in _STATUS_BY_LABEL:
        return _STATUS_BY_LABEL[raw].value
    return UNKNOWN_STATUS


def _overlaps(value: Any) -> str | None:
    """Render the overlaps JSON (list of {reserve_code, reserve_name, zone, share}) as HTML."""
    raw = value if isinstance(value, list) else text(value)
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return html_text(raw)
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        return html_text(str(raw))
    lines = []
    for item in raw:
        if not isinstance(item, Mapping):
            lines.append(html_text(str(item)))
            continue
        name = text(item.get("reserve_name")) or text(item.get("reserve_code")) or "?"
        zone = parse_zone(item.get("zone"))
        details = [ZONE_LABELS[zone] if zone else text(item.get("zone"))]
        share = number(item.get("share"))
        if share is not None:
            details.append(f"{share:.0%}" if 0 <= share <= 1 else f"{share:g}")
        shown = "，".join(d for d in details if d)
        lines.append(html_text(f"{name}（{shown}）" if shown else name))
    return "；".join(lines) or None


def _lead_cell(column: str, row: Mapping[str, Any]) -> str | None:
    """Return the escaped HTML of one popup cell, or None when the value is missing."""
    value = row.get(column)
    if column == "overlaps":
        return _overlaps(value)
    if column == "zone_label":
        label = text(value)
        zone = parse_zone(row.get("zone"))
        label = label or (ZONE_LABELS[zone] if zone else None)
        return html_text(label) if label else None
    if column == "status":
        code = status_code(value)
        if code == UNKNOWN_STATUS:
            return html_text(f"状态不明（{text(value)}）")
        return html_text(STATUS_LABELS[Status(code)])
    if column == "area_m2":
        area = number(value)
        return None if area is None else f"{area:,.0f}（{area / SQM_PER_MU:,.2f} 亩）"
    if column == "dist_boundary_m":
        dist = number(value)
        return None if dist is None else f"{dist:,.0f}"
    shown = text(value)
    return html_text(shown) if shown else None


def lead_cells(
    row: Mapping[str, Any], *, history: str | None = None, chips: str | None = None
) -> list[str]:
    """Return the popup cells of one lead, escaped: :data:`LEAD_POPUP_FIELDS`, then extras.

    Parameters
    ----------
    row : mapping
        The lead's attributes; a missing key or value gives an empty cell (shown "—").
    history, chips : str or None
        HTML of the last history entries and of the image chips, as made by
        :func:`webmap.map.popup.history_cells` and :func:`webmap.map.popup.chip_cells` (escaped
        there), or None.

    Examples
    --------
    >>> cells = lead_cells({"lead_id": "L1", "status": "problem", "note": "<b>"})
    >>> cells[0], cells[11], cells[13], len(cells) == len(LEAD_POPUP_FIELDS) + 2
    ('L1', '问题', '&lt;b&gt;', True)
    """
    cells = [_lead_cell(column, row) or "" for _, column in LEAD_POPUP_FIELDS]
    return [*cells, history or "", chips or ""]


def activity_group(value: Any) -> str | None:
    """Return the MEE activity type of a cell: a type, or the type a sub-type belongs to.

    Other values are returned as they are (stripped); missing ones as None.

    Examples
    --------
    >>> activity_group("采石场"), activity_group("能源开发"), activity_group(" 挖塘 ")
    ('矿产资源开发', '能源开发', '挖塘')
    """
    raw = text(value)
    if raw is None:
        return None
    return raw if raw in ACTIVITY_TYPES else _SUBTYPE_GROUP.get(raw, raw)


#: Drawing order of leads, last on top: open problems above settled ones.
_STATUS_DRAW_ORDER: dict[str, int] = {
    code: rank
    for rank, code in enumerate(
        [
            Status.CLOSED.value,
            Status.NOT_PROBLEM.value,
            Status.RECTIFIED.value,
            UNKNOWN_STATUS,
            Status.PENDING.value,
            Status.IN_FIELD.value,
            Status.RECTIFYING.value,
            Status.PROBLEM.value,
        ]
    )
}


def _filter_values(frame: gpd.GeoDataFrame) -> dict[str, list[str]]:
    """Return, per :data:`LEAD_FILTERS` dimension, the display value of every lead (raw)."""
    n = len(frame)

    def column(name: str) -> list[Any]:
        return frame[name].tolist() if name in frame else [None] * n

    zones = [parse_zone(v) for v in column("zone")]
    reserve_names = [text(v) for v in column("reserve_name")]
    return {
        "activity": [activity_group(v) or _EMPTY_VALUE for v in column("activity_type")],
        "batch": [text(v) or _EMPTY_VALUE for v in column("batch")],
        "reserve": [
            name or (ZONE_LABELS[Zone.OUTSIDE] if zone is Zone.OUTSIDE else _EMPTY_VALUE)
            for name, zone in zip(reserve_names, zones, strict=True)
        ],
        "zone": [ZONE_LABELS[z] if z else _EMPTY_VALUE for z in zones],
    }


def _zone_order(label: str) -> tuple[int, str]:
    zone = _ZONE_BY_LABEL.get(label)
    return (-ZONE_RANK[zone] if zone else 1, label)


_ACTIVITY_ORDER = {group: k for k, group in enumerate(ACTIVITY_TYPES)}


def _activity_order(label: str) -> tuple[int, str]:
    return (_ACTIVITY_ORDER.get(label, len(_ACTIVITY_ORDER)), label)


_FILTER_ORDER: dict[str, Callable[[str], Any] | None] = {
    "activity": _activity_order,
    "batch": None,
    "reserve": None,
    "zone": _zone_order,
}


def _column_cells(frame: gpd.GeoDataFrame, column: str) -> list[str]:
    """Return the popup cell of every lead for one column, computing each value once."""
    n = len(frame)

    def values(name: str) -> list[Any]:
        return frame[name].tolist() if name in frame else [None] * n

    if column == "zone_label":
        keys: list[Any] = list(zip(values("zone_label"), values("zone"), strict=True))
        rows = ({"zone_label": label, "zone": zone} for label, zone in keys)
    else:
        keys = values(column)
        rows = ({column: value} for value in keys)
    cache: dict[Any, str] = {}
    out = []
    for key, row in zip(keys, rows, strict=True):
        try:
            cell = cache[key]
        except KeyError:
            cell = cache[key] = _lead_cell(column, row) or ""
        except TypeError:  # unhashable (a list of mine ids...)
            cell = _lead_cell(column, row) or ""
        out.append(cell)
    return out


def _shared_cells(column: list[str]) -> tuple[list[str | int], list[str]]:
    """Replace cells that occur more than once by an index into a list of them.

    Returns the column (cells or indices) and the list; the browser resolves a number
    ``c`` in column ``j`` as ``spec.cellDicts[j][c]``. Repeated cells (batch, reserve,
    zone, status, overlaps...) are then written once per layer, not once per lead.
    """
    counts = collections.Counter(column)
    shared = [cell for cell, count in counts.items() if count > 1]
    if not shared:
        return list(column), []
    index = {cell: k for k, cell in enumerate(shared)}
    return [index.get(cell, cell) for cell in column], shared


def lead_features(
    frame: gpd.GeoDataFrame,
    *,
    history: Mapping[str, str] | None = None,
    chips: Mapping[str, str] | None = None,
    ids: bool = False,
    editable: Collection[str] | None = None,
) -> LayerData:
    """Return the leads: key = status (points suffixed), popup cells, filter indices.

    Patches are written before points and settled leads before open problems, so that
    Leaflet draws points and problems on top. The tooltip shows 线索编号 and 状态.
    Each feature's ``f`` holds its index in each of ``spec["filters"]`` (activity type,
    batch, reserve, zone); ``spec["shapes"]`` gives the marker shape of each activity.
    Cells repeated across leads are written once, in ``spec["cellDicts"]``, and the
    features hold their index (see :func:`_shared_cells`).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Leads from :func:`prepare_frame`.
    history, chips : mapping of str to str, optional
        Lead id -> popup HTML from :func:`webmap.map.popup.history_cells` /
        :func:`webmap.map.popup.chip_cells`.
    ids : bool
        Also write the raw lead id as ``i`` (the web app asks the API about it).
    editable : collection of str, optional
        Lead ids the viewer may change, flagged ``e: 1`` (the web app); None: no flags.
    """
    statuses = frame["status"] if "status" in frame else [None] * len(frame)
    codes = [status_code(value) for value in statuses]
    is_point = frame.geom_type.isin(["Point", "MultiPoint"]).to_numpy()
    keys = [
        code + (POINT_KEY if point else "") for code, point in zip(codes, is_point, strict=True)
    ]
    values = _filter_values(frame)
    options: dict[str, list[str]] = {}
    indices: dict[str, list[int]] = {}
    for name, column in values.items():
        ordered = sorted(set(column), key=_FILTER_ORDER[name])
        if _EMPTY_VALUE in ordered and name != "zone":  # empty last
            ordered.remove(_EMPTY_VALUE)
            ordered.append(_EMPTY_VALUE)
        position = {value: k for k, value in enumerate(ordered)}
        options[name] = ordered
        indices[name] = [position[value] for value in column]
    order = np.lexsort(([_STATUS_DRAW_ORDER[code] for code in codes], is_point))
    frame = frame.iloc[order]
    keys = [keys[i] for i in order]
    filter_index = [[indices[n][i] for n in LEAD_FILTERS] for i in order]
    lead_ids = [text(v) or "" for v in
                (frame["lead_id"] if "lead_id" in frame else [None] * len(frame))]
    columns = [_column_cells(frame, column) for _, column in LEAD_POPUP_FIELDS]
    columns.append([(history or {}).get(lead, "") for lead in lead_ids])
    columns.append([(chips or {}).get(lead, "") for lead in lead_ids])
    encoded = [_shared_cells(column) for column in columns]
    cell_rows = list(zip(*(column for column, _ in encoded), strict=True))
    flagged = set(editable) if editable is not None else None

    props = []
    for key, cells, f, lead in zip(keys, cell_rows, filter_index, lead_ids, strict=True):
        out: dict[str, Any] = {"k": key, "v": cells, "f": f}
        if ids:
            out["i"] = lead
        if flagged is not None and lead in flagged:
            out["e"] = 1
        props.append(out)
    labels = (*(label for label, _ in LEAD_POPUP_FIELDS), *LEAD_EXTRA_LABELS)
    names = [column for _, column in LEAD_POPUP_FIELDS]
    tooltip = (names.index("lead_id"), names.index("status"))
    spec = {
        "filters": options,
        "optional": [len(labels) - len(LEAD_EXTRA_LABELS) + k
                     for k in range(len(LEAD_EXTRA_LABELS))],
        "shapes": [activity_shape(value) for value in options["activity"]],
        "cellDicts": [shared for _, shared in encoded],
    }
    return LayerData(geojson_text(frame, props), labels, tooltip, spec)


"""Closed, historic and licensed mines (关闭矿山 / 历史遗留矿山 / 有效)."""

from __future__ import annotations

from layers.aliases import normalize_header
from layers.canonical import Prepared, canonicalize, reject_duplicates
from layers.read import Source

__all__ = ["MINE_STATUSES", "prepare_mines"]

MINE_STATUSES = ("关闭", "历史遗留", "有效")
_STATUS = {
    "关闭": "关闭", "已关闭": "关闭", "闭坑": "关闭", "closed": "关闭", "mothballed": "关闭",
    "历史遗留": "历史遗留", "历史遗留矿山": "历史遗留", "abandoned": "历史遗留",
    "有效": "有效", "在产": "有效", "生产": "有效", "operating": "有效", "active": "有效",
}


def prepare_mines(source: Source, **options: object) -> Prepared:
    """Canonical mines: ids default to names; statuses normalised where known."""
    prep = canonicalize(source, "mines", geom_kinds=("Polygon", "Point"), **options)  # type: ignore[arg-type]
    frame = prep.frame
    frame["mine_id"] = [
        i if i else n for i, n in zip(frame["mine_id"], frame["mine_name"], strict=True)
    ]
    frame["mine_status"] = [
        _STATUS.get(normalize_header(v), v) if v else None for v in frame["mine_status"]
    ]
    prep.frame = frame
    reject_duplicates(prep, "mine_id")
    return prep

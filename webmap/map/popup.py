"""Popup extras of the leads: the last history entries and before/after image chips.

Both are HTML fragments made here, with every value from the data escaped, and handed to
:func:`webmap.map.lead_features.lead_features` by lead id; they never come from a column of the
leads frame, which could hold any HTML.
"""

from __future__ import annotations

import base64
import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from layers.schema import STATUS_LABELS, Status
from pipelines.escape import html_text
from webmap.errors import MapInputError
from webmap.map.features import text
from webmap.map.lead_features import status_code
from webmap.map.style import UNKNOWN_STATUS

__all__ = ["HISTORY_IN_POPUP", "chip_cells", "history_cells"]

log = logging.getLogger(__name__)

#: How many history entries a popup shows, newest first.
HISTORY_IN_POPUP = 3
_IMAGE_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp"}
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$")


def _history_entry(row: Mapping[str, Any]) -> str:
    when = (text(row.get("at")) or "")[:16].replace("T", " ")
    moves = []
    for column in ("from_status", "to_status"):
        code = status_code(row.get(column)) if text(row.get(column)) else None
        if code and code != UNKNOWN_STATUS:
            moves.append(STATUS_LABELS[Status(code)])
        elif code:
            moves.append(text(row.get(column)) or "")
    details = [d for d in (text(row.get("reason")), text(row.get("note"))) if d]
    line = f"{when} {text(row.get('by')) or ''} {'→'.join(moves)}".strip()
    if details:
        line += "：" + "；".join(details)
    return f"<li>{html_text(line)}</li>"


def history_cells(history: Any, *, last: int = HISTORY_IN_POPUP) -> dict[str, str]:
    """Return lead id -> escaped HTML list of its last ``last`` history entries, newest first.

    Parameters
    ----------
    history
        Rows of ``lead_history`` (``lead_id, at, by, from_status, to_status, reason, note``
        and optionally the serial ``id``), or None.
    last
        Entries shown per lead.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"lead_id": ["L1"], "at": ["2024-05-01T08:00:00+00:00"],
    ...                      "by": ["张三"], "from_status": ["pending"],
    ...                      "to_status": ["in_field"], "reason": [None], "note": ["<b>"]})
    >>> history_cells(rows)["L1"]
    '<ul class="lvdun-history"><li>2024-05-01 08:00 张三 待核查→核查中：&lt;b&gt;</li></ul>'
    """
    if history is None or len(history) == 0:
        return {}
    if not isinstance(history, pd.DataFrame):
        raise MapInputError(f"history: expected a DataFrame, got {type(history).__name__}")
    if "lead_id" not in history:
        raise MapInputError("history: the frame has no lead_id column")
    order = [c for c in ("lead_id", "id", "at") if c in history]
    rows = history.sort_values(order, kind="stable").groupby("lead_id", sort=False).tail(last)
    out: dict[str, list[str]] = {}
    for row in rows.to_dict("records"):
        out.setdefault(str(row["lead_id"]), []).append(_history_entry(row))
    return {
        lead: '<ul class="lvdun-history">' + "".join(reversed(items)) + "</ul>"
        for lead, items in out.items()
    }


def _image_src(value: Any, lead_id: str) -> str | None:
    """Return a safe ``src`` for an image: a data URI (files are inlined) or an http URL."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bytes):
        return "data:image/png;base64," + base64.b64encode(value).decode("ascii")
    raw = str(value).strip()
    if not raw:
        return None
    if raw.startswith("data:"):
        if _DATA_IMAGE.match(raw):
            return raw
        log.warning("chip of %s: not a base64 png/jpeg/gif/webp data URI, left out", lead_id)
        return None
    if raw.startswith(("http://", "https://")):
        return html_text(raw)
    path = Path(raw)
    mime = _IMAGE_MIME.get(path.suffix.lower())
    if mime is None or not path.is_file():
        log.warning("chip of %s: %s is not a png/jpeg/gif/webp file, left out", lead_id, raw)
        return None
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def chip_cells(chips: Mapping[str, Any] | None) -> dict[str, str]:
    """Return lead id -> HTML of its before/after thumbnails (前时相 / 后时相).

    Parameters
    ----------
    chips
        Lead id -> ``{"before": image, "after": image}`` or a ``(before, after)`` pair;
        an image is a file path (inlined as a data URI, so the map stays one file), a
        ``data:image/...;base64,`` URI, PNG bytes, or an http(s) URL. Missing images are
        left out; other schemes are refused.

    Examples
    --------
    >>> chip_cells({"L1": (None, "https://x.cn/a.png?b=1&c=2")})["L1"].count("<img")
    1
    """
    out: dict[str, str] = {}
    for lead_id, value in (chips or {}).items():
        if isinstance(value, Mapping):
            pair = (value.get("before"), value.get("after"))
        elif isinstance(value, list | tuple) and len(value) == 2:
            pair = (value[0], value[1])
        else:
            raise MapInputError(
                f"chips[{lead_id!r}]: give {{'before': image, 'after': image}} or a pair"
            )
        figures = []
        for caption, image in zip(("前时相", "后时相"), pair, strict=True):
            src = _image_src(image, str(lead_id))
            if src:
                figures.append(
                    f'<figure><img src="{src}" alt="{caption}" loading="lazy">'
                    f"<figcaption>{caption}</figcaption></figure>"
                )
        if figures:
            out[str(lead_id)] = f'<div class="lvdun-chips">{"".join(figures)}</div>'
    return out

"""Which reserve wins a lead, and every reserve a lead lies in (table ``lead_reserves``).

A lead inside several reserves belongs to each of them; one of them is its *primary*
reserve, the one ``lead_class`` names. The primary reserve is chosen by one rule, in this
order:

1. the strictest zone the lead touches (核心区 = 核心保护区 > 缓冲区 > 实验区 = 一般控制区 >
   outline without zones);
2. then the higher reserve level (国家级 > 省级 > 市级 > 县级);
3. then, for patches, the larger share of the patch inside that reserve's zone of that
   strictness (points and lines lie wholly in every zone they touch: share 1);
4. then the lower reserve code, compared as text (``R01`` before ``R02``).

So a point on the shared edge of two equal reserves goes to the lower code, and a patch
split between two equal reserves to the one holding more of it, whatever the reserves'
names or the order the reserves were ingested in.

:func:`membership_rows` turns the ``overlaps`` that classification computes (every zone
polygon a lead touches, with its share) into one row per lead and reserve: the reserve's
strictest zone the lead touches, the lead's share inside the reserve, ``is_primary``. All
engines (geos, postgis, dask) give the same ``overlaps``, hence the same rows.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd

from layers.schema import ZONE_RANK, Zone

__all__ = ["MEMBER_COLUMNS", "membership_rows", "primary_reserves"]

log = logging.getLogger(__name__)

#: The columns of ``lead_reserves``.
MEMBER_COLUMNS = ("lead_id", "batch", "reserve_code", "reserve_name", "zone", "share",
                  "is_primary", "run_id")
_RANK = {z.value: r for z, r in ZONE_RANK.items()}


def primary_reserves(
    n: int, left: np.ndarray, right: np.ndarray, share: np.ndarray, priority: np.ndarray,
    codes: np.ndarray,
) -> np.ndarray:
    """Return, for each of ``n`` leads, the zone polygon of its primary reserve, or -1.

    The rule of the module: highest ``priority`` (zone strictness, then level), then the
    larger share of the lead inside the reserve's zone polygons of that priority (summed
    over the reserve's polygons), then the lower reserve code.

    Parameters
    ----------
    n : int
        Number of leads.
    left, right : numpy.ndarray
        ``(lead, zone polygon)`` positions of the intersecting pairs.
    share : numpy.ndarray
        The share of the lead inside the polygon, per pair (1 for points and lines).
    priority : numpy.ndarray
        :func:`layers.schema.zone_priority` of every zone polygon.
    codes : numpy.ndarray
        The reserve code of every zone polygon.

    Returns
    -------
    numpy.ndarray
        int64 position into the zone polygons per lead; -1 for a lead in no reserve.

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.array(["R02", "R01"], dtype=object)
    >>> primary_reserves(2, np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]),
    ...                  np.array([1.0, 1.0, 0.7, 0.3]), np.array([31, 31]), codes).tolist()
    [1, 0]
    """
    out = np.full(n, -1, dtype="int64")
    if not len(left):
        return out
    left, right = np.asarray(left, dtype="int64"), np.asarray(right, dtype="int64")
    prio = np.asarray(priority)[right]
    code = pd.Series(np.asarray(codes, dtype=object)[right]).fillna("").astype(str).to_numpy()
    pairs = pd.DataFrame({"lead": left, "prio": prio, "code": code,
                          "share": np.asarray(share, dtype=float)})
    total = pairs.groupby(["lead", "prio", "code"], sort=False)["share"].transform("sum")
    code_rank = pd.Index(np.unique(code)).get_indexer(code)
    # by lead, then priority descending, share descending, code ascending, position
    order = np.lexsort((right, code_rank, -np.round(total.to_numpy(), 9), -prio, left))
    lead = left[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = lead[1:] != lead[:-1]
    out[lead[first]] = right[order][first]
    return out


def membership_rows(klass: pd.DataFrame) -> pd.DataFrame:
    """Return the ``lead_reserves`` rows of classified leads, one per lead and reserve.

    Parameters
    ----------
    klass : pandas.DataFrame
        ``lead_class`` rows (``lead_id``, ``batch``, ``reserve_code``, ``overlaps``,
        ``run_id``), as classification writes them.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`MEMBER_COLUMNS`: per reserve, its strictest zone the lead touches,
        the lead's share inside it (summed over its zones, at most 1), ``is_primary`` 1 for
        the reserve of ``lead_class``. Leads outside every reserve have no row.

    Examples
    --------
    >>> import pandas as pd
    >>> k = pd.DataFrame({"lead_id": ["L1"], "batch": ["2024"], "reserve_code": ["R02"],
    ...     "run_id": ["r"], "overlaps": ['[{"reserve_code": "R02", "reserve_name": "乙", '
    ...     '"zone": "core", "share": 0.6}, {"reserve_code": "R01", "reserve_name": "甲", '
    ...     '"zone": "buffer", "share": 0.4}]']})
    >>> membership_rows(k)[["reserve_code", "zone", "share", "is_primary"]].values.tolist()
    [['R02', 'core', 0.6, 1], ['R01', 'buffer', 0.4, 0]]
    """
    lead_ids, batches, codes, names, zones, shares, runs = [], [], [], [], [], [], []
    overlaps = klass["overlaps"].to_numpy(dtype=object)
    run_col = (klass["run_id"] if "run_id" in klass else pd.Series([None] * len(klass)))
    for lead, batch, run, text in zip(klass["lead_id"], klass["batch"], run_col, overlaps,
                                      strict=True):
        if not isinstance(text, str) or text == "[]":
            continue
        seen: dict[str, int] = {}
        for item in json.loads(text):
            code = item.get("reserve_code")
            if code is None:
                continue
            code = str(code)
            k = seen.get(code)
            if k is None:
                seen[code] = len(codes)
                lead_ids.append(lead)
                batches.append(batch)
                runs.append(run)
                codes.append(code)
                names.append(item.get("reserve_name"))
                zones.append(item.get("zone"))
                shares.append(float(item.get("share", 1.0)))
                continue
            shares[k] += float(item.get("share", 1.0))
            if _RANK.get(item.get("zone"), 0) > _RANK.get(zones[k], 0):
                zones[k] = item.get("zone")
    rows = pd.DataFrame({"lead_id": lead_ids, "batch": batches, "reserve_code": codes,
                         "reserve_name": names, "zone": zones,
                         "share": np.round(np.minimum(np.asarray(shares, dtype=float), 1.0), 6),
                         "run_id": runs})
    winner = dict(zip(klass["lead_id"], klass["reserve_code"], strict=True))
    rows["is_primary"] = [int(winner.get(lead) == code)
                          for lead, code in zip(rows["lead_id"], rows["reserve_code"],
                                                strict=True)]
    rows["zone"] = rows["zone"].fillna(Zone.UNZONED.value)
    return rows[list(MEMBER_COLUMNS)]

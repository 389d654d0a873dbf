"""Cell counts of the leads (pipelines/store/cells.py) on both stores."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
import pytest
import shapely

from pipelines.publish.views import leads_view
from pipelines.store.base import Workspace
from pipelines.store.cells import CellQuery, cell_counts, cell_size, refresh_lead_keys
from pipelines.verify.status import set_status


def _expected(ws: Workspace, zoom: int, keep: Callable | None = None) -> dict:
    view = leads_view(ws)
    if keep is not None:
        view = view[keep(view)]
    size = cell_size(zoom)
    b = shapely.bounds(view.geometry.to_numpy())
    out: dict = {}
    for x, y, status in zip((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, view["status"],
                            strict=True):
        key = (math.floor((x + 180) / size), math.floor((y + 90) / size), status)
        out[key] = out.get(key, 0) + 1
    return out


def _got(frame: pd.DataFrame) -> dict:
    return {(r.ix, r.iy, r.status): r.n for r in frame.itertuples()}


@pytest.mark.parametrize("zoom", [3, 12, 16])
def test_counts_match_the_leads_view(any_classified: Workspace, zoom: int) -> None:
    ws = any_classified
    got = cell_counts(ws, zoom)
    assert _got(got) == _expected(ws, zoom)
    assert got["n"].sum() == ws.count("leads")


def test_status_change_shows_without_rebuild(any_classified: Workspace) -> None:
    ws = any_classified
    assert refresh_lead_keys(ws) is False  # classify built it
    assert refresh_lead_keys(ws, force=True) is True
    lead = leads_view(ws)["lead_id"].iloc[0]
    set_status(ws, lead, "in_field", by="t")
    assert refresh_lead_keys(ws) is False
    got = cell_counts(ws, 10, CellQuery(status=("in_field",)))
    assert got["n"].sum() == 1


def test_filters_and_rights(any_classified: Workspace) -> None:
    ws = any_classified
    view = leads_view(ws)
    code = view["reserve_code"].dropna().iloc[0]
    members = set(view.loc[view["reserve_code"] == code, "lead_id"])
    if ws._has_table("lead_reserves"):  # every reserve a lead lies in, where classify keeps them
        rows = ws.read_table("lead_reserves")
        members |= set(rows.loc[rows["reserve_code"] == code, "lead_id"])
    mine = cell_counts(ws, 8, reserves={code})
    assert mine["n"].sum() == len(members)
    outside = cell_counts(ws, 8, reserves={None})
    assert outside["n"].sum() == int(view["reserve_code"].isna().sum())
    nobody = cell_counts(ws, 8, county_prefixes=set())
    assert nobody.empty
    zone = view["zone"].dropna().iloc[0]
    by_zone = cell_counts(ws, 8, CellQuery(zone=(zone,)))
    assert _got(by_zone) == _expected(ws, 8, lambda v: v["zone"] == zone)
    x, y = view.geometry.iloc[0].coords[0]
    boxed = cell_counts(ws, 8, CellQuery(bbox=(x - 1e-6, y - 1e-6, x + 1e-6, y + 1e-6)))
    assert boxed["n"].sum() >= 1
    assert boxed["n"].sum() < len(view) or len(view) == 1


def test_overdue(any_classified: Workspace) -> None:
    ws = any_classified
    lead = leads_view(ws)["lead_id"].iloc[0]
    set_status(ws, lead, "in_field", by="t")
    set_status(ws, lead, "problem", by="t")
    set_status(ws, lead, "rectifying", by="t", responsible_unit="u", measures="m",
               deadline="2025-01-31")
    assert cell_counts(ws, 5, CellQuery(overdue_on="2025-02-01"))["n"].sum() == 1
    assert cell_counts(ws, 5, CellQuery(overdue_on="2025-01-31")).empty

"""Classify every lead: reserve(s) and zone, wetland(s), mine(s), county, boundary distance.

Reserve zones become ranked polygons before they reach ``geo.overlay``: the rank orders
zone strictness first (核心区 = 核心保护区 > 缓冲区 > 实验区 = 一般控制区 > unzoned), then
reserve level. The strictest wins; between equal zones of reserves of equal level, the one
holding the larger share of a patch, then the lower reserve code
(:mod:`pipelines.classify.members`). Every membership is kept: in ``overlaps`` with its
share, and as one ``lead_reserves`` row per lead and reserve.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from geo.crs import CHINA_ALBERS
from layers.i18n import _
from pipelines.classify.engines import check_engine, dask_classify, reserve_pairs
from pipelines.classify.frames import LEAD_COLUMNS, classify_frames
from pipelines.classify.members import membership_rows
from pipelines.errors import WorkspaceError
from pipelines.progress import Progress, no_progress
from pipelines.store.base import Workspace, new_run_id, now_iso
from pipelines.store.cells import refresh_lead_keys

__all__ = ["ClassifyReport", "classify"]

log = logging.getLogger(__name__)

#: Parts of a run the progress counts: read, overlay, write.
_CLASSIFY_PARTS = 3

@dataclass
class ClassifyReport:
    """What a classification run did."""

    run_id: str
    leads: int
    by_zone: dict[str, int] = field(default_factory=dict)
    near_boundary: int = 0
    boundary_version: str | None = None


def classify(
    ws: Workspace, *, near_m: float = 1000.0, engine: str = "geos", mine_margin_m: float = 500.0,
    scheduler: str | None = None, progress: Progress = no_progress,
) -> ClassifyReport:
    """Classify every lead of the workspace and replace ``lead_class`` and ``lead_reserves``.

    ``lead_class`` names each lead's primary reserve: the strictest zone, then the higher
    level, then the larger share of a patch, then the lower reserve code.
    ``lead_reserves`` holds every reserve the lead lies in (``is_primary`` 1 for that one).

    Each classification is also appended to ``lead_class_history`` (one row per lead and
    run), and the run records the last ``lead_history`` id it saw, so that later reports
    can tell what changed since this run.

    Parameters
    ----------
    ws : Workspace
        The workspace; it needs ``leads`` and ``reserves``.
    near_m : float
        Leads within this distance of a reserve boundary get ``near_boundary``.
    engine : {"geos", "postgis", "dask"}
        Overlay engine for the reserve-zone matching (:mod:`pipelines.classify.engines`): ``geos``
        in process, ``postgis`` in the database (PostGIS workspaces only), ``dask``.
    mine_margin_m : float
        Leads this close to a valid mine's licence polygon but outside it are flagged.
    scheduler : str or None
        ``dask.distributed`` scheduler address for ``engine="dask"``.
    progress : Progress
        Told of the run's three parts (read, overlay, write) as step ``分类``.
    """
    check_engine(engine, ws)
    step = _("分类")
    progress(step, 0, _CLASSIFY_PARTS)
    started = now_iso()
    reserves = ws.read_features("reserves")
    if not ws.count("leads"):
        raise WorkspaceError("no leads in the workspace: run `lvdun ingest leads FILE` first")
    if reserves.empty:
        raise WorkspaceError("no reserves in the workspace: run `lvdun ingest reserves FILE`")
    # the ingest run(s) that stored the current reserve polygons: run ids sort by time, but
    # the run log's order within one second does not, so read them off the polygons
    versions = sorted({str(v) for v in reserves["run_id"].dropna()})
    boundary_version = "+".join(versions) if versions else None
    run_id = new_run_id()
    progress(step, 1, _CLASSIFY_PARTS)
    if engine == "dask":  # partitions of leads read and classified in dask tasks
        result = dask_classify(ws, run_id, near_m=near_m, mine_margin_m=mine_margin_m,
                               scheduler=scheduler)
    else:
        leads = ws.read_features("leads", columns=LEAD_COLUMNS)
        pairs = None
        if engine != "geos":
            pairs = reserve_pairs(engine, ws, leads, reserves)
        result = classify_frames(
            leads, reserves,
            wetlands=ws.read_features("wetlands"),
            mines=ws.read_features("mines"),
            admin=ws.read_features("admin"),
            near_m=near_m,
            mine_margin_m=mine_margin_m,
            reserve_pairs=pairs,
        )
    progress(step, 2, _CLASSIFY_PARTS)
    result["boundary_version"] = boundary_version
    result["classified_at"] = now_iso()
    result["run_id"] = run_id
    by_zone = result["zone"].value_counts().to_dict()
    members = membership_rows(result)
    with ws.transaction():
        ws.replace_lead_class(result)
        ws.replace_lead_reserves(members)  # every lead was classified: all rows replaced
        ws.snapshot_lead_class()  # lead_class_history, copied in the database
        last_event = ws.last_history_id()
        ws.record_run(
            run_id, "classify", started_at=started,
            params={"near_m": near_m, "engine": engine, "mine_margin_m": mine_margin_m},
            counts={"leads": len(result), "by_zone": by_zone,
                    "memberships": len(members),
                    "in_several_reserves": int((members["lead_id"].value_counts() > 1).sum()),
                    "near_boundary": int(result["near_boundary"].sum()),
                    "lead_history_id": int(last_event or 0)},
            crs={"areas": CHINA_ALBERS.name, "distances": "CGCS2000 Gauss-Krüger 6° zone"},
        )
    refresh_lead_keys(ws)  # the map's per-cell counts, ready before the first request
    progress(step, _CLASSIFY_PARTS, _CLASSIFY_PARTS)
    return ClassifyReport(run_id=run_id, leads=len(result), by_zone=by_zone,
                          near_boundary=int(result["near_boundary"].sum()),
                          boundary_version=boundary_version)

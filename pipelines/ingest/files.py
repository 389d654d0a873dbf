"""Ingest a file into a workspace layer: read, canonicalise, store in one transaction.

Every run is recorded in ``runs`` (input with sha256, parameters, counts, CRS decision);
every rejected row goes to a rejects file next to the workspace. ``read = stored +
rejected`` always. A file whose every row is rejected stores nothing and is an error.
Rows already stored are compared field by field (:mod:`pipelines.ingest.changes`): fields
the file does not carry keep their stored values, and the run counts changes per field.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.admin import prepare_admin
from layers.aliases import FIELD_ALIASES
from layers.canonical import Prepared
from layers.files import file_sha256
from layers.i18n import _, language
from layers.leads import prepare_leads
from layers.mines import prepare_mines
from layers.read import read_source
from layers.reserves import prepare_reserves
from layers.schema import LAYER_FIELDS, LAYERS, Status
from layers.wetlands import prepare_wetlands
from pipelines.errors import IngestError
from pipelines.escape import csv_cell, file_name
from pipelines.ingest.changes import field_changes, keep_stored_fields
from pipelines.ingest.identity import link_footprints
from pipelines.progress import Progress, no_progress
from pipelines.store.base import Workspace, new_run_id, now_iso
from pipelines.store.tables import KEYS

__all__ = ["IngestReport", "field_label", "ingest", "rejects_dir", "store_prepared"]

log = logging.getLogger(__name__)

#: Leads written per call to the store (in the same transaction): the store turns every
#: row into Python tuples, so a million-row file is written a slice at a time.
WRITE_ROWS = 50_000

_PREPARE: dict[str, Callable[..., Prepared]] = {
    "reserves": prepare_reserves,
    "wetlands": prepare_wetlands,
    "mines": prepare_mines,
    "leads": prepare_leads,
    "admin": prepare_admin,
}


@dataclass
class IngestReport:
    """What an ingest did. ``read == stored + rejected`` always holds."""

    layer: str
    file: str
    run_id: str
    read: int
    stored: int
    rejected: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    linked: int = 0
    rejects_path: Path | None = None
    notes: list[str] = field(default_factory=list)
    crs: dict[str, Any] = field(default_factory=dict)
    #: Per column of the file, how many values held control characters (removed).
    control_chars: dict[str, int] = field(default_factory=dict)
    #: Per field (and ``geometry``), how many stored rows the file changed.
    changed: dict[str, int] = field(default_factory=dict)
    #: Fields the file does not carry: stored rows kept their values.
    kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: read N, stored S, rejected R, what storing meant, changes per field.

        Fields are named as bureau files head them (面积 for ``area_m2``).

        Examples
        --------
        >>> IngestReport("leads", "a.csv", "r1", read=3, stored=3, rejected=0, inserted=1,
        ...              updated=1, unchanged=1, changed={"area_m2": 1}).summary()
        '读取 3，入库 3，拒绝 0（新增 1，更新 1，未变 1）；变更：面积 1'
        """
        line = _("读取 {read}，入库 {stored}，拒绝 {rejected}").format(
            read=self.read, stored=self.stored, rejected=self.rejected)
        linked = _("，关联 {linked}").format(linked=self.linked) if self.linked else ""
        line += _("（新增 {inserted}，更新 {updated}，未变 {unchanged}{linked}）").format(
            inserted=self.inserted, updated=self.updated, unchanged=self.unchanged,
            linked=linked)
        if self.changed:
            line += _("；变更：{fields}").format(fields=_("，").join(
                f"{field_label(k)} {v}" for k, v in self.changed.items()))
        if self.kept:
            line += _("；文件中没有、保留原值：{fields}").format(
                fields=_("，").join(field_label(k) for k in self.kept))
        return line


def field_label(name: str) -> str:
    """Return how people call canonical field ``name``: its first Chinese header spelling.

    In English the catalog's word, else the canonical name itself.

    Examples
    --------
    >>> field_label("area_m2"), field_label("geometry"), field_label("run_id")
    ('面积', '图形', 'run_id')
    """
    zh = "图形" if name == "geometry" else next(
        (a for a in FIELD_ALIASES.get(name, ()) if re.search(r"[\u4e00-\u9fff]", a)), None)
    if zh is None:
        return name
    text = _(zh)
    return name if text == zh and language() != "zh" else text


def rejects_dir(ws: Workspace) -> Path:
    """Return the folder next to the workspace where rejects files go."""
    loc = Path(getattr(ws, "path", Path.cwd() / "lvdun"))
    return loc.parent / f"{loc.stem}_rejects"


def ingest(
    ws: Workspace,
    layer: str,
    path: str | Path,
    *,
    layer_name: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    coords: str | None = None,
    fields: Mapping[str, str] | None = None,
    batch: str | None = None,
    strict: bool = False,
    by: str | None = None,
    point_radius_m: float | None = None,
    progress: Progress = no_progress,
) -> IngestReport:
    """Ingest ``path`` into ``layer`` of the workspace.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    layer : str
        ``reserves``, ``wetlands``, ``mines``, ``leads`` or ``admin``.
    path : str or pathlib.Path
        The input file (GPKG, SHP, ZIP, GeoJSON, KML, CSV, XLSX).
    layer_name, sheet, encoding : str or None
        Which layer or sheet to read, and the text encoding when detection is wrong.
    crs : str, int or None
        The input CRS (``--crs``).
    coords : str or None
        The lon/lat datum or web-map shift (``--coords``).
    fields : mapping of str to str, optional
        ``--field CANON=COLUMN`` overrides of the header aliases.
    batch : str or None
        Monitoring batch for leads whose file has no 批次 column.
    strict : bool
        Fail (and store nothing) when any row is rejected.
    by : str or None
        Who ran it, recorded in lead history.
    point_radius_m : float or None
        Mines only: metres within which a mine given as a point without an area matches
        leads (default :data:`layers.mines.POINT_MINE_RADIUS_M`).
    progress : Progress
        Told of the steps ``读取`` (the file, one unit), ``校验`` (canonical fields and
        geometries, one unit) and ``写入`` (slices of :data:`WRITE_ROWS` rows).

    Returns
    -------
    IngestReport

    Raises
    ------
    IngestError
        With ``strict`` and rejected rows; nothing is stored.
    """
    if layer not in LAYERS:
        raise IngestError(_("未知图层 {layer!r}；可用：{layers}").format(
            layer=layer, layers=", ".join(LAYERS)))
    path = Path(path)
    started = now_iso()
    reading, checking = _("读取"), _("校验")
    progress(reading, 0, 1)
    source = read_source(path, layer=layer_name, sheet=sheet, encoding=encoding)
    progress(reading, 1, 1)
    progress(checking, 0, 1)
    options: dict[str, Any] = {"overrides": fields, "crs": crs, "coords": coords,
                               "hint_lon": _hint_lon(ws)}
    if layer == "leads":
        options["batch"] = batch
    if layer == "mines":
        options["point_radius_m"] = point_radius_m
    prepared = _PREPARE[layer](source, **options)
    progress(checking, 1, 1)
    params = {
        "layer": layer, "layer_name": layer_name, "sheet": sheet, "encoding": encoding,
        "crs": crs, "coords": coords, "fields": dict(fields or {}), "batch": batch,
        "strict": strict, "columns": prepared.columns,
        **({"point_radius_m": point_radius_m} if layer == "mines" else {}),
    }
    return store_prepared(ws, layer, prepared, inputs=[path], params=params, strict=strict,
                          by=by, started=started, carried=set(prepared.columns),
                          progress=progress)


def _hint_lon(ws: Workspace) -> float | None:
    """Centre longitude of what the workspace already holds (reserves, else admin, leads)."""
    for name in ("reserves", "admin", "leads"):
        box = ws.extent(name)
        if box is not None:
            return (box[0] + box[2]) / 2
    return None


def store_prepared(
    ws: Workspace,
    layer: str,
    prepared: Prepared,
    *,
    inputs: list[Path],
    params: dict[str, Any],
    strict: bool = False,
    by: str | None = None,
    started: str | None = None,
    command: str | None = None,
    carried: set[str] | None = None,
    progress: Progress = no_progress,
) -> IngestReport:
    """Store a prepared layer frame in one transaction, with rejects file and run record.

    This is the second half of :func:`ingest`, for producers other than files of rows
    (e.g. change rasters vectorised into patch leads).

    Parameters
    ----------
    ws : Workspace
        Where to store.
    layer : str
        The layer to store into.
    prepared : Prepared
        The canonical frame (EPSG:4490) with its rejects and read count.
    inputs : list of pathlib.Path
        Input files, recorded with their sha256.
    params : dict
        Parameters recorded in ``runs``.
    strict : bool
        Fail and store nothing when any row was rejected.
    by : str or None
        Who ran it.
    started : str or None
        ISO start time (default: now).
    command : str or None
        Name in ``runs`` (default ``ingest <layer>``).
    carried : set of str or None
        The canonical fields the input carries; stored rows keep their values of the
        others. None: the producer sets every field.
    progress : Progress
        Told of the step ``写入``: leads in slices of :data:`WRITE_ROWS` rows (and the new
        ones' first status in slices as large), another layer as one unit.

    Raises
    ------
    IngestError
        When every row is rejected (nothing is stored), or with ``strict`` and any
        rejected row.
    """
    run_id = new_run_id()
    started = started or now_iso()
    path = inputs[0]
    frame = prepared.frame
    frame["run_id"] = run_id
    report = IngestReport(
        layer=layer,
        file=str(path),
        run_id=run_id,
        read=prepared.read,
        stored=len(frame),
        rejected=prepared.rejected_rows,
        notes=prepared.notes,
        crs=prepared.crs,
        control_chars=dict(prepared.control_chars),
    )
    if report.read != report.stored + report.rejected:  # the accounting is the contract
        raise IngestError(_(
            "{file}：计数不符，读取 {read} ≠ 入库 {stored} + 拒绝 {rejected}；这是程序错误，"
            "请连同文件一起报告").format(file=path.name, read=report.read, stored=report.stored,
                                    rejected=report.rejected))
    if report.rejected or prepared.warnings:
        report.rejects_path = _write_rejects(ws, run_id, layer, path, prepared)
    if report.read and not report.stored:
        raise IngestError(_("{file}：全部 {n} 行被拒绝，未入库：{reason}。详见 {path}").format(
            file=path.name, n=report.read, reason=_main_reason(prepared),
            path=report.rejects_path))
    if strict and report.rejected:
        raise IngestError(_("{file}：{n} 行被拒绝且设置了 --strict；未入库。详见 {path}").format(
            file=path.name, n=report.rejected, path=report.rejects_path))
    writing = _("写入")
    with ws.transaction():
        if layer == "leads":
            _store_leads(ws, frame, report, run_id=run_id, by=by, carried=carried,
                         progress=lambda done, total: progress(writing, done, total))
        else:
            progress(writing, 0, 1)
            _store_replacing(ws, layer, frame, report, carried=carried)
            progress(writing, 1, 1)
        ws.record_run(
            run_id,
            command or f"ingest {layer}",
            started_at=started,
            params=params,
            inputs=[{"path": str(p), "sha256": file_sha256(p)} for p in inputs],
            counts={
                "read": report.read, "stored": report.stored, "rejected": report.rejected,
                "inserted": report.inserted, "updated": report.updated,
                "unchanged": report.unchanged, "linked": report.linked,
                "values_left_empty": len(prepared.warnings),
                "control_chars_values": sum(report.control_chars.values()),
                "control_chars_by_field": report.control_chars,
                "changed_by_field": report.changed, "kept_fields": report.kept,
            },
            crs=prepared.crs,
            message="; ".join(prepared.notes[:50]),
        )
    log.info("%s: %s", path.name, report.summary())
    return report


def _write_rejects(ws: Workspace, run_id: str, layer: str, path: Path, prep: Prepared) -> Path:
    folder = rejects_dir(ws)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{run_id}_{layer}_{file_name(path.stem)}.csv"
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "row", "field", "value", "reason", "action"])
        listed = [(r, "row rejected") for r in prep.rejects]
        listed += [(w, "value left empty") for w in prep.warnings]
        for r, action in sorted(listed, key=lambda t: (t[0].row, t[0].field)):
            writer.writerow([csv_cell(v) for v in (path.name, r.row, r.field,
                                                   "" if r.value is None else r.value,
                                                   r.reason, action)])
    return out


def _main_reason(prep: Prepared) -> str:
    """The reason most rejected rows share, with its field and how many rows."""
    reasons = pd.Series([f"{r.field}: {r.reason}" for r in prep.rejects])
    if reasons.empty:
        return _("没有一行能读出")
    top = reasons.value_counts()
    return _("{reason}（{n} 行）").format(reason=top.index[0], n=int(top.iloc[0]))


def _compare(
    old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, cols: list[str], report: IngestReport
) -> np.ndarray:
    """Rows of ``new`` equal to the aligned ``old`` ones; per-field counts into ``report``.

    Geometries within the tolerance of :mod:`pipelines.ingest.changes` keep the stored
    shape, so that rounding never moves a stored row.
    """
    changes = field_changes(old, new, cols)
    for c, mask in changes.items():
        if mask.any():
            report.changed[c] = report.changed.get(c, 0) + int(mask.sum())
    return ~np.logical_or.reduce(list(changes.values())) if changes else \
        np.ones(len(new), dtype=bool)


def _store_replacing(
    ws: Workspace, layer: str, frame: gpd.GeoDataFrame, report: IngestReport,
    *, carried: set[str] | None = None,
) -> None:
    key = KEYS[layer]
    keys = frame[key].dropna().unique().tolist()
    old = ws.read_features_in(layer, key, keys)
    compare = [c for c in frame.columns if c not in ("run_id", "src_file", "src_row",
                                                      "geometry")]
    if layer != "reserves" and len(old):
        merged = old.set_index(key).reindex(frame[key])
        present = merged["fid"].notna().to_numpy()
        same = np.zeros(len(frame), dtype=bool)
        if present.any():
            old_rows = gpd.GeoDataFrame(merged[present].reset_index(), geometry="geometry")
            if carried is not None:
                # derived from the shape (area of a polygon, a point's circle): not kept
                absent = [c for c in LAYER_FIELDS[layer] if c not in carried
                          and c not in (key, "area_m2")]
                frame, kept = keep_stored_fields(frame, old_rows, np.flatnonzero(present),
                                                 absent)
                report.kept = kept
            same[present] = _compare(old_rows, frame[present].reset_index(drop=True),
                                     [c for c in compare if c != key], report)
        report.unchanged = int(same.sum())
        report.updated = int((present & ~same).sum())
        report.inserted = int((~present).sum())
    elif layer == "reserves":
        old_codes = set(old["reserve_code"]) if len(old) else set()
        report.updated = int(frame["reserve_code"].isin(old_codes).sum())
        report.inserted = len(frame) - report.updated
    else:
        report.inserted = len(frame)
    ws.delete_where_in(layer, key, keys)
    ws.insert_features(layer, frame)


def _store_leads(
    ws: Workspace, frame: gpd.GeoDataFrame, report: IngestReport, *, run_id: str,
    by: str | None, carried: set[str] | None = None,
    progress: Callable[[int, int | None], None] = lambda done, total: None,
) -> None:
    """Store leads: compare with the stored ones, write slices, first status of new ones.

    ``progress(done, total)`` counts slices written, known once the file's leads are
    compared with the stored ones (the new ones' status rows are slices too).
    """
    progress(0, None)  # comparing with the stored leads: no count yet
    everything = ws.read_features("leads")
    frame, links = link_footprints(frame, everything)
    report.notes.extend(links)
    report.linked = len(links)
    ids = frame["lead_id"].tolist()
    old = everything[everything["lead_id"].isin(ids)].set_index("lead_id")
    at = now_iso()
    exists = frame["lead_id"].isin(old.index).to_numpy()
    frame = frame.copy()
    frame["first_batch"] = frame["batch"]
    frame["rounds"] = 1
    history: list[dict[str, Any]] = []
    statuses = ws.read_table("lead_status")
    status_of = dict(zip(statuses["lead_id"], statuses["status"], strict=True))
    version_of = dict(zip(statuses["lead_id"], statuses["version"], strict=True))
    same = np.zeros(len(frame), dtype=bool)
    if exists.any():
        prev = old.loc[frame.loc[exists, "lead_id"]]
        frame.loc[exists, "first_batch"] = prev["first_batch"].to_numpy()
        new_round = (prev["batch"].to_numpy() != frame.loc[exists, "batch"].to_numpy())
        frame.loc[exists, "rounds"] = prev["rounds"].fillna(1).astype(int).to_numpy() + \
            new_round.astype(int)
        compare = ["batch", "activity_type", "change_type", "area_m2", "date_before",
                   "date_after", "county_sent", "reserve_sent", "zone_sent", "note",
                   "id_source"]
        prev_frame = gpd.GeoDataFrame(prev.reset_index(), geometry="geometry")
        at_rows = np.flatnonzero(exists)
        if carried is not None:
            absent = [c for c in LAYER_FIELDS["leads"] if c not in carried
                      and c not in ("lead_id", "batch")]
            frame, report.kept = keep_stored_fields(frame, prev_frame, at_rows, absent)
        same[exists] = _compare(prev_frame, frame[exists].reset_index(drop=True), compare,
                                report)
        _keep_stored_shapes(frame, prev_frame, at_rows, report)
        for lead_id, batch, is_new_round in zip(
            frame.loc[exists, "lead_id"], frame.loc[exists, "batch"], new_round, strict=True
        ):
            if is_new_round:
                status = status_of.get(lead_id, Status.PENDING.value)
                history.append({
                    "lead_id": lead_id, "version": version_of.get(lead_id, 1), "at": at,
                    "by": by or "ingest", "from_status": status, "to_status": status,
                    "reason": "再次监测",
                    "note": _("在批次 {batch} 再次监测到").format(batch=batch),
                    "run_id": run_id,
                })
    report.inserted = int((~exists).sum())
    report.unchanged = int(same.sum())
    report.updated = int((exists & ~same).sum())
    ws.delete_where_in("leads", "lead_id", ids)
    new_ids = frame.loc[~exists, "lead_id"].tolist()
    fresh = [i for i in new_ids if i not in status_of]
    total = -(-len(frame) // WRITE_ROWS) + -(-len(fresh) // WRITE_ROWS)
    done = 0
    progress(done, total)
    for lo in range(0, len(frame), WRITE_ROWS):
        ws.insert_features("leads", frame.iloc[lo : lo + WRITE_ROWS])
        done += 1
        progress(done, total)
    if history:
        ws.append_rows("lead_history", pd.DataFrame(history))
    for lo in range(0, len(fresh), WRITE_ROWS):
        part = fresh[lo : lo + WRITE_ROWS]
        ws.append_rows("lead_status", pd.DataFrame({
            "lead_id": part, "status": Status.PENDING.value, "version": 1,
            "updated_at": at, "updated_by": by or "ingest",
        }))
        ws.append_rows("lead_history", pd.DataFrame({
            "lead_id": part, "version": 1, "at": at, "by": by or "ingest",
            "from_status": None, "to_status": Status.PENDING.value, "reason": "新线索",
            "note": _("从 {file} 导入").format(file=Path(report.file).name), "run_id": run_id,
        }))
        done += 1
        progress(done, total)


def _keep_stored_shapes(
    frame: gpd.GeoDataFrame, stored: gpd.GeoDataFrame, at: np.ndarray, report: IngestReport
) -> None:
    """Put back the stored geometry where the new one is the same place (within 1 cm)."""
    new = frame.geometry.iloc[at].reset_index(drop=True)
    moved = field_changes(stored[["geometry"]].set_geometry("geometry"),
                          gpd.GeoDataFrame(geometry=new), [])["geometry"]
    keep = at[~moved]
    if len(keep):
        geoms = np.asarray(frame.geometry.values, dtype=object).copy()
        geoms[keep] = np.asarray(stored.geometry.values, dtype=object)[~moved]
        frame[frame.geometry.name] = gpd.GeoSeries(geoms, crs=frame.crs, index=frame.index)

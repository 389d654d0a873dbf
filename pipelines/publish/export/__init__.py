"""Per-reserve (or per-county) verification lists: the XLSX/CSV ledger (台账), GPKG, SHP,
KML, GeoJSON.

One folder per reserve, one for the leads outside every reserve. Leads are grouped by the
reserve's *code* (``--by county``: the county's adcode), never by its name: two reserves
named alike are two groups. A folder is named after the reserve (made safe by
:func:`pipelines.escape.file_name`); when two reserves' names give the same folder name,
each is ``<名称>_<代码>``. The leads outside every reserve are a group of their own, code
None (no reserve's code can be that), folder ``保护区外``: a reserve that is itself named
``保护区外`` gets ``保护区外_<代码>``. The XLSX and CSV files are the ledger that bureau staff
fill in and ``lvdun status import`` reads back (:mod:`pipelines.verify.ledger_import`): this module
defines what a ledger holds (columns, editable ones, values as shown, the hidden identity)
and writes it. CSV is UTF-8 with BOM so that Excel opens it as it is.

A lead inside several reserves is in the list of each of them (``lead_reserves``): there
its 保护区名称, 保护区编码, 保护区级别 and 功能区 are those of the list's reserve (the zone of
that reserve the lead lies in), and 主归属保护区 / 主归属功能区 name the reserve that won its
classification and its zone. The leads outside every reserve are those in none.

:func:`export` is here, and :func:`export_archive` / :class:`ArchiveCache`, one group as a
zip (the web app's download); what a ledger holds is defined in
:mod:`pipelines.publish.export.ledger_format`, the Excel ledger is written by
:mod:`pipelines.publish.export.xlsx`, the other files by :mod:`pipelines.publish.export.formats`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from layers.i18n import _
from layers.schema import NO_COUNTY, OUTSIDE_NAME, ZONE_LABELS, ZONE_ORDER, Zone
from pipelines.errors import NotFoundError, WorkspaceError
from pipelines.escape import file_name
from pipelines.progress import Progress, no_progress
from pipelines.publish.export.archive import Archive, ArchiveCache, change_mark, export_archive
from pipelines.publish.export.formats import (
    ExportContext,
    write_csv,
    write_geojson,
    write_gpkg,
    write_kml,
    write_shp,
)
from pipelines.publish.export.ledger_format import (
    DATE_COLUMNS,
    DATETIME_COLUMNS,
    EDITABLE,
    FORMAT,
    FORMAT_VERSION,
    HIDDEN,
    IMAGE_COLUMNS,
    LEDGER_TZ,
    MAIN_SHEET,
    META_SHEET,
    NUMBER_COLUMNS,
    ROWS_SHEET,
    SCOPE_KINDS,
    SUMMARY_SHEET,
    THUMB_PX,
    ExportRecord,
    Scope,
    cell_text,
    digest,
    export_record,
    ledger_columns,
    ledger_rows,
    record_export,
    workspace_id,
)
from pipelines.publish.export.xlsx import write_xlsx
from pipelines.publish.views import GROUP_COLUMNS, leads_view
from pipelines.store.base import Workspace, new_run_id, now_iso
from pipelines.verify.deadlines import overdue

__all__ = [
    "DATETIME_COLUMNS",
    "DATE_COLUMNS",
    "EDITABLE",
    "FORMAT",
    "FORMATS",
    "FORMAT_VERSION",
    "HIDDEN",
    "IMAGE_COLUMNS",
    "LEDGER_FORMATS",
    "LEDGER_TZ",
    "MAIN_SHEET",
    "META_SHEET",
    "NO_COUNTY",
    "NUMBER_COLUMNS",
    "OUTSIDE_NAME",
    "ROWS_SHEET",
    "SCOPE_KINDS",
    "SUMMARY_SHEET",
    "THUMB_PX",
    "Archive",
    "ArchiveCache",
    "ExportGroup",
    "ExportJob",
    "ExportRecord",
    "ExportReport",
    "PlannedGroup",
    "Scope",
    "cell_text",
    "change_mark",
    "digest",
    "export",
    "export_archive",
    "export_record",
    "group_labels",
    "ledger_columns",
    "ledger_rows",
    "record_export",
    "safe_name",
    "workspace_id",
]

log = logging.getLogger(__name__)

FORMATS = ("xlsx", "csv", "gpkg", "shp", "kml", "geojson")
#: The formats that are ledgers (read back by ``lvdun status import``).
LEDGER_FORMATS = ("xlsx", "csv")
#: The group names of leads outside every reserve / county, per kind of group.
_OUTSIDE = {"reserve": OUTSIDE_NAME, "county": NO_COUNTY}
_NAME_COLUMNS = {"reserve": "reserve_name", "county": "county_name"}
_ZONES = {z.value for z in Zone}

#: Kept for the modules that imported it: file names go through
#: :func:`pipelines.escape.file_name`.
safe_name = file_name


@dataclass
class ExportGroup:
    """One group of an export: what it is, its folder name, its files and rows.

    ``code`` is the reserve's code (the county's adcode), None for the leads outside
    every reserve (county); ``label`` names its folder and files and is unique within
    the workspace's groups.
    """

    by: str
    code: str | None
    name: str
    label: str
    files: list[Path] = field(default_factory=list)
    rows: int = 0

    @property
    def scope(self) -> Scope:
        """The group as a ledger's scope."""
        return Scope(self.by, self.code)


@dataclass
class ExportReport:
    """Files written per group; the export run and the workspace id the ledgers carry.

    ``groups`` is keyed by the groups' labels (their folder names), as are
    :attr:`files` and :attr:`rows`; :meth:`group` finds a group by its code.
    """

    out_dir: Path
    run_id: str = ""
    workspace_id: str = ""
    by: str = "reserve"
    groups: dict[str, ExportGroup] = field(default_factory=dict)

    @property
    def files(self) -> dict[str, list[Path]]:
        """The files written, per group label."""
        return {label: g.files for label, g in self.groups.items()}

    @property
    def rows(self) -> dict[str, int]:
        """The number of leads written, per group label."""
        return {label: g.rows for label, g in self.groups.items()}

    def group(self, code: str | None) -> ExportGroup | None:
        """Return the group of ``code`` (None: outside every reserve), if it was written."""
        return next((g for g in self.groups.values() if g.code == code), None)


def group_labels(names: dict[str, str], *, by: str = "reserve") -> dict[str | None, str]:
    """Return the folder name of every group: its name, or ``<名称>_<代码>`` when shared.

    Parameters
    ----------
    names
        Group code -> group name, for every group of the workspace (not only those
        exported, so that a group's folder is the same in every export).
    by
        ``reserve`` or ``county``.

    Returns
    -------
    dict
        Code -> label, with None -> ``保护区外`` (``县界外``) for the leads outside.
        Names are compared after :func:`pipelines.escape.file_name` and ignoring case
        (folders of a zip unpacked on Windows); the name of the outside group is always
        taken, and a label still taken after adding the code gets ``_2``, ``_3``...

    Examples
    --------
    >>> labels = group_labels({"R01": "甲", "R02": "甲", "R03": "乙", "X": "保护区外"})
    >>> [labels[c] for c in (None, "R01", "R02", "R03", "X")]
    ['保护区外', '甲_R01', '甲_R02', '乙', '保护区外_X']
    """
    outside = file_name(_OUTSIDE[by])
    bases = {code: file_name(name) for code, name in names.items()}
    counts = Counter(b.casefold() for b in bases.values())
    counts[outside.casefold()] += 1
    labels: dict[str | None, str] = {None: outside}
    used = {outside.casefold()}
    for code in sorted(names):
        label = bases[code]
        if counts[label.casefold()] > 1:
            label = f"{file_name(names[code], max_len=40)}_{file_name(code, max_len=40)}"
        unique, k = label, 2
        while unique.casefold() in used:
            unique, k = f"{label}_{k}", k + 1
        used.add(unique.casefold())
        labels[code] = unique
    return labels


def _group_names(ws: Workspace, by: str, members: pd.DataFrame | None) -> dict[str, str]:
    """Code -> name of every group the classified leads fall in (the most frequent name).

    By reserve, every reserve holding a lead (``members``, its memberships) is a group,
    won or not.
    """
    code_col, name_col = GROUP_COLUMNS[by], _NAME_COLUMNS[by]
    if members is not None:
        rows = (members.groupby(["reserve_code", "reserve_name"], dropna=False).size()
                .rename("n").reset_index().rename(columns={"reserve_code": "code",
                                                           "reserve_name": "name"}))
    else:
        rows = ws.lead_group_counts(code_col, name_col)
    names: dict[str, str] = {}
    rows = rows.assign(named=rows["name"].notna()).sort_values(
        ["code", "named", "n", "name"], ascending=[True, False, False, True])
    for code, name in zip(rows["code"], rows["name"], strict=True):
        names.setdefault(str(code), str(name) if isinstance(name, str) and name.strip()
                         else str(code))
    return names


#: How many known groups an unknown code's error lists.
_LISTED = 30


def _wanted_codes(codes: Iterable[str | None] | None,
                  names: dict[str, str], by: str) -> list[str | None] | None:
    if codes is None:
        return None
    wanted = list(dict.fromkeys(None if c is None else str(c) for c in codes))
    unknown = [c for c in wanted if c is not None and c not in names]
    if unknown:
        known = [f"{code}（{name}）" if name != code else code
                 for code, name in sorted(names.items())]
        listed = "、".join(known[:_LISTED]) + ("……" if len(known) > _LISTED else "")
        message = (_("以下保护区编码没有线索：{unknown}；有线索的保护区（{n} 个）：{known}")
                   if by == "reserve" else
                   _("以下县级行政区划代码没有线索：{unknown}；有线索的县（{n} 个）：{known}"))
        raise NotFoundError(message.format(unknown=", ".join(map(repr, unknown)),
                                           n=len(known), known=listed or "—"))
    return wanted


def export(
    ws: Workspace,
    out_dir: str | Path,
    *,
    by: str = "reserve",
    formats: tuple[str, ...] = ("xlsx",),
    codes: Iterable[str | None] | None = None,
    log_run: bool = True,
    progress: Progress = no_progress,
) -> ExportReport:
    """Write one verification list per reserve (or county) in each of ``formats``.

    The XLSX and CSV lists are ledgers: they carry each lead's version, the workspace's
    identity and the group they are for, and ``lvdun status import`` reads them back.
    A ledger export keeps its record (groups, versions: see
    :func:`pipelines.publish.export.ledger_format.record_export`) and, with ``log_run``, is
    logged in the run log (``runs``, command ``export``).

    Parameters
    ----------
    ws : Workspace
        A classified workspace.
    out_dir : str or pathlib.Path
        Folder to write into; one sub-folder per group.
    by : {"reserve", "county"}
        ``reserve`` (every reserve a lead lies in, by code) or ``county`` (by adcode).
    formats : tuple of str
        Any of ``FORMATS``.
    codes : iterable of str or None, optional
        Only these groups: reserve codes (``by="county"``: adcodes); None in it stands
        for the leads outside every reserve (county). Default: every group.
    log_run : bool
        Log the export in ``runs``. The web app's downloads do not: a run makes it read
        every lead again.
    progress : Progress
        Told of each group as a step of its own (``导出 <group>``), one unit per file.

    Raises
    ------
    WorkspaceError
        For an unknown format or ``by``, or leads not classified yet.
    NotFoundError
        When a code of ``codes`` has no leads (the message lists the groups that have).
    """
    job = ExportJob(ws, out_dir, by=by, formats=formats, codes=codes, log_run=log_run)
    for planned in job.groups:
        job.write(planned, progress)
    return job.finish()


@dataclass
class PlannedGroup:
    """A group of an :class:`ExportJob` before it is written: its leads, sorted, and title."""

    group: ExportGroup
    rows: gpd.GeoDataFrame
    title: str

    @property
    def step(self) -> str:
        """The name of the group's progress step."""
        return _("导出 {group}").format(group=self.group.label)


class ExportJob:
    """One export: its groups read and planned at once, written one by one, then recorded.

    :func:`export` is this job run from start to end; the packets
    (:mod:`pipelines.publish.packet`) add their own files to each group as it is written.
    Arguments as :func:`export`.
    """

    def __init__(self, ws: Workspace, out_dir: str | Path, *, by: str = "reserve",
                 formats: tuple[str, ...] = ("xlsx",),
                 codes: Iterable[str | None] | None = None, log_run: bool = True) -> None:
        unknown = [f for f in formats if f not in FORMATS]
        if unknown:
            raise WorkspaceError(f"unknown format {unknown[0]!r}; use one of "
                                 f"{', '.join(FORMATS)}")
        if by not in SCOPE_KINDS:
            raise WorkspaceError(f"--by {by!r}: use reserve or county")
        if not ws.count("lead_class"):
            raise WorkspaceError("leads are not classified yet: run `lvdun classify` first")
        self.ws, self.by, self.formats, self.log_run = ws, by, tuple(formats), log_run
        self.started = now_iso()
        members = ws.lead_memberships() if by == "reserve" else None
        names = _group_names(ws, by, members)
        labels = group_labels(names, by=by)
        self.wanted = _wanted_codes(codes, names, by)
        view = leads_view(ws, by=by, codes=self.wanted, members=True)
        self.out = Path(out_dir)
        self.ledger = any(f in LEDGER_FORMATS for f in formats)
        opinions = ws.read_table("lead_opinion")
        self.ctx = ExportContext(
            workspace_id=(workspace_id(ws, create=True) or "") if self.ledger else "",
            run_id=new_run_id(),
            exported_at=datetime.now(LEDGER_TZ).replace(tzinfo=None, microsecond=0),
            location=ws.location,
            opinions=dict(zip(opinions["lead_id"], opinions["opinion"], strict=True)),
            overdue=(overdue(ws) if "xlsx" in formats
                     else pd.DataFrame(columns=["lead_id", "kind"])),
            chips=_chip_paths(ws) if "xlsx" in formats else {},
        )
        self.report = ExportReport(out_dir=self.out, run_id=self.ctx.run_id,
                                   workspace_id=self.ctx.workspace_id, by=by)
        self.versions: dict[str, dict[str, int | None]] = {}
        codes_of = view[GROUP_COLUMNS[by]]
        inside = codes_of.notna().to_numpy()
        if members is not None:
            parts = _member_parts(ws, view, members, self.wanted)
        else:
            parts = [(str(code), rows) for code, rows in view[inside].groupby(
                codes_of[inside].astype(str), sort=False)]
        if (~inside).any():
            parts.append((None, view[~inside]))
        if (self.wanted is not None and None in self.wanted
                and all(code is not None for code, _rows in parts)):
            raise NotFoundError(f"no leads outside every {by}")
        #: The groups to write, in the order of their labels.
        self.groups: list[PlannedGroup] = []
        for code, rows in sorted(parts, key=lambda p: labels[p[0]]):
            label = labels[code]
            name = _OUTSIDE[by] if code is None else names[code]
            group = ExportGroup(by, code, name, label, rows=len(rows))
            rows = rows.sort_values(["zone", "lead_id"], key=_zone_sort)
            title = name if code is None or label == file_name(name) else f"{name}（{code}）"
            self.groups.append(PlannedGroup(group, rows, title))

    def write(self, planned: PlannedGroup, progress: Progress = no_progress,
              *, more: int = 0) -> ExportGroup:
        """Write the files of one group; return it (its files in ``formats`` order).

        Parameters
        ----------
        planned : PlannedGroup
            A group of :attr:`groups`.
        progress : Progress
            Told of each file written, as step :attr:`PlannedGroup.step`.
        more : int
            Units the caller will add to the step after the files (its total).
        """
        group, rows = planned.group, planned.rows
        total = len(self.formats) + more
        progress(planned.step, 0, total)
        folder = self.out / group.label
        folder.mkdir(parents=True, exist_ok=True)
        own = replace(self.ctx, scope=group.scope)
        for k, fmt in enumerate(self.formats):
            path = folder / f"{group.label}_核查清单.{fmt}"
            group.files.append(_WRITERS[fmt](rows, path, planned.title, own))
            progress(planned.step, k + 1, total)
        self.report.groups[group.label] = group
        self.versions[group.label] = {
            str(k): (None if pd.isna(v) else int(v))
            for k, v in zip(rows["lead_id"], rows["version"], strict=True)}
        return group

    def finish(self) -> ExportReport:
        """Record the ledgers written (and log the run); return the report."""
        report = self.report
        if self.ledger and report.groups:
            with self.ws.transaction():
                record_export(self.ws, self.ctx.run_id,
                              [(g.scope, g.name, self.versions[label])
                               for label, g in report.groups.items()])
                if self.log_run:
                    self.ws.record_run(self.ctx.run_id, "export", started_at=self.started,
                                       params={
                        "by": self.by, "formats": list(self.formats), "out": str(self.out),
                        "workspace_id": self.ctx.workspace_id,
                        "codes": self.wanted,
                        "groups": [{"code": g.code, "name": g.name, "label": label}
                                   for label, g in report.groups.items()]},
                        counts=report.rows)
        log.info("exported %d groups to %s (run %s)", len(report.groups), self.out,
                 self.ctx.run_id)
        return report


def _member_parts(ws: Workspace, view: pd.DataFrame, members: pd.DataFrame,
                  wanted: list[str | None] | None) -> list[tuple[str | None, Any]]:
    """The leads of each reserve: every lead lying in it, shown as a lead of that reserve.

    A lead the reserve did not win keeps its winner in ``primary_reserve`` /
    ``primary_zone``; its reserve columns become the list's reserve and its zone there.
    """
    if wanted is not None:
        members = members[members["reserve_code"].astype(str).isin(
            [c for c in wanted if c is not None])]
    members = members[members["lead_id"].isin(set(view["lead_id"]))]
    levels = ws.reserve_levels()
    by_id = view.set_index("lead_id", drop=False)
    parts: list[tuple[str | None, Any]] = []
    for code, rows in members.groupby(members["reserve_code"].astype(str), sort=False):
        part = by_id.loc[rows["lead_id"].tolist()].copy()
        other = (rows["is_primary"] == 0).to_numpy()
        if other.any():
            zone = rows["zone"].to_numpy()[other]
            part.loc[other, "reserve_code"] = code
            part.loc[other, "reserve_name"] = rows["reserve_name"].to_numpy()[other]
            part.loc[other, "reserve_level"] = levels.get(code)
            part.loc[other, "zone"] = zone
            part.loc[other, "zone_label"] = [ZONE_LABELS[Zone(z)] if z in _ZONES else z
                                             for z in zone]
        parts.append((code, gpd.GeoDataFrame(part.reset_index(drop=True), geometry="geometry",
                                             crs=view.crs)))
    return parts


def _chip_paths(ws: Workspace) -> dict[str, dict[str, str]]:
    """Return the chip PNG paths per lead id and kind (empty when there are none)."""
    if not ws.count("lead_chips"):
        return {}
    chips: dict[str, dict[str, str]] = {}
    for row in ws.read_table("lead_chips").itertuples(index=False):
        if row.kind in IMAGE_COLUMNS and isinstance(row.path, str) and row.path:
            chips.setdefault(str(row.lead_id), {})[str(row.kind)] = row.path
    return chips


def _zone_sort(col: pd.Series) -> pd.Series:
    if col.name == "zone":
        order = {z.value: k for k, z in enumerate(ZONE_ORDER)}
        return col.map(lambda z: order.get(z, 99))
    return col


_WRITERS = {
    "xlsx": write_xlsx,
    "csv": write_csv,
    "gpkg": write_gpkg,
    "shp": write_shp,
    "kml": write_kml,
    "geojson": write_geojson,
}

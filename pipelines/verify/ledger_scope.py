"""Which leads a filled-in ledger may change, and the version each of its rows showed.

A ledger is exported for one group (:class:`pipelines.publish.export.Scope`): a reserve (by its
code), a county (by its adcode), or the leads outside every reserve. Importing it changes
only the leads of that group: a row of any other lead (pasted from another reserve's
ledger, a lead id typed over) is refused with its reason, so that a ledger handed to the
office of one reserve cannot change the leads of another. A row is judged by the version
the export recorded, never by its 版本 cell, which anyone can type over.

- **Excel**: the very hidden sheet ``_lvdun`` names the group (``scope``) and the export
  run. The ledger's leads and their versions as exported are those of the export's record
  in the workspace (:func:`pipelines.publish.export.export_record`), or, without a record, those
  of the very hidden snapshot sheet ``_lvdun_rows``. A lead on neither is not a lead of
  this ledger.
- **CSV** has no sheet of its own identity, only rows: each row's 台账标识 names its
  export run, and that run's record tells the group in which the lead was exported and
  its version then. Those recorded versions are the ones used, not the row's 版本 cell. A
  CSV whose rows were exported for several groups (a row pasted from another reserve's
  ledger) cannot tell which group it is for: every row is refused, with the groups
  listed. A CSV without any record (exported by an older lvdun) is refused whole.

Either way a lead classified into another group since the export is refused too (export
the ledger again): a ledger changes the leads its group holds now and held when exported.
A reserve holds every lead lying in it (``lead_reserves``), won or not: a lead of two
reserves is in the ledger of each, and either ledger may change it.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from layers.i18n import _
from layers.read import is_blank
from pipelines.errors import LedgerError
from pipelines.publish.export import (
    NO_COUNTY,
    OUTSIDE_NAME,
    ExportRecord,
    Scope,
    export_record,
)
from pipelines.publish.views import GROUP_COLUMNS
from pipelines.store.base import Workspace

__all__ = ["LedgerScope", "describe", "ledger_scope"]

log = logging.getLogger(__name__)

_NAME_COLUMNS = {"reserve": "reserve_name", "county": "county_name"}


class _Ledger(Protocol):
    """What :func:`ledger_scope` reads of a :class:`pipelines.verify.ledger_import.LedgerFile`."""

    kind: str
    rows: list[tuple[int, dict[str, Any]]]
    meta: dict[str, str]
    snapshot: dict[str, dict[str, str]]


def describe(scope: Scope, name: str | None = None) -> str:
    """Return a group as messages show it: ``甲保护区 (R01)``, ``保护区外``.

    Examples
    --------
    >>> describe(Scope("reserve", "R01"), "甲保护区"), describe(Scope("reserve", None))
    ('甲保护区 (R01)', '所有保护区之外的线索（保护区外）')
    """
    if scope.code is None:
        return (_("所有保护区之外的线索（{name}）").format(name=_(OUTSIDE_NAME))
                if scope.by == "reserve"
                else _("所有县之外的线索（{name}）").format(name=_(NO_COUNTY)))
    return f"{name} ({scope.code})" if name and name != scope.code else f"{scope.code}"


def _run_of(values: dict[str, Any]) -> str | None:
    parts = str(values.get("ledger_id") or "").split(":")
    return parts[2] if len(parts) == 4 and parts[0] == "lvdun" and parts[2] else None


def _version(raw: Any) -> int | None:
    if is_blank(raw):
        return None
    try:
        return int(float(str(raw).strip()))
    except (TypeError, ValueError):
        return None


@dataclass
class LedgerScope:
    """The group a ledger is for, its leads as exported and where each lead is now.

    Use :meth:`judge` on every row.
    """

    scope: Scope | None
    name: str
    #: Lead -> version as exported, for the leads of this ledger (Excel).
    versions: dict[str, int | None] = field(default_factory=dict)
    #: Export run -> its record (CSV: each row names its run).
    records: dict[str, ExportRecord] = field(default_factory=dict)
    #: Why no row of the ledger can be imported (a CSV of several groups).
    problem: str | None = None
    #: Lead -> (code, name) of the group it is in now.
    current: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    #: Lead -> the codes of every reserve it lies in now (by reserve).
    reserves: dict[str, set[str]] = field(default_factory=dict)
    #: Export run -> lead -> every group it was exported in, with its version.
    exported: dict[str, dict[str, dict[Scope, int | None]]] = field(default_factory=dict)

    def judge(self, lead: str, values: dict[str, Any]) -> tuple[str | None, int | None]:
        """Return why the row of ``lead`` may not change it (None: it may) and the version
        the row was exported with."""
        if self.problem is not None or self.scope is None:
            return self.problem or _("不知道台账属于哪个保护区"), None
        here = describe(self.scope, self.name)
        if self.records:
            run = _run_of(values)
            record = self.records.get(run or "")
            if record is None:
                return _("线索 {lead}：此行没有本台账导出时的台账标识，不是 {here} 这份台账导出的"
                         "行；只导入其中导出的行").format(lead=lead, here=here), None
            scope, version = record.leads.get(lead, (None, None))
            groups = self.exported.get(run or "", {}).get(lead, {})
            if self.scope in groups:
                scope, version = self.scope, groups[self.scope]
        elif lead in self.versions:
            scope, version = self.scope, self.versions[lead]
        else:
            scope, version = None, None
        code, name = self.current.get(lead, (None, None))
        if scope != self.scope:
            origin = (_("它由 {other} 的台账导出").format(
                          other=describe(scope, self._name_of(scope)))
                      if scope is not None else
                      _("它属于 {other}").format(other=describe(Scope(self.scope.by, code), name)))
            return _("线索 {lead} 不是 {here} 这份台账的线索：{origin}；台账只改动导出它的保护区的"
                     "线索：请用该线索所在保护区的台账导入此行").format(
                lead=lead, here=here, origin=origin), None
        if code != self.scope.code and not self._holds(lead):
            return _("线索 {lead} 现在属于 {other}，不再属于 {here}（导出后重新分类过）："
                     "请重新导出台账").format(
                lead=lead, other=describe(Scope(self.scope.by, code), name), here=here), None
        return None, version

    def _holds(self, lead: str) -> bool:
        """Whether this ledger's reserve holds ``lead`` now without having won it."""
        return (self.scope is not None and self.scope.by == "reserve"
                and self.scope.code is not None
                and self.scope.code in self.reserves.get(lead, set()))

    def _name_of(self, scope: Scope) -> str | None:
        for record in self.records.values():
            if scope in record.names:
                return record.names[scope]
        return None


def _current(ws: Workspace, by: str) -> dict[str, tuple[str | None, str | None]]:
    code_col, name_col = GROUP_COLUMNS[by], _NAME_COLUMNS[by]
    rows = ws.lead_groups(code_col, name_col)
    return {str(lead): (None if is_blank(code) else str(code),
                        None if is_blank(name) else str(name))
            for lead, code, name in zip(rows["lead_id"], rows["code"], rows["name"],
                                        strict=True)}


def ledger_scope(ws: Workspace, ledger: _Ledger) -> LedgerScope:
    """Return what the ledger was exported for (see the module's description).

    Raises
    ------
    LedgerError
        When the ledger does not say which group it is for (an Excel ledger without a
        ``scope`` in ``_lvdun``, a CSV none of whose export runs has a record): it was
        exported by an older lvdun; nothing changes.
    """
    if ledger.kind == "xlsx" and ledger.meta:
        found = _excel_scope(ws, ledger)
    else:
        found = _csv_scope(ws, ledger)
    if found.scope is not None:
        found.current = _current(ws, found.scope.by)
        if found.scope.by == "reserve":
            rows = ws.lead_memberships()
            for lead, code in zip(rows["lead_id"], rows["reserve_code"], strict=True):
                found.reserves.setdefault(str(lead), set()).add(str(code))
    return found


def _exported(ws: Workspace, run_id: str) -> dict[str, dict[Scope, int | None]]:
    """Lead -> every group the export run wrote it in, with its version then."""
    rows = ws.read_table_equal("meta", "name", "ledger_export:" + run_id)
    out: dict[str, dict[Scope, int | None]] = {}
    if rows.empty or not isinstance(rows["value"].iloc[0], str):
        return out
    try:
        for group in json.loads(rows["value"].iloc[0])["groups"]:
            scope = Scope(str(group["by"]), group["code"])
            for lead, version in group["versions"].items():
                out.setdefault(str(lead), {})[scope] = version
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}
    return out


def _excel_scope(ws: Workspace, ledger: _Ledger) -> LedgerScope:
    scope = Scope.parse(ledger.meta.get("scope"))
    if scope is None:
        raise LedgerError(_(
            "{ledger} 没有写明是为哪个保护区导出的（旧版 lvdun 导出）；未作任何改动。"
            "请重新导出台账后再填写").format(ledger=getattr(ledger, "path", _("台账"))))
    record = export_record(ws, ledger.meta.get("run_id", ""))
    if record is not None and scope in record.names:
        exported = _exported(ws, record.run_id)
        versions = {lead: groups[scope] for lead, groups in exported.items() if scope in groups}
        return LedgerScope(scope, record.names[scope], versions)
    log.info("no record of export run %s: the ledger's snapshot sheet gives its leads",
             ledger.meta.get("run_id"))
    versions = {lead: _version(row.get("version")) for lead, row in ledger.snapshot.items()
                if lead}
    return LedgerScope(scope, ledger.meta.get("group", ""), versions)


def _csv_scope(ws: Workspace, ledger: _Ledger) -> LedgerScope:
    runs = sorted({run for _row, values in ledger.rows if (run := _run_of(values))})
    records = {run: rec for run in runs if (rec := export_record(ws, run)) is not None}
    if not records:
        raise LedgerError(_(
            "{ledger}：本工作空间没有它的导出记录（{runs}），无法判断它是为哪个保护区导出的"
            "（旧版 lvdun 导出？）；未作任何改动。请重新导出台账后再填写").format(
            ledger=getattr(ledger, "path", _("台账")),
            runs=", ".join(runs) or _("未写明导出运行")))
    exported = {run: _exported(ws, run) for run in records}
    groups: Counter[Scope] = Counter()
    common: set[Scope] | None = None
    for _row, values in ledger.rows:
        run = _run_of(values) or ""
        lead = str(values.get("lead_id") or "").strip()
        if run in records and lead in records[run].leads:
            held = set(exported[run].get(lead) or {records[run].leads[lead][0]})
            common = held if common is None else common & held
            groups[records[run].leads[lead][0]] += 1
    if common:  # every row was exported in one group (a lead of several reserves in each)
        groups = Counter({min(common, key=lambda s: (groups.get(s, 0) == 0, str(s.code))):
                          sum(groups.values())})
    found = LedgerScope(None, "", records=records, exported=exported)
    if len(groups) == 1:
        found.scope = next(iter(groups))
        found.name = found._name_of(found.scope) or ""
    elif len(groups) > 1:
        listed = _("；").join(_("{group}：{n} 行").format(group=describe(s, found._name_of(s)),
                                                         n=n)
                             for s, n in sorted(groups.items(), key=lambda i: -i[1]))
        found.problem = _("此 CSV 的行由 {n} 个保护区的台账导出（{listed}），无法判断它属于哪个"
                          "保护区：文件中只保留一个保护区台账的行（或导入知道其保护区的 Excel "
                          "台账）").format(n=len(groups), listed=listed)
    else:
        found.problem = _("此 CSV 中没有一行是它所写的导出运行导出的")
    return found

"""Reading a filled-in verification ledger (台账) back: ``lvdun status import``.

``lvdun export --format xlsx|csv`` writes one ledger per reserve or county (its columns
and layout are defined in :mod:`pipelines.publish.export`); bureau staff fill in the editable
columns and :func:`import_ledger` applies their edits through
:func:`pipelines.verify.status.set_status`, so the rules are those of every other change.

What makes the round trip safe:

- A ledger changes only the leads of the reserve (or county) it was exported for; rows
  of other leads are refused (:mod:`pipelines.verify.ledger_scope`).
- A row whose lead changed in the workspace since the export is refused as a conflict,
  never applied over the newer state. The version it is judged by is the one the export
  recorded (its record in the workspace; for Excel without one, the hidden snapshot
  sheet), not the hidden 版本 cell, which a person can type over.
- Every row carries 台账标识 (hidden in Excel): ``lvdun:<workspace id>:<export run>:
  <digest of the editable values as exported>``. The workspace id (table ``meta``) tells
  whether the file is a ledger of this workspace; the digest tells whether a person
  edited the row. An Excel ledger also holds a hidden sheet ``_lvdun`` with the export's
  identity and every exported value, so edits to read-only columns are found exactly.
- Only the editable columns change anything: 核查状态, 原因, 整改责任单位, 整改措施,
  整改期限, 备注(核查意见). A blank editable cell keeps the stored value.

Import decisions (documented for users in ``lvdun status import --help``):

- Rows are judged one by one: legal rows are applied, every other row is reported with
  its reason (illegal transition, conflict, unknown lead, bad value, duplicate lead).
  All of it runs in one transaction, so a failure of the import itself (an unreadable
  file, a database error) changes nothing; ``dry_run`` rolls the transaction back after
  judging every row, so it reports exactly what a real import would do.
- A status jump that skips states (待核查 → 整改中) is applied along its unique forward
  path (:func:`pipelines.verify.status.transition_path`), each step its own history entry. A
  jump that would need a reopening or a step back on the way is refused.
- Importing the same file again changes nothing: rows already in effect are unchanged.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layers.files import file_sha256
from layers.i18n import _, label, local_time
from layers.read import is_blank
from layers.schema import REASON_REQUIRED, Status
from pipelines.errors import (
    ConflictError,
    EvidenceError,
    LedgerError,
    RecordError,
    TransitionError,
)
from pipelines.publish.export import (
    EDITABLE,
    HIDDEN,
    cell_text,
    digest,
    ledger_columns,
    ledger_rows,
    workspace_id,
)
from pipelines.publish.views import leads_view
from pipelines.store.base import Workspace, new_run_id, now_iso
from pipelines.verify.ledger_file import LedgerFile, read_ledger
from pipelines.verify.ledger_scope import LedgerScope, ledger_scope
from pipelines.verify.status import (
    RECORD_FIELDS,
    RECORD_LABELS,
    check_transition,
    parse_date,
    parse_status,
    set_status,
    transition_path,
    update_record,
)

__all__ = [
    "EVIDENCE",
    "OUTCOMES",
    "PROBLEMS",
    "ImportReport",
    "LedgerFile",
    "RowResult",
    "apply_ledger",
    "import_ledger",
    "read_ledger",
]

log = logging.getLogger(__name__)

#: A row's outcome and a refused row's problem, as people read them (msgids of
#: :func:`layers.i18n._`).
OUTCOMES = {"applied": "已应用", "unchanged": "未变", "refused": "已拒绝"}
PROBLEMS = {"illegal": "不允许", "conflict": "冲突", "unknown": "无此线索",
            "invalid": "值无法读取", "duplicate": "重复", "scope": "超出范围"}

#: The key of a row's evidence files (not a ledger column: field apps' photos).
EVIDENCE = "_evidence"

#: Read-only columns that change with every edit: not compared with a CSV ledger.
_MOVING = frozenset({"updated_at", "updated_by"})


# -- importing a ledger ---------------------------------------------------------------------
@dataclass
class RowResult:
    """What the import did with one row.

    ``outcome`` is ``applied``, ``unchanged`` or ``refused``; a refused row has a
    ``problem``: ``illegal`` (transition or record the workflow does not allow),
    ``conflict`` (the lead changed since the export), ``unknown`` (no such lead),
    ``invalid`` (a value that cannot be read), ``duplicate`` (a lead on several rows) or
    ``scope`` (not a lead of the reserve or county the ledger was exported for).
    """

    row: int
    lead_id: str | None
    outcome: str
    message: str = ""
    problem: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """The row-by-row result of :func:`import_ledger`."""

    path: Path
    dry_run: bool
    run_id: str
    rows: list[RowResult] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        """Return how many rows had ``outcome``."""
        return sum(r.outcome == outcome for r in self.rows)

    def summary(self) -> str:
        """Return ``已应用 A，未变 U，已拒绝 R（冲突 1，不允许 2）``.

        Examples
        --------
        >>> report = ImportReport(Path("a.xlsx"), dry_run=True, run_id="r",
        ...                       rows=[RowResult(2, "L1", "refused", "", "conflict")])
        >>> report.summary()
        '试运行，未作改动：将会 已应用 0，未变 0，已拒绝 1（冲突 1）'
        """
        problems = Counter(r.problem for r in self.rows if r.problem)
        detail = _("，").join(f"{_(PROBLEMS.get(k, k))} {v}"
                             for k, v in sorted(problems.items()))
        text = _("已应用 {applied}，未变 {unchanged}，已拒绝 {refused}").format(
            applied=self.count("applied"), unchanged=self.count("unchanged"),
            refused=self.count("refused"))
        text += _("（{detail}）").format(detail=detail) if detail else ""
        return _("试运行，未作改动：将会 {text}").format(text=text) if self.dry_run else text


class _DryRun(Exception):
    """Raised to roll the import's transaction back after judging every row."""


def import_ledger(
    ws: Workspace, path: str | Path, *, by: str | None = None, dry_run: bool = False
) -> ImportReport:
    """Apply the edits of a filled-in ledger (.xlsx or .csv) to the workspace.

    Parameters
    ----------
    ws : Workspace
        The workspace the ledger was exported from.
    path : str or pathlib.Path
        The ledger.
    by : str or None
        Who made the edits (recorded in every history entry).
    dry_run : bool
        Judge every row and report, but change nothing.

    Returns
    -------
    ImportReport
        One result per non-empty row, the exported leads whose rows were deleted, and
        columns that are not part of the ledger (ignored).

    Raises
    ------
    LedgerError
        When the file is not a ledger of this workspace, or does not tell which reserve
        it was exported for (:func:`pipelines.verify.ledger_scope.ledger_scope`); nothing
        changes.
    """
    return apply_ledger(ws, read_ledger(path), by=by, dry_run=dry_run)


def apply_ledger(
    ws: Workspace, ledger: LedgerFile, *, by: str | None = None, dry_run: bool = False,
    command: str = "status import",
) -> ImportReport:
    """Apply the rows of a ledger read back (:func:`read_ledger`, or a field app's file).

    The rules of :func:`import_ledger`, for any source that gives its rows as ledger
    values (canonical names: ``lead_id``, ``status_label``, ``reason``, ``opinion``...,
    and ``ledger_id`` naming the export): :mod:`pipelines.verify.field_import` reads
    QField, ODK and KML files into a :class:`LedgerFile` and applies it here. A row may
    also carry :data:`EVIDENCE` (evidence files for its status change).

    Parameters
    ----------
    ws : Workspace
        The workspace the file was exported from.
    ledger : LedgerFile
        The rows and identity of the file.
    by : str or None
        Who made the edits.
    dry_run : bool
        Judge every row and report, but change nothing.
    command : str
        The command the run is logged as in ``runs``.

    Raises
    ------
    LedgerError
        As :func:`import_ledger`.
    """
    path = ledger.path
    _check_identity(ws, ledger)
    report = ImportReport(Path(path), dry_run, new_run_id(),
                          extra_columns=ledger.extra_columns)
    started = now_iso()
    counts = Counter(_text(v.get("lead_id")) for _, v in ledger.rows)
    try:
        with ws.transaction():
            scope = ledger_scope(ws, ledger)
            states = _states(ws)
            reference = ledger.snapshot or _workspace_texts(ws)
            for number, values in ledger.rows:
                result = _import_row(ws, ledger, scope, reference, number, values, states,
                                     counts, by, report.run_id)
                if result is not None:
                    report.rows.append(result)
            if report.count("applied") and not dry_run:
                ws.record_run(report.run_id, command, started_at=started,
                              params={"file": str(path), "by": by},
                              inputs=[{"path": str(path), "sha256": file_sha256(path)}],
                              counts={o: report.count(o) for o in
                                      ("applied", "unchanged", "refused")},
                              message=report.summary())
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    present = {k for k in counts if k}
    report.not_in_file = sorted(k for k in ledger.snapshot if k and k not in present)
    log.info("%s %s: %s", command, path, report.summary())
    return report


def _check_identity(ws: Workspace, ledger: LedgerFile) -> None:
    found = ledger.identities()
    if not found:
        raise LedgerError(_(
            "{path} 不是 lvdun 台账（没有台账标识列，也没有 _lvdun 工作表）；未作任何改动。"
            "请用 `lvdun export --format xlsx` 导出台账，填写后导入该文件").format(
            path=ledger.path))
    theirs = {w for w, _stamp in found}
    own = workspace_id(ws)
    if theirs != {own}:
        source = ", ".join(sorted(theirs))
        why = (_("本工作空间尚未导出过台账") if own is None else
               _("本工作空间是 {own}").format(own=own))
        raise LedgerError(_(
            "{path} 是另一个工作空间（{source}）的台账，不是 {location} 的（{why}）；未作任何"
            "改动。请导入导出它的工作空间").format(path=ledger.path, source=source,
                                             location=ws.location, why=why))


def _states(ws: Workspace) -> dict[str, dict[str, Any]]:
    status = ws.read_table("lead_status")
    opinion = ws.read_table("lead_opinion")[["lead_id", "opinion"]]
    merged = status.merge(opinion, on="lead_id", how="left")
    merged = merged.astype(object).where(merged.notna(), None)
    return {str(r["lead_id"]): r for r in merged.to_dict(orient="records")}


def _text(value: Any) -> str | None:
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _import_row(
    ws: Workspace, ledger: LedgerFile, scope: LedgerScope,
    reference: dict[str, dict[str, str]], number: int, values: dict[str, Any],
    states: dict[str, dict[str, Any]], counts: Counter[str | None], by: str | None,
    run_id: str,
) -> RowResult | None:
    lead = _text(values.get("lead_id"))
    if lead is None:
        if all(is_blank(v) for v in values.values()):
            return None
        return RowResult(number, None, "refused", _("此行没有线索编号"), "invalid")
    if counts[lead] > 1:
        return RowResult(number, lead, "refused",
                         _("线索 {lead} 出现在 {n} 行：每条线索只留一行").format(
                             lead=lead, n=counts[lead]), "duplicate")
    state = states.get(lead)
    if state is None:
        return RowResult(number, lead, "refused",
                         _("工作空间中没有线索 {lead}").format(lead=lead), "unknown")
    refusal, version = scope.judge(lead, values)
    if refusal is not None:
        return RowResult(number, lead, "refused", refusal, "scope")
    result = RowResult(number, lead, "unchanged")
    result.warnings = _read_only_edits(reference, bool(ledger.snapshot), lead, values)
    exported = ledger.snapshot.get(lead)
    texts = {c: cell_text(c, values[c]) for c in EDITABLE if c in values}
    if exported is not None:
        edited = any(texts[c] != exported.get(c, "") for c in texts)
        result.warnings += [_("{column} 被清空：空白单元格保留原值").format(column=EDITABLE[c])
                            for c in texts if not texts[c] and exported.get(c)]
    else:
        edited = _edited_by_digest(values, texts)
    if not edited:
        result.message = _("未编辑")
        return result
    try:
        wanted = _wanted(values)
    except (TransitionError, RecordError) as exc:
        return _refuse(result, "invalid", str(exc))
    changes = {k: v for k, v in wanted.items() if v is not None and v != _text(state.get(k))}
    if not changes:
        result.message = _("工作空间中已是如此")
        return result
    if version != int(state["version"]):
        return _refuse(result, "conflict", _conflict(lead, version, state, changes))
    try:
        result.message = _apply(ws, lead, state, wanted, changes, by, run_id,
                                list(values.get(EVIDENCE) or ()))
    except (TransitionError, RecordError, ConflictError, EvidenceError) as exc:
        return _refuse(result, "conflict" if isinstance(exc, ConflictError) else "illegal",
                       str(exc))
    result.outcome = "applied"
    states[lead] = {**state, **{k: v for k, v in wanted.items() if v is not None}}
    return result


def _refuse(result: RowResult, problem: str, message: str) -> RowResult:
    result.outcome, result.problem, result.message = "refused", problem, message
    return result


def _read_only_edits(reference: dict[str, dict[str, str]], exact: bool, lead: str,
                     values: dict[str, Any]) -> list[str]:
    """Warnings for read-only cells that differ from the export (or the workspace)."""
    known = reference.get(lead)
    if known is None:
        return []
    labels = ledger_columns()
    what = _("被修改") if exact else _("与工作空间不同")
    # the ledger of a reserve that did not win the lead shows that reserve and its zone
    # there; the workspace's texts are those of the winner (主归属保护区)
    skip = (_MEMBER_COLUMNS if not exact and "reserve_code" in values and "reserve_code" in known
            and cell_text("reserve_code", values["reserve_code"]) != known["reserve_code"]
            else frozenset())
    return [_("只读列 {column} {what}（{old} → {new}）：已忽略").format(
                column=labels[c], what=what, old=known.get(c) or "—", new=cell_text(c, v) or "—")
            for c, v in values.items()
            if c not in EDITABLE and c not in HIDDEN and c in known and c not in skip
            and cell_text(c, v) != known[c]]


#: Columns of a ledger row that describe the ledger's reserve, not the lead's winner.
_MEMBER_COLUMNS = frozenset({"reserve_code", "reserve_name", "reserve_level", "zone_label"})


def _workspace_texts(ws: Workspace) -> dict[str, dict[str, str]]:
    """The read-only ledger values of every lead as the workspace holds them now.

    A CSV ledger has no copy of what was exported: its read-only cells are compared with
    the workspace instead (times of the last change are left out: they move on).
    """
    view = leads_view(ws)
    table = ledger_rows(view, {}, workspace="", run_id="")
    columns = [c for c in ledger_columns()
               if c not in EDITABLE and c not in HIDDEN and c not in _MOVING]
    return {str(r["lead_id"]): {c: cell_text(c, r[c]) for c in columns}
            for r in table.to_dict(orient="records")}


def _edited_by_digest(values: dict[str, Any], texts: dict[str, str]) -> bool:
    """True unless the row's 台账标识 digest shows its editable values as exported."""
    parts = str(values.get("ledger_id") or "").split(":")
    if len(parts) != 4 or len(texts) != len(EDITABLE):
        return True
    return digest([texts[c] for c in EDITABLE]) != parts[3]


def _wanted(values: dict[str, Any]) -> dict[str, Any]:
    """The editable values of a row, parsed; None where the cell is blank (keep)."""
    status = _text(values.get("status_label"))
    return {
        "status": parse_status(status).value if status else None,
        "reason": _text(values.get("reason")),
        "responsible_unit": _text(values.get("responsible_unit")),
        "measures": _text(values.get("measures")),
        "deadline": parse_date(values.get("deadline"), what="整改期限"),
        "opinion": _text(values.get("opinion")),
    }


def _conflict(lead: str, version: int | None, state: dict[str, Any],
              changes: dict[str, Any]) -> str:
    labels = {**RECORD_LABELS, "status": "核查状态"}

    def shown(key: str, value: Any) -> str:
        if key == "status" and value:
            return label(value)
        return str(value) if value is not None else "—"

    file_side = _("，").join(f"{_(labels[k])} {shown(k, v)}" for k, v in changes.items())
    ws_side = _("，").join(f"{_(labels[k])} {shown(k, state.get(k))}" for k in changes)
    seen = (_("版本 {version}").format(version=version) if version is not None
            else _("无版本（版本一栏为空）"))
    return _("线索 {lead}：此行按{seen}编辑，但工作空间中已是版本 {now}（{at} 由 {by} 修改）；"
             "文件：{file}；工作空间：{ws}。请重新导出台账后再填写").format(
        lead=lead, seen=seen, now=state["version"], at=local_time(state["updated_at"]),
        by=state["updated_by"], file=file_side, ws=ws_side)


def _apply(ws: Workspace, lead: str, state: dict[str, Any], wanted: dict[str, Any],
           changes: dict[str, Any], by: str | None, run_id: str,
           evidence: list[Any] | None = None) -> str:
    version = int(state["version"])
    current = Status(state["status"])
    record = {f: wanted[f] for f in RECORD_FIELDS}
    opinion = wanted["opinion"] if "opinion" in changes else None
    if "status" not in changes:
        change = update_record(ws, lead, reason=wanted["reason"], opinion=opinion, by=by,
                               expected_version=version, run_id=run_id, **record)
        edited = _("，").join(RECORD_LABELS[k] for k in changes)
        return _("{fields} 已修改（版本 {old} → {new}）").format(
            fields=edited, old=version, new=change.version if change else version)
    target = Status(wanted["status"])
    path = transition_path(lead, current, target)
    after = {f: record[f] or state.get(f) for f in RECORD_FIELDS}
    reason = wanted["reason"]
    for k, step in enumerate(path):  # judge every step before writing any
        before = path[k - 1] if k else current
        last = k == len(path) - 1
        check_transition(lead, before, step, reason=reason if last else None, record=after)
    if len(path) == 1 and reason and reason == state.get("reason") and \
            target != Status.NOT_PROBLEM and (current, target) in REASON_REQUIRED:
        raise TransitionError(
            _("线索 {lead}：{before} → {after} 需要新的原因，但原因一栏仍是之前的"
              "（{reason}）；请写明原因").format(lead=lead, before=label(current.value),
                                             after=label(target.value), reason=reason)
        )
    for k, step in enumerate(path):
        last = k == len(path) - 1
        set_status(ws, lead, step, reason=reason if last else None, by=by,
                   expected_version=version + k, run_id=run_id,
                   note=None if last else _("台账导入：逐步转为{status}").format(
                       status=label(target.value)),
                   opinion=opinion if last else None,
                   evidence=(evidence or ()) if last else (), **record)
    steps = " → ".join(label(s.value) for s in [current, *path])
    return _("{steps}（版本 {old} → {new}）").format(steps=steps, old=version,
                                                  new=version + len(path))

"""Field verification (实地核查): status changes along the workflow, append-only history.

States and transitions are those of ``layers.schema``; every change is one transaction
that updates ``lead_status`` (with a version number) and appends to ``lead_history``.

The rules (:mod:`pipelines.verify.transitions`), the same for the command line, the ledger
import and the web:

- 非问题 needs a reason code (``NOT_PROBLEM_REASONS``); every reopening or step back needs
  a reason.
- Entering 整改中 needs a rectification record: a responsible unit (整改责任单位) and a
  deadline (整改期限); measures (整改措施) are optional. A blank value keeps the stored one.
- A write may name the version it saw (``expected_version``): a different current
  version is a conflict, shown with both sides, never overwritten.
- The note of a change may also become the lead's current 核查意见 (``opinion``), which
  the ledger shows; the history keeps every note.
- Evidence files are recorded with their sha256; photos with their EXIF position and time,
  compared with the lead (:mod:`pipelines.verify.evidence`).
- 已销号 is reached only through acceptance (验收, :mod:`pipelines.verify.review`): a direct
  change to it is refused with the command that submits it, unless ``override_acceptance``
  (an admin's override, written into the history note).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from layers.i18n import _
from layers.schema import NOT_PROBLEM_REASONS, STATUS_LABELS, Status
from layers.text import given, strip_control, text_or_none
from pipelines.errors import ConflictError, NotFoundError, TransitionError
from pipelines.store.base import Workspace, now_iso
from pipelines.verify import evidence as ev
from pipelines.verify.transitions import (
    RECORD_FIELDS,
    RECORD_LABELS,
    RECORD_STATUSES,
    allowed_next,
    check_transition,
    parse_date,
    parse_status,
    transition_path,
)

__all__ = ["RECORD_FIELDS", "RECORD_LABELS", "RECORD_STATUSES", "StatusChange", "allowed_next",
           "check_transition", "current_state", "history", "parse_date", "parse_status",
           "record_step", "set_status", "transition_path", "update_record"]

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class StatusChange:
    """One applied change (a status change, or a record edit with the same status)."""

    lead_id: str
    from_status: Status
    to_status: Status
    version: int
    at: str
    by: str
    evidence: tuple[dict[str, Any], ...] = ()


_given = given


_text = text_or_none


def _cleaned(**values: Any) -> tuple[dict[str, Any], int]:
    """``values`` with control characters removed from text, and how many were removed."""
    removed = 0
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, str):
            value, count = strip_control(value)
            removed += count
        out[key] = value
    return out, removed


def _note_with(note: str | None, removed: int) -> str | None:
    """The history note, saying how many control characters the input lost."""
    if not removed:
        return note
    mark = f"（输入中的 {removed} 个控制字符已移除）"
    return f"{note} {mark}" if note else mark




def current_state(ws: Workspace, lead_id: str) -> dict[str, Any]:
    """Return the ``lead_status`` row of a lead as a dict, plus its ``opinion``.

    Raises
    ------
    NotFoundError
        When the lead does not exist.
    """
    rows = ws.read_table_equal("lead_status", "lead_id", lead_id)
    if rows.empty:
        raise NotFoundError(_("工作区 {ws} 中没有线索 {lead!r}").format(
            ws=ws.location, lead=lead_id))
    state = {k: (None if pd.isna(v) else v) for k, v in rows.iloc[0].items()}
    opinion = ws.read_table_equal("lead_opinion", "lead_id", lead_id)
    state["opinion"] = None if opinion.empty else _text(opinion["opinion"].iloc[0])
    return state


def _check_version(lead_id: str, state: dict[str, Any], expected: int | None) -> None:
    version = int(state["version"])
    if expected is not None and int(expected) != version:
        current = Status(state["status"])
        raise ConflictError(_(
            "线索 {lead}：您修改的是第 {expected} 版，工作区中已是第 {version} 版"
            "（状态 {status}，{at} 由 {by} 修改）；请刷新后重试").format(
            lead=lead_id, expected=expected, version=version, status=STATUS_LABELS[current],
            at=state["updated_at"], by=state["updated_by"])
        )


def _lead_for_evidence(ws: Workspace, lead_id: str) -> tuple[Any, Any]:
    """The lead's geometry and detection date (后时相), or Nones."""
    leads = ws.read_features_equal("leads", "lead_id", lead_id)
    if leads.empty:
        return None, None
    return leads.geometry.iloc[0], leads["date_after"].iloc[0]


def set_status(
    ws: Workspace,
    lead_id: str,
    status: str | Status,
    *,
    reason: str | None = None,
    note: str | None = None,
    by: str | None = None,
    evidence: Sequence[str | Path] = (),
    expected_version: int | None = None,
    responsible_unit: str | None = None,
    measures: str | None = None,
    deadline: str | date | None = None,
    opinion: str | None = None,
    run_id: str | None = None,
    override_acceptance: bool = False,
    review: tuple[str, str] | None = None,
    photo_warn_m: float = ev.PHOTO_WARN_M,
) -> StatusChange:
    """Move a lead to ``status`` if the workflow allows it, and record it in history.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    lead_id : str
        The lead.
    status : str or Status
        Target status, as code or Chinese label.
    reason : str, optional
        Required for 非问题 (one of ``NOT_PROBLEM_REASONS``) and for reopening or
        stepping back.
    note, by : str, optional
        Free text kept in the history, and who made the change.
    evidence : sequence of str or Path
        Evidence files, copied into the workspace by sha256; photos' EXIF position and
        time compared with the lead (distance, taken before or after the detection).
    expected_version : int, optional
        The version the caller saw; a different current version is a conflict.
    responsible_unit, measures, deadline : str, optional
        The rectification record (整改责任单位, 整改措施, 整改期限); entering 整改中 needs
        a unit and a deadline, given now or stored before. Blank values keep the stored
        ones. The deadline may also be a date.
    opinion : str, optional
        The lead's new 核查意见 (shown in the ledger); also the history note when
        ``note`` is None.
    run_id : str, optional
        The run (e.g. a ledger import) that made the change, kept in the history.
    override_acceptance : bool
        Allow 已销号 without acceptance: an admin's override (demo data, migrating old
        ledgers); the history note says so. Acceptance itself passes ``review``.
    review : tuple of (str, str), optional
        ``(level, decision)`` of the review step that makes this change (the final
        验收 approval), kept in the history; it also allows 已销号.
    photo_warn_m : float
        A photo farther from the lead (metres) is named in the history note.

    Raises
    ------
    NotFoundError, TransitionError, ConflictError, RecordError, EvidenceError
    """
    target = parse_status(status) if not isinstance(status, Status) else status
    texts, removed = _cleaned(reason=reason, note=note, by=by, opinion=opinion,
                              responsible_unit=responsible_unit, measures=measures)
    reason, note, by, opinion = texts["reason"], texts["note"], texts["by"], texts["opinion"]
    responsible_unit, measures = texts["responsible_unit"], texts["measures"]
    given = {"responsible_unit": _text(responsible_unit), "measures": _text(measures),
             "deadline": parse_date(deadline, what="整改期限")}
    files: list[dict[str, Any]] = []
    if evidence:  # read the files before taking the write lock
        geometry, detected = _lead_for_evidence(ws, lead_id)
        files = ev.store_evidence(ws, ev.describe_evidence(
            list(evidence), geometry=geometry, detected=detected, warn_m=photo_warn_m), evidence)
    with ws.transaction():
        state = current_state(ws, lead_id)
        current = Status(state["status"])
        version = int(state["version"])
        _check_version(lead_id, state, expected_version)
        record = {f: given[f] if given[f] is not None else state[f] for f in RECORD_FIELDS}
        check_transition(lead_id, current, target, reason=reason, record=record,
                         accepted=override_acceptance or review is not None)
        if override_acceptance and target == Status.CLOSED and review is None:
            note = f"{note} " if note else ""
            note += "（管理员直接销号，未经验收流程）"
        at = now_iso()
        who = by or "unknown"
        new_version = version + 1
        new_opinion = _text(opinion)
        opinion_changed = new_opinion is not None and new_opinion != state["opinion"]
        history_note = ev.far_photos_note(files, _note_with(
            note if note is not None else (new_opinion if opinion_changed else None), removed))
        ws.upsert_rows("lead_status", pd.DataFrame([{
            "lead_id": lead_id, "status": target.value, "version": new_version,
            "reason": _text(reason), "updated_at": at, "updated_by": who, **record,
        }]))
        _append_history(ws, lead_id, new_version, at, who, current, target, _text(reason),
                        history_note, files, run_id, review)
        if opinion_changed:
            _store_opinion(ws, lead_id, new_opinion, at, who)
    log.info("lead %s: %s -> %s (v%d)", lead_id, current.value, target.value, new_version)
    return StatusChange(lead_id, current, target, new_version, at, who, tuple(files))


def update_record(
    ws: Workspace,
    lead_id: str,
    *,
    reason: str | None = None,
    responsible_unit: str | None = None,
    measures: str | None = None,
    deadline: str | date | None = None,
    opinion: str | None = None,
    note: str | None = None,
    by: str | None = None,
    expected_version: int | None = None,
    run_id: str | None = None,
) -> StatusChange | None:
    """Edit a lead's rectification record, reason or 核查意见 without changing its status.

    The change gets a new version and a history entry whose from- and to-status are the
    same; its note lists what changed (``整改期限: 2025-06-30 → 2025-09-30``) unless
    ``note`` is given. Blank values keep the stored ones.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    lead_id : str
        The lead.
    reason : str, optional
        A new reason (a reason code for a 非问题 lead).
    responsible_unit, measures, deadline : str, optional
        The rectification record (整改责任单位, 整改措施, 整改期限); the deadline may
        also be a date.
    opinion : str, optional
        The lead's new 核查意见.
    note, by : str, optional
        The history note (default: what changed), and who made the change.
    expected_version : int, optional
        The version the caller saw; a different current version is a conflict.
    run_id : str, optional
        The run that made the change.

    Returns
    -------
    StatusChange or None
        None when every given value equals the stored one (nothing is written).

    Raises
    ------
    NotFoundError, ConflictError, RecordError
    TransitionError
        When the record is edited on a lead that is not 问题/整改中/已整改, or the
        reason of a 非问题 lead is not a reason code.
    """
    texts, removed = _cleaned(reason=reason, note=note, by=by, opinion=opinion,
                              responsible_unit=responsible_unit, measures=measures)
    reason, note, by, opinion = texts["reason"], texts["note"], texts["by"], texts["opinion"]
    responsible_unit, measures = texts["responsible_unit"], texts["measures"]
    wanted = {"responsible_unit": _text(responsible_unit), "measures": _text(measures),
              "deadline": parse_date(deadline, what="整改期限"), "reason": _text(reason),
              "opinion": _text(opinion)}
    with ws.transaction():
        state = current_state(ws, lead_id)
        current = Status(state["status"])
        changes = {k: (state[k], v) for k, v in wanted.items()
                   if v is not None and v != _text(state[k])}
        if not changes:
            return None
        _check_version(lead_id, state, expected_version)
        edited = [f for f in RECORD_FIELDS if f in changes]
        if edited and current not in RECORD_STATUSES:
            raise TransitionError(_(
                "线索 {lead} 为{status}：整改记录（{fields}）只属于{statuses}的线索").format(
                lead=lead_id, status=STATUS_LABELS[current],
                fields=_("、").join(RECORD_LABELS[f] for f in edited),
                statuses="/".join(STATUS_LABELS[s] for s in RECORD_STATUSES)))
        if "reason" in changes and current == Status.NOT_PROBLEM \
                and wanted["reason"] not in NOT_PROBLEM_REASONS:
            raise TransitionError(_(
                "线索 {lead}：{reason!r} 不是非问题的原因代码；请用其中之一：{reasons}").format(
                lead=lead_id, reason=wanted["reason"], reasons=_("、").join(NOT_PROBLEM_REASONS)))
        at = now_iso()
        who = by or "unknown"
        new_version = int(state["version"]) + 1
        reason_now = wanted["reason"] if "reason" in changes else _text(state["reason"])
        record = {f: changes[f][1] if f in changes else state[f] for f in RECORD_FIELDS}
        ws.upsert_rows("lead_status", pd.DataFrame([{
            "lead_id": lead_id, "status": current.value, "version": new_version,
            "reason": reason_now, "updated_at": at, "updated_by": who, **record,
        }]))
        described = "; ".join(
            f"{RECORD_LABELS[k]}: {new}" if k == "opinion" else
            f"{RECORD_LABELS[k]}: {old if _given(old) else '—'} → {new}"
            for k, (old, new) in changes.items()
        )
        _append_history(ws, lead_id, new_version, at, who, current, current, reason_now,
                        _note_with(note if note is not None else described, removed), [],
                        run_id)
        if "opinion" in changes:
            _store_opinion(ws, lead_id, wanted["opinion"], at, who)
    log.info("lead %s: record edited (v%d): %s", lead_id, new_version, ", ".join(changes))
    return StatusChange(lead_id, current, current, new_version, at, who)


def record_step(
    ws: Workspace,
    lead_id: str,
    *,
    by: str,
    review: tuple[str, str],
    reason: str | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> StatusChange:
    """Record a review step that changes no status: a new version and a history entry.

    Run it inside the transaction that writes the step's own rows.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    lead_id : str
        The lead.
    by : str
        Who took the step.
    review : tuple of (str, str)
        The level that acted and its decision (``submit``, ``approve``, ``return``...).
    reason, note : str, optional
        Kept in the history (a return's reason, a reviewer's note).
    expected_version : int, optional
        The version the caller saw; a different current version is a conflict.

    Raises
    ------
    NotFoundError, ConflictError
    """
    texts, removed = _cleaned(reason=reason, note=note, by=by)
    with ws.transaction():
        state = current_state(ws, lead_id)
        _check_version(lead_id, state, expected_version)
        current = Status(state["status"])
        at = now_iso()
        new_version = int(state["version"]) + 1
        ws.upsert_rows("lead_status", pd.DataFrame([{
            **{k: state[k] for k in ("lead_id", "status", "reason", *RECORD_FIELDS)},
            "version": new_version, "updated_at": at, "updated_by": texts["by"],
        }]))
        _append_history(ws, lead_id, new_version, at, texts["by"], current, current,
                        _text(texts["reason"]), _note_with(_text(texts["note"]), removed), [],
                        None, review)
    log.info("lead %s: review %s by %s (v%d)", lead_id, review[1], by, new_version)
    return StatusChange(lead_id, current, current, new_version, at, texts["by"])


def _append_history(
    ws: Workspace, lead_id: str, version: int, at: str, who: str, current: Status,
    target: Status, reason: str | None, note: str | None, files: list[dict[str, Any]],
    run_id: str | None, review: tuple[str, str] | None = None,
) -> None:
    ws.append_rows("lead_history", pd.DataFrame([{
        "lead_id": lead_id, "version": version, "at": at, "by": who,
        "from_status": current.value, "to_status": target.value, "reason": reason,
        "note": note, "evidence": json.dumps(files, ensure_ascii=False) if files else None,
        "run_id": run_id, "review_level": review[0] if review else None,
        "decision": review[1] if review else None,
    }]))


def _store_opinion(ws: Workspace, lead_id: str, opinion: str | None, at: str, who: str) -> None:
    ws.upsert_rows("lead_opinion", pd.DataFrame([{
        "lead_id": lead_id, "opinion": opinion, "updated_at": at, "updated_by": who,
    }]))


def history(ws: Workspace, lead_id: str) -> pd.DataFrame:
    """Return a lead's history, oldest first.

    The ``evidence`` column holds JSON lists as :func:`pipelines.verify.evidence.describe_evidence`
    returns them.

    Raises
    ------
    NotFoundError
        When the lead does not exist.
    """
    if not ws.count("lead_status", '"lead_id" = ?', [lead_id]):
        raise NotFoundError(_("工作区 {ws} 中没有线索 {lead!r}").format(
            ws=ws.location, lead=lead_id))
    return ws.read_table_equal("lead_history", "lead_id", lead_id, order_by="id")

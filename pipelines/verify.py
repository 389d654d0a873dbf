"""Field verification (实地核查): status changes along the workflow, append-only history.

States and transitions are those of ``layers.schema``; every change is one transaction
that updates ``lead_status`` (with a version number) and appends to ``lead_history``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from layers.aliases import normalize_status
from layers.schema import (
    NOT_PROBLEM_REASONS,
    REASON_REQUIRED,
    STATUS_LABELS,
    TRANSITIONS,
    Status,
)
from pipelines.errors import ConflictError, NotFoundError, TransitionError
from pipelines.ingest import file_sha256
from pipelines.store.base import Workspace, now_iso

__all__ = ["StatusChange", "allowed_next", "history", "parse_status", "set_status"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatusChange:
    """One applied status change."""

    lead_id: str
    from_status: Status
    to_status: Status
    version: int
    at: str
    by: str


def parse_status(value: str) -> Status:
    """Return the status for a code (``problem``) or label (``问题``).

    Raises
    ------
    TransitionError
        For an unknown status, listing the known ones.
    """
    status = normalize_status(value)
    if status is None:
        known = ", ".join(f"{s.value} ({STATUS_LABELS[s]})" for s in Status)
        raise TransitionError(f"unknown status {value!r}; statuses: {known}")
    return status


def allowed_next(status: Status) -> tuple[Status, ...]:
    """Return the statuses a lead in ``status`` may move to."""
    return TRANSITIONS[status]


def _describe(statuses: Sequence[Status]) -> str:
    return ", ".join(f"{s.value} ({STATUS_LABELS[s]})" for s in statuses)


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
    deadline: str | None = None,
) -> StatusChange:
    """Move a lead to ``status`` if the workflow allows it, and record it in history.

    Parameters
    ----------
    ws
        The workspace.
    lead_id
        The lead.
    status
        Target status, as code or Chinese label.
    reason
        Required for 非问题 (one of ``NOT_PROBLEM_REASONS``) and for reopening or
        stepping back.
    note, by, evidence
        Free text, who made the change, evidence files (stored with their sha256).
    expected_version
        The version the caller saw; a different current version is a conflict.
    responsible_unit, measures, deadline
        The rectification record (整改责任单位, 整改措施, 整改期限) for 问题/整改中.

    Raises
    ------
    NotFoundError, TransitionError, ConflictError
    """
    target = parse_status(status) if not isinstance(status, Status) else status
    with ws.transaction():
        rows = ws.read_table("lead_status", where='"lead_id" = ?', params=[lead_id])
        if rows.empty:
            raise NotFoundError(f"no lead {lead_id!r} in the workspace {ws.location}")
        row = rows.iloc[0]
        current = Status(row["status"])
        version = int(row["version"])
        if expected_version is not None and expected_version != version:
            raise ConflictError(
                f"lead {lead_id}: you edited version {expected_version} but the workspace "
                f"holds version {version} (status {STATUS_LABELS[current]}, changed "
                f"{row['updated_at']} by {row['updated_by']}); reload and try again"
            )
        allowed = TRANSITIONS[current]
        if target not in allowed:
            raise TransitionError(
                f"lead {lead_id}: cannot go from {current.value} ({STATUS_LABELS[current]}) "
                f"to {target.value} ({STATUS_LABELS[target]}); allowed: {_describe(allowed)}"
            )
        if (current, target) in REASON_REQUIRED and not (reason and reason.strip()):
            hint = (f"; reasons for 非问题: {', '.join(NOT_PROBLEM_REASONS)}"
                    if target == Status.NOT_PROBLEM else "")
            raise TransitionError(
                f"lead {lead_id}: {STATUS_LABELS[current]} → {STATUS_LABELS[target]} needs a "
                f"reason (--reason){hint}"
            )
        if target == Status.NOT_PROBLEM and reason not in NOT_PROBLEM_REASONS:
            raise TransitionError(
                f"lead {lead_id}: reason {reason!r} is not a 非问题 reason code; use one of "
                f"{', '.join(NOT_PROBLEM_REASONS)} (details go in --note)"
            )
        files = [{"path": str(p), "sha256": file_sha256(p)} for p in evidence]
        at = now_iso()
        who = by or "unknown"
        new_version = version + 1
        record = {
            "lead_id": lead_id, "status": target.value, "version": new_version,
            "reason": reason, "updated_at": at, "updated_by": who,
            "responsible_unit": responsible_unit if responsible_unit is not None
            else row["responsible_unit"],
            "measures": measures if measures is not None else row["measures"],
            "deadline": deadline if deadline is not None else row["deadline"],
        }
        ws.upsert_rows("lead_status", pd.DataFrame([record]))
        ws.append_rows("lead_history", pd.DataFrame([{
            "lead_id": lead_id, "version": new_version, "at": at, "by": who,
            "from_status": current.value, "to_status": target.value, "reason": reason,
            "note": note, "evidence": json.dumps(files, ensure_ascii=False) if files else None,
        }]))
    log.info("lead %s: %s -> %s (v%d)", lead_id, current.value, target.value, new_version)
    return StatusChange(lead_id, current, target, new_version, at, who)


def history(ws: Workspace, lead_id: str) -> pd.DataFrame:
    """Return a lead's history, oldest first.

    Raises
    ------
    NotFoundError
        When the lead does not exist.
    """
    if not ws.count("lead_status", '"lead_id" = ?', [lead_id]):
        raise NotFoundError(f"no lead {lead_id!r} in the workspace {ws.location}")
    return ws.read_table("lead_history", where='"lead_id" = ?', params=[lead_id], order="id")

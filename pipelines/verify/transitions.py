"""The workflow's rules: which status may follow which, and what a change must carry.

:func:`check_transition` is asked before every change (command line, ledger import, web):
the transitions of ``layers.schema``, a reason for 非问题 and for every reopening or step
back, a rectification record (整改责任单位, 整改期限) for 整改中, and no direct 已销号 (it
comes through acceptance). :func:`transition_path` finds the forward steps between two
statuses; :func:`parse_status` and :func:`parse_date` read what people type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from layers.aliases import normalize_status
from layers.i18n import _
from layers.schema import (
    NOT_PROBLEM_REASONS,
    REASON_REQUIRED,
    STATUS_LABELS,
    TRANSITIONS,
    Status,
)
from layers.text import given, iso_date
from pipelines.errors import RecordError, TransitionError

__all__ = ["RECORD_FIELDS", "RECORD_LABELS", "RECORD_STATUSES", "allowed_next",
           "check_transition", "parse_date", "parse_status", "transition_path"]

#: The rectification record (整改记录) kept with a lead's status.
RECORD_FIELDS: tuple[str, ...] = ("responsible_unit", "measures", "deadline")
RECORD_LABELS: dict[str, str] = {
    "responsible_unit": "整改责任单位",
    "measures": "整改措施",
    "deadline": "整改期限",
    "reason": "原因",
    "opinion": "核查意见",
}
#: Statuses in which the rectification record may be edited without a status change.
RECORD_STATUSES: tuple[Status, ...] = (Status.PROBLEM, Status.RECTIFYING, Status.RECTIFIED)
#: Entering these statuses needs these record fields.
_RECORD_REQUIRED: dict[Status, tuple[str, ...]] = {
    Status.RECTIFYING: ("responsible_unit", "deadline"),
}
_OPTIONS = {"responsible_unit": "--responsible-unit", "deadline": "--deadline"}


def parse_status(value: str) -> Status:
    """Return the status for a code (``problem``) or label (``问题``).

    Raises
    ------
    TransitionError
        For an unknown status, listing the known ones.
    """
    status = normalize_status(value)
    if status is None:
        known = _describe(tuple(Status))
        raise TransitionError(_("未知的核查状态 {value!r}；可用的状态：{known}").format(
            value=value, known=known))
    return status


def parse_date(value: object, *, what: str = "date") -> str | None:
    """Return ``value`` as an ISO date ``YYYY-MM-DD``; None for a blank value.

    Accepts dates, datetimes and the ways people write them: ``2025-06-30``,
    ``2025/6/30``, ``2025.6.30``, ``2025年6月30日``, ``20250630``.

    Raises
    ------
    RecordError
        When ``value`` is not a date, naming ``what``.

    Examples
    --------
    >>> parse_date("2025年6月30日"), parse_date("2025/6/3"), parse_date(" ")
    ('2025-06-30', '2025-06-03', None)
    """
    try:
        return iso_date(value)
    except ValueError:
        text = str(value).strip()
        raise RecordError(_("{what} {text!r} 不是日期：请写成 YYYY-MM-DD，例如 2025-06-30").format(
            what=_(what), text=text)) from None


def allowed_next(status: Status) -> tuple[Status, ...]:
    """Return the statuses a lead in ``status`` may move to."""
    return TRANSITIONS[status]


def _one(status: Status) -> str:
    return _("{label}（{code}）").format(label=STATUS_LABELS[status], code=status.value)


def _describe(statuses: Sequence[Status]) -> str:
    return _("、").join(_one(s) for s in statuses)


def check_transition(
    lead_id: str,
    current: Status,
    target: Status,
    *,
    reason: str | None,
    record: dict[str, Any],
    accepted: bool = False,
) -> None:
    """Raise :class:`TransitionError` unless ``current → target`` is allowed as given.

    Parameters
    ----------
    lead_id : str
        For the message.
    current, target : Status
        The statuses.
    reason : str or None
        The reason given with the change.
    record : dict
        The rectification record the lead will hold after the change
        (``responsible_unit``, ``measures``, ``deadline``).
    accepted : bool
        True when the change to 已销号 comes from acceptance (验收) or an admin override;
        otherwise that change is refused.
    """
    allowed = TRANSITIONS[current]
    if target not in allowed:
        raise TransitionError(_(
            "线索 {lead}：不能从 {current} 改为 {target}；可改为：{allowed}").format(
            lead=lead_id, current=_one(current), target=_one(target),
            allowed=_describe(allowed)))
    if (current, target) in REASON_REQUIRED and not given(reason):
        hint = (_("；非问题的原因：{reasons}").format(reasons=_("、").join(NOT_PROBLEM_REASONS))
                if target == Status.NOT_PROBLEM else "")
        raise TransitionError(_(
            "线索 {lead}：{current} → {target} 须给出原因（--reason）{hint}").format(
            lead=lead_id, current=STATUS_LABELS[current], target=STATUS_LABELS[target],
            hint=hint))
    if target == Status.NOT_PROBLEM and reason not in NOT_PROBLEM_REASONS:
        raise TransitionError(_(
            "线索 {lead}：{reason!r} 不是非问题的原因代码；请用其中之一：{reasons}"
            "（详细说明写在 --note）").format(
            lead=lead_id, reason=reason, reasons=_("、").join(NOT_PROBLEM_REASONS)))
    if target == Status.CLOSED and not accepted:
        raise TransitionError(
            f"线索 {lead_id}: 已销号须经上级验收，不能直接设置；请提交验收："
            f"`lvdun review submit {lead_id} --as 用户名`（已整改的线索逐级验收通过后自动销号）"
        )
    missing = [f for f in _RECORD_REQUIRED.get(target, ()) if not given(record.get(f))]
    if missing:
        names = _("、").join(_("{label}（{option}）").format(label=RECORD_LABELS[f],
                                                           option=_OPTIONS[f])
                            for f in missing)
        raise TransitionError(_("线索 {lead}：{current} → {target} 须填写整改记录：{names}").format(
            lead=lead_id, current=STATUS_LABELS[current], target=STATUS_LABELS[target],
            names=names))


def transition_path(lead_id: str, current: Status, target: Status) -> list[Status]:
    """Return the statuses to pass through from ``current`` to ``target`` (target last).

    A legal transition is a path of one step. Otherwise the path is the unique shortest
    one whose steps all move forward (need no reason): 待核查 → 整改中 passes through
    问题. A jump that would need a reason on the way (a reopening, a step back), or that
    several shortest paths could explain, is refused.

    Parameters
    ----------
    lead_id : str
        For the message.
    current, target : Status
        Where the lead is and where it should go.

    Raises
    ------
    TransitionError
        When no such path exists or it is not unique; the message lists the allowed
        next statuses.

    Examples
    --------
    >>> [s.value for s in transition_path("L1", Status.PENDING, Status.RECTIFYING)]
    ['problem', 'rectifying']
    """
    if target == current:
        return []
    if target in TRANSITIONS[current]:
        return [target]
    frontier: list[list[Status]] = [[current]]
    found: list[list[Status]] = []
    while frontier and not found:
        extended: list[list[Status]] = []
        for path in frontier:
            for step in TRANSITIONS[path[-1]]:
                if step in path or (path[-1], step) in REASON_REQUIRED:
                    continue
                if step == target:
                    found.append([*path[1:], step])
                else:
                    extended.append([*path, step])
        frontier = extended
    allowed = _describe(TRANSITIONS[current])
    if not found:
        raise TransitionError(_(
            "线索 {lead}：不能从 {current} 改为 {target}，不重新打开就无法逐步改到；"
            "可改为：{allowed}").format(
            lead=lead_id, current=_one(current), target=_one(target), allowed=allowed))
    if len(found) > 1:
        ways = _(" 或 ").join(" → ".join(STATUS_LABELS[s] for s in [current, *p])
                             for p in found)
        raise TransitionError(_(
            "线索 {lead}：{current} → {target} 有多种改法（{ways}）；请逐步修改；"
            "可改为：{allowed}").format(
            lead=lead_id, current=STATUS_LABELS[current], target=STATUS_LABELS[target],
            ways=ways, allowed=allowed))
    return found[0]

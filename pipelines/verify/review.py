"""Level-by-level review (逐级审核) of verdicts and acceptance (验收) before 销号.

The reserve office fills in the verdict (问题 / 非问题, with its reason) and submits it;
each level of the workspace's review chain (default: city, then province) approves (通过)
or returns it (退回, with a reason). A rectified problem (已整改) is submitted for
acceptance the same way; when the last level approves, the lead becomes 已销号, the only
way there (:func:`pipelines.verify.status.check_transition`).

A lead holds at most one review per kind (``verdict``, ``closure``) in ``lead_review``.
A review stands for the verdict it was submitted with: when the editor changes the
verdict afterwards (非问题 → 问题), the review no longer applies and the lead reads 未提交
again. A returned lead goes back to its editor, the reason in its history; the editor
fixes it and submits again.

Every step is a history event (who, level, when, decision, reason) with a new version,
and names the version its author saw: a stale version is refused as a conflict.

The chain is a workspace setting in ``meta`` (:func:`set_review_chain`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from layers.i18n import _, label
from layers.schema import STATUS_LABELS, Status
from pipelines.errors import NotFoundError, PermissionDeniedError, ReviewError
from pipelines.levels import LEVEL_LABELS, REVIEW_LEVELS, Level, parse_level
from pipelines.rights import editable_reserves, lead_row_reserves, require_edit, require_review
from pipelines.store.base import Workspace, now_iso
from pipelines.users import Role, User
from pipelines.verify.status import record_step, set_status

__all__ = [
    "DEFAULT_CHAIN",
    "KINDS",
    "ReviewStep",
    "approve",
    "current_review",
    "lead_row",
    "queue",
    "return_lead",
    "return_verdict",
    "review_chain",
    "review_label",
    "review_summary",
    "set_review_chain",
    "submit",
]

log = logging.getLogger(__name__)

#: What is reviewed: the verdict (问题 / 非问题) and the closure request (已整改 → 销号).
KINDS: dict[str, str] = {"verdict": "审核", "closure": "验收"}
#: The levels that approve, lowest first, when the workspace says nothing.
DEFAULT_CHAIN: dict[str, tuple[Level, ...]] = {
    "verdict": (Level.CITY, Level.PROVINCE), "closure": (Level.CITY, Level.PROVINCE)}
_CHAIN_KEY = "review_chain"
#: The statuses in which a review of each verdict still applies.
_STILL: dict[str, tuple[Status, ...]] = {
    Status.NOT_PROBLEM.value: (Status.NOT_PROBLEM,),
    Status.PROBLEM.value: (Status.PROBLEM, Status.RECTIFYING, Status.RECTIFIED, Status.CLOSED),
    Status.RECTIFIED.value: (Status.RECTIFIED, Status.CLOSED),
}


@dataclass(frozen=True)
class ReviewStep:
    """One review step applied: who, at which level, what, and the lead's state after."""

    lead_id: str
    kind: str
    decision: str
    level: str
    version: int
    at: str
    by: str
    label: str


# -- the chain -------------------------------------------------------------------------
def review_chain(ws: Workspace) -> dict[str, tuple[Level, ...]]:
    """Return the levels that approve verdicts and closures, lowest first."""
    text = ws.meta_value(_CHAIN_KEY)
    if not text:
        return dict(DEFAULT_CHAIN)
    stored = json.loads(text)
    return {kind: tuple(Level(v) for v in stored.get(kind, DEFAULT_CHAIN[kind]))
            for kind in KINDS}


def set_review_chain(ws: Workspace, *, verdict: Sequence[str] | None = None,
                     closure: Sequence[str] | None = None) -> dict[str, tuple[Level, ...]]:
    """Set which levels approve verdicts and closures (``["city", "province"]``).

    Reviews already submitted keep the chain they were submitted with.

    Parameters
    ----------
    ws : Workspace
        The workspace; the chain is kept in its ``meta`` table.
    verdict, closure : sequence of str, optional
        The levels, lowest first; an empty sequence needs no review; None keeps the
        current setting.

    Raises
    ------
    UserError
        For an unknown level, or levels not in the order county, city, province.
    """
    chain = review_chain(ws)
    for kind, given in (("verdict", verdict), ("closure", closure)):
        if given is None:
            continue
        levels = tuple(parse_level(v) for v in given)
        ranks = [REVIEW_LEVELS.index(v) for v in levels]
        if ranks != sorted(set(ranks)):
            raise ReviewError(_("{kind}层级须自下而上且不重复：county、city、province").format(
                kind=_(KINDS[kind])))
        chain[kind] = levels
    with ws.transaction():
        ws.set_meta_value(_CHAIN_KEY, json.dumps(
            {k: [v.value for v in levels] for k, levels in chain.items()}))
    return chain


# -- reading the state -----------------------------------------------------------------
def lead_row(ws: Workspace, lead_id: str) -> dict[str, Any]:
    """Return the lead's id, county, reserve, status and version.

    Raises
    ------
    NotFoundError
        When the workspace has no such lead.
    """
    rows = ws.review_leads(lead_ids=[lead_id])
    if rows.empty or rows["status"].isna().iloc[0]:
        raise NotFoundError(_("工作区 {location} 中没有线索 {lead!r}").format(
            location=ws.location, lead=lead_id))
    row = {k: (None if pd.isna(v) else v) for k, v in rows.iloc[0].items()}
    return lead_row_reserves(ws, row)


def _applies(review: dict[str, Any], status: str) -> bool:
    if review["kind"] == "closure" and review["stage"] == "approved":
        return status == Status.CLOSED.value  # reopened since: a new request is due
    return Status(status) in _STILL.get(str(review["status"]), ())


def current_review(ws: Workspace, lead_id: str, status: str) -> dict[str, Any] | None:
    """Return the lead's review that applies to its ``status`` now (the closure request
    before the verdict), None when nothing applies.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    lead_id : str
        The lead.
    status : str
        Its current status code.
    """
    rows = ws.read_reviews([lead_id])
    return _pick(rows.to_dict("records"), status)


def _pick(reviews: list[dict[str, Any]], status: str) -> dict[str, Any] | None:
    valid = {r["kind"]: r for r in reviews if _applies(r, status)}
    return valid.get("closure") or valid.get("verdict")


def review_label(review: dict[str, Any] | None) -> str:
    """The review state as bureaus write it: 待市级审核, 已退回（市级：照片不清）, 审核通过.

    Examples
    --------
    >>> review_label({"kind": "verdict", "stage": "pending", "level": "city"})
    '待市级审核'
    >>> review_label({"kind": "closure", "stage": "returned", "level": "province",
    ...               "reason": "照片不清"})
    '已退回（省级验收：照片不清）'
    >>> review_label(None)
    '未提交'
    """
    if review is None:
        return "未提交"
    kind, stage = review["kind"], review["stage"]
    level = LEVEL_LABELS[Level(review["level"])] if review.get("level") else ""
    word = KINDS[kind]
    if stage == "pending":
        return f"待{level}{word}"
    if stage == "returned":
        what = level + ("验收" if kind == "closure" else "")
        return f"已退回（{what}：{review.get('reason') or ''}）"
    return f"{word}通过"


def review_summary(ws: Workspace, statuses: pd.Series) -> pd.DataFrame:
    """Return the review state of every lead of ``statuses`` (lead id -> status code).

    Returns
    -------
    pandas.DataFrame
        Indexed by lead id: ``review`` (:func:`review_label`) and ``verdict_approved``
        (True when the lead's current verdict passed every level).
    """
    reviews: dict[str, list[dict[str, Any]]] = {}
    for r in ws.read_reviews().to_dict("records"):
        reviews.setdefault(r["lead_id"], []).append(r)
    labels, approved = [], []
    for lead_id, status in statuses.items():
        mine = reviews.get(str(lead_id), [])
        labels.append(review_label(_pick(mine, str(status))) if isinstance(status, str)
                      else "未提交")
        approved.append(isinstance(status, str) and any(
            r["kind"] == "verdict" and r["stage"] == "approved" and _applies(r, status)
            for r in mine))
    return pd.DataFrame({"review": labels, "verdict_approved": approved},
                        index=statuses.index)


# -- steps -----------------------------------------------------------------------------
def _level_name(user: User) -> str:
    return user.level.value if user.level else user.role.value


def _write(ws: Workspace, review: dict[str, Any]) -> None:
    ws.upsert_rows("lead_review", pd.DataFrame([review]))


def submit(ws: Workspace, user: User, lead_id: str, *, note: str | None = None,
           expected_version: int | None = None) -> ReviewStep:
    """Submit a lead's verdict, or its rectification for acceptance, to the first level.

    A 问题 / 非问题 lead (or one in rectification whose 问题 verdict is not approved yet)
    submits its verdict; an 已整改 lead whose verdict is approved asks for acceptance.
    With an empty chain the step is approved at once (a closure then closes the lead).

    Parameters
    ----------
    ws : Workspace
        The workspace.
    user : User
        The reserve editor (or an admin) submitting.
    lead_id : str
        The lead.
    note : str, optional
        Kept in the history.
    expected_version : int, optional
        The version the user saw; a different current version is a conflict.

    Raises
    ------
    NotFoundError, PermissionDeniedError, ConflictError
    ReviewError
        When the lead has no verdict yet, or its review is pending or approved already.
    """
    with ws.transaction():
        lead = lead_row(ws, lead_id)
        require_edit(user, lead)
        status = Status(lead["status"])
        reviews = ws.read_reviews([lead_id]).to_dict("records")
        by_kind = {r["kind"]: r for r in reviews if _applies(r, status.value)}
        verdict = by_kind.get("verdict")
        chain = review_chain(ws)
        if status in (Status.PENDING, Status.IN_FIELD):
            raise ReviewError(_("线索 {lead} 为{status}，尚无核查结论可提交：先设为 问题 或 非问题"
                                "（lvdun status set）").format(lead=lead_id,
                                                            status=label(status.value)))
        if status == Status.CLOSED:
            raise ReviewError(_("线索 {lead} 已销号，无需再提交").format(lead=lead_id))
        verdict_done = (verdict is not None and verdict["stage"] == "approved") or \
            not chain["verdict"]
        kind = "closure" if status == Status.RECTIFIED and verdict_done else "verdict"
        existing = by_kind.get(kind)
        if existing is not None and existing["stage"] != "returned":
            raise ReviewError(_("线索 {lead} 已提交：{state}").format(
                lead=lead_id, state=review_label(existing)))
        levels = chain[kind]
        basis = (Status.RECTIFIED if kind == "closure" else
                 Status.NOT_PROBLEM if status == Status.NOT_PROBLEM else Status.PROBLEM).value
        at = now_iso()
        review = {"review_id": f"{lead_id}|{kind}", "lead_id": lead_id, "kind": kind,
                  "status": basis, "stage": "pending" if levels else "approved",
                  "level": levels[0].value if levels else None,
                  "chain": json.dumps([v.value for v in levels]), "reason": None,
                  "submitted_at": at, "submitted_by": user.name, "updated_at": at,
                  "updated_by": user.name}
        if not levels and kind == "closure":
            change = set_status(ws, lead_id, Status.CLOSED, by=user.name, note=note,
                                expected_version=expected_version,
                                review=(_level_name(user), "submit"))
        else:
            what = f"提交{LEVEL_LABELS[levels[0]]}{KINDS[kind]}" if levels else "提交（无需审核）"
            change = record_step(ws, lead_id, by=user.name, review=(_level_name(user), "submit"),
                                 note=f"{what}{'：' + note if note else ''}",
                                 expected_version=expected_version)
        _write(ws, review)
    return ReviewStep(lead_id, kind, "submit", _level_name(user), change.version, change.at,
                      user.name, review_label(review))


def _pending_for(ws: Workspace, user: User, lead_id: str) -> tuple[dict[str, Any],
                                                                      dict[str, Any]]:
    """The lead and its review pending at ``user``'s level, or an error saying why not."""
    lead = lead_row(ws, lead_id)
    require_review(user, lead)
    review = current_review(ws, lead_id, lead["status"])
    if review is None or review["stage"] != "pending":
        raise ReviewError(_("线索 {lead} 没有待审核的提交（{state}）").format(
            lead=lead_id, state=review_label(review)))
    if review["level"] != _level_name(user):
        raise PermissionDeniedError(_("线索 {lead} {state}，{user} 是{level}，不能审核").format(
            lead=lead_id, state=review_label(review), user=user.name,
            level=_(LEVEL_LABELS[user.level]) if user.level else user.role.value))
    return lead, review


def approve(ws: Workspace, user: User, lead_id: str, *, note: str | None = None,
            expected_version: int | None = None) -> ReviewStep:
    """Approve (通过) the lead's submission at ``user``'s level; it goes to the next level,
    or is approved; an approved closure closes the lead (已销号).

    Parameters
    ----------
    ws : Workspace
        The workspace.
    user : User
        A reviewer whose area holds the lead's county, of the level the lead awaits.
    lead_id : str
        The lead.
    note : str, optional
        Kept in the history.
    expected_version : int, optional
        The version the reviewer saw.

    Raises
    ------
    NotFoundError, PermissionDeniedError, ConflictError, ReviewError
    """
    with ws.transaction():
        _lead, review = _pending_for(ws, user, lead_id)
        chain = [Level(v) for v in json.loads(review["chain"] or "[]")]
        here = Level(review["level"])
        following = chain[chain.index(here) + 1:] if here in chain else []
        at = now_iso()
        review = {**review, "stage": "pending" if following else "approved",
                  "level": following[0].value if following else here.value,
                  "reason": None, "updated_at": at, "updated_by": user.name}
        step = (here.value, "approve")
        text = f"{LEVEL_LABELS[here]}{KINDS[review['kind']]}通过" + (f"：{note}" if note else "")
        if not following and review["kind"] == "closure":
            change = set_status(ws, lead_id, Status.CLOSED, by=user.name, note=text,
                                expected_version=expected_version, review=step)
        else:
            change = record_step(ws, lead_id, by=user.name, review=step, note=text,
                                 expected_version=expected_version)
        _write(ws, review)
    log.info("lead %s: %s approved at %s", lead_id, review["kind"], here.value)
    return ReviewStep(lead_id, review["kind"], "approve", here.value, change.version,
                      change.at, user.name, review_label(review))


def return_lead(ws: Workspace, user: User, lead_id: str, *, reason: str | None,
                expected_version: int | None = None) -> ReviewStep:
    """Return (退回) the lead's submission to its editor, with the reason.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    user : User
        A reviewer whose area holds the lead, of the level the lead awaits.
    lead_id : str
        The lead.
    reason : str
        Why (required): it goes into the review state and the history.
    expected_version : int, optional
        The version the reviewer saw.

    Raises
    ------
    NotFoundError, PermissionDeniedError, ConflictError
    ReviewError
        Without a reason, or when nothing awaits the user's level.
    """
    if reason is None or not str(reason).strip():
        raise ReviewError(_("线索 {lead}：退回须说明原因（--reason）").format(lead=lead_id))
    with ws.transaction():
        _lead, review = _pending_for(ws, user, lead_id)
        return _returned(ws, user, lead_id, review, str(reason).strip(), "return",
                         expected_version)


def _returned(ws: Workspace, user: User, lead_id: str, review: dict[str, Any], reason: str,
              decision: str, expected_version: int | None) -> ReviewStep:
    at = now_iso()
    level = _level_name(user)
    review = {**review, "stage": "returned", "level": level, "reason": reason,
              "updated_at": at, "updated_by": user.name}
    change = record_step(ws, lead_id, by=user.name, review=(level, decision), reason=reason,
                         note=review_label(review), expected_version=expected_version)
    _write(ws, review)
    log.info("lead %s: %s returned by %s", lead_id, review["kind"], user.name)
    return ReviewStep(lead_id, review["kind"], decision, level, change.version, change.at,
                      user.name, review_label(review))


def return_verdict(ws: Workspace, user: User, lead_id: str, reason: str, *,
                   decision: str, expected_version: int | None = None) -> ReviewStep:
    """Return the lead's verdict whatever its review stage (a spot check that disagrees).

    Parameters
    ----------
    ws : Workspace
        The workspace.
    user : User
        The reviewer (rights checked by the caller).
    lead_id : str
        The lead.
    reason : str
        Why.
    decision : str
        The history's decision (``recheck_disagree``).
    expected_version : int, optional
        The version the reviewer saw.
    """
    lead = lead_row(ws, lead_id)
    status = Status(lead["status"])
    rows = ws.read_reviews([lead_id]).to_dict("records")
    review = next((r for r in rows if r["kind"] == "verdict" and _applies(r, status.value)),
                  None)
    if review is None:
        basis = Status.NOT_PROBLEM.value if status == Status.NOT_PROBLEM else \
            Status.PROBLEM.value
        review = {"review_id": f"{lead_id}|verdict", "lead_id": lead_id, "kind": "verdict",
                  "status": basis, "chain": json.dumps(
                      [v.value for v in review_chain(ws)["verdict"]]),
                  "submitted_at": None, "submitted_by": None}
    return _returned(ws, user, lead_id, review, reason, decision, expected_version)


# -- what awaits a user ----------------------------------------------------------------
def queue(ws: Workspace, user: User) -> pd.DataFrame:
    """Return the leads that await ``user``, sorted by lead id.

    A reviewer: the submissions of their area pending at their level, and the open spot
    checks they drew. An editor (or admin): their leads returned to them or not yet
    submitted (问题 / 非问题 / 已整改).

    Returns
    -------
    pandas.DataFrame
        Columns ``lead_id``, ``county_adcode``, ``county_name``, ``reserve_name``,
        ``status``, ``status_label``, ``version``, ``kind``, ``review``, ``task``.
    """
    columns = ["lead_id", "county_adcode", "county_name", "reserve_name", "status",
               "status_label", "version", "kind", "review", "task"]
    reviewer = user.role is Role.REVIEWER
    if user.role is Role.VIEWER:
        return pd.DataFrame(columns=columns)
    leads = ws.review_leads(sorted(user.areas) if reviewer else None)
    leads = leads[leads["status"].notna()]
    if not reviewer:
        allowed = editable_reserves(user)
        if allowed is not None:  # an editor: the leads lying in any of their reserves
            members = ws.lead_memberships(reserve_codes=sorted(allowed))
            leads = leads[leads["lead_id"].isin(set(members["lead_id"]))]
    reviews: dict[str, list[dict[str, Any]]] = {}
    for r in ws.read_reviews(leads["lead_id"].tolist()).to_dict("records"):
        reviews.setdefault(r["lead_id"], []).append(r)
    spots = set()
    if reviewer:
        checks = ws.read_spot_checks()
        spots = set(checks.loc[checks["result"].isna() & (checks["drawn_by"] == user.name),
                               "lead_id"])
    rows = []
    submittable = {Status.PROBLEM, Status.NOT_PROBLEM, Status.RECTIFIED}
    for lead in leads.to_dict("records"):
        review = _pick(reviews.get(lead["lead_id"], []), lead["status"])
        stage = review["stage"] if review else None
        task = None
        if reviewer:
            if stage == "pending" and review["level"] == _level_name(user):
                task = f"待{KINDS[review['kind']]}"
            elif lead["lead_id"] in spots:
                task = "待抽查复核"
        elif stage == "returned":
            task = "已退回，修改后重新提交"
        elif Status(lead["status"]) in submittable and (
                review is None or (review["kind"] == "verdict" and stage == "approved"
                                   and lead["status"] == Status.RECTIFIED.value)):
            task = "待提交"
        if task:
            rows.append({**{k: lead[k] for k in ("lead_id", "county_adcode", "county_name",
                                                 "reserve_name", "status", "version")},
                         "status_label": STATUS_LABELS[Status(lead["status"])],
                         "kind": review["kind"] if review else None,
                         "review": review_label(review), "task": task})
    return pd.DataFrame(rows, columns=columns)

"""Spot checks (抽样巡查 / 抽查): a reproducible, county-stratified sample of an area's leads.

A reviewer draws a share (``rate``) of the leads of their area, optionally only those in
some statuses (often 非问题). The draw is stratified by county: every county with a lead
in the population gives ``max(1, round(rate × its leads))`` of them, chosen by a
generator seeded with ``(seed, county adcode)`` from its leads sorted by id, so the same
seed over the same leads draws the same sample, and one county's leads never change
another county's draw. Leads without a county are not drawn.

The draw is recorded as a run (``runs``: command ``review sample``, params with seed,
rate, statuses and area, counts with the drawn leads) and each drawn lead as an open spot
check (``spot_checks``), marked 抽查. :func:`redraw` draws a recorded run again.

A recheck (复核) agrees or disagrees, with a note; a disagreement returns the lead's
verdict to its editor (:func:`pipelines.verify.review.return_verdict`). Each recheck is a
history event with a new version.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from layers.i18n import _
from layers.schema import Status
from pipelines.errors import NotFoundError, PermissionDeniedError, ReviewError
from pipelines.rights import require_review
from pipelines.store.base import Workspace, new_run_id, now_iso
from pipelines.users import Role, User
from pipelines.verify.review import ReviewStep, lead_row, return_verdict
from pipelines.verify.status import parse_status, record_step

__all__ = ["SAMPLE_COMMAND", "Sample", "draw", "recheck", "redraw", "stratified_sample"]

log = logging.getLogger(__name__)

#: The ``runs.command`` of a draw.
SAMPLE_COMMAND = "review sample"


@dataclass(frozen=True)
class Sample:
    """A draw: its run, parameters, the population's size and the leads drawn (sorted)."""

    run_id: str
    seed: int
    rate: float
    statuses: tuple[str, ...]
    areas: tuple[str, ...]
    population: int
    leads: tuple[str, ...]
    by_county: dict[str, int]


def stratified_sample(population: pd.DataFrame, rate: float, seed: int) -> list[str]:
    """Return the lead ids drawn from ``population`` (``lead_id``, ``county_adcode``).

    Parameters
    ----------
    population : pandas.DataFrame
        The leads to draw from; those without a county are left out.
    rate : float
        The share drawn from every county, in (0, 1]; at least one lead per county.
    seed : int
        The seed; each county's generator is seeded with it and the county's code.

    Examples
    --------
    >>> frame = pd.DataFrame({"lead_id": ["a", "b", "c", "d"],
    ...                       "county_adcode": ["1", "1", "1", "2"]})
    >>> drawn = stratified_sample(frame, 0.1, seed=7)
    >>> len(drawn), drawn == stratified_sample(frame, 0.1, seed=7)
    (2, True)
    """
    _check_rate(rate)
    drawn: list[str] = []
    frame = population[population["county_adcode"].notna()]
    for county, part in sorted(frame.groupby("county_adcode"), key=lambda kv: str(kv[0])):
        ids = sorted(str(i) for i in part["lead_id"])
        size = min(len(ids), max(1, round(rate * len(ids))))
        rng = np.random.default_rng([int(seed), *_digits(str(county))])
        drawn.extend(ids[i] for i in sorted(rng.choice(len(ids), size=size, replace=False)))
    return sorted(drawn)


def _digits(text: str) -> list[int]:
    """A county code as seed words (its characters' code points)."""
    return [ord(ch) for ch in text]


def _check_rate(rate: float) -> None:
    if not (0 < float(rate) <= 1):
        raise ReviewError(_("抽样比例 --rate {rate!r} 须在 0 与 1 之间，例如 0.1（10%）").format(
            rate=rate))


def _population(ws: Workspace, areas: Sequence[str],
                statuses: Sequence[str]) -> pd.DataFrame:
    frame = ws.review_leads(list(areas), statuses=list(statuses) or None)
    return frame[frame["status"].notna() & frame["county_adcode"].notna()]


def draw(ws: Workspace, user: User, *, rate: float, seed: int,
         statuses: Sequence[str | Status] = ()) -> Sample:
    """Draw a spot-check sample of ``user``'s area and record it.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    user : User
        A reviewer; the population is their area's leads.
    rate : float
        The share drawn from each county, in (0, 1].
    seed : int
        The generator's seed: the same seed draws the same sample.
    statuses : sequence of str or Status
        Only leads in these statuses (codes or labels); none: every status.

    Raises
    ------
    PermissionDeniedError
        When ``user`` is not a reviewer.
    ReviewError
        For a rate outside (0, 1] or an empty population.
    """
    if user.role is not Role.REVIEWER:
        raise PermissionDeniedError(_("{user} 不是审核用户，不能抽样巡查").format(user=user.name))
    _check_rate(rate)
    codes = tuple(sorted({parse_status(s).value if not isinstance(s, Status) else s.value
                          for s in statuses}))
    areas = tuple(sorted(user.areas))
    population = _population(ws, areas, codes)
    if population.empty:
        raise ReviewError(_("{user} 的辖区（{areas}）内没有可抽查的线索").format(
            user=user.name, areas=", ".join(areas))
            + (_("（状态 {codes}）").format(codes=", ".join(codes)) if codes else ""))
    leads = stratified_sample(population, rate, seed)
    counties = population.set_index("lead_id").loc[leads, "county_adcode"]
    by_county = {str(k): int(v) for k, v in counties.value_counts().sort_index().items()}
    run_id = new_run_id()
    started = now_iso()
    with ws.transaction():
        ws.append_rows("spot_checks", pd.DataFrame([{
            "check_id": f"{run_id}|{lead}", "run_id": run_id, "lead_id": lead,
            "county_adcode": counties[lead], "drawn_by": user.name, "drawn_at": started,
        } for lead in leads]))
        ws.record_run(run_id, SAMPLE_COMMAND, started_at=started, params={
            "by": user.name, "level": user.level.value if user.level else None,
            "areas": list(areas), "rate": float(rate), "seed": int(seed),
            "statuses": list(codes)},
            counts={"population": len(population), "drawn": len(leads),
                    "by_county": by_county, "leads": leads})
    log.info("%s drew %d of %d leads (seed %d, rate %g): run %s", user.name, len(leads),
             len(population), seed, rate, run_id)
    return Sample(run_id, int(seed), float(rate), codes, areas, len(population),
                  tuple(leads), by_county)


def redraw(ws: Workspace, run_id: str) -> tuple[list[str], list[str]]:
    """Draw the recorded sample ``run_id`` again over the workspace's current leads.

    Returns
    -------
    tuple of (list of str, list of str)
        The leads the run recorded and those the same parameters draw now; they are
        equal as long as the population has not changed.

    Raises
    ------
    NotFoundError
        When ``run_id`` is not a recorded draw.
    """
    runs = ws.read_table_equal("runs", "run_id", run_id)
    if runs.empty or runs["command"].iloc[0] != SAMPLE_COMMAND:
        raise NotFoundError(_("没有抽样记录 {run!r}（`lvdun review sample` 的运行编号）").format(
            run=run_id))
    params = json.loads(runs["params"].iloc[0])
    recorded = json.loads(runs["counts"].iloc[0])["leads"]
    population = _population(ws, params["areas"], params["statuses"])
    return list(recorded), stratified_sample(population, params["rate"], params["seed"])


def recheck(ws: Workspace, user: User, lead_id: str, *, agree: bool, note: str | None,
            expected_version: int | None = None) -> ReviewStep:
    """Record the recheck (复核) of a lead's open spot check; a disagreement returns it.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    user : User
        A reviewer whose area holds the lead.
    lead_id : str
        The lead, drawn in a sample and not rechecked yet.
    agree : bool
        Whether the recheck agrees with the verdict.
    note : str
        What the recheck found (required to disagree).
    expected_version : int, optional
        The version the reviewer saw.

    Raises
    ------
    NotFoundError, PermissionDeniedError, ConflictError
    ReviewError
        When the lead has no open spot check, or a disagreement has no note.
    """
    text = str(note).strip() if note is not None else ""
    if not agree and not text:
        raise ReviewError(_("线索 {lead}：抽查不同意须说明（--note）").format(lead=lead_id))
    with ws.transaction():
        lead = lead_row(ws, lead_id)
        require_review(user, lead)
        checks = ws.read_spot_checks(lead_id=lead_id)
        open_checks = checks[checks["result"].isna()]
        if open_checks.empty:
            raise ReviewError(_("线索 {lead} 没有待复核的抽查（`lvdun review sample` 抽取）"
                                ).format(lead=lead_id))
        row = open_checks.iloc[-1].to_dict()
        at = now_iso()
        level = user.level.value if user.level else user.role.value
        decision = "recheck_agree" if agree else "recheck_disagree"
        ws.upsert_rows("spot_checks", pd.DataFrame([{
            **row, "result": "agree" if agree else "disagree", "note": text or None,
            "checked_by": user.name, "checked_at": at}]))
        if agree:
            change = record_step(ws, lead_id, by=user.name, review=(level, decision),
                                 note="抽查复核：同意" + (f"：{text}" if text else ""),
                                 expected_version=expected_version)
            step = ReviewStep(lead_id, "verdict", decision, level, change.version, change.at,
                              user.name, "抽查同意")
        else:
            step = return_verdict(ws, user, lead_id, f"抽查不同意：{text}", decision=decision,
                                  expected_version=expected_version)
    log.info("lead %s: spot check %s by %s", lead_id, step.decision, user.name)
    return step

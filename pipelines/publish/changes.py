"""What changed since an earlier run: new leads, re-classified, changed status, closed.

The state "as of run R" is read back from what the workspace keeps, not guessed:

- leads and their statuses from ``lead_history`` up to a cutoff id: the last history id a
  classify run saw (recorded in its counts), the last history row an ingest run wrote, or
  otherwise the last row written before the run finished;
- classifications from ``lead_class_history``: the snapshot of R when R is a classify run,
  else of the last classify run before R (the report names it).

Every lead is reported under the reserve it lies in now (保护区外 when outside all).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import pandas as pd

from layers.schema import OUTSIDE_NAME, STATUS_LABELS, ZONE_LABELS, Status, Zone
from pipelines.errors import NotFoundError
from pipelines.publish.views import leads_view
from pipelines.store.base import Workspace

__all__ = ["CHANGE_KINDS", "Baseline", "Changes", "baseline", "changes_since", "resolve_run"]

log = logging.getLogger(__name__)

#: Kinds of change, in report order, with their Chinese labels.
CHANGE_KINDS: dict[str, str] = {
    "new": "新增线索",
    "reclassified": "重新分类",
    "status": "状态变化",
    "closed": "销号",
    "redetected": "再次监测",
}
_COLUMNS = ["reserve", "lead_id", "kind", "kind_label", "before", "after", "detail"]


@dataclass(frozen=True)
class Baseline:
    """The state a comparison starts from.

    Attributes
    ----------
    run_id, command, finished_at
        The run named by the user.
    history_id
        Last ``lead_history`` id that belongs to the state as of the run.
    history_basis
        How ``history_id`` was found.
    class_run
        The classify run whose snapshot is the earlier classification (None: none before).
    """

    run_id: str
    command: str
    finished_at: str
    history_id: int
    history_basis: str
    class_run: str | None


@dataclass
class Changes:
    """The changes since a baseline, one row per lead and kind of change."""

    baseline: Baseline
    rows: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def by_reserve(self) -> pd.DataFrame:
        """Counts per reserve (rows) and kind of change (columns), with totals."""
        table = pd.crosstab(self.rows["reserve"], self.rows["kind"]) if len(self.rows) else \
            pd.DataFrame(index=pd.Index([], name="reserve"))
        table = table.reindex(columns=list(CHANGE_KINDS), fill_value=0).astype(int)
        table.columns = [CHANGE_KINDS[k] for k in table.columns]
        table.loc["合计"] = table.sum(axis=0)
        table.index.name = "保护区"
        return table


def resolve_run(ws: Workspace, ref: str) -> pd.Series:
    """Return the row of ``runs`` whose id is ``ref`` or starts with it (unique).

    Raises
    ------
    NotFoundError
        Unknown or ambiguous; the message lists the latest runs.
    """
    runs = ws.runs()
    hit = runs[runs["run_id"] == ref]
    if hit.empty:
        hit = runs[runs["run_id"].astype(str).str.startswith(ref)]
    if len(hit) == 1:
        return hit.iloc[0]
    recent = "; ".join(f"{r.run_id} ({r.command})" for r in runs.tail(5).itertuples())
    what = "several runs start with" if len(hit) > 1 else "no run"
    raise NotFoundError(f"{what} {ref!r} in {ws.location}; latest runs: {recent or 'none'}")


def baseline(ws: Workspace, ref: str) -> Baseline:
    """Return the baseline of run ``ref`` (id or unique prefix)."""
    run = resolve_run(ws, ref)
    run_id = str(run["run_id"])
    counts = json.loads(run["counts"] or "{}")
    if "lead_history_id" in counts:
        cutoff, basis = int(counts["lead_history_id"]), "recorded by the run"
    else:
        last = ws.last_history_id(run_id=run_id)
        if last is not None:
            cutoff, basis = last, "last history row written by the run"
        else:
            cutoff = ws.last_history_id(at_or_before=str(run["finished_at"])) or 0
            basis = "history rows written before the run finished (to the second)"
    class_run = run_id if run["command"] == "classify" else _class_run_before(
        ws.runs(), str(run["started_at"]), cutoff)
    return Baseline(run_id, str(run["command"]), str(run["finished_at"]), cutoff, basis,
                    class_run)


def _class_run_before(runs: pd.DataFrame, started_at: str, cutoff: int) -> str | None:
    """The last classify run before a run that started at ``started_at`` with ``cutoff``.

    Run times have whole seconds; within the same second a classify run counts as earlier
    only when it saw less history (when unsure, the earlier classification is the baseline,
    so that no re-classification is hidden).
    """
    best: tuple[str, int, str] | None = None
    for r in runs[runs["command"] == "classify"].itertuples():
        seen = int(json.loads(r.counts or "{}").get("lead_history_id", -1))
        if str(r.started_at) > started_at or (str(r.started_at) == started_at
                                              and seen >= cutoff):
            continue
        key = (str(r.started_at), seen, str(r.run_id))
        best = key if best is None or key[:2] > best[:2] else best
    return best[2] if best else None


def changes_since(ws: Workspace, ref: str, *, view: pd.DataFrame | None = None) -> Changes:
    """Return what changed since run ``ref``, per lead, under its current reserve.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    ref : str
        A run id, or a unique prefix of one (``lvdun db runs`` lists them).
    view : pandas.DataFrame, optional
        The leads to consider (a filtered :func:`pipelines.publish.views.leads_view`); default all.
    """
    base = baseline(ws, ref)
    view = leads_view(ws) if view is None else view
    history = ws.read_table_ordered("lead_history", "id")
    before = history[history["id"] <= base.history_id]
    after = history[history["id"] > base.history_id]
    then = before.groupby("lead_id")["to_status"].last()
    reserve = view["reserve_name"].fillna(OUTSIDE_NAME).to_numpy()
    rows: list[dict[str, object]] = []
    last_change = after.groupby("lead_id").last()
    for lead_id, where, status, batch in zip(view["lead_id"], reserve, view["status"],
                                             view["batch"], strict=True):
        now = STATUS_LABELS[Status(status)]
        if lead_id not in then.index:
            rows.append(_row(where, lead_id, "new", None, now, f"批次 {batch}"))
            continue
        old = str(then[lead_id])
        if old == status:
            continue
        who = last_change.loc[lead_id] if lead_id in last_change.index else None
        detail = f"{who['at']} {who['by']}" if who is not None else ""
        kind = "closed" if status == Status.CLOSED.value else "status"
        rows.append(_row(where, lead_id, kind, STATUS_LABELS[Status(old)], now, detail))
    existed = set(then.index)
    again = after[(after["reason"] == "再次监测") & after["lead_id"].isin(existed)]
    where_of = dict(zip(view["lead_id"], reserve, strict=True))
    for r in again.drop_duplicates("lead_id", keep="last").itertuples():
        if r.lead_id in where_of:
            rows.append(_row(where_of[r.lead_id], r.lead_id, "redetected", None, None,
                             str(r.note or "")))
    notes: list[str] = []
    if base.class_run is None:
        notes.append("no classification before this run: re-classification is not reported")
    else:
        rows.extend(_reclassified(ws, base.class_run, view, reserve, existed))
    frame = pd.DataFrame(rows, columns=_COLUMNS)
    order = {k: i for i, k in enumerate(CHANGE_KINDS)}
    frame = frame.assign(_k=frame["kind"].map(order)).sort_values(
        ["reserve", "_k", "lead_id"]).drop(columns="_k").reset_index(drop=True)
    return Changes(baseline=base, rows=frame, notes=notes)


def _row(reserve: str, lead_id: str, kind: str, before: str | None, after: str | None,
         detail: str) -> dict[str, object]:
    return {"reserve": reserve, "lead_id": lead_id, "kind": kind,
            "kind_label": CHANGE_KINDS[kind], "before": before, "after": after,
            "detail": detail}


def _place(name: object, zone: object) -> str:
    if name is None or pd.isna(name):
        return OUTSIDE_NAME
    label = ZONE_LABELS[Zone(zone)] if isinstance(zone, str) and zone in set(Zone) else ""
    return f"{name}·{label}" if label else str(name)


def _reclassified(ws: Workspace, class_run: str, view: pd.DataFrame, reserve: object,
                  existed: set[str]) -> list[dict[str, object]]:
    old = ws.read_table_equal("lead_class_history", "run_id", class_run)
    old = old.set_index("lead_id")
    rows = []
    for lead_id, where, code, name, zone, version in zip(
            view["lead_id"], reserve, view["reserve_code"], view["reserve_name"],
            view["zone"], view["boundary_version"], strict=True):
        if lead_id not in old.index or lead_id not in existed:
            continue
        prev = old.loc[lead_id]
        same_code = (pd.isna(prev["reserve_code"]) and pd.isna(code)) or prev[
            "reserve_code"] == code
        if same_code and prev["zone"] == zone:
            continue
        detail = ("边界已更新" if prev["boundary_version"] != version else "")
        rows.append(_row(str(where), lead_id, "reclassified",
                         _place(prev["reserve_name"], prev["zone"]), _place(name, zone), detail))
    return rows

from __future__ import annotations

import pytest

from layers.schema import TRANSITIONS, Status
from pipelines.errors import ConflictError, NotFoundError, TransitionError
from pipelines.verify import history, set_status


def test_illegal_transition_refused_with_allowed_listed(classified):
    with pytest.raises(TransitionError,
                       match=r"cannot go from pending.*allowed: in_field \(核查中\)"):
        set_status(classified, "L001", "已销号")
    assert classified.read_table("lead_status").set_index("lead_id").loc["L001", "status"] \
        == "pending"


def test_full_workflow_appends_history(classified):
    set_status(classified, "L001", "in_field", by="张三")
    set_status(classified, "L001", "问题", by="张三", note="新建采石场")
    set_status(classified, "L001", "整改中", by="李四", responsible_unit="安图县林业局",
               measures="拆除复绿", deadline="2025-06-30")
    set_status(classified, "L001", "已整改", by="李四")
    change = set_status(classified, "L001", "已销号", by="王五")
    assert change.version == 6
    rows = history(classified, "L001")
    assert list(rows["to_status"]) == ["pending", "in_field", "problem", "rectifying",
                                       "rectified", "closed"]
    assert list(rows["by"])[1:] == ["张三", "张三", "李四", "李四", "王五"]
    assert rows["note"].iloc[2] == "新建采石场"
    status = classified.read_table("lead_status").set_index("lead_id").loc["L001"]
    assert (status["responsible_unit"], status["deadline"]) == ("安图县林业局", "2025-06-30")
    with pytest.raises(TransitionError, match="needs a reason"):
        set_status(classified, "L001", "problem")
    set_status(classified, "L001", "problem", reason="复查发现复建", by="王五")


def test_not_problem_needs_a_reason_code(classified):
    with pytest.raises(TransitionError, match=r"needs a reason.*保护区设立前已存在"):
        set_status(classified, "L002", "非问题")
    with pytest.raises(TransitionError, match="not a 非问题 reason code"):
        set_status(classified, "L002", "非问题", reason="看着没问题")
    set_status(classified, "L002", "非问题", reason="手续合法")


def test_stale_version_is_a_conflict(classified):
    set_status(classified, "L003", "in_field", expected_version=1)
    with pytest.raises(ConflictError, match="version 1 but the workspace holds version 2"):
        set_status(classified, "L003", "problem", expected_version=1)


def test_unknown_lead_and_status(classified):
    with pytest.raises(NotFoundError, match="no lead 'X'"):
        set_status(classified, "X", "problem")
    with pytest.raises(TransitionError, match="unknown status"):
        set_status(classified, "L001", "done")


def test_history_is_append_only(classified):
    import sqlite3

    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        classified.execute('UPDATE "lead_history" SET "by" = ?', ["x"])


_PATHS = {
    Status.PENDING: [],
    Status.IN_FIELD: ["in_field"],
    Status.NOT_PROBLEM: ["not_problem"],
    Status.PROBLEM: ["problem"],
    Status.RECTIFYING: ["problem", "rectifying"],
    Status.RECTIFIED: ["problem", "rectifying", "rectified"],
    Status.CLOSED: ["problem", "rectifying", "rectified", "closed"],
}


@pytest.mark.parametrize(
    ("start", "target"), [(s, t) for s in Status for t in TRANSITIONS[s]]
)
def test_every_listed_transition_is_accepted(classified, start, target):
    for step in _PATHS[start]:
        set_status(classified, "L004", step, reason="其他")
    change = set_status(classified, "L004", target, reason="其他")
    assert (change.from_status, change.to_status) == (start, target)


@pytest.mark.parametrize(
    ("start", "target"),
    [(s, t) for s in Status for t in Status if t not in TRANSITIONS[s] and t != s],
)
def test_unlisted_transitions_are_refused(classified, start, target):
    for step in _PATHS[start]:
        set_status(classified, "L004", step, reason="其他")
    with pytest.raises(TransitionError, match="allowed:"):
        set_status(classified, "L004", target, reason="其他")

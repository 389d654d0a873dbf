from __future__ import annotations

import json

import pytest

from layers.schema import REASON_REQUIRED, TRANSITIONS, Status
from pipelines.errors import ConflictError, NotFoundError, RecordError, TransitionError
from pipelines.verify.deadlines import batch_deadlines, overdue, set_batch_deadline
from pipelines.verify.status import (
    current_state,
    history,
    parse_date,
    set_status,
    transition_path,
    update_record,
)

#: The refusals below are matched in English (LVDUN_LANG=en); the first test reads them in
#: Chinese, the default.
pytestmark = pytest.mark.usefixtures("english")

#: What every step of the test walks needs: a reason (a 非问题 code) and a record; the
#: walks test the transition table, so 已销号 is reached by the admin override instead of
#: acceptance (tests/pipelines/verify/test_review.py walks the acceptance).
STEP = {"reason": "其他", "responsible_unit": "安图县林业局", "deadline": "2025-06-30",
        "override_acceptance": True}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ws: set_status(ws, "L001", "已销号", override_acceptance=True),
         "线索 L001：不能从 待核查（pending） 改为 已销号（closed）；可改为：核查中（in_field）"),
        (lambda ws: set_status(ws, "L001", "非问题"), "线索 L001：待核查 → 非问题 须给出原因"),
        (lambda ws: set_status(ws, "X", "问题"), "中没有线索 'X'"),
        (lambda ws: set_status(ws, "L001", "done"), "未知的核查状态 'done'"),
        (lambda ws: set_status(ws, "L001", "问题", deadline="下月底"),
         "整改期限 '下月底' 不是日期：请写成 YYYY-MM-DD"),
    ],
)
def test_refusals_are_in_chinese_by_default(classified, call, message):
    from layers.i18n import set_language

    set_language("zh")  # this module runs in English otherwise
    with pytest.raises((TransitionError, NotFoundError, RecordError)) as refused:
        call(classified)
    assert message in str(refused.value)


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
    change = set_status(classified, "L001", "已销号", by="王五", override_acceptance=True)
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
        set_status(classified, "L004", step, **STEP)
    change = set_status(classified, "L004", target, **STEP)
    assert (change.from_status, change.to_status) == (start, target)


@pytest.mark.parametrize(
    ("start", "target"),
    [(s, t) for s in Status for t in Status if t not in TRANSITIONS[s] and t != s],
)
def test_unlisted_transitions_are_refused(classified, start, target):
    for step in _PATHS[start]:
        set_status(classified, "L004", step, **STEP)
    before = current_state(classified, "L004")
    with pytest.raises(TransitionError, match="allowed:"):
        set_status(classified, "L004", target, **STEP)
    assert current_state(classified, "L004") == before
    assert len(history(classified, "L004")) == 1 + len(_PATHS[start])


@pytest.mark.parametrize(("start", "target"), sorted(REASON_REQUIRED))
def test_every_reason_required_transition_refuses_a_blank_reason(classified, start, target):
    for step in _PATHS[start]:
        set_status(classified, "L004", step, **STEP)
    options = {**STEP, "reason": "  "}
    with pytest.raises(TransitionError, match="needs a reason"):
        set_status(classified, "L004", target, **options)


def test_rectifying_needs_a_responsible_unit_and_a_deadline(classified):
    set_status(classified, "L001", "问题")
    with pytest.raises(TransitionError,
                       match=r"needs a rectification record: .*整改责任单位.*, .*整改期限"):
        set_status(classified, "L001", "整改中", measures="拆除")
    with pytest.raises(TransitionError, match=r"record: 整改期限 \(--deadline\)$"):
        set_status(classified, "L001", "整改中", responsible_unit="安图县林业局")
    assert current_state(classified, "L001")["status"] == "problem"
    set_status(classified, "L001", "整改中", responsible_unit="安图县林业局",
               deadline="2025年9月30日")
    assert current_state(classified, "L001")["deadline"] == "2025-09-30"
    # a step back and forth keeps the record: no need to give it again
    set_status(classified, "L001", "已整改")
    set_status(classified, "L001", "整改中", reason="复查未拆除完毕")
    state = current_state(classified, "L001")
    assert (state["responsible_unit"], state["deadline"]) == ("安图县林业局", "2025-09-30")


@pytest.mark.parametrize(
    ("text", "iso"),
    [("2025-06-30", "2025-06-30"), ("2025/6/3", "2025-06-03"), ("2025.06.30", "2025-06-30"),
     ("2025年6月30日", "2025-06-30"), ("20250630", "2025-06-30"),
     ("2025-06-30 00:00:00", "2025-06-30"), ("", None), (None, None)],
)
def test_dates_people_write(text, iso):
    assert parse_date(text) == iso


@pytest.mark.parametrize("text", ["下月底", "2025-02-30", "30/06/2025", "2025"])
def test_a_deadline_that_is_not_a_date_is_refused(classified, text):
    set_status(classified, "L001", "问题")
    with pytest.raises(RecordError, match=rf"deadline '{text}' is not a date: write it as"):
        set_status(classified, "L001", "整改中", responsible_unit="县林业局", deadline=text)
    assert current_state(classified, "L001")["version"] == 2


@pytest.mark.parametrize(
    ("start", "target", "path"),
    [
        (Status.PENDING, Status.PROBLEM, [Status.PROBLEM]),
        (Status.PENDING, Status.RECTIFYING, [Status.PROBLEM, Status.RECTIFYING]),
        (Status.IN_FIELD, Status.RECTIFIED,
         [Status.PROBLEM, Status.RECTIFYING, Status.RECTIFIED]),
        (Status.PENDING, Status.CLOSED,
         [Status.PROBLEM, Status.RECTIFYING, Status.RECTIFIED, Status.CLOSED]),
        (Status.RECTIFYING, Status.CLOSED, [Status.RECTIFIED, Status.CLOSED]),
        (Status.CLOSED, Status.CLOSED, []),
    ],
)
def test_jumps_follow_the_unique_forward_path(start, target, path):
    assert transition_path("L1", start, target) == path


@pytest.mark.parametrize(
    ("start", "target"),
    [(Status.CLOSED, Status.RECTIFYING), (Status.NOT_PROBLEM, Status.RECTIFYING),
     (Status.RECTIFIED, Status.PROBLEM), (Status.RECTIFYING, Status.NOT_PROBLEM),
     (Status.CLOSED, Status.NOT_PROBLEM)],
)
def test_jumps_through_a_reopening_are_refused(start, target):
    with pytest.raises(TransitionError, match=r"not even step by step.*allowed:"):
        transition_path("L1", start, target)


def test_every_jump_path_is_legal_step_by_step():
    for start in Status:
        for target in Status:
            try:
                path = transition_path("L1", start, target)
            except TransitionError:
                continue
            steps = list(zip([start, *path], path, strict=False))
            assert all(b in TRANSITIONS[a] for a, b in steps)
            if len(path) > 1:
                assert not any(step in REASON_REQUIRED for step in steps)


def test_record_edit_without_a_status_change(classified):
    set_status(classified, "L001", "问题")
    set_status(classified, "L001", "整改中", responsible_unit="安图县林业局",
               deadline="2025-06-30", measures="拆除")
    assert update_record(classified, "L001", deadline="2025-06-30") is None  # nothing new
    change = update_record(classified, "L001", deadline="2025-09-30", measures="拆除复绿",
                           by="李四", expected_version=3)
    assert change is not None and change.version == 4
    assert change.from_status == change.to_status == Status.RECTIFYING
    state = current_state(classified, "L001")
    assert (state["deadline"], state["measures"], state["version"]) == (
        "2025-09-30", "拆除复绿", 4)
    last = history(classified, "L001").iloc[-1]
    assert (last["from_status"], last["to_status"], last["by"]) == (
        "rectifying", "rectifying", "李四")
    assert last["note"] == "整改措施: 拆除 → 拆除复绿; 整改期限: 2025-06-30 → 2025-09-30"
    with pytest.raises(ConflictError, match="version 3 but the workspace holds version 4"):
        update_record(classified, "L001", deadline="2025-12-31", expected_version=3)


def test_record_edit_refused_where_no_record_belongs(classified):
    with pytest.raises(TransitionError, match="is 待核查: the rectification record"):
        update_record(classified, "L002", responsible_unit="县林业局")
    set_status(classified, "L002", "非问题", reason="手续合法")
    with pytest.raises(TransitionError, match="not a 非问题 reason code"):
        update_record(classified, "L002", reason="看着没问题")
    change = update_record(classified, "L002", reason="保护区设立前已存在")
    assert change is not None
    assert current_state(classified, "L002")["reason"] == "保护区设立前已存在"


def test_opinion_is_kept_and_its_changes_are_history(classified):
    set_status(classified, "L003", "核查中", opinion="待现场复核", by="张三")
    assert current_state(classified, "L003")["opinion"] == "待现场复核"
    assert history(classified, "L003")["note"].iloc[-1] == "待现场复核"
    update_record(classified, "L003", opinion="现场为光伏板扩建", by="张三")
    assert current_state(classified, "L003")["opinion"] == "现场为光伏板扩建"
    assert history(classified, "L003")["note"].iloc[-1] == "核查意见: 现场为光伏板扩建"
    # an explicit note stays the note of the change
    set_status(classified, "L003", "问题", note="见照片", opinion="现场为光伏板扩建")
    assert history(classified, "L003")["note"].iloc[-1] == "见照片"
    assert current_state(classified, "L003")["version"] == 4


@pytest.fixture
def deadlines(classified):
    """L001 overdue in 整改中, L002 due today, L003 overdue in 问题, L004 rectified late."""
    ws = classified
    for lead, due in (("L001", "2025-06-30"), ("L002", "2025-07-01"), ("L004", "2025-01-01")):
        set_status(ws, lead, "问题")
        set_status(ws, lead, "整改中", responsible_unit="安图县林业局", deadline=due)
    set_status(ws, "L003", "问题", deadline="2025-05-01", responsible_unit="乙保护区管理局")
    set_status(ws, "L004", "已整改")
    set_status(ws, "L006", "核查中")
    set_batch_deadline(ws, "2024-H1", "2025-06-01", note="494个点位6月底前上报", by="省厅")
    return ws


def test_overdue_lists_rectification_and_reporting(deadlines):
    rows = overdue(deadlines, today="2025-07-01")
    assert list(zip(rows["lead_id"], rows["kind"], rows["days_overdue"], strict=True)) == [
        ("L003", "rectification", 61), ("L005", "report", 30), ("L006", "report", 30),
        ("L001", "rectification", 1)]
    first = rows.iloc[0]
    assert (first["status_label"], first["due"], first["responsible_unit"],
            first["kind_label"]) == ("问题", "2025-05-01", "乙保护区管理局", "整改逾期")
    assert overdue(deadlines, today="2025-05-01").empty  # a deadline passes the day after


def test_overdue_by_reserve_and_county(deadlines):
    rows = overdue(deadlines, today="2025-07-01", by="reserve")
    groups = rows.groupby("group", sort=False)["lead_id"].apply(list).to_dict()
    assert groups == {"乙保护区": ["L003"], "保护区外": ["L005"], "甲保护区": ["L006", "L001"]}
    rows = overdue(deadlines, today="2025-07-01", by="county")
    assert set(rows["group"]) == {"县界外"}


def test_batch_deadline_needs_a_known_batch_and_a_date(classified):
    with pytest.raises(NotFoundError, match="no lead belongs to batch '2024-H2'; batches: 2024-H1"):
        set_batch_deadline(classified, "2024-H2", "2025-06-30")
    with pytest.raises(RecordError, match="reporting deadline '6月底' is not a date"):
        set_batch_deadline(classified, "2024-H1", "6月底")
    assert set_batch_deadline(classified, "2024-H1", "2025/6/30") == "2025-06-30"
    set_batch_deadline(classified, "2024-H1", "2025-07-15")  # set again: replaced
    table = batch_deadlines(classified)
    assert table[["batch", "report_deadline", "leads", "open"]].values.tolist() == [
        ["2024-H1", "2025-07-15", 6, 6]]


def test_overdue_command(deadlines):
    from click.testing import CliRunner

    from pipelines.cli import cli

    ws = str(deadlines.location)
    runner = CliRunner()
    result = runner.invoke(cli, ["status", "overdue", "-w", ws, "--today", "2025-07-01",
                                 "--by", "reserve", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["count"] == 4 and payload["groups"] == {"乙保护区": 1, "保护区外": 1,
                                                             "甲保护区": 2}
    assert payload["leads"][0]["lead_id"] == "L003"
    result = runner.invoke(cli, ["status", "overdue", "-w", ws, "--today", "2025-07-01"])
    assert result.exit_code == 0 and "截至 2025-07-01 共 4 条逾期线索" in result.output
    assert all(lead in result.output for lead in ("L001", "L003", "L005", "L006"))
    result = runner.invoke(cli, ["status", "batch-deadline", "2024-H9", "2025-06-30", "-w", ws])
    assert result.exit_code == 1 and "没有线索属于批次" in result.output

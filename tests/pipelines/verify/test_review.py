"""Level-by-level review and acceptance on both stores: the whole chain, every refusal.

Counties and users: :mod:`tests.pipelines.verify.levels` (甲保护区 edits L001, L002, L006;
某市局 reviews city 2224, i.e. every lead but L005; 某省厅 province 22).
"""

# ruff: noqa: F811 -- fixtures imported from tests/pipelines/store/conftest.py

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ReviewError,
    TransitionError,
    UserError,
)
from pipelines.users import add_user
from pipelines.verify import review
from pipelines.verify.status import current_state, history, set_status
from tests.pipelines.store.conftest import (  # noqa: F401
    any_classified,
    any_workspace,
    gpkg_workspace,
    pg_database,
    pg_schema_url,
    pg_workspace,
)
from tests.pipelines.verify.levels import add_counties, user

RECORD = {"responsible_unit": "安图县林业局", "deadline": "2025-06-30"}


@pytest.fixture
def ws(any_classified, tmp_path):
    """Both stores: the six leads in three counties, with the users of ``levels``."""
    return add_counties(any_classified, tmp_path)


def _rectified(ws, lead: str = "L001") -> None:
    """Judge ``lead`` 问题, have the verdict approved, and rectify it."""
    set_status(ws, lead, "问题", by="甲")
    review.submit(ws, user(ws, "甲保护区"), lead)
    review.approve(ws, user(ws, "某市局"), lead)
    review.approve(ws, user(ws, "某省厅"), lead)
    set_status(ws, lead, "整改中", by="甲", **RECORD)
    set_status(ws, lead, "已整改", by="甲")


def test_the_whole_chain_from_verdict_to_closed(ws):
    editor, city, province = user(ws, "甲保护区"), user(ws, "某市局"), user(ws, "某省厅")
    set_status(ws, "L001", "问题", by="甲")
    assert review.submit(ws, editor, "L001").label == "待市级审核"
    assert list(review.queue(ws, city)["lead_id"]) == ["L001"]
    assert review.queue(ws, province).empty  # not yet its turn
    assert review.approve(ws, city, "L001", note="属实").label == "待省级审核"
    assert list(review.queue(ws, province)["task"]) == ["待审核"]
    assert review.approve(ws, province, "L001").label == "审核通过"
    set_status(ws, "L001", "整改中", by="甲", **RECORD)
    set_status(ws, "L001", "已整改", by="甲")
    step = review.submit(ws, editor, "L001")
    assert (step.kind, step.label) == ("closure", "待市级验收")
    returned = review.return_lead(ws, city, "L001", reason="照片不清")
    assert returned.label == "已退回（市级验收：照片不清）"
    tasks = review.queue(ws, editor).set_index("lead_id")["task"]
    assert tasks["L001"] == "已退回，修改后重新提交"
    review.submit(ws, editor, "L001", note="补充照片")
    review.approve(ws, city, "L001")
    assert current_state(ws, "L001")["status"] == "rectified"  # the province accepts last
    final = review.approve(ws, province, "L001")
    assert (final.label, current_state(ws, "L001")["status"]) == ("验收通过", "closed")
    rows = history(ws, "L001")
    steps = rows[rows["decision"].notna()]
    assert list(zip(steps["by"], steps["review_level"], steps["decision"], strict=True)) == [
        ("甲保护区", "reserve", "submit"), ("某市局", "city", "approve"),
        ("某省厅", "province", "approve"), ("甲保护区", "reserve", "submit"),
        ("某市局", "city", "return"), ("甲保护区", "reserve", "submit"),
        ("某市局", "city", "approve"), ("某省厅", "province", "approve")]
    assert steps["reason"].tolist()[4] == "照片不清"
    assert list(rows["version"]) == list(range(1, len(rows) + 1))  # every step a version
    assert rows["to_status"].iloc[-1] == "closed"


def test_an_editor_cannot_close_directly(ws):
    set_status(ws, "L001", "问题")
    set_status(ws, "L001", "整改中", **RECORD)
    set_status(ws, "L001", "已整改")
    with pytest.raises(TransitionError, match=r"已销号须经上级验收.*lvdun review submit L001"):
        set_status(ws, "L001", "已销号", by="甲")
    assert current_state(ws, "L001")["status"] == "rectified"
    result = CliRunner().invoke(cli, ["status", "set", "L001", "已销号", "-w", _where(ws)])
    assert result.exit_code == 1 and "lvdun review submit" in result.output


def test_the_admin_override_closes_and_says_so(ws):
    for step in ("问题", "整改中", "已整改"):
        set_status(ws, "L002", step, **RECORD)
    set_status(ws, "L002", "已销号", by="管理员", override_acceptance=True)
    assert "未经验收流程" in history(ws, "L002")["note"].iloc[-1]


def test_wrong_area_and_wrong_level_are_refused(ws):
    set_status(ws, "L001", "非问题", reason="手续合法")
    review.submit(ws, user(ws, "甲保护区"), "L001")
    with pytest.raises(PermissionDeniedError, match="不在 长春市局 的辖区"):
        review.approve(ws, user(ws, "长春市局"), "L001")
    with pytest.raises(PermissionDeniedError, match="待市级审核，某省厅 是省级"):
        review.approve(ws, user(ws, "某省厅"), "L001")
    with pytest.raises(PermissionDeniedError, match="不在 安图县局 的辖区"):
        review.approve(ws, user(ws, "安图县局"), "L001")
    with pytest.raises(PermissionDeniedError, match="不是审核用户"):
        review.approve(ws, user(ws, "甲保护区"), "L001")
    with pytest.raises(PermissionDeniedError, match="only change the leads of reserve"):
        review.submit(ws, user(ws, "乙保护区"), "L002")
    with pytest.raises(PermissionDeniedError, match="审核用户"):
        review.submit(ws, user(ws, "某市局"), "L002")
    assert review.queue(ws, user(ws, "长春市局")).empty


def test_return_needs_a_reason_and_goes_back_to_the_editor(ws):
    set_status(ws, "L002", "非问题", reason="手续合法")
    review.submit(ws, user(ws, "甲保护区"), "L002")
    with pytest.raises(ReviewError, match="退回须说明原因"):
        review.return_lead(ws, user(ws, "某市局"), "L002", reason="  ")
    review.return_lead(ws, user(ws, "某市局"), "L002", reason="照片不清")
    queue = review.queue(ws, user(ws, "甲保护区")).set_index("lead_id")
    assert queue.loc["L002", "review"] == "已退回（市级：照片不清）"
    assert history(ws, "L002")["reason"].iloc[-1] == "照片不清"
    with pytest.raises(ReviewError, match="没有待审核的提交"):
        review.approve(ws, user(ws, "某市局"), "L002")


def test_stale_version_is_a_conflict(ws):
    set_status(ws, "L003", "问题")
    step = review.submit(ws, user(ws, "乙保护区"), "L003", expected_version=2)
    with pytest.raises(ConflictError, match="您修改的是第 2 版，工作区中已是第 3 版"):
        review.approve(ws, user(ws, "某市局"), "L003", expected_version=2)
    review.approve(ws, user(ws, "某市局"), "L003", expected_version=step.version)


def test_submission_refusals(ws):
    editor = user(ws, "甲保护区")
    with pytest.raises(ReviewError, match="尚无核查结论"):
        review.submit(ws, editor, "L001")
    set_status(ws, "L001", "问题")
    review.submit(ws, editor, "L001")
    with pytest.raises(ReviewError, match="已提交：待市级审核"):
        review.submit(ws, editor, "L001")
    with pytest.raises(NotFoundError, match="没有线索 'X'"):
        review.submit(ws, editor, "X")


def test_a_changed_verdict_must_be_submitted_again(ws):
    editor, city = user(ws, "甲保护区"), user(ws, "某市局")
    set_status(ws, "L006", "非问题", reason="手续合法")
    review.submit(ws, editor, "L006")
    set_status(ws, "L006", "问题", reason="复查发现新建")
    assert review.current_review(ws, "L006", "problem") is None
    assert review.queue(ws, city).empty
    assert review.submit(ws, editor, "L006").label == "待市级审核"


def test_a_rectified_lead_submits_its_verdict_first(ws):
    for step in ("问题", "整改中", "已整改"):
        set_status(ws, "L001", step, **RECORD)
    first = review.submit(ws, user(ws, "甲保护区"), "L001")
    assert (first.kind, first.label) == ("verdict", "待市级审核")


def test_the_chain_is_a_workspace_setting(ws):
    assert review.review_chain(ws)["verdict"] == review.DEFAULT_CHAIN["verdict"]
    review.set_review_chain(ws, verdict=["county", "city"], closure=["city"])
    assert [v.value for v in review.review_chain(ws)["verdict"]] == ["county", "city"]
    with pytest.raises(ReviewError, match="自下而上"):
        review.set_review_chain(ws, verdict=["province", "city"])
    with pytest.raises(UserError, match="未知的审核层级"):
        review.set_review_chain(ws, verdict=["town"])
    set_status(ws, "L006", "问题")
    review.submit(ws, user(ws, "甲保护区"), "L006")
    assert review.approve(ws, user(ws, "安图县局"), "L006").label == "待市级审核"
    assert review.approve(ws, user(ws, "某市局"), "L006").label == "审核通过"
    for step in ("整改中", "已整改"):
        set_status(ws, "L006", step, **RECORD)
    review.submit(ws, user(ws, "甲保护区"), "L006")
    review.approve(ws, user(ws, "某市局"), "L006")  # closure: the city alone
    assert current_state(ws, "L006")["status"] == "closed"


def test_reviewers_need_a_level_and_an_area_of_its_size(ws):
    with pytest.raises(UserError, match="--level"):
        add_user(ws, "x", "reviewer", areas=["2224"])
    with pytest.raises(UserError, match="不是 4 位"):
        add_user(ws, "x", "reviewer", level="city", areas=["22"])
    with pytest.raises(UserError, match="--area"):
        add_user(ws, "x", "reviewer", level="province")
    with pytest.raises(UserError, match="only reviewers have an area"):
        add_user(ws, "x", "editor", reserves=["R01"], areas=["2224"])


def _where(ws) -> str:
    return str(getattr(ws, "url", None) or ws.path)


def test_the_command_line_contract(ws):
    where = ["-w", _where(ws)]
    runner = CliRunner()

    def run(*args: str) -> object:
        return runner.invoke(cli, [*args, *where])

    added = run("users", "add", "吉林省厅", "--role", "reviewer", "--level", "province",
                "--area", "22")
    assert added.exit_code == 0, added.output
    set_status(ws, "L001", "问题")
    set_status(ws, "L002", "非问题", reason="手续合法")
    done = run("review", "submit", "L001", "L002", "--as", "甲保护区")
    assert done.exit_code == 0 and done.output.count("待市级审核") == 2, done.output
    queue = run("review", "queue", "--as", "某市局", "--format", "json")
    assert queue.exit_code == 0 and '"L001"' in queue.output and '"L002"' in queue.output
    assert run("review", "approve", "L001", "--as", "某市局", "--note", "属实").exit_code == 0
    back = run("review", "return", "L002", "--as", "某市局", "--reason", "照片不清")
    assert back.exit_code == 0 and "已退回（市级：照片不清）" in back.output
    assert run("review", "approve", "L001", "--as", "吉林省厅").exit_code == 0
    unknown = run("review", "queue", "--as", "无名氏")
    assert unknown.exit_code == 1 and "no user '无名氏'" in unknown.output
    outside = run("review", "approve", "L001", "--as", "长春市局")
    assert outside.exit_code == 1 and "辖区" in outside.output
    no_reason = run("review", "return", "L001", "--as", "某市局")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    chain = run("review", "chain")
    assert chain.exit_code == 0 and "市级 → 省级" in chain.output
    shown = run("status", "history", "L001")
    assert shown.exit_code == 0 and "提交" in shown.output and "通过" in shown.output


def test_a_workspace_of_schema_2_is_upgraded_and_its_editors_submit(gpkg_workspace, zones_file,
                                                                    leads_csv, tmp_path):
    from pipelines.classify.job import classify
    from pipelines.ingest.files import ingest
    from pipelines.store import open_workspace
    from pipelines.store.base import _ident
    from pipelines.store.tables import SCHEMA_VERSION, VERSION_TABLE

    ws = gpkg_workspace
    ingest(ws, "reserves", zones_file)
    ingest(ws, "leads", leads_csv, crs="EPSG:4490")
    classify(ws)
    add_user(ws, "甲保护区", "editor", reserves=["R01"])
    with ws.transaction():  # what lvdun of schema version 2 left
        for table, column in (("users", "level"), ("users", "areas"),
                              ("lead_history", "review_level"), ("lead_history", "decision")):
            ws.execute(f"ALTER TABLE {_ident(table)} DROP COLUMN {_ident(column)}")
        ws.execute('DROP TABLE "lead_review"')
        ws.execute('DROP TABLE "spot_checks"')
        ws.execute(f"DELETE FROM {_ident(VERSION_TABLE)} WHERE version > 2")
    ws.close()
    again = open_workspace(ws.path)
    again.open()
    try:
        assert again.schema_version() == SCHEMA_VERSION
        editor = user(again, "甲保护区")
        assert editor.level is not None and editor.level.value == "reserve"
        set_status(again, "L001", "问题")
        assert review.submit(again, editor, "L001").label == "待市级审核"
    finally:
        again.close()


def test_an_editor_of_a_reserve_the_lead_lies_in_submits_it(ws):
    """L003 wins 乙 (R02) but lies in 甲 (R01) too: 甲's editor sees and submits it."""
    assert ws.lead_reserve_codes("L003") == ["R02", "R01"]
    editor = user(ws, "甲保护区")
    set_status(ws, "L003", "问题", by="甲")
    assert "L003" in set(review.queue(ws, editor)["lead_id"])
    assert review.submit(ws, editor, "L003").label == "待市级审核"
    assert "L005" not in set(review.queue(ws, editor)["lead_id"])  # outside both

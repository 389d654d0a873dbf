"""Spot checks: reproducible, county-stratified draws, recorded as runs; rechecks.

Counties and users: :mod:`tests.pipelines.verify.levels`.
"""

# ruff: noqa: F811 -- fixtures imported from tests/pipelines/store/conftest.py

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.errors import ConflictError, PermissionDeniedError, ReviewError
from pipelines.verify import review
from pipelines.verify.sample import SAMPLE_COMMAND, draw, recheck, redraw, stratified_sample
from pipelines.verify.status import current_state, history, set_status
from tests.pipelines.store.conftest import (  # noqa: F401
    any_classified,
    any_workspace,
    gpkg_workspace,
    pg_database,
    pg_schema_url,
    pg_workspace,
)
from tests.pipelines.verify.levels import COUNTY, add_counties, user


@pytest.fixture
def ws(any_classified, tmp_path):
    """Both stores: the six leads in three counties, every one judged 非问题 but L004."""
    ws = add_counties(any_classified, tmp_path)
    for lead in ("L001", "L002", "L003", "L005", "L006"):
        set_status(ws, lead, "非问题", reason="手续合法")
    set_status(ws, "L004", "问题")
    return ws


def _population(counties: dict[str, int]) -> pd.DataFrame:
    rows = [(f"{code}-{k:03d}", code) for code, n in counties.items() for k in range(n)]
    return pd.DataFrame(rows, columns=["lead_id", "county_adcode"])


def test_same_seed_same_sample_every_county_represented():
    population = _population({"222401": 120, "222402": 40, "222403": 3, "222404": 1})
    first = stratified_sample(population, 0.1, seed=7)
    assert first == stratified_sample(population.sample(frac=1, random_state=1), 0.1, seed=7)
    assert first != stratified_sample(population, 0.1, seed=8)
    per_county = pd.Series([lead.split("-")[0] for lead in first]).value_counts()
    assert per_county.to_dict() == {"222401": 12, "222402": 4, "222403": 1, "222404": 1}
    # another county's leads do not change a county's draw
    more = pd.concat([population, _population({"222405": 50})])
    again = stratified_sample(more, 0.1, seed=7)
    assert [x for x in again if not x.startswith("222405")] == first


def test_a_draw_is_recorded_and_can_be_redrawn(ws):
    province = user(ws, "某省厅")
    sample = draw(ws, province, rate=0.1, seed=7, statuses=["not_problem"])
    assert sample.population == 5  # the 非问题 leads of province 22
    assert sample.by_county == {"220104": 1, "222401": 1, "222426": 1}
    assert {COUNTY[lead] for lead in sample.leads} == {"220104", "222401", "222426"}
    assert "L004" not in sample.leads
    run = ws.read_table_equal("runs", "run_id", sample.run_id).iloc[0]
    assert run["command"] == SAMPLE_COMMAND
    params, counts = json.loads(run["params"]), json.loads(run["counts"])
    assert (params["seed"], params["rate"], params["statuses"], params["areas"]) == (
        7, 0.1, ["not_problem"], ["22"])
    assert counts["leads"] == list(sample.leads)
    recorded, again = redraw(ws, sample.run_id)
    assert recorded == again == list(sample.leads)
    assert draw(ws, province, rate=0.1, seed=7, statuses=["非问题"]).leads == sample.leads
    checks = ws.read_spot_checks(run_id=sample.run_id)
    assert sorted(checks["lead_id"]) == list(sample.leads) and checks["result"].isna().all()
    queue = review.queue(ws, province)
    assert set(queue.loc[queue["task"] == "待抽查复核", "lead_id"]) == set(sample.leads)


def test_a_city_draws_from_its_area_only(ws):
    sample = draw(ws, user(ws, "某市局"), rate=1.0, seed=1)
    assert set(sample.leads) == {"L001", "L002", "L003", "L004", "L006"}


def test_agree_and_disagree(ws):
    province = user(ws, "某省厅")
    sample = draw(ws, province, rate=1.0, seed=3, statuses=["not_problem"])
    assert "L001" in sample.leads and "L002" in sample.leads
    agreed = recheck(ws, province, "L001", agree=True, note=None)
    assert agreed.label == "抽查同意"
    assert history(ws, "L001")["decision"].iloc[-1] == "recheck_agree"
    version = current_state(ws, "L002")["version"]
    disagreed = recheck(ws, province, "L002", agree=False, note="现场仍有建筑",
                        expected_version=version)
    assert disagreed.label == "已退回（省级：抽查不同意：现场仍有建筑）"
    row = history(ws, "L002").iloc[-1]
    assert (row["decision"], row["review_level"], row["by"]) == (
        "recheck_disagree", "province", "某省厅")
    queue = review.queue(ws, user(ws, "甲保护区")).set_index("lead_id")
    assert queue.loc["L002", "task"] == "已退回，修改后重新提交"
    with pytest.raises(ReviewError, match="没有待复核的抽查"):
        recheck(ws, province, "L002", agree=True, note=None)


def test_spot_check_refusals(ws):
    province = user(ws, "某省厅")
    with pytest.raises(PermissionDeniedError, match="不是审核用户"):
        draw(ws, user(ws, "甲保护区"), rate=0.1, seed=7)
    with pytest.raises(ReviewError, match="须在 0 与 1 之间"):
        draw(ws, province, rate=1.5, seed=7)
    with pytest.raises(ReviewError, match="没有可抽查的线索"):
        draw(ws, province, rate=0.1, seed=7, statuses=["closed"])
    with pytest.raises(ReviewError, match="没有待复核的抽查"):
        recheck(ws, province, "L001", agree=True, note=None)
    draw(ws, province, rate=1.0, seed=7)
    with pytest.raises(ReviewError, match="须说明"):
        recheck(ws, province, "L001", agree=False, note=" ")
    with pytest.raises(PermissionDeniedError, match="辖区"):
        recheck(ws, user(ws, "长春市局"), "L001", agree=True, note=None)
    with pytest.raises(ConflictError):
        recheck(ws, province, "L001", agree=True, note=None, expected_version=1)


def test_the_sample_commands(ws):
    where = ["-w", str(getattr(ws, "url", None) or ws.path)]
    runner = CliRunner()
    drawn = runner.invoke(cli, ["review", "sample", "--as", "某省厅", "--rate", "0.1",
                                "--seed", "7", "--status", "not_problem", *where])
    assert drawn.exit_code == 0, drawn.output
    run_id = drawn.output.split()[1]
    leads = drawn.output.strip().splitlines()[-3:]
    again = runner.invoke(cli, ["review", "sample", "--as", "某省厅", "--redraw", run_id, *where])
    assert again.exit_code == 0 and "与记录相同" in again.output, again.output
    checked = runner.invoke(cli, ["review", "recheck", leads[0], "--as", "某省厅",
                                  "--disagree", "--note", "现场仍有建筑", *where])
    assert checked.exit_code == 0 and "抽查不同意" in checked.output, checked.output

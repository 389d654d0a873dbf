from __future__ import annotations

from pipelines.classify.job import classify
from pipelines.progress import no_progress, steps


def test_classify_reports_its_parts_from_zero_to_the_total(classified):
    seen: list[tuple[str, int, int | None]] = []
    report = classify(classified, progress=lambda step, done, total=None:
                      seen.append((step, done, total)))
    assert report.leads == 6
    assert {step for step, _, _ in seen} == {"分类"}
    done = [d for _, d, _ in seen]
    totals = {t for _, _, t in seen}
    assert done[0] == 0 and done == sorted(done) and len(totals) == 1
    assert done[-1] == totals.pop() > 1


def test_steps_count_every_unit_and_the_default_shows_nothing():
    seen: list[int] = []
    units = list(steps(lambda step, done, total=None: seen.append(done), "导出", 3))
    assert units == [0, 1, 2] and seen == [0, 1, 2, 3]
    assert no_progress("导出", 1, 3) is None


def _recorder() -> tuple[list[tuple[str, int, int | None]], object]:
    seen: list[tuple[str, int, int | None]] = []
    return seen, lambda step, done, total=None: seen.append((step, done, total))


def _reaches_its_total(seen: list[tuple[str, int, int | None]], step: str) -> int:
    """The step's counts never go back and end at its (last) total; returns that total."""
    mine = [(d, t) for s, d, t in seen if s == step]
    assert mine, f"no progress under {step!r}"
    done = [d for d, _ in mine]
    assert done[0] == 0 and done == sorted(done)
    assert mine[-1][1] is not None and done[-1] == mine[-1][1]
    return mine[-1][1]


def test_ingest_reports_reading_checking_and_writing_slices(workspace, zones_file, leads_csv,
                                                           monkeypatch):
    from pipelines.ingest import files
    from pipelines.ingest.files import ingest

    seen, record = _recorder()
    ingest(workspace, "reserves", zones_file, progress=record)
    assert [s for s, _, _ in seen].count("写入") == 2 and _reaches_its_total(seen, "写入") == 1
    monkeypatch.setattr(files, "WRITE_ROWS", 4)  # six leads: two slices, two of statuses
    seen, record = _recorder()
    report = ingest(workspace, "leads", leads_csv, crs="EPSG:4490", progress=record)
    assert report.stored == 6
    assert [s for s, _, _ in seen if s != "写入"][:2] == ["读取", "读取"]
    assert _reaches_its_total(seen, "读取") == 1 and _reaches_its_total(seen, "校验") == 1
    assert _reaches_its_total(seen, "写入") == 4
    assert workspace.count("leads") == 6


def test_report_reports_each_section_and_each_sheet(classified, tmp_path):
    from pipelines.publish.report import build_report, write_report

    seen, record = _recorder()
    report = build_report(classified, charts=False, since=None, progress=record)
    assert _reaches_its_total(seen, "汇总报告") == len(report.sections) + 1
    seen, record = _recorder()
    path = write_report(report, tmp_path / "r.xlsx", "xlsx", progress=record)
    assert path.exists() and _reaches_its_total(seen, "写出报告") == len(report.sections) + 1
    seen, record = _recorder()
    write_report(report, tmp_path / "r.md", "md", progress=record)
    assert _reaches_its_total(seen, "写出报告") == 1

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

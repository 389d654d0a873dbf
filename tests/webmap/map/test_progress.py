"""``lvdun map`` tells its progress: the layers read, the page built, the file written."""

from __future__ import annotations

from tests.pipelines.test_progress import _reaches_its_total, _recorder
from webmap.map.publish import publish_map


def test_map_reports_reading_building_and_writing(classified, tmp_path):
    seen, record = _recorder()
    path = publish_map(classified, tmp_path / "map.html", chips=False, progress=record)
    assert path.stat().st_size > 0
    assert _reaches_its_total(seen, "读取图层") == 6
    assert _reaches_its_total(seen, "生成地图") == 7
    assert _reaches_its_total(seen, "写出地图") == 2
    steps = list(dict.fromkeys(s for s, _, _ in seen))
    assert steps == ["读取图层", "生成地图", "写出地图"]

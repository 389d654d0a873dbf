from __future__ import annotations

from layers.i18n import set_language
from pipelines.ingest.files import IngestReport


def test_summary_in_chinese_and_in_english():
    report = IngestReport("leads", "a.csv", "r1", read=4, stored=3, rejected=1, inserted=1,
                          updated=1, unchanged=1, linked=1, changed={"area_m2": 1},
                          kept=["note", "id_source"])
    assert report.summary() == ("读取 4，入库 3，拒绝 1（新增 1，更新 1，未变 1，关联 1）；"
                                "变更：面积 1；文件中没有、保留原值：备注，id_source")
    set_language("en")
    try:
        assert report.summary() == (
            "read 4, stored 3, rejected 1 (new 1, updated 1, unchanged 1, linked 1); "
            "changed: area 1; not in the file, kept as stored: note, id_source")
    finally:
        set_language("zh")

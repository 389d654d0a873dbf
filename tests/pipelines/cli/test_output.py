from __future__ import annotations

import pandas as pd
import pytest
from rich.console import Console

from layers.i18n import set_language
from pipelines.cli.output import print_table

NAMES = ["吉林长白山国家级自然保护区管理局池北区分局", "松花江三湖国家级自然保护区"]
HISTORY = pd.DataFrame({
    "lead_id": ["C2112822009087120030651001", "C2112822009087120030651002"],
    "at": ["2026-12-03T12:15:00+00:00", "2026-12-03T20:16:00+08:00"],
    "deadline": ["2026-12-31", "2027-01-15"],
    "reserve_name": NAMES,
    "zone": ["core_protection", "outside"],
    "status": ["rectifying", "pending"],
    "note": ["现场为新建采石场，已责令停止施工并拆除全部设施，恢复原貌后申请销号", None],
})
HEADERS = {"lead_id": "线索编号", "at": "时间", "deadline": "日期", "reserve_name": "保护区",
           "zone": "分区", "status": "核查状态", "note": "备注"}


def printed(width: int) -> str:
    console = Console(width=width, record=True, highlight=False, color_system=None)
    print_table(HISTORY, HEADERS, "线索", console=console)
    return console.export_text()


def column_text(out: str, index: int) -> str:
    """The cells of column ``index`` of the table's body, top to bottom, joined."""
    cells = [line.split("│")[1:-1] for line in out.splitlines() if line.startswith("│")]
    return "".join(row[index].strip() for row in cells if len(row) > index)


@pytest.mark.parametrize("width", [80, 120])
def test_ids_dates_and_chinese_names_are_never_cut(width):
    out = printed(width)
    assert "…" not in out
    for line in out.splitlines():
        assert len(line) <= width  # cells: a Chinese character is two, the line no wider
    for lead_id in HISTORY["lead_id"]:
        assert lead_id in out
    assert "2026-12-03T20:15:00+08:00" in out and "2026-12-03T20:16:00+08:00" in out
    assert "2026-12-31" in out and "2027-01-15" in out
    names = column_text(out, 3) if width == 120 else column_text(out, 1)
    for name in NAMES:
        assert name in names  # wrapped over lines, every character there


def test_codes_are_shown_as_labels_in_the_language_chosen():
    out = printed(120)
    assert "核心保护区" in out and "整改中" in out and "core_protection" not in out
    set_language("en")
    try:
        out = printed(120)
    finally:
        set_language("zh")
    assert "core protection zone" in out and "rectifying" in out and "lead id" in out


def test_measured_in_cells_a_chinese_name_fits_its_column():
    from rich.cells import cell_len

    out = printed(120)
    rows = [line for line in out.splitlines() if "C2112822009087120030651001" in line]
    assert rows and all(cell_len(line) <= 120 for line in rows)

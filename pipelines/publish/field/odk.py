"""The field package for ODK Collect: an XLSForm follow-up form over the entity list of leads.

Two files, side-loaded onto a phone (or uploaded to ODK Central; no server is needed):

- ``leads.csv``, the entity list ``leads``: ``name`` (the lead id), ``label`` (lead id,
  status and activity), ``geometry`` (ODK geopoint ``lat lon 0 0`` at the lead's centre,
  CGCS2000 ≈ WGS 84), ``status`` (Chinese label) and ``version`` (the lead's version);
- ``<名称>_<代码>_核查.xlsx``, the XLSForm: choose the lead on a map
  (``select_one_from_file leads.csv``, appearance ``map``: Collect shows the leads and
  navigates to the chosen one), record the officer's GPS position, the verdict (核查中 / 问题
  / 非问题), the reason of a 非问题 (``NOT_PROBLEM_REASONS``), notes and up to three photos.
  The form updates the entity's ``status`` (``save_to``), so a lead checked offline shows
  its new status in Collect at once.

Each submission carries the lead's version as packaged (``lead_version``) and the package
identity (``package_id``); ``lvdun field import`` reads the submissions CSV that ODK Central
or Briefcase exports.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from openpyxl import Workbook

from layers.schema import NOT_PROBLEM_REASONS, STATUS_LABELS, Status
from pipelines.escape import csv_cell, file_name, xlsx_row
from pipelines.publish.field import FieldContents

__all__ = [
    "ENTITY_COLUMNS",
    "ENTITY_LIST",
    "REASON_CHOICES",
    "VERDICTS",
    "form_sheets",
    "write_leads_csv",
    "write_odk",
    "write_xlsform",
]

log = logging.getLogger(__name__)

ENTITY_LIST = "leads"
ENTITY_COLUMNS = ("name", "label", "geometry", "status", "version")
#: The verdicts the form offers: choice name (status code) -> label.
VERDICTS: dict[str, str] = {
    Status.IN_FIELD.value: "仍在核查（核查中）",
    Status.PROBLEM.value: STATUS_LABELS[Status.PROBLEM],
    Status.NOT_PROBLEM.value: STATUS_LABELS[Status.NOT_PROBLEM],
}
#: Reason choice names (ASCII, as XForms wants) -> 非问题 reason code.
REASON_CHOICES: dict[str, str] = {f"r{k}": r for k, r in enumerate(NOT_PROBLEM_REASONS, 1)}
PHOTOS = ("photo1", "photo2", "photo3")

_SURVEY_HEADER = ["type", "name", "label", "hint", "appearance", "required", "relevant",
                  "calculation", "save_to", "parameters"]


def _item(field: str) -> str:
    return f"instance('{ENTITY_LIST}')/root/item[name=${{lead}}]/{field}"


def form_sheets(contents: FieldContents) -> dict[str, list[list[str]]]:
    """Return the XLSForm's sheets (survey, choices, settings, entities) as rows."""
    survey: list[list[str]] = [
        ["select_one_from_file leads.csv", "lead", "选择线索（在地图上点选并导航到线索）",
         "线索按核查状态列出；在地图上点选线索后可导航前往", "map", "yes", "", "", "", ""],
        ["calculate", "lead_version", "", "", "", "", "", _item("version"), "", ""],
        ["calculate", "lead_status", "", "", "", "", "", _item("status"), "", ""],
        ["calculate", "package_id", "", "", "", "", "", f"'{contents.package_id}'", "", ""],
        ["note", "lead_info", "线索 ${lead}：当前状态 ${lead_status}（版本 ${lead_version}）",
         "", "", "", "", "", "", ""],
        ["geopoint", "position", "核查位置（到达线索后记录 GPS）", "请在线索现场记录", "",
         "yes", "", "", "", ""],
        ["select_one verdict", "verdict", "核查结论", "", "", "yes", "", "", "", ""],
        ["select_one reason", "reason", "非问题原因", "", "", "yes",
         "${verdict} = 'not_problem'", "", "", ""],
        ["text", "notes", "核查意见", "现场情况、问题描述", "multiline", "", "", "", "", ""],
        *[["image", name, f"现场照片 {k}", "", "", "yes" if k == 1 else "", "", "", "",
           "max-pixels=2048"] for k, name in enumerate(PHOTOS, 1)],
        ["calculate", "status_label", "", "", "", "", "",
         "jr:choice-name(${verdict}, '${verdict}')", "status", ""],
    ]
    choices = [["list_name", "name", "label"],
               *[["verdict", name, label] for name, label in VERDICTS.items()],
               *[["reason", name, label] for name, label in REASON_CHOICES.items()]]
    settings = [["form_title", "form_id", "version", "default_language"],
                [f"{contents.name}（{contents.code}）线索核查",
                 f"lvdun_{file_name(contents.code, max_len=40)}_verify".replace("-", "_"),
                 contents.run_id[:14], "zh"]]
    entities = [["list_name", "entity_id"], [ENTITY_LIST, "${lead}"]]
    return {"survey": [_SURVEY_HEADER, *survey], "choices": choices, "settings": settings,
            "entities": entities}


def write_xlsform(contents: FieldContents, path: Path) -> Path:
    """Write the XLSForm of a package to ``path``; return it."""
    book = Workbook()
    first = True
    for title, rows in form_sheets(contents).items():
        sheet = book.active if first else book.create_sheet()
        first = False
        sheet.title = title
        for row in rows:
            xlsx_row(sheet, row)
    book.save(path)
    return path


def write_leads_csv(contents: FieldContents, path: Path) -> Path:
    """Write the entity list ``leads.csv`` of a package to ``path``; return it."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ENTITY_COLUMNS)
        for row in contents.leads.to_dict(orient="records"):
            label = " ".join(str(v) for v in (row["lead_id"], row["status_label"],
                                              row.get("activity_type"))
                             if isinstance(v, str) and v)
            version = "" if row.get("version") != row.get("version") or \
                row.get("version") is None else str(int(row["version"]))
            writer.writerow([csv_cell(v) for v in (
                str(row["lead_id"]), label, f"{row['lat']:.7f} {row['lon']:.7f} 0 0",
                row["status_label"], version)])
    return path


def write_odk(contents: FieldContents, out_dir: Path) -> list[Path]:
    """Write the XLSForm and ``leads.csv`` of a package into ``out_dir``; return them."""
    form = write_xlsform(contents, out_dir / f"{contents.label}_核查.xlsx")
    leads = write_leads_csv(contents, out_dir / "leads.csv")
    log.info("ODK form of %s: %d leads -> %s", contents.code, len(contents.leads), out_dir)
    return [form, leads]

"""``lvdun field package|import``: the round trip with QField, ODK Collect, 奥维 / 两步路."""

from __future__ import annotations

import json

import click
from rich.markup import escape

from layers.i18n import _
from pipelines.cli.options import handle_errors, open_ws, summary, workspace_option
from pipelines.publish.field import APPS, COORDS, field_package

__all__ = ["field_group"]


@click.group("field")
def field_group() -> None:
    """Field packages for phones, and reading back what the field teams recorded."""


@field_group.command("package")
@workspace_option
@click.option("--reserve", "code", required=True, metavar="CODE", help="The reserve's code.")
@click.option("--app", type=click.Choice(APPS), required=True,
              help="qfield (QField / QGIS), odk (ODK Collect), kmz (奥维 / 两步路).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="field",
              show_default=True, help="Output folder.")
@click.option("--coords", type=click.Choice(COORDS), default="wgs84", show_default=True,
              help="kmz only: gcj02 shifts positions for apps showing GCJ-02 (高德) maps.")
@handle_errors
def package_cmd(workspace: str, code: str, app: str, out_dir: str, coords: str) -> None:
    """Write one reserve's leads as a package for a field app.

    \b
    qfield: <名称>_<代码>.qgz + .gpkg (copy both to the phone; edit 核查状态, 原因, 核查意见,
            take a photo; bring the .gpkg back)
    odk:    <名称>_<代码>_核查.xlsx (XLSForm) + leads.csv (entity list); side-load both or
            upload to ODK Central; export the submissions as CSV
    kmz:    <名称>_<代码>.kmz for 奥维 / 两步路; write in a placemark's description, e.g.
            "核查状态：问题", and save it back as KML/KMZ

    Every package records the version of each lead: `lvdun field import` refuses an edit of
    a lead changed since.

    \b
    Example:
      lvdun field package --reserve R01 --app qfield --out 野外包
      lvdun field package --reserve R01 --app kmz --coords gcj02 --out 野外包
    """
    with open_ws(workspace) as ws:
        package = field_package(ws, code.strip(), app=app, out_dir=out_dir, coords=coords)
    files = _("，").join(str(f) for f in package.files)
    summary(escape(_("{name} [{code}]：{leads} 条线索 → {files}").format(
        name=package.name, code=package.code, leads=package.leads, files=files)))
    summary(escape(_("野外包 {run_id}：外业结果用 `lvdun field import FILE --by NAME` 读回").format(
        run_id=package.run_id)))


@field_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@workspace_option
@click.option("--by", required=True, help="Who did the field work (recorded in the history).")
@click.option("--dry-run", is_flag=True, help="Judge every row and report; change nothing.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@handle_errors
def import_cmd(path: str, workspace: str, by: str, dry_run: bool, fmt: str) -> None:
    """Read back what a field app recorded: a QField .gpkg, ODK submissions .csv, 奥维 .kml/.kmz.

    The rules of `lvdun status import`: legal transitions only (a jump along its only
    forward path), a lead changes only if it was in the package, and an edit of a lead
    changed since the package was made is refused as a conflict showing both sides. A
    second import of the same file changes nothing. Exit code 1 when a row was refused.

    \b
    Example:
      lvdun field import 野外包/甲保护区_R01.gpkg --by 张三 --dry-run
      lvdun field import submissions.csv --by 李四
    """
    from pipelines.cli.output import print_import_rows
    from pipelines.verify.field_import import import_field

    with open_ws(workspace) as ws:
        report = import_field(ws, path, by=by, dry_run=dry_run)
    if fmt == "json":
        payload = {
            "file": str(report.path), "dry_run": report.dry_run, "run_id": report.run_id,
            "counts": {o: report.count(o) for o in ("applied", "unchanged", "refused")},
            "rows": [vars(r) for r in report.rows],
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        print_import_rows(report.rows)
        summary(f"[bold]{escape(report.path.name)}: {escape(report.summary())}[/]")
    if report.count("refused"):
        raise SystemExit(1)

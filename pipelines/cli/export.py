"""``lvdun export``."""

from __future__ import annotations

import click

from pipelines.cli.options import console, handle_errors, open_ws, workspace_option
from pipelines.export import FORMATS, LEDGER_FORMATS, export
from pipelines.packet import write_packets


@click.command("export")
@workspace_option
@click.option("--by", type=click.Choice(["reserve", "county"]), default="reserve",
              show_default=True, help="One list per reserve or per county.")
@click.option("--format", "formats", type=click.Choice([*FORMATS, "packet"]), multiple=True,
              default=("xlsx",), show_default=True,
              help="Output format; repeatable. `packet`: per reserve a folder and zip with "
                   "ledger, GPKG, KML and a printable page per lead.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="exports",
              show_default=True, help="Output folder.")
@handle_errors
def export_cmd(workspace: str, by: str, formats: tuple[str, ...], out_dir: str) -> None:
    """Write verification lists (核查清单) per reserve or county.

    The XLSX and CSV lists are ledgers (台账): fill in the yellow columns (核查状态, 原因,
    整改责任单位, 整改措施, 整改期限, 备注(核查意见)) and read them back with
    `lvdun status import FILE`.

    \b
    Example:
      lvdun export --by reserve --format xlsx --format csv --out exports
      lvdun export --by reserve --format packet --out 核查资料包
    """
    packet = "packet" in formats
    formats = tuple(f for f in formats if f != "packet")
    with open_ws(workspace) as ws:
        if packet:
            for group, folder in write_packets(ws, out_dir, by=by).items():
                console.print(f"{group}: packet → {folder} (+ {folder.name}.zip)")
            if not formats:
                return
        report = export(ws, out_dir, by=by, formats=formats)
    for group, files in report.files.items():
        console.print(f"{group}: {report.rows[group]} leads → {', '.join(map(str, files))}")
    if any(f in LEDGER_FORMATS for f in formats):
        console.print(f"ledgers of export run {report.run_id}: fill them in and read them "
                      "back with `lvdun status import FILE`")

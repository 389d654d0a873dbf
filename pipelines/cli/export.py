"""``lvdun export``."""

from __future__ import annotations

import click
from rich.markup import escape

from pipelines.cli.options import console, handle_errors, open_ws, workspace_option
from pipelines.cli.progress import progress_bar
from pipelines.publish.export import FORMATS, LEDGER_FORMATS, export
from pipelines.publish.packet import export_packets


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
@click.option("--reserve", "reserves", multiple=True, metavar="CODE",
              help="Only this reserve (its code); repeatable, packets too. With --by county: "
                   "a county's adcode.")
@click.option("--outside", is_flag=True,
              help="Only (with --reserve: also) the leads outside every reserve (county).")
@click.option("--pdf/--no-pdf", "pdf", default=None,
              help="Packets: print 核查单.pdf (default: when Chromium is installed).")
@handle_errors
def export_cmd(workspace: str, by: str, formats: tuple[str, ...], out_dir: str,
               reserves: tuple[str, ...], outside: bool, pdf: bool | None) -> None:
    """Write verification lists (核查清单) per reserve or county.

    Leads are grouped by the reserve's code (the county's adcode): one folder per
    reserve, named after it, or `<名称>_<代码>` when two reserves share a name; the leads
    outside every reserve go to `保护区外`.

    The XLSX and CSV lists are ledgers (台账): fill in the yellow columns (核查状态, 原因,
    整改责任单位, 整改措施, 整改期限, 备注(核查意见)) and read them back with
    `lvdun status import FILE`; a ledger changes only the leads of its own reserve.
    A bar per reserve shows how far it is (none with `lvdun -q`).

    \b
    Example:
      lvdun export --by reserve --format xlsx --format csv --out exports
      lvdun export --reserve R01 --reserve R02 --outside --out exports
      lvdun export --by reserve --format packet --out 核查资料包
      lvdun export --reserve R01 --format packet --no-pdf
    """
    packet = "packet" in formats
    formats = tuple(dict.fromkeys(f for f in formats if f != "packet"))
    codes: list[str | None] | None = None
    if reserves or outside:
        codes = [*(c.strip() for c in reserves), *([None] if outside else [])]
    with open_ws(workspace) as ws, progress_bar() as progress:
        if packet:  # one export: the packets' folders hold the other formats too
            packets = export_packets(ws, out_dir, by=by, codes=codes, formats=formats,
                                     pdf=pdf, progress=progress)
            report = packets.export
        else:
            report = export(ws, out_dir, by=by, formats=formats, codes=codes,
                            progress=progress)
    if packet:
        for label, folder in packets.folders.items():
            console.print(f"{escape(label)}: packet → {escape(str(folder))} "
                          f"(+ {escape(folder.name)}.zip)")
        if not formats:
            return
    for group in report.groups.values():
        code = f" [{group.code}]" if group.code is not None else ""
        files = ", ".join(str(f) for f in group.files
                          if not packet or f.suffix.lstrip(".") in formats)
        console.print(escape(f"{group.label}{code}: {group.rows} leads → {files}"))
    if any(f in LEDGER_FORMATS for f in formats):
        console.print(f"ledgers of export run {report.run_id}: fill them in and read them "
                      "back with `lvdun status import FILE`")

"""``lvdun ingest LAYER FILE``."""

from __future__ import annotations

import click

from layers.schema import LAYERS
from pipelines.cli.options import console, handle_errors, open_ws, parse_fields, workspace_option
from pipelines.ingest import ingest


@click.command("ingest")
@click.argument("layer", type=click.Choice(LAYERS))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@workspace_option
@click.option("--layer", "layer_name", help="Layer inside a GPKG, zip or KML.")
@click.option("--sheet", help="Sheet of an XLSX workbook (default: the first with a header).")
@click.option("--crs", help="Input CRS when the file has none or a wrong one, e.g. EPSG:4490.")
@click.option("--coords", type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"]),
              help="Datum or web-map shift of lon/lat coordinates.")
@click.option("--field", "fields", multiple=True, metavar="CANON=COLUMN",
              help="Map a column to a canonical field, e.g. --field lead_id=编号.")
@click.option("--batch", help="Monitoring batch for leads without a 批次 column, e.g. 2024-H1.")
@click.option("--encoding", help="Text encoding of a CSV or .dbf (detected when omitted).")
@click.option("--strict", is_flag=True, help="Fail and store nothing when any row is rejected.")
@click.option("--by", help="Who runs the ingest (recorded in lead history).")
@handle_errors
def ingest_cmd(layer: str, file: str, workspace: str, layer_name: str | None,
               sheet: str | None, crs: str | None, coords: str | None,
               fields: tuple[str, ...], batch: str | None, encoding: str | None,
               strict: bool, by: str | None) -> None:
    """Ingest FILE into LAYER (reserves, wetlands, mines, leads, admin).

    \b
    Example:
      lvdun ingest leads 2024H1线索.xlsx --batch 2024-H1 --crs EPSG:4490
      lvdun ingest reserves 保护区功能区.shp --field zone=分区名称
    """
    with open_ws(workspace, create=True) as ws:
        report = ingest(ws, layer, file, layer_name=layer_name, sheet=sheet, encoding=encoding,
                        crs=crs, coords=coords, fields=parse_fields(fields), batch=batch,
                        strict=strict, by=by)
    for note in report.notes[:20]:
        console.print(f"  [dim]{note}[/]")
    if len(report.notes) > 20:
        console.print(f"  [dim]... {len(report.notes) - 20} more notes in the runs table[/]")
    console.print(f"{layer} ← {file}: [bold]{report.summary()}[/]")
    if report.rejects_path:
        console.print(f"rejected rows with reasons: {report.rejects_path}")

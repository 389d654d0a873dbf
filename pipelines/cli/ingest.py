"""``lvdun ingest reserves|wetlands|mines|leads|admin FILE``."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar

import click
from rich.markup import escape

from layers.i18n import _
from layers.mines import POINT_MINE_RADIUS_M
from layers.schema import LAYERS
from pipelines.cli.options import (
    console,
    handle_errors,
    open_ws,
    parse_fields,
    summary,
    workspace_option,
)
from pipelines.cli.progress import progress_bar

if TYPE_CHECKING:
    from pipelines.ingest.files import IngestReport

__all__ = ["ingest_group", "print_ingest_report"]

_EXAMPLES = {
    "reserves": "lvdun ingest reserves 保护区功能区.shp --field zone=分区名称",
    "wetlands": "lvdun ingest wetlands 湿地名录.xlsx --crs EPSG:4490",
    "mines": "lvdun ingest mines 关闭矿山.gpkg --layer mines",
    "leads": "lvdun ingest leads 2024上半年线索.xlsx --batch 2024-H1 --crs EPSG:4490",
    "admin": "lvdun ingest admin 县界.shp",
}
_WHAT = {
    "reserves": "protected-area boundaries with functional zones",
    "wetlands": "a wetland list (polygons, or a table with centre coordinates)",
    "mines": "closed, historic and licensed mines",
    "leads": "human-activity leads (points or patches) of one monitoring batch",
    "admin": "administrative divisions (counties)",
}


class _IngestGroup(click.Group):
    """The ingest commands; ``change-raster`` (with its rasterio) loads on first use."""

    #: Command name -> the module that adds it to this group when imported.
    _LAZY: ClassVar[dict[str, str]] = {"change-raster": "pipelines.cli.raster"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self._LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self._LAZY:
            import_module(self._LAZY[cmd_name])
        return super().get_command(ctx, cmd_name)


@click.group("ingest", cls=_IngestGroup)
def ingest_group() -> None:
    """Ingest a file into a layer of the workspace (created on first use)."""


def print_ingest_report(layer: str, file: str, report: IngestReport) -> None:
    """Print an ingest's notes and its ``读取 N，入库 S，拒绝 R`` line."""
    for note in report.notes[:20]:
        summary(f"  [dim]{escape(note)}[/]")
    if len(report.notes) > 20:
        summary("  [dim]" + _("…… 另有 {n} 条说明，见 runs 表").format(n=len(report.notes) - 20)
                + "[/]")
    summary(f"{_(_LAYER_NAMES[layer])} ← {escape(file)}: [bold]{escape(report.summary())}[/]")
    if report.rejects_path:
        console.print(_("被拒绝的行及原因：{path}").format(path=escape(str(report.rejects_path))))


#: What each layer is called where people read it.
_LAYER_NAMES = {"reserves": "保护区", "wetlands": "湿地", "mines": "矿山", "leads": "线索",
                "admin": "行政区"}


def _layer_command(layer: str) -> Callable[..., Any]:
    @click.command(layer, help=f"Ingest FILE as {_WHAT[layer]}.\n\n\b\nExample:\n  "
                   f"{_EXAMPLES[layer]}")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @workspace_option
    @click.option("--layer", "layer_name", help="Layer inside a GPKG, zip or KML.")
    @click.option("--sheet", help="Sheet of an XLSX workbook (default: the first with a header).")
    @click.option("--crs", help="Input CRS when the file has none or a wrong one, e.g. "
                  "EPSG:4326; lon/lat degrees inside China without one are read as "
                  "CGCS2000 (EPSG:4490).")
    @click.option("--coords", type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"]),
                  help="Datum or web-map shift of lon/lat coordinates.")
    @click.option("--field", "fields", multiple=True, metavar="CANON=COLUMN",
                  help="Map a column to a canonical field, e.g. --field lead_id=编号.")
    @click.option("--batch", help="Monitoring batch for leads without a 批次 column "
                  "(required then: the ingest refuses the file without it).")
    @click.option("--encoding", help="Text encoding of a CSV or .dbf (detected when omitted).")
    @click.option("--strict", is_flag=True, help="Store nothing when any row is rejected.")
    @click.option("--by", help="Who runs the ingest (recorded in lead history).")
    @handle_errors
    def command(file: str, workspace: str, layer_name: str | None, sheet: str | None,
                crs: str | None, coords: str | None, fields: tuple[str, ...],
                batch: str | None, encoding: str | None, strict: bool, by: str | None,
                **layer_options: Any) -> None:
        from pipelines.ingest.files import ingest

        with open_ws(workspace, create=True) as ws, progress_bar() as progress:
            report = ingest(ws, layer, file, layer_name=layer_name, sheet=sheet,
                            encoding=encoding, crs=crs, coords=coords,
                            fields=parse_fields(fields), batch=batch, strict=strict, by=by,
                            progress=progress, **layer_options)
        print_ingest_report(layer, file, report)

    if layer == "mines":
        command = click.option(
            "--point-radius", "point_radius_m", type=float, default=POINT_MINE_RADIUS_M,
            show_default=True,
            help="Metres within which a mine given as a point without an area (a GEM "
                 "tracker location) matches leads.")(command)
    return command


for _layer in LAYERS:
    ingest_group.add_command(_layer_command(_layer))

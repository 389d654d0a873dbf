"""``lvdun ingest change-raster MASK.tif`` and ``lvdun chips --before IMG --after IMG``."""

from __future__ import annotations

from collections.abc import Callable

import click
from rich.markup import escape

from layers.i18n import _
from pipelines.cli.ingest import ingest_group, print_ingest_report
from pipelines.cli.options import console, handle_errors, open_ws, summary, workspace_option
from pipelines.cli.progress import progress_bar
from pipelines.progress import Progress

__all__ = ["change_raster_cmd", "chips_cmd"]


def _step(progress: Progress, step: str) -> Callable[[int, int], None]:
    """The ``(done, total)`` callback of a raster job, reporting as ``step``."""
    return lambda done, total: progress(step, done, total)


def _bands(value: str | None) -> tuple[int, ...] | None:
    if not value:
        return None
    try:
        bands = tuple(int(v) for v in value.replace(" ", "").split(","))
    except ValueError:
        raise click.BadParameter(_("{value!r}：波段号写成 3,2,1 这样").format(value=value),
                                 param_hint="--bands") from None
    if len(bands) not in (1, 3) or min(bands) < 1:
        raise click.BadParameter(_("{value!r}：给出三个波段（红,绿,蓝）或一个").format(
                                 value=value),
                                 param_hint="--bands")
    return bands


@click.command("change-raster")
@click.argument("mask", type=click.Path(exists=True, dir_okay=False))
@workspace_option
@click.option("--batch", required=True, help="Monitoring batch, e.g. 2024-H1 (part of lead ids).")
@click.option("--min-area-m2", type=float, default=200.0, show_default=True,
              help="Drop (and count as rejected) patches smaller than this, in m².")
@click.option("--before-date", help="Date of the earlier image (前时相), YYYY-MM-DD.")
@click.option("--after-date", help="Date of the later image (后时相), YYYY-MM-DD.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False),
              help="CSV or JSON: raster value -> activity type (1,采石场).")
@click.option("--band", type=int, default=1, show_default=True, help="Band with the classes.")
@click.option("--connectivity", type=click.Choice(["4", "8"]), default="4", show_default=True,
              help="Pixels joined by edges (4) or also by corners (8) form one patch.")
@click.option("--window", "window_size", type=click.IntRange(16), default=2048,
              show_default=True, help="Pixels per side read at a time.")
@click.option("--crs", help="The raster's CRS when it declares none, e.g. EPSG:32652.")
@click.option("--strict", is_flag=True, help="Store nothing when any patch is rejected.")
@click.option("--by", help="Who runs the ingest (recorded in lead history).")
@handle_errors
def change_raster_cmd(mask: str, workspace: str, batch: str, min_area_m2: float,
                      before_date: str | None, after_date: str | None, mapping: str | None,
                      band: int, connectivity: str, window_size: int, crs: str | None,
                      strict: bool, by: str | None) -> None:
    """Turn a change mask (GeoTIFF, non-zero = change) into patch leads.

    Adjacent pixels of one value become one patch lead with its area (equal-area m²),
    centroid, pixel count and class; ids are R-<batch>-<raster name>-<patch number>.

    \b
    Example:
      lvdun ingest change-raster 变化图斑_2024H1.tif --batch 2024-H1 \\
          --before-date 2023-09-01 --after-date 2024-05-01 --mapping classes.csv
    """
    from pipelines.ingest.rasters import ingest_change_raster

    with open_ws(workspace, create=True) as ws, progress_bar() as progress:
        report = ingest_change_raster(
            ws, mask, batch=batch, min_area_m2=min_area_m2, date_before=before_date,
            date_after=after_date, mapping=mapping, band=band, window_size=window_size,
            connectivity=int(connectivity), crs=crs, strict=strict, by=by,
            progress=_step(progress, _("矢量化")),
        )
    print_ingest_report("leads", mask, report)


@click.command("chips")
@workspace_option
@click.option("--before", type=click.Path(exists=True, dir_okay=False),
              help="The earlier image (any GeoTIFF with a CRS).")
@click.option("--after", type=click.Path(exists=True, dir_okay=False),
              help="The later image.")
@click.option("--size-m", type=float, default=500.0, show_default=True,
              help="Chip width in metres (wider for patches that need it).")
@click.option("--pixels", type=click.IntRange(16, 4096), default=512, show_default=True,
              help="Chip width in pixels.")
@click.option("--bands", help="Bands shown as red,green,blue (or one band), e.g. 3,2,1.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Folder for the PNGs (default: <workspace>_chips next to the workspace).")
@click.option("--lead", "lead_ids", multiple=True, help="Only this lead (repeatable).")
@click.option("--before-date", help="Date of the earlier image, recorded with the chips.")
@click.option("--after-date", help="Date of the later image.")
@handle_errors
def chips_cmd(workspace: str, before: str | None, after: str | None, size_m: float,
              pixels: int, bands: str | None, out_dir: str | None, lead_ids: tuple[str, ...],
              before_date: str | None, after_date: str | None) -> None:
    """Make before/after image chips (PNG) for every lead, with its outline drawn.

    Chips are stored with the lead (path and sha256 in the workspace); leads the image
    does not cover get none and are listed.

    \b
    Example:
      lvdun chips --before GF2_20230901.tif --after GF2_20240501.tif --bands 3,2,1
    """
    use_bands = _bands(bands)
    if before is None and after is None:
        raise click.UsageError(_("请给出 --before IMAGE、--after IMAGE 或两者"))
    from pipelines.publish.chips import make_chips

    with open_ws(workspace) as ws, progress_bar() as progress:
        report = make_chips(ws, before=before, after=after, size_m=size_m, pixels=pixels,
                            bands=use_bands, out_dir=out_dir, lead_ids=lead_ids or None,
                            before_date=before_date, after_date=after_date,
                            progress=_step(progress, _("影像切片")))
    for kind, made in report.made.items():
        outside = report.outside[kind]
        what = _(_CHIP_KINDS.get(kind, kind))
        summary(_("{kind}：[bold]{made} 张切片[/]，{n} 条线索在影像外").format(
            kind=what, made=made, n=len(outside)))
        if outside:
            shown = escape(_("，").join(outside[:20]))
            more = _(" …… 另有 {n} 条（见 runs 表）").format(n=len(outside) - 20) \
                if len(outside) > 20 else ""
            console.print("  [dim]" + _("无{kind}切片：{leads}{more}").format(
                kind=what, leads=shown, more=more) + "[/]")
    summary(_("切片在 {path}").format(path=escape(str(report.out_dir))))


#: The two images of a lead's chips, as people call them.
_CHIP_KINDS = {"before": "前时相", "after": "后时相"}


ingest_group.add_command(change_raster_cmd)

"""Before/after image chips for every lead, stored with the lead (path and sha256).

A chip is a square north-up PNG centred on the lead's centroid, ``size_m`` metres wide
(wider when the patch needs it), cut from the before or after image with a windowed
read, reprojected from the image's CRS, contrast-stretched per chip (percentiles 2-98)
and with the lead's outline drawn on top. The same grid is used for both images, so the
before and after chips of a lead line up pixel for pixel.

Chips are written to a folder next to the workspace (``<workspace stem>_chips/``) and
recorded in the ``lead_chips`` table, one row per lead and kind (``before``/``after``),
keyed ``<lead_id>:<kind>``. A lead whose centre lies outside an image (or under nodata
only) gets no chip of that kind, and keeps one made earlier from another image, so
imagery delivered in tiles can be run tile by tile.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import CRS, Transformer

from geo.chips import chip_grid, default_bands, outline_mask, read_chip, stretch, to_png
from geo.crs import CGCS2000, transformer
from geo.errors import RasterError
from layers.files import file_sha256
from pipelines.errors import PipelineError
from pipelines.publish.export import safe_name
from pipelines.store.base import Workspace, new_run_id, now_iso

__all__ = ["CHIP_TABLE", "KINDS", "ChipReport", "chips_dir", "make_chips"]

log = logging.getLogger(__name__)

CHIP_TABLE = "lead_chips"
KINDS = ("before", "after")
#: Outline colour (RGB): yellow reads well on vegetation, soil and water.
OUTLINE = (255, 255, 0)
#: A patch fills at most this share of the chip's side.
_FILL = 0.8


@dataclass
class ChipReport:
    """What :func:`make_chips` did.

    Attributes
    ----------
    run_id, out_dir
        The run and the folder the PNGs went to.
    leads
        Leads considered.
    made
        Chips written per kind.
    outside
        Per kind, the ids of leads the image does not cover (no chip made).
    """

    run_id: str
    out_dir: Path
    leads: int
    made: dict[str, int] = field(default_factory=dict)
    outside: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> str:
        """One line per kind: ``before: 12 chips, 3 leads outside the image``."""
        return "; ".join(
            f"{kind}: {self.made[kind]} chips, {len(self.outside[kind])} leads outside the image"
            for kind in self.made
        )


def chips_dir(ws: Workspace) -> Path:
    """Return the default chip folder: ``<workspace stem>_chips`` next to the workspace."""
    loc = Path(getattr(ws, "path", Path.cwd() / "lvdun"))
    return loc.parent / f"{loc.stem}_chips"


def make_chips(
    ws: Workspace,
    *,
    before: str | Path | None = None,
    after: str | Path | None = None,
    size_m: float = 500.0,
    pixels: int = 512,
    bands: Sequence[int] | None = None,
    out_dir: str | Path | None = None,
    lead_ids: Sequence[str] | None = None,
    before_date: str | None = None,
    after_date: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ChipReport:
    """Make before/after chips for every lead (or ``lead_ids``) and record them.

    Parameters
    ----------
    ws : Workspace
        The workspace holding the leads.
    before, after : str, pathlib.Path or None
        The two images (any raster GDAL reads, with a CRS); at least one.
    size_m : float
        Chip width in metres; a patch larger than 80 % of it gets a wider chip.
    pixels : int
        Chip width in pixels.
    bands : sequence of int, optional
        Bands shown as red, green, blue (or one band as grey); default: the bands
        marked red/green/blue, else 1-3, else 1.
    out_dir : str, pathlib.Path or None
        Folder for the PNGs (default :func:`chips_dir`).
    lead_ids : sequence of str, optional
        Only these leads.
    before_date, after_date : str or None
        Image dates recorded with the chips.
    progress : callable or None
        Called with ``(steps done, steps in all)``, one step per lead and image.

    Returns
    -------
    ChipReport

    Raises
    ------
    PipelineError
        No image given, no leads, an unknown lead id, or an image that cannot be read.
    """
    images = {k: Path(p) for k, p in (("before", before), ("after", after)) if p is not None}
    if not images:
        raise PipelineError("give --before IMAGE, --after IMAGE or both")
    if size_m <= 0 or pixels < 16:
        raise PipelineError(f"a chip needs --size-m > 0 and at least 16 pixels, got "
                            f"{size_m:g} m and {pixels} px")
    leads = ws.read_features("leads")
    if lead_ids is not None:
        missing = sorted(set(lead_ids) - set(leads["lead_id"]))
        if missing:
            raise PipelineError(f"no lead {missing[0]!r} in the workspace"
                                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
        leads = leads[leads["lead_id"].isin(list(lead_ids))]
    leads = leads[~(leads.geometry.isna() | leads.geometry.is_empty)].reset_index(drop=True)
    if leads.empty:
        raise PipelineError("no leads to make chips for: ingest leads first")
    out = Path(out_dir) if out_dir is not None else chips_dir(ws)
    out.mkdir(parents=True, exist_ok=True)
    run_id, started = new_run_id(), now_iso()
    report = ChipReport(run_id=run_id, out_dir=out, leads=len(leads))
    dates = {"before": before_date, "after": after_date}
    rows: list[dict[str, object]] = []
    steps, done = len(leads) * len(images), 0
    for kind, image in images.items():
        made, outside = [], []
        try:
            src = rasterio.open(image)
        except rasterio.errors.RasterioIOError as exc:
            raise PipelineError(f"{image.name}: cannot read the image ({exc})") from exc
        with src:
            use = tuple(bands) if bands else default_bands(src)
            if src.crs is None:
                raise PipelineError(f"{image.name} declares no CRS: set it, e.g. "
                                    f"gdal_edit.py -a_srs EPSG:32652 {image.name}")
            to_image = transformer(CGCS2000, CRS.from_wkt(src.crs.to_wkt()))
            for lead_id, geom in zip(leads["lead_id"], leads.geometry.values, strict=True):
                try:
                    chip = _chip(src, geom, to_image, size_m=size_m, pixels=pixels,
                                 bands=use)
                except RasterError as exc:
                    raise PipelineError(f"{image.name}: {exc}") from exc
                done += 1
                if progress is not None:
                    progress(done, steps)
                if chip is None:
                    outside.append(str(lead_id))
                    continue
                png, side = chip
                path = (out / f"{safe_name(str(lead_id), max_len=120)}_{kind}.png").resolve()
                path.write_bytes(png)
                made.append(str(lead_id))
                rows.append({
                    "chip_id": f"{lead_id}:{kind}", "lead_id": lead_id, "kind": kind,
                    "path": str(path), "sha256": hashlib.sha256(png).hexdigest(),
                    "size_m": side, "pixels": pixels, "bands": ",".join(map(str, use)),
                    "image": str(image.resolve()), "image_date": dates[kind],
                    "created_at": now_iso(), "run_id": run_id,
                })
        report.made[kind] = len(made)
        report.outside[kind] = outside
        if outside:
            log.warning("%s: %d leads outside the image: %s%s", image.name, len(outside),
                        ", ".join(outside[:10]), " ..." if len(outside) > 10 else "")
    with ws.transaction():
        if rows:
            ws.upsert_rows(CHIP_TABLE, pd.DataFrame(rows))
        ws.record_run(
            run_id, "chips", started_at=started,
            params={"size_m": size_m, "pixels": pixels, "bands": list(bands or []),
                    "out_dir": str(out), "lead_ids": list(lead_ids or []),
                    "before_date": before_date, "after_date": after_date},
            inputs=[{"path": str(p), "kind": k, "sha256": file_sha256(p)}
                    for k, p in images.items()],
            counts={"leads": report.leads, **{f"{k}_chips": n for k, n in report.made.items()},
                    **{f"{k}_outside": len(v) for k, v in report.outside.items()}},
            message="; ".join(f"{k} outside: {', '.join(v[:20])}"
                              for k, v in report.outside.items() if v),
        )
    log.info("chips: %s", report.summary())
    return report


def _chip(
    src: rasterio.io.DatasetReader,
    geom: shapely.Geometry,
    to_image: Transformer,
    *,
    size_m: float,
    pixels: int,
    bands: tuple[int, ...],
) -> tuple[bytes, float] | None:
    """Return the PNG bytes and width in metres of one lead's chip, None when outside."""
    centre = shapely.centroid(geom)
    lon, lat = centre.x, centre.y
    x, y = to_image.transform(lon, lat)
    if not (np.isfinite(x) and np.isfinite(y)):
        return None
    row, col = src.index(x, y)
    if not (0 <= row < src.height and 0 <= col < src.width):
        return None
    probe = chip_grid(lon, lat, side_m=size_m, size=pixels)
    local = probe.from_lonlat(geom)
    reach = max(abs(v) for v in local.bounds) * 2.0
    side = max(float(size_m), reach / _FILL)
    grid = probe if side == size_m else chip_grid(lon, lat, side_m=side, size=pixels)
    data = read_chip(src, grid, bands=bands)
    if data is None:
        return None
    rgb = stretch(data)
    rgb[outline_mask(local, grid)] = OUTLINE
    return to_png(rgb), side


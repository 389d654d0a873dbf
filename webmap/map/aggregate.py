"""Lead aggregates and the offline background of the published map.

The background (:class:`OfflineBackground`): China's provinces and counties with their names,
its neighbours, large rivers and lakes under every layer while no online basemap is shown.
The aggregates: grid cells instead of 10^5 leads when zoomed out.

Below :data:`AGGREGATE_BELOW_ZOOM`, a map of more than :data:`AGGREGATE_ABOVE` leads draws
grid cells of about :data:`CELL_PX` pixels (``static/lvdun-cluster.js``): each with its
count, coloured by its share of open problems (问题, 整改中), its tooltip counting every
status; a click zooms into the cell. Past the threshold the leads themselves are drawn.
The cells are counted in the browser from the leads in the page, so they follow the filters.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from folium.map import Layer

from layers.schema import STATUS_LABELS
from pipelines.escape import script_json
from webmap.map.elements import ScriptElement, VectorLayer

__all__ = ["AGGREGATE_ABOVE", "AGGREGATE_BELOW_ZOOM", "CELL_PX", "LeadAggregates",
           "OfflineBackground"]

#: China's provinces, neighbours, rivers and lakes; counties (scripts/build_background.py).
BACKGROUND = Path(__file__).resolve().parents[1] / "static" / "lvdun-background.json"
BACKGROUND_COUNTIES = BACKGROUND.with_name("lvdun-background-counties.json")

#: Aggregate only maps of more leads than this: a few thousand markers still read well.
AGGREGATE_ABOVE = 5000
#: Zoom from which the leads are drawn (12: about 40 m a pixel at 40° N).
AGGREGATE_BELOW_ZOOM = 12
#: Side of a grid cell on the screen, in pixels.
CELL_PX = 64


class LeadAggregates(ScriptElement):
    """``lvdun.aggregateLeads(map, leads, spec)``: the grid cells of a leads layer.

    Parameters
    ----------
    leads
        The leads layer.
    min_leads
        Aggregate only when the layer holds more leads than this.
    """

    def __init__(self, leads: VectorLayer, *, min_leads: int = AGGREGATE_ABOVE) -> None:
        super().__init__()
        self._name = "LeadAggregates"
        self.leads_js = leads.get_name()
        spec: dict[str, Any] = {
            "minLeads": min_leads,
            "belowZoom": AGGREGATE_BELOW_ZOOM,
            "cellPx": CELL_PX,
            "labels": {status.value: label for status, label in STATUS_LABELS.items()},
        }
        self.spec_js = script_json(spec)

    def script(self) -> str:
        """``lvdun.aggregateLeads(map, leads, spec)``."""
        return (f"lvdun.aggregateLeads({self._parent.get_name()}, {self.leads_js}, "
                f"{self.spec_js});")


@cache
def _background(path: Path, *, as_text: bool = False) -> str:
    """The file as a JSON value, or (``as_text``) as a JSON string of its text."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if as_text:
        return script_json(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return script_json(data)


class OfflineBackground(ScriptElement):
    """``lvdun.offlineBackground(map, group, data, counties)``: the light background.

    China with its provinces and counties (names included), its neighbours, large rivers
    and lakes, drawn into ``group`` (the base layer shown when no online basemap is chosen),
    so that the map has a context without internet. Both files are inlined: the page may be
    opened from disk, where it can fetch nothing; the counties as a JSON string, which the
    page parses only when first zoomed in to them.

    Parameters
    ----------
    group
        The base layer to draw into.
    """

    def __init__(self, group: Layer) -> None:
        super().__init__()
        self._name = "OfflineBackground"
        self.group_js = group.get_name()
        self.data_js = _background(BACKGROUND)
        # a string, parsed only when the map is first zoomed in to the counties
        self.counties_js = _background(BACKGROUND_COUNTIES, as_text=True)

    def script(self) -> str:
        """``lvdun.offlineBackground(map, group, data, counties)``."""
        return (f"lvdun.offlineBackground({self._parent.get_name()}, {self.group_js}, "
                f"{self.data_js}, {self.counties_js});")

"""Lead aggregates of the published map: grid cells instead of 10^5 leads when zoomed out.

Below :data:`AGGREGATE_BELOW_ZOOM`, a map of more than :data:`AGGREGATE_ABOVE` leads draws
grid cells of about :data:`CELL_PX` pixels (``static/lvdun-cluster.js``): each with its
count, coloured by its share of open problems (问题, 整改中), its tooltip counting every
status; a click zooms into the cell. Past the threshold the leads themselves are drawn.
The cells are counted in the browser from the leads in the page, so they follow the filters.
"""

from __future__ import annotations

from typing import Any

from layers.schema import STATUS_LABELS
from pipelines.escape import script_json
from webmap.map.elements import ScriptElement, VectorLayer

__all__ = ["AGGREGATE_ABOVE", "AGGREGATE_BELOW_ZOOM", "CELL_PX", "LeadAggregates"]

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

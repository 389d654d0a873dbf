"""Lead / zone overlay in SQL on a PostGIS workspace (``lvdun classify --engine postgis``).

The zone polygons are subdivided (``ST_Subdivide``) into a temporary table with a GiST
index. A lead in the interior of a piece (``ST_ContainsProperly``, a test against a few
hundred vertices) lies in the piece's zone; every other candidate is tested with
``ST_Intersects`` against the stored zone polygon, so the answer equals GEOS
``intersects`` on the same coordinates.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from psycopg import sql

if TYPE_CHECKING:
    from pipelines.store.postgis import PostGISWorkspace

__all__ = ["lead_zone_fids"]


def lead_zone_fids(ws: PostGISWorkspace, subdivide_vertices: int) -> list[tuple[int, int]]:
    """Return the distinct ``(lead fid, reserves fid)`` pairs whose geometries intersect.

    Parameters
    ----------
    ws : PostGISWorkspace
        The workspace holding the ``leads`` and ``reserves`` layers.
    subdivide_vertices : int
        Most vertices per piece of a subdivided zone polygon.

    Returns
    -------
    list of tuple
        The pairs in no particular order; empty lead geometries never match.
    """
    conn = ws.conn
    parts = sql.Identifier(f"lvdun_zone_parts_{secrets.token_hex(6)}")
    leads_t = ws._qualified("leads")
    zones_t = ws._qualified("reserves")
    try:
        conn.execute(sql.SQL(
            "CREATE TEMP TABLE {parts} AS SELECT fid AS zone_fid, "
            "ST_Subdivide(geom, {n}) AS geom FROM {zones} "
            "WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom)"
        ).format(parts=parts, n=sql.Literal(subdivide_vertices), zones=zones_t))
        conn.execute(sql.SQL("CREATE INDEX ON {} USING GIST (geom)").format(parts))
        conn.execute(sql.SQL("ANALYZE {}").format(parts))
        # a lead inside a piece's interior lies in its zone: no test against the whole
        # polygon; the others (across a piece's edge, or only near it) are tested exactly
        rows = conn.execute(sql.SQL(
            "SELECT DISTINCT fid, zone_fid FROM ("
            "SELECT l.fid, p.zone_fid FROM {leads} l JOIN {parts} p ON l.geom && p.geom "
            "WHERE NOT ST_IsEmpty(l.geom) AND ST_ContainsProperly(p.geom, l.geom) "
            "UNION ALL "
            "SELECT l.fid, z.fid FROM {leads} l JOIN {parts} p ON l.geom && p.geom "
            "JOIN {zones} z ON z.fid = p.zone_fid "
            "WHERE NOT ST_IsEmpty(l.geom) AND NOT ST_ContainsProperly(p.geom, l.geom) "
            "AND ST_Intersects(z.geom, l.geom)) u"
        ).format(leads=leads_t, parts=parts, zones=zones_t)).fetchall()
    finally:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(parts))
    return [(int(a), int(b)) for a, b in rows]

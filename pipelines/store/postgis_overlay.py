"""Lead / zone overlay in SQL on a PostGIS workspace (``lvdun classify --engine postgis``).

The zone polygons are subdivided (``ST_Subdivide``) into a table with a GiST index, kept
until the zones change (:func:`zone_parts`). A lead in the interior of a piece
(``ST_ContainsProperly``, a test against a few hundred vertices) lies in the piece's
zone; every other candidate is tested with ``ST_Intersects`` against the stored zone
polygon, so the answer equals GEOS ``intersects`` on the same coordinates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from psycopg import sql

if TYPE_CHECKING:
    from pipelines.store.postgis import PostGISWorkspace

__all__ = ["PARTS_TABLE", "lead_zone_fids", "zone_parts"]


#: The subdivided zone polygons, kept between runs in the workspace's schema; its comment
#: names the polygons it was cut from (a digest of every zone geometry) and the piece size.
PARTS_TABLE = "lvdun_zone_parts"


def _zones_signature(ws: PostGISWorkspace, subdivide_vertices: int) -> str:
    """What the pieces were cut from: piece size, count and digest of the zone geometries."""
    row = ws.conn.execute(sql.SQL(
        "SELECT count(*), md5(COALESCE(string_agg(md5(ST_AsEWKB(geom)), ',' ORDER BY fid), "
        "'')) FROM {zones}").format(zones=ws._qualified("reserves"))).fetchone()
    return f"ST_Subdivide {int(subdivide_vertices)}; {row[0]} zones; md5 {row[1]}"


def _parts_signature(ws: PostGISWorkspace) -> str | None:
    row = ws.conn.execute("SELECT obj_description(to_regclass(%s), 'pg_class')",
                          (ws._qualified(PARTS_TABLE).as_string(ws.conn),)).fetchone()
    return None if row is None else row[0]


def zone_parts(ws: PostGISWorkspace, subdivide_vertices: int) -> sql.Identifier:
    """Return the table of subdivided zone polygons, cut again only when the zones changed.

    ``ST_Subdivide`` of detailed zones takes long (11 s for China's 2,875 counties); the
    pieces are kept in :data:`PARTS_TABLE` (unlogged, with a GiST index), labelled with a
    digest of every zone geometry, and reused while the digest matches.

    Parameters
    ----------
    ws : PostGISWorkspace
        The workspace holding the ``reserves`` layer.
    subdivide_vertices : int
        Most vertices per piece.
    """
    conn = ws.conn
    parts = ws._qualified(PARTS_TABLE)
    signature = _zones_signature(ws, subdivide_vertices)
    if _parts_signature(ws) == signature:
        return parts
    with ws.transaction():  # its lock: one run cuts the pieces, another waits and reuses
        if _parts_signature(ws) == signature:
            return parts
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(parts))
        conn.execute(sql.SQL(
            "CREATE UNLOGGED TABLE {parts} AS SELECT fid AS zone_fid, "
            "ST_Subdivide(geom, {n}) AS geom FROM {zones} "
            "WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom)"
        ).format(parts=parts, n=sql.Literal(subdivide_vertices),
                 zones=ws._qualified("reserves")))
        conn.execute(sql.SQL("CREATE INDEX ON {} USING GIST (geom)").format(parts))
        conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(parts,
                                                                 sql.Literal(signature)))
    conn.execute(sql.SQL("ANALYZE {}").format(parts))
    return parts


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
    parts = zone_parts(ws, subdivide_vertices)
    leads_t = ws._qualified("leads")
    zones_t = ws._qualified("reserves")
    # a lead inside a piece's interior lies in its zone: no test against the whole
    # polygon; the others (across a piece's edge, or only near it) are tested exactly
    rows = ws.conn.execute(sql.SQL(
        "SELECT DISTINCT fid, zone_fid FROM ("
        "SELECT l.fid, p.zone_fid FROM {leads} l JOIN {parts} p ON l.geom && p.geom "
        "WHERE NOT ST_IsEmpty(l.geom) AND ST_ContainsProperly(p.geom, l.geom) "
        "UNION ALL "
        "SELECT l.fid, z.fid FROM {leads} l JOIN {parts} p ON l.geom && p.geom "
        "JOIN {zones} z ON z.fid = p.zone_fid "
        "WHERE NOT ST_IsEmpty(l.geom) AND NOT ST_ContainsProperly(p.geom, l.geom) "
        "AND ST_Intersects(z.geom, l.geom)) u"
    ).format(leads=leads_t, parts=parts, zones=zones_t)).fetchall()
    return [(int(a), int(b)) for a, b in rows]

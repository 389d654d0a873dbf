"""What QGIS and other GIS clients read from a workspace besides the layers themselves.

:class:`StyleQueries` (mixed into the workspace through :class:`~pipelines.store.queries.
JobQueries`) writes the ``layer_styles`` table in the layout QGIS and the GeoPackage
"layer styles" extension use, and the view ``lead_status_view``: every lead with its
classification and current state under Chinese column names, registered as a feature
layer (``gpkg_contents``, ``gpkg_geometry_columns``) so that QGIS lists it; in PostGIS a
plain view, found through ``geometry_columns``. Neither is a layer or table of
:mod:`~pipelines.store.tables`: copies, counts and exports leave them alone, and the view
is always current (no refresh after a status change).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import geopandas as gpd

import numpy as np
import shapely

from layers.schema import STATUS_LABELS
from pipelines.errors import StoreError
from pipelines.escape import sql_identifier as q

__all__ = ["STYLES_TABLE", "VIEW", "VIEW_COLUMNS", "StyleQueries"]

STYLES_TABLE = "layer_styles"
VIEW = "lead_status_view"

#: Columns of the view: name in the view -> SQL over leads ``l``, lead_class ``c``,
#: lead_status ``s``. ``status`` keeps the state's code, the style's attribute.
VIEW_COLUMNS: dict[str, str] = {
    "线索编号": 'l."lead_id"',
    "批次": 'l."batch"',
    "活动类型": 'l."activity_type"',
    "变化类型": 'l."change_type"',
    "面积_平方米": 'l."area_m2"',
    "保护区编码": 'c."reserve_code"',
    "保护区": 'c."reserve_name"',
    "功能区": 'c."zone_label"',
    "县区": 'c."county_name"',
    "status": 's."status"',
    "核查状态": "CASE s.\"status\" " + " ".join(
        f"WHEN '{code.value}' THEN '{label}'" for code, label in STATUS_LABELS.items()
    ) + " END",
    "责任单位": 's."responsible_unit"',
    "整改期限": 's."deadline"',
    "更新时间": 's."updated_at"',
}

_GPKG_STYLES_DDL = f"""CREATE TABLE IF NOT EXISTS {STYLES_TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),
    f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256),
    styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN,
    description TEXT, owner TEXT(30), ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""

# QGIS's own layout of public.layer_styles (names unquoted, so lower case)
_PG_STYLES_DDL = f"""CREATE TABLE IF NOT EXISTS public.{STYLES_TABLE} (
    id SERIAL PRIMARY KEY, f_table_catalog varchar, f_table_schema varchar,
    f_table_name varchar, f_geometry_column varchar, stylename text, styleqml xml,
    stylesld xml, useasdefault boolean, description text,
    owner varchar(63) DEFAULT CURRENT_USER, ui xml,
    update_time timestamp DEFAULT CURRENT_TIMESTAMP, type varchar)"""

#: Descriptions of the styles lvdun writes start so (others' styles are kept).
OWN_PREFIX = "lvdun:"


class StyleQueries:
    """The styles table and the leads view (a mixin of the workspace)."""

    if TYPE_CHECKING:  # supplied by Workspace
        location: str
        schema: str  # PostGIS only

        @property
        def kind(self) -> str: ...

        def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

        def _has_table(self, name: str) -> bool: ...

        def read_features(self, layer: str, *, where: str = "", params: Sequence[Any] = (),
                          columns: Sequence[str] | None = None) -> gpd.GeoDataFrame: ...

    def _style_scope(self) -> tuple[str, str, str]:
        """``(table, catalog, schema)`` of the styles rows of this workspace."""
        if self.kind == "postgis":
            catalog = self.execute("SELECT current_database()").fetchone()[0]
            return f"public.{STYLES_TABLE}", str(catalog), str(self.schema)
        return STYLES_TABLE, "", ""

    def write_layer_styles(self, styles: Sequence[tuple[str, str, str, str, bool, str]]
                           ) -> int:
        """Replace the styles lvdun wrote with ``styles``, keeping everyone else's.

        Parameters
        ----------
        styles : sequence of tuple
            ``(layer, name, qml, sld, default, description)``; ``description`` starts with
            ``"lvdun:"``. A default style makes the layer's other styles not default.

        Returns
        -------
        int
            Styles written.
        """
        if self.kind == "postgis":
            exists = self.execute("SELECT to_regclass('public.layer_styles')").fetchone()[0]
            allowed = self.execute(
                "SELECT has_table_privilege('public.layer_styles', 'INSERT, UPDATE, DELETE')"
                if exists else "SELECT has_schema_privilege('public', 'CREATE')").fetchone()[0]
            if not allowed:
                raise StoreError(
                    f"{self.location}: this user may not write public.layer_styles, where "
                    "QGIS reads styles from; grant it, or let its owner run `lvdun styles`"
                )
            self.execute(_PG_STYLES_DDL)
            cols = ("f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                    "stylename, styleqml, stylesld, useasdefault, description, ui, "
                    "update_time")
            default_col, description_col, now = "useasdefault", "description", "now()"
        else:
            self.execute(_GPKG_STYLES_DDL)
            self.execute(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                "description) VALUES (?, 'attributes', ?, 'QGIS layer styles')",
                (STYLES_TABLE, STYLES_TABLE),
            )
            cols = ("f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                    "styleName, styleQML, styleSLD, useAsDefault, description, ui, "
                    "update_time")
            default_col, description_col = "useAsDefault", "description"
            now = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
        table, catalog, schema = self._style_scope()
        self.execute(
            f"DELETE FROM {table} WHERE f_table_schema = ? AND {description_col} LIKE ?",
            (schema, OWN_PREFIX + "%"),
        )
        for layer in sorted({s[0] for s in styles if s[4]}):
            self.execute(f"UPDATE {table} SET {default_col} = ? WHERE f_table_schema = ? "
                         "AND f_table_name = ?", (False, schema, layer))
        for layer, name, qml, sld, default, description in styles:
            self.execute(
                f"INSERT INTO {table} ({cols}) VALUES (?, ?, ?, 'geom', ?, ?, ?, ?, ?, "
                f"NULL, {now})",
                (catalog, schema, layer, name, qml, sld, bool(default), description),
            )
        return len(styles)

    def layer_styles(self, layer: str) -> list[tuple[str, bool, str, str]]:
        """Return the styles of ``layer``: ``(name, default, qml, sld)``, default first.

        Parameters
        ----------
        layer : str
            A layer (or ``lead_status_view``).
        """
        table, _, schema = self._style_scope()
        if self.kind != "postgis" and not self._has_table(STYLES_TABLE):
            return []
        if self.kind == "postgis" and self.execute(
                "SELECT to_regclass('public.layer_styles')").fetchone()[0] is None:
            return []
        rows = self.execute(
            f"SELECT stylename, useasdefault, styleqml, stylesld FROM {table} "
            "WHERE f_table_schema = ? AND f_table_name = ? ORDER BY useasdefault DESC, id",
            (schema, layer),
        ).fetchall()
        return [(r[0], bool(r[1]), str(r[2]), str(r[3])) for r in rows]

    def create_lead_status_view(self) -> None:
        """Create (or replace) ``lead_status_view`` and register it as a feature layer.

        One row per lead (its ``fid`` and geometry), with its reserve, zone and county
        from ``lead_class`` and its current state from ``lead_status``.
        """
        body = ", ".join(f"{sql} AS {q(name)}" for name, sql in VIEW_COLUMNS.items())
        select = (f'SELECT l."fid" AS "fid", l."geom" AS "geom", {body} FROM "leads" l '
                  'LEFT JOIN "lead_class" c ON c."lead_id" = l."lead_id" '
                  'LEFT JOIN "lead_status" s ON s."lead_id" = l."lead_id"')
        if self.kind == "postgis":
            self.execute(f"DROP VIEW IF EXISTS {q(VIEW)}")
            self.execute(f"CREATE VIEW {q(VIEW)} AS {select}")
            return
        self.execute(f"DROP VIEW IF EXISTS {q(VIEW)}")
        self.execute(f"CREATE VIEW {q(VIEW)} AS {select}")
        self.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = ?", (VIEW,))
        self.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (VIEW,))
        self.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
            "min_x, min_y, max_x, max_y, srs_id) SELECT ?, 'features', ?, "
            "'线索及其分类与核查状态', min_x, min_y, max_x, max_y, srs_id "
            "FROM gpkg_contents WHERE table_name = 'leads'",
            (VIEW, "线索核查状态"),
        )
        self.execute(
            "INSERT INTO gpkg_geometry_columns SELECT ?, column_name, geometry_type_name, "
            "srs_id, z, m FROM gpkg_geometry_columns WHERE table_name = 'leads'",
            (VIEW,),
        )

    def read_lead_status_view(self) -> list[dict[str, Any]]:
        """Return the rows of ``lead_status_view`` without geometry, by ``fid``."""
        names = ", ".join(q(n) for n in ("fid", *VIEW_COLUMNS))
        cur = self.execute(f"SELECT {names} FROM {q(VIEW)} ORDER BY \"fid\"")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def features_in_box(self, layer: str, bbox: tuple[float, float, float, float] | None,
                        *, limit: int, offset: int = 0) -> tuple[gpd.GeoDataFrame, int]:
        """Return one page (by ``fid``) of the features meeting ``bbox``, and their number.

        PostGIS finds them through the layer's GiST index (``&&``, then
        ``ST_Intersects``); a GeoPackage compares the envelopes of the geometry blobs'
        headers without decoding them, then the candidates' geometries exactly.

        Parameters
        ----------
        layer : str
            A feature layer.
        bbox : tuple of float or None
            ``(minx, miny, maxx, maxy)`` in EPSG:4490 degrees; None for every feature.
        limit : int
            Page size.
        offset : int
            Matching features skipped before the page.
        """
        from pipelines.store.gpkg import header_bounds

        table = q(layer)
        if bbox is None:
            fids = [int(r[0]) for r in self.execute(
                f"SELECT fid FROM {table} ORDER BY fid").fetchall()]
        elif self.kind == "postgis":
            box = "ST_MakeEnvelope(?, ?, ?, ?, 4490)"
            fids = [int(r[0]) for r in self.execute(
                f"SELECT fid FROM {table} WHERE geom && {box} AND ST_Intersects(geom, {box}) "
                "ORDER BY fid", (*bbox, *bbox)).fetchall()]
        else:
            rows = self.execute(f"SELECT fid, substr(geom, 1, 40) FROM {table} "
                                "WHERE geom IS NOT NULL ORDER BY fid").fetchall()
            boxes, bare = header_bounds([r[1] for r in rows])
            if len(bare) or len(boxes) != len(rows):
                candidates = [int(r[0]) for r in rows]  # no envelope to trust: decode all
            else:
                minx, miny, maxx, maxy = bbox
                meets = ((boxes[:, 0] <= maxx) & (boxes[:, 2] >= minx)
                         & (boxes[:, 1] <= maxy) & (boxes[:, 3] >= miny))
                candidates = [int(rows[k][0]) for k in np.flatnonzero(meets)]
            fids = []
            for start in range(0, len(candidates), 500):
                chunk = candidates[start:start + 500]
                frame = self.read_features(layer, where=f"fid IN ({', '.join('?' * len(chunk))})",
                                           params=chunk)
                hit = shapely.intersects(np.asarray(frame.geometry.values, dtype=object),
                                         shapely.box(*bbox))
                fids += [int(f) for f in frame["fid"][hit]]
        page = fids[offset:offset + limit]
        marks = ", ".join("?" * len(page)) or "NULL"
        return self.read_features(layer, where=f"fid IN ({marks})", params=page), len(fids)

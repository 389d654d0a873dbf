"""Table definitions of the workspace, shared by every backend.

Types are the portable trio TEXT, REAL, INTEGER; each backend maps them. Feature layers
carry a geometry column ``geom`` in CGCS2000 (EPSG:4490).
"""

from __future__ import annotations

__all__ = [
    "FEATURE_LAYERS",
    "GEOMETRY_TYPES",
    "KEYS",
    "SCHEMA_VERSION",
    "TABLES",
    "TABLE_KEYS",
    "VERSION_TABLE",
]

#: Version of the schema defined in this module. Bump it whenever a layer, table or column
#: is added: a workspace records the version that last upgraded it, and a lvdun that finds
#: a workspace newer than its own version refuses to open it. Workspaces of older versions
#: are upgraded on open (missing tables and columns are added).
SCHEMA_VERSION = 4
#: The table recording a workspace's schema version, one row per upgrade. It is neither a
#: layer nor an attribute table: copies, counts and exports never see it.
VERSION_TABLE = "lvdun_schema"

_SOURCE = [("src_file", "TEXT"), ("src_row", "INTEGER"), ("run_id", "TEXT")]

#: Feature layers: columns besides ``fid`` and ``geom``.
FEATURE_LAYERS: dict[str, list[tuple[str, str]]] = {
    "reserves": [
        ("reserve_code", "TEXT"),
        ("reserve_name", "TEXT"),
        ("level", "TEXT"),
        ("zone", "TEXT"),
        ("area_m2", "REAL"),
        *_SOURCE,
    ],
    "wetlands": [
        ("wetland_id", "TEXT"),
        ("wetland_name", "TEXT"),
        ("wetland_level", "TEXT"),
        ("wetland_type", "TEXT"),
        ("area_m2", "REAL"),
        ("manager", "TEXT"),
        # list entries (layers/wetlands.py): 监管单位, 范围 in words, polygon|point|none,
        # radius of the circle a point with an area stands for (an approximation)
        ("supervisor", "TEXT"),
        ("extent_text", "TEXT"),
        ("location_kind", "TEXT"),
        ("match_radius_m", "REAL"),
        *_SOURCE,
    ],
    "mines": [
        ("mine_id", "TEXT"),
        ("mine_name", "TEXT"),
        ("mineral", "TEXT"),
        ("method", "TEXT"),
        ("mine_status", "TEXT"),
        ("closed_year", "INTEGER"),
        ("restoration_mode", "TEXT"),
        ("restoration_progress", "TEXT"),
        ("area_m2", "REAL"),
        # restoration and money (layers/mines.py; amounts in 元), last monitoring/inspection
        ("responsible_party", "TEXT"),
        ("closed_date", "TEXT"),
        ("deposit_yuan", "REAL"),
        ("deposit_used_yuan", "REAL"),
        ("reclamation_fund_yuan", "REAL"),
        ("reclamation_used_yuan", "REAL"),
        ("last_checked", "TEXT"),
        ("location_kind", "TEXT"),
        ("match_radius_m", "REAL"),
        *_SOURCE,
    ],
    "leads": [
        ("lead_id", "TEXT"),
        ("batch", "TEXT"),
        ("first_batch", "TEXT"),
        ("rounds", "INTEGER"),
        ("activity_type", "TEXT"),
        ("change_type", "TEXT"),
        ("area_m2", "REAL"),
        ("date_before", "TEXT"),
        ("date_after", "TEXT"),
        ("county_sent", "TEXT"),
        ("reserve_sent", "TEXT"),
        ("zone_sent", "TEXT"),
        ("note", "TEXT"),
        ("id_source", "TEXT"),
        *_SOURCE,
    ],
    "admin": [
        ("adcode", "TEXT"),
        ("admin_name", "TEXT"),
        ("admin_level", "TEXT"),
        ("province", "TEXT"),
        ("city", "TEXT"),
        *_SOURCE,
    ],
}

#: The key that identifies a feature (or, for reserves, the group of zone polygons) in a layer.
KEYS: dict[str, str] = {
    "reserves": "reserve_code",
    "wetlands": "wetland_id",
    "mines": "mine_id",
    "leads": "lead_id",
    "admin": "adcode",
}

GEOMETRY_TYPES: dict[str, str] = {
    "reserves": "MULTIPOLYGON",
    "wetlands": "GEOMETRY",
    "mines": "GEOMETRY",
    "leads": "GEOMETRY",
    "admin": "MULTIPOLYGON",
}

#: Attribute tables.
TABLES: dict[str, list[tuple[str, str]]] = {
    "lead_class": [
        ("lead_id", "TEXT"),
        ("batch", "TEXT"),
        ("reserve_code", "TEXT"),
        ("reserve_name", "TEXT"),
        ("reserve_level", "TEXT"),
        ("zone", "TEXT"),
        ("zone_label", "TEXT"),
        ("overlaps", "TEXT"),
        ("wetland_ids", "TEXT"),
        ("wetland_names", "TEXT"),
        ("mine_ids", "TEXT"),
        ("county_adcode", "TEXT"),
        ("county_name", "TEXT"),
        ("dist_boundary_m", "REAL"),
        ("near_boundary", "INTEGER"),
        ("area_m2", "REAL"),
        ("area_in_zone_m2", "TEXT"),
        ("boundary_version", "TEXT"),
        ("classified_at", "TEXT"),
        ("run_id", "TEXT"),
        # wetlands: levels and how each was matched ("polygon" or "radius≈N m
        # (approximation)"), patch area inside them; mines: names, triage flag, valid
        # mines whose licence polygon the lead lies outside of, within the margin
        ("wetland_levels", "TEXT"),
        ("wetland_match", "TEXT"),
        ("wetland_area_m2", "REAL"),
        ("mine_names", "TEXT"),
        ("mine_flag", "TEXT"),
        ("mine_near_ids", "TEXT"),
    ],
    "lead_status": [
        ("lead_id", "TEXT"),
        ("status", "TEXT"),
        ("version", "INTEGER"),
        ("reason", "TEXT"),
        ("responsible_unit", "TEXT"),
        ("measures", "TEXT"),
        ("deadline", "TEXT"),
        ("updated_at", "TEXT"),
        ("updated_by", "TEXT"),
    ],
    "lead_history": [
        ("lead_id", "TEXT"),
        ("version", "INTEGER"),
        ("at", "TEXT"),
        ("by", "TEXT"),
        ("from_status", "TEXT"),
        ("to_status", "TEXT"),
        ("reason", "TEXT"),
        ("note", "TEXT"),
        ("evidence", "TEXT"),
        ("run_id", "TEXT"),
        # since schema version 3: review steps (pipelines/verify/review.py): the level
        # that acted (county, city, province) and its decision (submit, approve, return,
        # recheck_agree, recheck_disagree)
        ("review_level", "TEXT"),
        ("decision", "TEXT"),
    ],
    "users": [
        ("name", "TEXT"),
        ("role", "TEXT"),
        ("reserves", "TEXT"),
        ("token_hash", "TEXT"),
        ("created_at", "TEXT"),
        ("revoked_at", "TEXT"),
        # since schema version 2: when the token stops working (pipelines/users.py; users
        # of older workspaces have none and expire 180 days after the upgrade)
        ("expires_at", "TEXT"),
        # since schema version 3: the level (reserve, county, city, province) and, for
        # reviewers, the adcode prefixes of their area as a JSON list
        ("level", "TEXT"),
        ("areas", "TEXT"),
    ],
    "runs": [
        ("run_id", "TEXT"),
        ("command", "TEXT"),
        ("started_at", "TEXT"),
        ("finished_at", "TEXT"),
        ("status", "TEXT"),
        ("params", "TEXT"),
        ("inputs", "TEXT"),
        ("counts", "TEXT"),
        ("crs", "TEXT"),
        ("message", "TEXT"),
    ],
    # What a change raster says about each patch lead (pipelines/rasters.py).
    "lead_patches": [
        ("lead_id", "TEXT"),
        ("raster", "TEXT"),
        ("patch_no", "INTEGER"),
        ("class_value", "INTEGER"),
        ("activity_type", "TEXT"),
        ("pixels", "INTEGER"),
        ("area_m2", "REAL"),
        ("centroid_lon", "REAL"),
        ("centroid_lat", "REAL"),
        ("run_id", "TEXT"),
    ],
    # Before/after image chips of leads (pipelines/chips.py); chip_id is "<lead_id>:<kind>".
    "lead_chips": [
        ("chip_id", "TEXT"),
        ("lead_id", "TEXT"),
        ("kind", "TEXT"),
        ("path", "TEXT"),
        ("sha256", "TEXT"),
        ("size_m", "REAL"),
        ("pixels", "INTEGER"),
        ("bands", "TEXT"),
        ("image", "TEXT"),
        ("image_date", "TEXT"),
        ("created_at", "TEXT"),
        ("run_id", "TEXT"),
    ],
    # Reporting deadlines of monitoring batches (lvdun status batch-deadline).
    "batches": [
        ("batch", "TEXT"),
        ("report_deadline", "TEXT"),
        ("note", "TEXT"),
        ("updated_at", "TEXT"),
        ("updated_by", "TEXT"),
    ],
    # The current 核查意见 (verification opinion) of a lead, shown in the ledger; its
    # changes are in lead_history (pipelines/verify.py).
    "lead_opinion": [
        ("lead_id", "TEXT"),
        ("opinion", "TEXT"),
        ("updated_at", "TEXT"),
        ("updated_by", "TEXT"),
    ],
    # Every classification kept, one row per lead and classify run (pipelines/classify.py),
    # so that ``lvdun report --since RUN`` can tell re-classified leads.
    "lead_class_history": [
        ("snapshot_id", "TEXT"),
        ("run_id", "TEXT"),
        ("lead_id", "TEXT"),
        ("batch", "TEXT"),
        ("reserve_code", "TEXT"),
        ("reserve_name", "TEXT"),
        ("zone", "TEXT"),
        ("wetland_ids", "TEXT"),
        ("mine_ids", "TEXT"),
        ("mine_flag", "TEXT"),
        ("boundary_version", "TEXT"),
        ("classified_at", "TEXT"),
    ],
    # Restoration progress changes of mines (lvdun mines progress), append-only.
    "mine_history": [
        ("event_id", "TEXT"),
        ("mine_id", "TEXT"),
        ("version", "INTEGER"),
        ("at", "TEXT"),
        ("on_date", "TEXT"),
        ("by", "TEXT"),
        ("from_progress", "TEXT"),
        ("to_progress", "TEXT"),
        ("note", "TEXT"),
    ],
    # Monitoring (valid rights) and inspections (closed mines) done (lvdun mines inspected).
    "mine_checks": [
        ("check_id", "TEXT"),
        ("mine_id", "TEXT"),
        ("on_date", "TEXT"),
        ("kind", "TEXT"),
        ("by", "TEXT"),
        ("note", "TEXT"),
        ("recorded_at", "TEXT"),
    ],
    # Level-by-level review (逐级审核, 验收) of a lead's verdict or closure request, one row
    # per lead and kind ("<lead_id>|verdict", "<lead_id>|closure"; pipelines/verify/review.py).
    "lead_review": [
        ("review_id", "TEXT"),
        ("lead_id", "TEXT"),
        ("kind", "TEXT"),
        ("status", "TEXT"),
        ("stage", "TEXT"),
        ("level", "TEXT"),
        ("chain", "TEXT"),
        ("reason", "TEXT"),
        ("submitted_at", "TEXT"),
        ("submitted_by", "TEXT"),
        ("updated_at", "TEXT"),
        ("updated_by", "TEXT"),
    ],
    # Spot checks (抽样巡查): one row per drawn lead and sample run
    # ("<run_id>|<lead_id>"; pipelines/verify/sample.py); the draw itself is a run.
    "spot_checks": [
        ("check_id", "TEXT"),
        ("run_id", "TEXT"),
        ("lead_id", "TEXT"),
        ("county_adcode", "TEXT"),
        ("drawn_by", "TEXT"),
        ("drawn_at", "TEXT"),
        ("result", "TEXT"),
        ("note", "TEXT"),
        ("checked_by", "TEXT"),
        ("checked_at", "TEXT"),
    ],
    # Evidence files of a workspace without a folder (PostGIS), by sha256, content in
    # base64 (pipelines/verify/evidence.py store_evidence); a GeoPackage keeps them beside it.
    "evidence_files": [
        ("sha256", "TEXT"),
        ("name", "TEXT"),
        ("bytes", "INTEGER"),
        ("content", "TEXT"),
        ("stored_at", "TEXT"),
    ],
    # since schema version 4: every reserve each lead lies in (pipelines/classify/members.py),
    # one row per lead and reserve, written by classify beside lead_class: the reserve's
    # strictest zone the lead touches, the lead's share inside the reserve (1 for points
    # and lines), is_primary 1 for the reserve that won the classification. No key: rows
    # of a lead are replaced together (Workspace.replace_lead_reserves).
    "lead_reserves": [
        ("lead_id", "TEXT"),
        ("batch", "TEXT"),
        ("reserve_code", "TEXT"),
        ("reserve_name", "TEXT"),
        ("zone", "TEXT"),
        ("share", "REAL"),
        ("is_primary", "INTEGER"),
        ("run_id", "TEXT"),
    ],
    # Facts about the workspace itself, e.g. its id, which ledgers carry (pipelines/ledger.py).
    "meta": [
        ("name", "TEXT"),
        ("value", "TEXT"),
    ],
}

#: Primary keys of attribute tables (``lead_history`` has a serial ``id`` instead).
TABLE_KEYS: dict[str, str | None] = {
    "lead_class": "lead_id",
    "lead_status": "lead_id",
    "lead_history": None,
    "runs": "run_id",
    "users": "name",
    "lead_patches": "lead_id",
    "lead_chips": "chip_id",
    "batches": "batch",
    "lead_opinion": "lead_id",
    "meta": "name",
    "lead_class_history": "snapshot_id",
    "mine_history": "event_id",
    "mine_checks": "check_id",
    "lead_review": "review_id",
    "spot_checks": "check_id",
    "evidence_files": "sha256",
}

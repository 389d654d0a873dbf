"""Copy a whole workspace between backends (GeoPackage <-> PostGIS), losslessly.

Every feature layer keeps its features with their ``fid``, every attribute table its rows
(``lead_history`` with its ``id``, so the order of the history is kept), and the run log
is copied as it is. The copy is one transaction in the destination: it is complete or
absent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.errors import StoreError, WorkspaceError
from pipelines.escape import sql_identifier
from pipelines.store.base import Workspace
from pipelines.store.tables import FEATURE_LAYERS, TABLE_KEYS, TABLES

__all__ = ["CopyReport", "copy_workspace"]

log = logging.getLogger(__name__)


@dataclass
class CopyReport:
    """What :func:`copy_workspace` copied: rows per layer and table."""

    source: str
    target: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Rows copied over every layer and table."""
        return sum(self.counts.values())


def copy_workspace(source: Workspace, target: Workspace) -> CopyReport:
    """Copy every layer, table and run of ``source`` into the empty ``target``.

    Parameters
    ----------
    source
        The workspace to read (opened when needed).
    target
        An empty workspace of any backend; it is written in one transaction.

    Returns
    -------
    CopyReport
        Rows copied per layer and table.

    Raises
    ------
    WorkspaceError
        When ``target`` is the same workspace as ``source`` or already holds data.
    """
    if _same_place(source, target):
        raise WorkspaceError(f"source and destination are the same workspace {source.location}")
    report = CopyReport(source=source.location, target=target.location)
    _require_empty(target)  # also refuses one workspace named two ways (it is not empty)
    if not any(source.count(n) for n in [*FEATURE_LAYERS, *TABLES]):
        report.counts = dict.fromkeys([*FEATURE_LAYERS, *TABLES], 0)
        return report
    # Both transactions: the source is read as one consistent state (writers wait), the
    # destination is checked empty again and filled atomically.
    with source.transaction(), target.transaction():
        _require_empty(target)
        for layer in FEATURE_LAYERS:
            frame = source.read_features(layer)
            report.counts[layer] = target.insert_features(layer, frame, keep_fid=True)
        for table in TABLES:
            key = TABLE_KEYS.get(table) or ("id" if table == "lead_history" else None)
            frame = source.read_table(table, order=sql_identifier(key) if key else "")
            report.counts[table] = target.append_rows(table, frame, keep_id=True)
        for name, expected in report.counts.items():
            stored = target.count(name)
            if stored != expected:
                raise StoreError(
                    f"copy to {target.location}: {name} holds {stored} rows after the copy, "
                    f"{expected} were read; nothing was copied"
                )
    log.info("copied %d rows from %s to %s", report.total, source.location, target.location)
    return report


def _require_empty(target: Workspace) -> None:
    filled = {n: target.count(n) for n in [*FEATURE_LAYERS, *TABLES]}
    listed = ", ".join(f"{n} ({c})" for n, c in filled.items() if c)
    if listed:
        raise WorkspaceError(
            f"destination {target.location} is not empty: {listed}; copy into a new "
            ".gpkg file or another PostGIS schema (?schema=NAME)"
        )


def _same_place(a: Workspace, b: Workspace) -> bool:
    paths = [getattr(ws, "path", None) for ws in (a, b)]
    if all(isinstance(p, Path) for p in paths):
        return paths[0].resolve() == paths[1].resolve()
    return a.location == b.location

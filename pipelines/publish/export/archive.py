"""One group of an export as a zip (the web app's download), cached until the workspace changes."""

from __future__ import annotations

import io
import tempfile
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines.errors import NotFoundError
from pipelines.publish.export.ledger_format import LEDGER_TZ, Scope
from pipelines.store.base import Workspace

__all__ = ["Archive", "ArchiveCache", "change_mark", "export_archive"]


@dataclass(frozen=True)
class Archive:
    """One group's export as a zip: ``<label>/<label>_核查清单.<fmt>``..."""

    filename: str
    data: bytes
    run_id: str
    scope: Scope
    rows: int


def export_archive(
    ws: Workspace,
    code: str | None,
    *,
    by: str = "reserve",
    formats: tuple[str, ...] = ("xlsx",),
    log_run: bool = False,
) -> Archive:
    """Export one group (:func:`export` with ``codes=[code]``) and return it zipped.

    Only that group is exported; by default the export is not logged in ``runs`` (see
    :func:`export`), its ledgers are importable all the same through their record.

    Parameters
    ----------
    ws : Workspace
        A classified workspace.
    code : str or None
        The group: a reserve code (``by="county"``: an adcode); None for the leads outside
        every reserve (county).
    by : {"reserve", "county"}
        How the leads are grouped, as for :func:`export`.
    formats : tuple of str
        Any of ``FORMATS``.
    log_run : bool
        Log the export in ``runs``.

    Raises
    ------
    NotFoundError
        When the group has no leads.
    """
    with tempfile.TemporaryDirectory(prefix="lvdun-export-") as tmp:
        from pipelines.publish.export import export

        report = export(ws, tmp, by=by, formats=formats, codes=[code], log_run=log_run)
        group = report.group(code)
        if group is None:  # not reached: export raises first
            raise NotFoundError(f"no leads in {by} {code!r}")
        folder = Path(tmp) / group.label
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{group.label}/{path.relative_to(folder).as_posix()}")
    return Archive(f"{group.label}.zip", buffer.getvalue(), report.run_id, group.scope,
                   group.rows)


def change_mark(ws: Workspace) -> tuple[Any, ...]:
    """Return a mark that changes whenever an export of the workspace would.

    Runs (ingest, classification, chips, ``lvdun export``...), leads, status changes
    (every one appends to ``lead_history``, opinions and records included), batch
    deadlines and the day (overdue counts); a few indexed aggregates, no lead is read.
    """
    return (*ws.change_counters(), datetime.now(LEDGER_TZ).date().isoformat())


class ArchiveCache:
    """Zipped one-group exports, each kept until the workspace changes (:func:`change_mark`).

    A second request for the same group and formats with no change in between gets the
    same zip, the same export run, without exporting again; requests for one group wait
    for a single export, those for different groups export side by side.

    Parameters
    ----------
    size
        How many zips to keep (the least recently used go first).
    """

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._entries: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], Archive]] = (
            OrderedDict())
        #: Exports made (cache misses), for logs and tests.
        self.exports = 0

    def get(self, ws: Workspace, code: str | None, *, by: str = "reserve",
            formats: tuple[str, ...] = ("xlsx",)) -> Archive:
        """Return the zip of group ``code``, exported now only if the workspace changed.

        Arguments as :func:`export_archive`.

        Parameters
        ----------
        ws : Workspace
            A classified workspace.
        code : str or None
            The group, as for :func:`export_archive`.
        by : {"reserve", "county"}
            How the leads are grouped.
        formats : tuple of str
            Any of ``FORMATS``; their order does not matter.
        """
        key = (by, code, tuple(sorted(set(formats))))
        with self._lock:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            mark = change_mark(ws)
            with self._lock:
                hit = self._entries.get(key)
                if hit is not None and hit[0] == mark:
                    self._entries.move_to_end(key)
                    return hit[1]
            archive = export_archive(ws, code, by=by, formats=formats)
            with self._lock:
                self.exports += 1
                self._entries[key] = (mark, archive)
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    old, _ = self._entries.popitem(last=False)
                    self._locks.pop(old, None)
        return archive

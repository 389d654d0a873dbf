"""What the web app shares between requests: workspace connections, the lead catalog,
the settings and a few cached pages."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pipelines.store import Workspace, open_workspace
from webmap.app.catalog import LeadCatalog
from webmap.app.grid import CellGrids
from webmap.app.settings import Settings

__all__ = ["AppContext", "WorkspacePool"]

log = logging.getLogger(__name__)


class WorkspacePool:
    """One open workspace per request thread (a SQLite connection stays in its thread).

    Parameters
    ----------
    location
        The workspace's path or URL; it must exist already.
    """

    def __init__(self, location: str) -> None:
        self.location = location
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[Workspace] = []

    def get(self) -> Workspace:
        """Return this thread's workspace, opening it on first use."""
        ws = getattr(self._local, "ws", None)
        if ws is None:
            ws = open_workspace(self.location, create=False)
            ws.open()
            self._local.ws = ws
            with self._lock:
                self._opened.append(ws)
        return ws

    def close(self) -> None:
        """Close every connection that can be closed from this thread."""
        with self._lock:
            opened, self._opened = self._opened, []
        for ws in opened:
            ws.close()  # a connection of another thread is left to that thread


@dataclass
class AppContext:
    """The state of one web app."""

    settings: Settings
    pool: WorkspacePool
    catalog: LeadCatalog = field(default_factory=LeadCatalog)
    #: The zoomed-out map's counts per query (webmap/app/grid.py).
    grids: CellGrids = field(default_factory=CellGrids)
    #: Status changes of this process, one at a time: on a GeoPackage a writer waiting
    #: for SQLite's lock polls it with sleeps of up to 100 ms, a thread waiting here
    #: wakes at once. (Other processes still meet at the database's own lock.)
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    _cache: dict[str, tuple[int, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _making: dict[str, threading.Lock] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # lead_keys is rebuilt (a write) under the same lock as the status changes
        self.catalog.write_lock = self.write_lock
        self.grids.write_lock = self.write_lock

    def cached(self, ws: Workspace, key: str, make: Callable[[], str]) -> str:
        """Return ``make()``, cached until the workspace's layers or leads change.

        Parameters
        ----------
        ws : Workspace
            The workspace whose changes invalidate the entry.
        key : str
            Name of the cached text (e.g. ``map:leads``).
        make : callable
            Makes the text, without arguments.
        """
        generation = self.catalog.generation(ws)
        with self._lock:
            hit = self._cache.get(key)
            making = self._making.setdefault(key, threading.Lock())
        if hit is not None and hit[0] == generation:
            return hit[1]
        with making:  # one request makes it, the others wait for it (a national layer
            with self._lock:  # takes seconds and hundreds of MB to make)
                hit = self._cache.get(key)
            if hit is not None and hit[0] == generation:
                return hit[1]
            value = make()
            with self._lock:
                self._cache[key] = (generation, value)
        return value

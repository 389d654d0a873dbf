"""Eight processes change the same and different leads at once, on GeoPackage and PostGIS.

Each process reads a lead's status and version, picks a legal next status and writes it
naming the version it read; on a conflict it reads again and retries. At the end no
acknowledged write is lost, every lead's history replays to its final state, and the
versions in the history run 1, 2, 3 ... without a gap or a repeat.

The test runs ``LVDUN_CONCURRENCY_SECONDS`` seconds (default 30, as CI runs it; set it
lower locally). PostGIS needs a server at ``LVDUN_TEST_PG_URL`` (default
``postgresql://postgres@localhost:5432/postgres``, a role that may create databases): the
test creates a fresh database and drops it afterwards.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import secrets
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import pytest

from tests.conftest import require_service

SECONDS = float(os.environ.get("LVDUN_CONCURRENCY_SECONDS", "30"))
PROCESSES = 8
SHARED = "L001"
OWN = ("L002", "L003", "L004", "L005")  # each shared by two processes
PG_URL = os.environ.get("LVDUN_TEST_PG_URL", "postgresql://postgres@localhost:5432/postgres")


def _worker(location: str, index: int, seconds: float, barrier: Any, results: Any) -> None:
    """Change leads for ``seconds``; put what was acknowledged on the ``results`` queue."""
    try:
        from layers.schema import TRANSITIONS, Status
        from pipelines.errors import ConflictError
        from pipelines.store import open_workspace
        from pipelines.verify.status import current_state, set_status

        rng = random.Random(index)
        own = OWN[index % len(OWN)]
        applied: list[tuple[str, int, str, str]] = []
        conflicts = 0
        ws = open_workspace(location, create=False)
        ws.open()
        barrier.wait(timeout=300)
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                lead = SHARED if rng.random() < 0.5 else own
                state = current_state(ws, lead)  # read outside any transaction
                target = rng.choice(TRANSITIONS[Status(state["status"])])
                try:
                    change = set_status(
                        ws, lead, target, expected_version=int(state["version"]),
                        by=f"p{index}", reason="其他", note=f"p{index}",
                        responsible_unit="县林业局", deadline="2025-06-30",
                        override_acceptance=True)  # random walks reach 已销号 directly
                except ConflictError:
                    conflicts += 1  # somebody was faster: read again
                    continue
                applied.append((lead, change.version, change.from_status.value,
                                change.to_status.value))
        finally:
            ws.close()
        results.put({"index": index, "applied": applied, "conflicts": conflicts})
    except BaseException:
        results.put({"index": index, "error": traceback.format_exc()})


def _replay(rows: pd.DataFrame) -> tuple[str | None, int]:
    """Replay a lead's history (oldest first) and return its status and version.

    Every entry must start from the status the entries before it reached and carry the
    next version (an entry that only notes something, like 再次监测, keeps the version and
    the status).
    """
    status: str | None = None
    version = 0
    for row in rows.itertuples(index=False):
        start = row.from_status if isinstance(row.from_status, str) else None
        where = f"{row.lead_id} v{row.version}"
        assert start == status, f"{where}: starts from {start}, replayed {status}"
        if row.version == version:
            assert row.to_status == status, f"{where}: a change without a new version"
        else:
            assert row.version == version + 1, f"{where}: follows version {version}"
        status, version = row.to_status, int(row.version)
    return status, version


@pytest.fixture
def pg_location() -> Iterator[str]:
    """URL of a fresh PostgreSQL database (PostGIS available), dropped afterwards."""
    try:
        import pipelines.store.postgis  # noqa: F401 - the backend under test
    except ModuleNotFoundError as exc:
        if exc.name not in ("pipelines.store.postgis", "psycopg"):
            raise
        pytest.skip(f"the PostGIS backend is not available ({exc.name} is missing)")
    import psycopg
    from psycopg import sql

    try:
        admin = psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        require_service(False, f"PostgreSQL at {PG_URL} ({str(exc).strip()})")
    name = f"lvdun_concurrency_{secrets.token_hex(4)}"
    with admin:
        available = admin.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
        require_service(available is not None,
                        "PostGIS (apt-get install -y postgresql-15-postgis-3)")
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(PG_URL)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def test_eight_writers_lose_no_update(backend: str, request: pytest.FixtureRequest,
                                      tmp_path: Path, leads_csv: Path,
                                      monkeypatch: pytest.MonkeyPatch):
    from pipelines.ingest.files import ingest
    from pipelines.store import open_workspace

    monkeypatch.chdir(tmp_path)  # ingest may write a rejects file next to the cwd
    location = (str(tmp_path / "concurrency.gpkg") if backend == "gpkg"
                else request.getfixturevalue("pg_location"))
    with open_workspace(location) as ws:
        ingest(ws, "leads", leads_csv, crs="EPSG:4490")

    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(PROCESSES), ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(location, i, SECONDS, barrier, queue))
               for i in range(PROCESSES)]
    for process in workers:
        process.start()
    try:
        results = [queue.get(timeout=SECONDS + 600) for _ in workers]
    finally:
        for process in workers:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
    errors = [r["error"] for r in results if "error" in r]
    assert not errors, errors[0]
    applied = [a for r in results for a in r["applied"]]
    shared_writers = {r["index"] for r in results if any(a[0] == SHARED for a in r["applied"])}
    assert len(applied) > PROCESSES and len(shared_writers) > 1

    with open_workspace(location, create=False) as ws:
        status = ws.read_table("lead_status").set_index("lead_id")
        history = ws.read_table("lead_history", order="id")
    for lead in (SHARED, *OWN):
        mine = [a for a in applied if a[0] == lead]
        rows = history[history["lead_id"] == lead]
        final_status, final_version = _replay(rows)
        # no lost update: every acknowledged write is the history, nothing else is
        assert sorted(rows["version"].iloc[1:]) == sorted(a[1] for a in mine)
        assert rows["version"].tolist() == list(range(1, len(rows) + 1))
        assert final_version == int(status.loc[lead, "version"]) == 1 + len(mine)
        assert final_status == status.loc[lead, "status"]
        acknowledged = {a[1]: (a[2], a[3]) for a in mine}
        for row in rows.iloc[1:].itertuples(index=False):
            assert acknowledged[row.version] == (row.from_status, row.to_status)
    assert sum(r["conflicts"] for r in results) > 0  # the writers did collide

"""Input files as lvdun records them: their content hash (a shapefile with its siblings)."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["file_sha256"]


def file_sha256(path: str | Path) -> str:
    """Return the hex sha256 of a file (for a shapefile, of its .shp, .dbf and .prj).

    Runs record the hash of every input, evidence files are stored by it.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_text("绿盾", encoding="utf-8")
    >>> file_sha256(p)[:12]
    '91d3dc6caba5'
    """
    path = Path(path)
    digest = hashlib.sha256()
    parts = [path]
    if path.suffix.lower() == ".shp":
        parts += [path.with_suffix(s) for s in (".dbf", ".prj", ".cpg") if
                  path.with_suffix(s).exists()]
    for part in parts:
        with part.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()

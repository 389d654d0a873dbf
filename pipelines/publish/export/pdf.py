"""Printing a packet's pages to PDF with headless Chromium, in chunks side by side.

A packet of a thousand pages is not one Chromium run: its pages are cut into chunks
(:data:`CHUNK_PAGES`), each chunk a small HTML file beside the packet's (so that its
relative links to chips and maps hold) printed by its own Chromium process, a few at a
time (:func:`printers`), and the chunks' PDFs are joined into one (pypdf). Each chunk
has a timeout that grows with its pages, so a big reserve never runs into one meant
for a small one.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pipelines.errors import PipelineError

__all__ = ["CHUNK_PAGES", "find_chromium", "join_pdfs", "print_pdf", "printers"]

log = logging.getLogger(__name__)

#: Pages of one Chromium run.
CHUNK_PAGES = 250
_CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Seconds a Chromium run may take: a start, then per page.
_TIMEOUT_START_S, _TIMEOUT_PAGE_S = 120.0, 1.0


def find_chromium() -> str | None:
    """Return the path of a Chromium/Chrome executable, or None."""
    for name in _CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    return None


def printers() -> int:
    """How many Chromium processes print side by side: the cores, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def print_pdf(chromium: str, html_path: Path, pdf: Path, *, pages: int) -> Path:
    """Print ``html_path`` to ``pdf`` with headless Chromium; return ``pdf``.

    Parameters
    ----------
    chromium : str
        The executable (:func:`find_chromium`).
    html_path, pdf : pathlib.Path
        The page to print and the PDF to write.
    pages : int
        Pages it holds: the timeout grows with them.

    Raises
    ------
    PipelineError
        When Chromium fails, times out or writes no PDF.
    """
    timeout = _TIMEOUT_START_S + _TIMEOUT_PAGE_S * pages
    try:
        with tempfile.TemporaryDirectory(prefix="lvdun-chromium-") as profile:
            args = [chromium, "--headless", "--disable-gpu", "--disable-background-networking",
                    "--disable-extensions", "--no-first-run", "--disable-dev-shm-usage",
                    "--disable-pdf-tagging", f"--user-data-dir={profile}",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    html_path.resolve().as_uri()]
            if hasattr(os, "geteuid") and os.geteuid() == 0:  # Chromium refuses root otherwise
                args.insert(2, "--no-sandbox")
            subprocess.run(args, check=True, capture_output=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        raise PipelineError(f"Chromium could not print {html_path.name}: {exc}") from exc
    if not pdf.is_file():
        raise PipelineError(f"Chromium wrote no PDF for {html_path.name}")
    return pdf


def join_pdfs(parts: Sequence[Path], target: Path) -> Path:
    """Join the PDFs ``parts``, in order, into ``target`` (one part is moved); return it."""
    if len(parts) == 1:
        os.replace(parts[0], target)
        return target
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    tmp = target.with_name(f".{target.name}.part")
    with tmp.open("wb") as out:
        writer.write(out)
    os.replace(tmp, target)
    for part in parts:
        part.unlink(missing_ok=True)
    return target

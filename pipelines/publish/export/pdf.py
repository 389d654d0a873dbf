"""Printing a packet's pages to PDF with headless Chromium, in chunks side by side.

A packet of a thousand pages is not one Chromium run: its pages are cut into chunks
(:data:`CHUNK_PAGES`), each chunk a small HTML file beside the packet's (so that its
relative links to chips and maps hold), printed a few at a time (:func:`printers`), and
the chunks' PDFs are joined into one (pypdf). Each printer is one headless Chromium kept
open for all the chunks it prints (:class:`Printer`, driven over the DevTools protocol
on a pipe), since starting Chromium costs more than printing a hundred pages; where that
fails, each chunk is printed by a Chromium of its own (:func:`print_pdf`). A chunk's
timeout grows with its pages, so a big reserve never runs into one meant for a small one.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pipelines.errors import PipelineError

__all__ = ["CHUNK_PAGES", "PrintPool", "Printer", "find_chromium", "join_pdfs", "print_pdf",
           "printers"]

log = logging.getLogger(__name__)

#: Pages of one Chromium run: its time grows faster than its pages (1,034 pages took
#: 19 s in one run, 3 s per 100 in runs of 100, start included).
CHUNK_PAGES = 100
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


_FLAGS = ("--headless", "--disable-gpu", "--disable-background-networking",
          "--disable-extensions", "--no-first-run", "--disable-dev-shm-usage",
          "--disable-pdf-tagging")


def _sandbox() -> list[str]:
    """Chromium refuses to run as root with its sandbox."""
    return ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


class Printer:
    """One headless Chromium that prints page after page to PDF (DevTools over a pipe).

    Parameters
    ----------
    chromium : str
        The executable (:func:`find_chromium`).

    Raises
    ------
    PipelineError
        When Chromium does not start or does not answer.
    """

    def __init__(self, chromium: str) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="lvdun-chromium-")
        commands_r, self._commands = os.pipe()
        self._answers, answers_w = os.pipe()
        # Chromium reads commands on fd 3 and answers on fd 4; the pipe ends are moved
        # above 4 first so that the child's two dup2 cannot overwrite one another
        commands_r, answers_w = (_above_4(fd) for fd in (commands_r, answers_w))
        args = [chromium, *_FLAGS, *_sandbox(), "--remote-debugging-pipe",
                f"--user-data-dir={self._profile.name}", "about:blank"]
        try:
            self._pid = os.posix_spawn(chromium, args, os.environ, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_DUP2, commands_r, 3),
                (os.POSIX_SPAWN_DUP2, answers_w, 4)])
        except OSError as exc:
            self._profile.cleanup()
            raise PipelineError(f"Chromium does not start: {exc}") from exc
        finally:
            os.close(commands_r)
            os.close(answers_w)
        self._running = True
        self._next = 0
        self._buffer = b""
        try:
            target = self._call("Target.createTarget", {"url": "about:blank"}, timeout=60)
            self._session = self._call("Target.attachToTarget", {
                "targetId": target["targetId"], "flatten": True}, timeout=30)["sessionId"]
            self._call("Page.enable", {}, session=True, timeout=30)
        except PipelineError:
            self.close()
            raise

    def print(self, html_path: Path, pdf: Path, *, pages: int) -> Path:
        """Print ``html_path`` to ``pdf``; the timeout grows with ``pages``.

        Parameters
        ----------
        html_path : pathlib.Path
            The page to print.
        pdf : pathlib.Path
            Where the PDF goes.
        pages : int
            How many pages it holds (the timeout grows with them).

        Raises
        ------
        PipelineError
            When Chromium fails or times out (it is closed then).
        """
        timeout = _TIMEOUT_START_S + _TIMEOUT_PAGE_S * pages
        deadline = time.monotonic() + timeout
        try:
            went = self._call("Page.navigate", {"url": html_path.resolve().as_uri()},
                              session=True, timeout=timeout)
            if went.get("errorText"):
                raise PipelineError(f"Chromium could not open {html_path.name}: "
                                    f"{went['errorText']}")
            self._wait("Page.loadEventFired", deadline)
            data = self._call("Page.printToPDF", {
                "printBackground": True, "preferCSSPageSize": True,
                "generateTaggedPDF": False, "displayHeaderFooter": False},
                session=True, timeout=max(1.0, deadline - time.monotonic()))["data"]
        except PipelineError:
            self.close()
            raise
        pdf.write_bytes(base64.b64decode(data))
        return pdf

    def close(self) -> None:
        """End Chromium (politely, then not)."""
        if self._running:
            self._running = False
            try:
                self._send("Browser.close", {})
            except PipelineError:
                pass
            deadline = time.monotonic() + 10
            ended = False
            while not ended and time.monotonic() < deadline:
                ended = os.waitpid(self._pid, os.WNOHANG)[0] != 0
                time.sleep(0 if ended else 0.05)
            if not ended:
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
        for fd in (self._commands, self._answers):
            try:
                os.close(fd)
            except OSError:
                pass
        self._profile.cleanup()

    # -- the protocol: JSON messages ended by NUL, answers matched by id ------------------
    def _send(self, method: str, params: dict[str, Any], *, session: bool = False) -> int:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._commands, data):]
        except OSError as exc:
            raise PipelineError(f"Chromium stopped listening: {exc}") from exc
        return self._next

    def _call(self, method: str, params: dict[str, Any], *, session: bool = False,
              timeout: float) -> dict[str, Any]:
        wanted = self._send(method, params, session=session)
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise PipelineError(f"Chromium: {method}: {message['error']}")
                return message.get("result", {})

    def _wait(self, event: str, deadline: float) -> None:
        while self._read(deadline).get("method") != event:
            pass

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._answers], [], [], max(0.0, left))
            if not ready:
                raise PipelineError("Chromium did not finish in time")
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise PipelineError("Chromium ended before it finished")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)


class PrintPool:
    """:func:`printers` printers side by side; each chunk goes to the next free one.

    Each thread keeps its :class:`Printer` for the chunks it prints; one that fails to
    start leaves its thread printing with a Chromium per chunk (:func:`print_pdf`). Use
    it as a context manager: leaving waits for the chunks and closes every Chromium.

    Parameters
    ----------
    chromium : str
        The executable (:func:`find_chromium`).
    workers : int or None
        Printers; default :func:`printers`.
    """

    def __init__(self, chromium: str, workers: int | None = None) -> None:
        self.chromium = chromium
        self._pool = ThreadPoolExecutor(max_workers=workers or printers(),
                                        thread_name_prefix="lvdun-pdf")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._printers: list[Printer] = []

    def __enter__(self) -> PrintPool:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.close(cancel=kind is not None)

    def submit(self, html_path: Path, pdf: Path, *, pages: int,
               done: Callable[[int], None] | None = None) -> Future[Path]:
        """Print ``html_path`` to ``pdf`` on a free printer; ``done(pages)`` after it.

        Parameters
        ----------
        html_path : pathlib.Path
            The page to print.
        pdf : pathlib.Path
            Where the PDF goes.
        pages : int
            How many pages it holds.
        done : callable, optional
            Called with ``pages`` once the PDF is written.

        Returns
        -------
        concurrent.futures.Future
            The PDF's path, or the error that stopped it.
        """
        return self._pool.submit(self._print, html_path, pdf, pages, done)

    def close(self, *, cancel: bool = False) -> None:
        """Wait for every chunk (``cancel``: for those printing now), end every Chromium."""
        self._pool.shutdown(wait=True, cancel_futures=cancel)
        for printer in self._printers:
            printer.close()

    def _print(self, html_path: Path, pdf: Path, pages: int,
               done: Callable[[int], None] | None) -> Path:
        printer = getattr(self._local, "printer", None)
        if printer is None:
            try:
                printer = Printer(self.chromium)
                with self._lock:
                    self._printers.append(printer)
            except PipelineError as exc:
                log.warning("printing with a Chromium per chunk: %s", exc)
                printer = False
            self._local.printer = printer
        if printer is False:
            out = print_pdf(self.chromium, html_path, pdf, pages=pages)
        else:
            try:
                out = printer.print(html_path, pdf, pages=pages)
            except PipelineError:
                self._local.printer = None  # closed: the next chunk starts another
                raise
        if done is not None:
            done(pages)
        return out


def _above_4(fd: int) -> int:
    """A duplicate of ``fd`` numbered 5 or more (``fd`` is closed)."""
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 5)
    os.close(fd)
    return high


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
            args = [chromium, *_FLAGS, *_sandbox(), f"--user-data-dir={profile}",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    html_path.resolve().as_uri()]
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

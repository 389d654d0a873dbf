"""Progress bars of the command line: rich, transient, on stderr; none with -q or off a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from pipelines import progress as job_progress
from pipelines.cli.options import err_console, quiet

__all__ = ["RichProgress", "progress_bar"]


class RichProgress:
    """A :class:`pipelines.progress.Progress` drawing one rich bar per step name.

    Parameters
    ----------
    bars
        The rich progress display, started by the caller.
    """

    def __init__(self, bars: Progress) -> None:
        self.bars = bars
        self._tasks: dict[str, int] = {}

    def __call__(self, step: str, done: int, total: int | None = None) -> None:
        """Move the bar of ``step`` to ``done`` of ``total`` (a spinner when total is None).

        Parameters
        ----------
        step : str
            The step's name, as people read it.
        done : int
            Units finished.
        total : int or None
            Units in all; None when not known.
        """
        task = self._tasks.get(step)
        if task is None:
            self._drop_finished()  # one bar per reserve of an export: the done ones go
            task = self._tasks[step] = self.bars.add_task(step, total=total)
        self.bars.update(task, completed=done, total=total)

    def _drop_finished(self) -> None:
        """Remove the bars of the steps that reached their total."""
        for name, task in list(self._tasks.items()):
            if self.bars.tasks[self.bars.task_ids.index(task)].finished:
                self.bars.remove_task(task)
                del self._tasks[name]


@contextmanager
def progress_bar(console: Console | None = None) -> Iterator[job_progress.Progress]:
    """Yield the progress a command passes to its job.

    Nothing is drawn with ``lvdun -q`` or when the console (stderr by default) is not a
    terminal; the bars vanish when the job ends.
    """
    target = console or err_console
    if quiet() or not target.is_terminal:
        yield job_progress.no_progress
        return
    bars = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=target, transient=True)
    with bars:
        yield RichProgress(bars)

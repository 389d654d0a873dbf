"""How a long job says how far it is: a callable the job calls, that prints nothing by default.

A job that can take more than a few seconds takes ``progress: Progress = no_progress`` and
calls it with the step's name (Chinese, through :func:`layers.i18n._`), what is done and the
total: ``progress("分类", done=3, total=12)``. ``total=None`` is a step of unknown length.
The command line passes a rich bar (:mod:`pipelines.cli.progress`); tests pass a recorder.

Examples
--------
>>> seen = []
>>> def record(step, done, total=None):
...     seen.append((step, done, total))
>>> for done in steps(record, "导出", 2):
...     pass
>>> seen
[('导出', 0, 2), ('导出', 1, 2), ('导出', 2, 2)]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

__all__ = ["Progress", "no_progress", "steps"]


class Progress(Protocol):
    """What a job calls: ``progress(step, done, total)``; the step's name is what people read."""

    def __call__(self, step: str, done: int, total: int | None = None) -> None:
        """Say that ``done`` of ``total`` units of ``step`` are finished.

        Parameters
        ----------
        step : str
            The step's name, as people read it.
        done : int
            Units finished.
        total : int or None
            Units in all; None when not known.
        """


def no_progress(step: str, done: int, total: int | None = None) -> None:
    """The default progress: nothing shown.

    Parameters
    ----------
    step : str
        The step's name, as people read it.
    done : int
        Units finished.
    total : int or None
        Units in all; None when not known.
    """


def steps(progress: Progress, step: str, total: int) -> Iterator[int]:
    """Yield ``0 .. total-1`` reporting ``done`` before the first and after each unit.

    Parameters
    ----------
    progress : Progress
        Where to report.
    step : str
        The step's name.
    total : int
        How many units.
    """
    progress(step, 0, total)
    for done in range(total):
        yield done
        progress(step, done + 1, total)

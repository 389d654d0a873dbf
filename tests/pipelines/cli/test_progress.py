"""The command line's progress bars: one per step, the finished ones gone when the next starts."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress

from pipelines.cli.progress import RichProgress


def test_a_finished_step_leaves_when_the_next_starts_and_unfinished_ones_stay():
    bars = Progress(console=Console(file=io.StringIO(), force_terminal=True),
                    redirect_stdout=False, redirect_stderr=False)
    seen = []
    with bars:
        progress = RichProgress(bars)
        progress("导出 甲保护区", 0, 3)
        progress("导出 甲保护区", 3, 3)
        seen.append([t.description for t in bars.tasks])
        progress("导出 乙保护区", 1, 2)  # 甲 is done: its bar goes
        seen.append([t.description for t in bars.tasks])
        progress("读取", 0, None)  # 乙 is not done, a spinner has no total: both stay
        progress("读取", 5, None)
        seen.append([(t.description, t.completed) for t in bars.tasks])
    assert seen == [["导出 甲保护区"], ["导出 乙保护区"], [("导出 乙保护区", 1), ("读取", 5)]]

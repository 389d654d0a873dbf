"""The demo: synthetic inputs, then the whole pipeline on them (``lvdun demo``).

Inputs come from :mod:`pipelines.demo.data` (seeded, labelled synthetic). The run ingests
every layer, classifies, walks part of the leads through field verification as a bureau
would, writes per-reserve lists and a report. The map is added by the caller (``webmap``).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from layers.schema import NOT_PROBLEM_REASONS, Status
from pipelines.classify.job import classify
from pipelines.demo.data import write_demo_inputs
from pipelines.ingest.files import IngestReport, ingest
from pipelines.publish.export import export
from pipelines.publish.report import by_reserve_zone, by_status, markdown_report
from pipelines.publish.views import leads_view
from pipelines.store import GeoPackageWorkspace
from pipelines.store.base import Workspace
from pipelines.verify.status import set_status

__all__ = ["DemoResult", "print_summary", "run_demo", "simulate_verification"]

log = logging.getLogger(__name__)

_STEPS = [
    ("reserves", "reserves", {}),
    ("admin", "admin", {}),
    ("wetlands", "wetlands", {}),
    ("mines", "mines", {}),
    ("leads", "leads_2023", {"crs": "EPSG:4490"}),
    ("leads", "leads_2024h1", {}),
]


@dataclass
class DemoResult:
    """Where the demo wrote its results."""

    workspace: Path
    exports: Path
    report: Path
    inputs: Path
    ingests: list[IngestReport]


def run_demo(
    out_dir: Path, *, seed: int = 2024, n_leads: int = 3000, console: Console | None = None
) -> DemoResult:
    """Generate the demo inputs into ``out_dir/inputs`` and run the pipeline on them.

    The workspace ``out_dir/lvdun.gpkg`` is created afresh.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder of the demo; its workspace, rejects and exports from an earlier run are removed.
    seed : int
        Seed of the synthetic data and of the simulated verification.
    n_leads : int
        Number of leads (see :func:`pipelines.demo.data.write_demo_inputs`).
    console : rich.console.Console, optional
        Where progress and a line per step are printed; default a quiet console.
    """
    console = console or Console(quiet=True)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ws_path = out_dir / "lvdun.gpkg"
    for stale in (ws_path, out_dir / "lvdun_rejects", out_dir / "exports"):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    inputs = write_demo_inputs(out_dir / "inputs", seed=seed, n_leads=n_leads)
    reports: list[IngestReport] = []
    with GeoPackageWorkspace(ws_path) as ws, Progress(console=console, transient=True) as bar:
        task = bar.add_task("demo pipeline", total=len(_STEPS) + 4)
        for layer, key, options in _STEPS:
            bar.update(task, description=f"ingest {layer} ← {inputs[key].name}")
            report = ingest(ws, layer, inputs[key], by="demo", **options)
            reports.append(report)
            console.print(f"ingest {layer:<8} {inputs[key].name:<20} {report.summary()}")
            bar.advance(task)
        bar.update(task, description="classify")
        result = classify(ws)
        console.print(f"classify: {result.leads} leads, {result.near_boundary} near a boundary")
        bar.advance(task)
        bar.update(task, description="field verification (simulated)")
        changed = simulate_verification(ws, seed=seed)
        console.print(f"verification: {changed} simulated status changes by demo users")
        bar.advance(task)
        bar.update(task, description="export per reserve")
        exports = out_dir / "exports"
        export(ws, exports, by="reserve", formats=("xlsx", "csv", "gpkg"))
        bar.advance(task)
        report_path = out_dir / "report.md"
        report_path.write_text(markdown_report(ws), encoding="utf-8")
        bar.advance(task)
    return DemoResult(ws_path, exports, report_path, out_dir / "inputs", reports)


def simulate_verification(ws: Workspace, *, seed: int = 2024, share: float = 0.4) -> int:
    """Walk a seeded share of the leads through the workflow, as field staff would.

    Returns the number of status changes made. Every change goes through
    :func:`pipelines.verify.status.set_status`, so history and rules are the real ones.

    Parameters
    ----------
    ws : Workspace
        The workspace, with classified leads.
    seed : int
        Seed of the random choice of leads and of their paths through the workflow.
    share : float
        Share of the leads (0-1) that are walked through the workflow.
    """
    rng = np.random.default_rng(seed)
    view = leads_view(ws)
    ids = view["lead_id"].to_numpy()
    chosen = rng.choice(ids, size=int(len(ids) * share), replace=False)
    paths = [
        ([Status.IN_FIELD], 0.15),
        ([Status.IN_FIELD, Status.NOT_PROBLEM], 0.25),
        ([Status.IN_FIELD, Status.PROBLEM], 0.15),
        ([Status.IN_FIELD, Status.PROBLEM, Status.RECTIFYING], 0.2),
        ([Status.IN_FIELD, Status.PROBLEM, Status.RECTIFYING, Status.RECTIFIED], 0.15),
        ([Status.IN_FIELD, Status.PROBLEM, Status.RECTIFYING, Status.RECTIFIED,
          Status.CLOSED], 0.10),
    ]
    weights = np.array([w for _, w in paths])
    picks = rng.choice(len(paths), size=len(chosen), p=weights / weights.sum())
    staff = ["张伟（演示）", "王芳（演示）", "李强（演示）", "刘洋（演示）"]
    changes = 0
    with ws.transaction():
        for lead_id, pick in zip(chosen, picks, strict=True):
            who = staff[int(rng.integers(len(staff)))]
            for step in paths[pick][0]:
                options: dict[str, Any] = {}
                if step == Status.NOT_PROBLEM:
                    options["reason"] = str(rng.choice(NOT_PROBLEM_REASONS[:5]))
                if step == Status.RECTIFYING:
                    options.update(responsible_unit="所在县林业和草原局", measures="拆除复绿",
                                   deadline="2025-06-30")
                if step == Status.CLOSED:  # synthetic: no reviewers accept it (验收)
                    options["override_acceptance"] = True
                set_status(ws, str(lead_id), step, by=who, note="合成演示数据", **options)
                changes += 1
    return changes


def print_summary(ws: Workspace, *, console: Console) -> None:
    """Print leads per reserve and zone, and per status, as terminal tables."""
    view = leads_view(ws)
    for title, table in (("线索：保护区 × 功能区", by_reserve_zone(ws, view)),
                         ("线索：核查状态", by_status(view))):
        out = Table(title=title)
        out.add_column(str(table.index.name or ""))
        for col in table.columns:
            out.add_column(str(col), justify="right")
        for idx, row in table.iterrows():
            out.add_row(str(idx), *(str(int(v)) for v in row))
        console.print(out)

"""`labelwise simulate` started from the browser (or the API) as a tracked job (app/jobs/progress.py): the
label-efficiency simulator of app/simulation on the built-in well-log charts, with small settings a lead
chooses, run on the workers' training queue, its progress reported after every training run, cancellable
between two runs (then nothing is written), and its results kept in the data directory.

The settings are bounded so that a run stays a few minutes on a CPU worker: one seed, 64 px charts, at most
100 pool images, 4 rounds and 150 steps per training run.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from app import storage
from app.auth.models import User
from app.db import session_scope
from app.errors import DomainError
from app.jobs import enqueue, job, progress
from app.jobs.models import JobRun, JobStatus
from app.projects.models import Project
from app.projects.service import STRATEGIES

log = logging.getLogger(__name__)

JOB = "labelwise.simulate"
BOUNDS = {"pool": (8, 100), "rounds": (1, 4), "steps": (5, 150)}
SIZE = 64  # chart side in px: a quarter of the CLI's default compute per step
THREADS: int | None = None  # torch CPU threads of a run (None: torch's choice; the tests use 1 and 32 px charts)


class SimulationRequestError(DomainError):
    """A refused simulation setting (422); the message names the field."""


@dataclass(frozen=True)
class SimulationRequest:
    pool: int = 40
    rounds: int = 2
    steps: int = 60
    strategies: tuple[str, ...] = ("random", "hybrid")

    def checked(self) -> SimulationRequest:
        for name, (lo, hi) in BOUNDS.items():
            value = getattr(self, name)
            if not isinstance(value, int) or not lo <= value <= hi:
                raise SimulationRequestError(f"{name}: must be a whole number from {lo} to {hi}, got {value!r}")
        unknown = [s for s in self.strategies if s not in STRATEGIES]
        if not self.strategies or unknown:
            raise SimulationRequestError(f"strategies: choose one or more of {', '.join(STRATEGIES)}"
                                         + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
        if len(set(self.strategies)) != len(self.strategies):
            raise SimulationRequestError("strategies: a strategy is listed twice")
        return self

    def training_runs(self) -> int:
        """Training runs of one seed: the full-data reference, the seed set, each round per strategy."""
        return 2 + self.rounds * len(self.strategies)


def results_path(run: JobRun) -> str:
    """Where a simulation job's results.json lies, relative to the data directory."""
    return f"simulations/{run.job_id}/results.json"


def sweep_results(*, session: Session, older_than: float) -> list[str]:
    """Result folders no finished simulation points at: its run ended without results (died, refused or
    cancelled mid-write) or its row is gone with its project. A finished simulation's results are kept, as
    long as its run is listed; a folder being written now is never touched. Returns the paths removed."""
    return progress.sweep_job_folder(session=session, folder="simulations", older_than=older_than,
                                     keep=lambda run: run.status not in (JobStatus.dead, JobStatus.cancelled))


def start(*, session: Session, project: Project, user: User, request: SimulationRequest) -> JobRun:
    """Check the settings, make the tracked job's row, commit, and send the job (training queue)."""
    request = request.checked()
    options = {**asdict(request), "strategies": list(request.strategies)}
    run = progress.track(session=session, name=JOB, args=[], project_id=project.id, user_id=user.id,
                         message=f"{request.training_runs()} training runs, waiting for a worker")
    run.args = [project.id, options]
    run.progress_total = request.training_runs()
    session.commit()
    enqueue(JOB, *run.args, job_id=run.job_id)
    return run


def _config(options: dict[str, Any]) -> Any:
    from app.simulation.config import SimConfig

    pool = int(options["pool"])
    return SimConfig(data="welllog", strategies=tuple(options["strategies"]), rounds=int(options["rounds"]),
                     seeds=1, size=SIZE, pool=pool, test=max(4, pool // 4), val=max(4, pool // 5),
                     steps=int(options["steps"]), min_steps=1, crop=None, score_subset=32, mc_samples=4,
                     batch=max(2, pool // 10), growth=1.5, min_reference=0.0)


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """What the page shows: labels to the target per strategy and the fg mIoU of every round."""
    strategies = {}
    for name, s in results["strategies"].items():
        strategies[name] = {
            "labels_to_target": results["labels_to_target"].get(name),
            "rounds": [{"labeled_tasks": r["labeled_tasks"], "labeled_fraction": round(r["labeled_fraction"], 4),
                        "miou_fg": None if r["miou_fg"] is None else round(r["miou_fg"], 4)} for r in s["rounds"]]}
    return {"strategies": strategies, "full_data_miou_fg": results["full_data"]["miou_fg"],
            "target_miou_fg": results["target"]["miou_fg"], "pool_tasks": results["schedule"]["pool_tasks"],
            "seconds": results["timing"]["total_seconds"], "warnings": results.get("warnings", [])}


@contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Set in the thread that runs the job (torch's thread count is that thread's OpenMP setting)."""
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@job(JOB, queue="training")
def run_simulation_job(project_id: int, options: dict[str, Any]) -> dict[str, Any] | None:
    """One simulation; progress after each training run, a cancel stops it before the next one."""
    from app.simulation.config import SimulationInputError
    from app.simulation.run import run_simulation

    job_id = progress.current_job_id() or ""
    out = storage.absolute(f"simulations/{job_id}")
    request = SimulationRequest(**{**options, "strategies": tuple(options["strategies"])})
    total = request.training_runs()
    done = [0]

    def on_step(message: str, _total: int, result: dict[str, Any] | None) -> None:
        if result is not None:
            done[0] += 1
            miou = result.get("miou_fg")
            message = f"{message}: fg mIoU {miou:.3f}" if miou is not None else message
        progress.report(done[0], total, message)  # raises Cancelled when asked to stop

    progress.report(0, total, "loading the well-log charts")
    try:
        with _torch_threads(THREADS):
            results = run_simulation(_config(options), out, force=True, on_step=on_step, plot=False)
    except progress.Cancelled:
        shutil.rmtree(out, ignore_errors=True)
        raise
    except SimulationInputError as exc:  # the same settings would be refused again: no retry
        with session_scope() as session:
            progress.settle(session=session, job_id=job_id, status=JobStatus.dead, message=f"refused: {exc}")
        return None
    summary = summarize(results)
    with session_scope() as session:
        progress.settle(session=session, job_id=job_id, result=summary,
                        message=f"{total} training runs in {summary['seconds']:.0f} s")
    log.info("simulation %s for project %s done", job_id, project_id)
    return summary

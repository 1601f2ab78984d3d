"""The demo: a seeded `demo` project of synthetic well-log charts, and the whole labeling loop run
headless (`--once`) with the generator's ground truth standing in for an annotator."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from app.annotations import service as annotation_service
from app.auth import service as auth_service
from app.auth.models import Role
from app.db import session_scope
from app.flows import submit, training, uploads
from app.items.models import Item, Split
from app.jobs import in_process_worker
from app.modeling import service as model_service
from app.modeling.models import ModelStatus, ModelVersion, Score, ScoringRun, ScoringRunStatus
from app.modeling.service import TrainingError
from app.projects import service as project_service
from app.projects.models import Project
from app.queue import service as queue_service
from app.queue.models import Task

DEMO_PROJECT = "demo"
DEMO_SEED = 7
DEMO_USERS = [("admin", "admin-demo", Role.admin), ("lead", "lead-demo", Role.lead),
              ("annotator", "annotator-demo", Role.annotator), ("annotator2", "annotator2-demo", Role.annotator)]


class DemoError(RuntimeError):
    pass


@dataclass
class DemoConfig:
    pool_images: int = 40
    validation_images: int = 10
    size: int = 256
    seed_labels: int = 8
    retrain_every: int = 5
    timeout: float = 900.0


@dataclass
class LoopResult:
    project_id: int
    model_versions: list[int] = field(default_factory=list)
    labeled_task_ids: list[int] = field(default_factory=list)


Echo = Callable[[str], None]


def ensure_users() -> dict[str, int]:
    with session_scope() as session:
        # The demo's fixed, printed passwords are the one place the password policy is bypassed.
        return {name: auth_service.ensure_user(session=session, username=name, password=pw, role=role,
                                               check_policy=False).id
                for name, pw, role in DEMO_USERS}


def ground_truth(cfg: DemoConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Charts by file name; the generator is deterministic, so a later run finds the same truth."""
    from app.learning.welllog import generate_dataset

    charts = generate_dataset(cfg.pool_images + cfg.validation_images, seed=DEMO_SEED, size=cfg.size)
    return {f"chart-{i:04d}.png": chart for i, chart in enumerate(charts)}


def create_project(cfg: DemoConfig, truth: dict[str, tuple[np.ndarray, np.ndarray]], echo: Echo) -> int:
    from app.learning.welllog import CLASSES

    with session_scope() as session:
        existing = project_service.get_by_name(session=session, name=DEMO_PROJECT)
        if existing is not None:
            echo(f"[create] project {DEMO_PROJECT!r} exists (id {existing.id}); continuing with it")
            return existing.id
        lead = auth_service.get_by_username(session=session, username="lead")
        assert lead is not None
        project = project_service.create(
            session=session, name=DEMO_PROJECT, classes=CLASSES, creator=lead, retrain_every=cfg.retrain_every,
            description="Synthetic scanned well-log charts: paper, grid, two thin curves.",
        )
        for name, _pw, _role in DEMO_USERS:
            user = auth_service.get_by_username(session=session, username=name)
            assert user is not None
            project_service.add_member(session=session, project=project, user=user, added_by=lead)
        for i, (name, (image, _mask)) in enumerate(truth.items()):
            split = Split.pool if i < cfg.pool_images else Split.validation
            uploads.add_image(session=session, project=project, filename=name, pixels=image, split=split, user=lead)
        echo(f"[create] project {DEMO_PROJECT!r} (id {project.id}): {len(project.classes)} classes "
             f"({', '.join(n for n, _ in CLASSES)}), {cfg.pool_images} pool + {cfg.validation_images} "
             f"validation charts of {cfg.size}x{cfg.size}")
        return project.id


def label_with_truth(project_id: int, task_ids: list[int], username: str,
                     truth: dict[str, tuple[np.ndarray, np.ndarray]], trigger: bool = True) -> list[int]:
    """Submit ground-truth masks as `username`; returns the ids of model versions this queued."""
    queued = []
    for task_id in task_ids:
        with session_scope() as session:
            project = session.get(Project, project_id)
            task = session.get(Task, task_id)
            user = auth_service.get_by_username(session=session, username=username)
            assert project is not None and task is not None and user is not None
            item = session.get(Item, task.item_id)
            assert item is not None
            done = submit.submit_label(session=session, project=project, task=task, user=user,
                                       mask=truth[item.original_name][1], trigger_retrain=trigger)
        if done.retrain is not None:
            queued.append(done.retrain.id)
    return queued


def seed_labels(project_id: int, cfg: DemoConfig, truth: dict, echo: Echo) -> None:  # type: ignore[type-arg]
    """Label the validation split and a few pool charts as the lead (a project's starting point)."""
    with session_scope() as session:
        tasks = session.execute(
            select(Task.id, Item.split).join(Item, Item.id == Task.item_id)
            .where(Task.project_id == project_id).order_by(Task.id)
        ).all()
    val = [t for t, split in tasks if split == Split.validation]
    pool = [t for t, split in tasks if split == Split.pool][: cfg.seed_labels]
    label_with_truth(project_id, val + pool, "lead", truth, trigger=False)
    echo(f"[seed] {len(val)} validation and {len(pool)} pool charts labeled from ground truth")


def request_training(project_id: int) -> int:
    with session_scope() as session:
        project = session.get(Project, project_id)
        assert project is not None
        try:
            mv = training.request_training(session=session, project=project, reason="demo")
        except TrainingError as exc:
            raise DemoError(str(exc)) from None
        if mv is None:
            pending = model_service.pending_version(session=session, project_id=project_id)
            assert pending is not None
            return pending.id
    training.enqueue_training(mv)
    return mv.id


def wait_ranked(model_version_id: int, timeout: float) -> None:
    """Poll the database until the version is trained, scored and ranked (works for any worker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as session:
            mv = session.get(ModelVersion, model_version_id)
            assert mv is not None
            if mv.status == ModelStatus.failed:
                raise DemoError(f"training model v{mv.version} failed: {mv.error}")
            if mv.status == ModelStatus.ready and mv.held_back:
                return  # worse than the live version: kept, not scored (app.modeling.promotion)
            run = session.scalar(select(ScoringRun).where(ScoringRun.model_version_id == model_version_id))
            if run is not None and run.status == ScoringRunStatus.ranked:
                return
            if run is not None and run.status == ScoringRunStatus.failed:
                raise DemoError(f"scoring with model v{mv.version} failed")
        failures = in_process_worker().failures
        if failures:
            raise DemoError(f"a worker task failed: {failures[-1]}")
        time.sleep(0.2)
    raise DemoError(f"model version {model_version_id} was not ranked within {timeout:.0f} s")


def describe_model(model_version_id: int) -> str:
    with session_scope() as session:
        mv = session.get(ModelVersion, model_version_id)
        project = session.get(Project, mv.project_id) if mv else None
        assert mv is not None and project is not None
        m = mv.metrics
        cal = m.get("calibration")
        calibration = (f", ECE {cal['ece_before']:.3f} -> {cal['ece_after']:.3f} at T={mv.temperature:.2f}"
                       if cal else "")
        per_class = m.get("per_class", {})
        parts = [f"{c.name} {per_class[str(c.index)]['iou']:.3f}" for c in project.classes[1:]
                 if per_class.get(str(c.index), {}).get("iou") is not None]
        miou = m.get("miou_fg")
        miou_text = f"fg mIoU {miou:.3f}" if miou is not None else "fg mIoU n/a"
        return (f"model v{mv.version} on {mv.label_count} labels: {miou_text} ({', '.join(parts)}) "
                f"on {m.get('evaluated_on', 0)} validation charts{calibration}, {m.get('train_seconds', 0):.1f} s")


def describe_ranking(model_version_id: int) -> str:
    with session_scope() as session:
        run = session.scalar(select(ScoringRun).where(ScoringRun.model_version_id == model_version_id))
        top = session.scalar(select(Score).where(Score.model_version_id == model_version_id, Score.rank == 1))
        if run is None:
            return "held back: worse on the validation split than the live version, so the queue keeps its ranking"
        head = f"{run.tasks_total} open tasks scored in {run.chunks_total} chunks, ranked"
        if top is None:
            return head
        parts = ", ".join(f"{k} {top.components[k]:.3f}" for k in ("entropy_weighted", "bald_weighted", "class_boost",
                                                                   "diversity") if k in top.components)
        return f"{head} by {top.strategy}; top task {top.task_id}: score {top.value:.4f} ({parts})"


def label_next(project_id: int, count: int, username: str, truth: dict) -> tuple[list[int], list[int]]:  # type: ignore[type-arg]
    """The stand-in annotator: lease from the queue like a person would, then submit the truth."""
    labeled, queued = [], []
    for _ in range(count):
        with session_scope() as session:
            project = session.get(Project, project_id)
            user = auth_service.get_by_username(session=session, username=username)
            assert project is not None and user is not None
            task = queue_service.lease_next(session=session, project=project, user=user)
            task_id = task.id if task else None
        if task_id is None:
            break
        queued += label_with_truth(project_id, [task_id], username, truth)
        labeled.append(task_id)
    return labeled, queued


def run_once(cfg: DemoConfig, echo: Echo = print) -> LoopResult:
    """create -> train -> score -> rank -> label -> retrain -> re-rank, one summary line per step."""
    ensure_users()
    truth = ground_truth(cfg)
    project_id = create_project(cfg, truth, echo)
    result = LoopResult(project_id=project_id)
    with session_scope() as session:
        has_model = model_service.latest_ready(session=session, project_id=project_id) is not None
        has_labels = annotation_service.pool_labels(session=session, project_id=project_id) > 0
    if not has_labels:
        seed_labels(project_id, cfg, truth, echo)
    if not has_model:
        mv_id = request_training(project_id)
        wait_ranked(mv_id, cfg.timeout)
        echo(f"[train] {describe_model(mv_id)}")
        echo(f"[rank] {describe_ranking(mv_id)}")
        result.model_versions.append(mv_id)
    with session_scope() as session:
        project = session.get(Project, project_id)
        assert project is not None
        need = project.retrain_every
    labeled, queued = label_next(project_id, need, "annotator", truth)
    result.labeled_task_ids = labeled
    echo(f"[label] stand-in annotator labeled {len(labeled)} top-ranked tasks: {labeled}")
    if not queued:
        raise DemoError("labeling did not trigger a retrain (is the queue empty?)")
    wait_ranked(queued[-1], cfg.timeout)
    echo(f"[retrain] {describe_model(queued[-1])}")
    echo(f"[rerank] {describe_ranking(queued[-1])}")
    result.model_versions.append(queued[-1])
    return result


def prepare_for_serving(cfg: DemoConfig, echo: Echo = print) -> int:
    """Seed the demo project and its first model, unless they exist already."""
    ensure_users()
    truth = ground_truth(cfg)
    project_id = create_project(cfg, truth, echo)
    with session_scope() as session:
        ranked = model_service.ranked_model_version_id(session=session, project_id=project_id)
        has_labels = annotation_service.pool_labels(session=session, project_id=project_id) > 0
    if ranked is None:
        if not has_labels:
            seed_labels(project_id, cfg, truth, echo)
        mv_id = request_training(project_id)
        wait_ranked(mv_id, cfg.timeout)
        echo(f"[train] {describe_model(mv_id)}")
        echo(f"[rank] {describe_ranking(mv_id)}")
    return project_id


def prepare_in_background(cfg: DemoConfig, echo: Echo = print) -> threading.Thread:
    """The same seeding behind a running server: users first (so logging in works at once), then the
    project, its seed labels and the first model. Pages show the project as soon as it exists and the
    header strip says when the model is training; a failure is printed, the server keeps serving."""

    def run() -> None:
        try:
            project_id = prepare_for_serving(cfg, echo)
            echo(f"[ready] the queue of project {project_id} is ranked by the first model")
        except Exception as exc:  # noqa: BLE001 - reported to the person who started the demo
            echo(f"[failed] preparing the demo: {exc}")

    thread = threading.Thread(target=run, name="labelwise-demo-prepare", daemon=True)
    thread.start()
    return thread

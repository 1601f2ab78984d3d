"""Auto-accept: the policy, the tasks above its bar, machine labels and their audit."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import imaging, storage
from app.annotations import service as annotation_service
from app.annotations.models import Annotation, AnnotationStatus
from app.audit import service as audit
from app.auth.models import User
from app.autolabel.models import AutoAcceptPolicy, MachineAudit
from app.db import utcnow
from app.errors import DomainError
from app.items.models import Item, Split
from app.learning.metrics import confusion_matrix, segmentation_metrics
from app.modeling import suggestions
from app.modeling.models import ModelVersion, Score
from app.projects.models import Project
from app.queue.models import Task, TaskStatus

DEFAULT_BAR = 0.95
DEFAULT_AUDIT_SHARE = 0.1


@dataclass(frozen=True)
class Applied:
    machine_labels: int
    audits: int
    model_version_id: int | None


def check_fraction(name: str, value: Any) -> float:
    """A value in [0, 1], else a 422 naming the field."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise DomainError(f"{name} must be a number in [0, 1]") from None
    if not math.isfinite(v) or not 0.0 <= v <= 1.0:
        raise DomainError(f"{name} must be in [0, 1], got {value}")
    return v


def get_policy(*, session: Session, project_id: int) -> AutoAcceptPolicy | None:
    return session.scalar(select(AutoAcceptPolicy).where(AutoAcceptPolicy.project_id == project_id))


def set_policy(*, session: Session, project: Project, user: User, bar: Any, audit_share: Any) -> AutoAcceptPolicy:
    """Validate both fields before writing either (nothing half-applied)."""
    bar_v, share_v = check_fraction("bar", bar), check_fraction("audit_share", audit_share)
    policy = get_policy(session=session, project_id=project.id)
    if policy is None:
        policy = AutoAcceptPolicy(project_id=project.id, bar=bar_v, audit_share=share_v)
        session.add(policy)
    policy.bar, policy.audit_share, policy.updated_by_id, policy.updated_at = bar_v, share_v, user.id, utcnow()
    session.flush()
    audit.record(session=session, action="autolabel.policy", entity="auto_accept_policy", entity_id=policy.id,
                 user_id=user.id, project_id=project.id, detail={"bar": bar_v, "audit_share": share_v})
    return policy


def candidates(*, session: Session, project_id: int, model_version_id: int, bar: float) -> list[tuple[Task, float]]:
    """Open pool tasks not yet audited under this version whose confidence is >= bar, by task id."""
    rows = session.execute(
        select(Task, Score).join(Score, Score.task_id == Task.id).join(Item, Item.id == Task.item_id)
        .where(Task.project_id == project_id, Task.status == TaskStatus.open, Item.split == Split.pool,
               Score.model_version_id == model_version_id,
               ~Task.id.in_(select(MachineAudit.task_id).where(MachineAudit.model_version_id == model_version_id)))
        .order_by(Task.id)
    ).all()
    out = []
    for task, score in rows:
        conf = score.components.get("expected_iou")
        if conf is not None and float(conf) >= bar:
            out.append((task, float(conf)))
    return out


def _suggested_mask(mv: ModelVersion, task: Task) -> np.ndarray:
    data = storage.read(suggestions.suggestion_path(mv.project_id, mv.id, task.item_id, "mask"))
    return annotation_service.clip_to_region(imaging.decode_png_array(data), task)


def add_machine_label(*, session: Session, project: Project, task: Task, mv: ModelVersion, user: User) -> Annotation:
    """The version's stored suggestion becomes the task's label, with status `machine`: never trained on,
    never counted or exported as a human label; `author_id` is the lead who applied the policy."""
    mask = _suggested_mask(mv, task)
    version = (session.scalar(select(func.max(Annotation.version)).where(Annotation.task_id == task.id)) or 0) + 1
    session.execute(update(Annotation).where(Annotation.task_id == task.id,
                                             Annotation.status == AnnotationStatus.submitted)
                    .values(status=AnnotationStatus.superseded))
    annotation = Annotation(task_id=task.id, item_id=task.item_id, project_id=task.project_id, version=version,
                            author_id=user.id, mask_path="",
                            status=AnnotationStatus.machine, labeled_pixels=int((mask != imaging.IGNORE).sum()),
                            model_version_id=mv.id, suggestion_fraction=1.0)
    session.add(annotation)
    session.flush()
    annotation.mask_path = f"projects/{project.id}/masks/task{task.id}-v{version}-a{annotation.id}-machine.png"
    storage.write_in_transaction(session, annotation.mask_path, imaging.encode_png(mask))
    task.status = TaskStatus.done
    return annotation


def pick_audits(task_ids: list[int], share: float, seed: int) -> set[int]:
    """ceil(share x n) of the tasks at random (a fixed seed per project and version: re-applying draws
    the same audits), at least one when share > 0 and there is any task."""
    n = math.ceil(share * len(task_ids) - 1e-9) if task_ids else 0
    rng = np.random.default_rng(seed)
    return {int(t) for t in rng.choice(np.asarray(task_ids, np.int64), size=n, replace=False)} if n else set()


def apply(*, session: Session, project: Project, user: User, mv: ModelVersion) -> Applied:
    """Machine labels for the open tasks above the bar under `mv`, except the audit share, which stays in
    the queue for humans, at its head (rank 0 under `mv` until the next ranking), and is recorded as an audit."""
    policy = get_policy(session=session, project_id=project.id)
    if policy is None:
        raise DomainError("set the auto-accept bar and audit share first")
    found = candidates(session=session, project_id=project.id, model_version_id=mv.id, bar=policy.bar)
    audits = pick_audits([t.id for t, _ in found], policy.audit_share, seed=project.id * 1_000_003 + mv.id)
    made = 0
    for task, conf in found:
        if task.id in audits:
            session.add(MachineAudit(project_id=project.id, task_id=task.id, model_version_id=mv.id, confidence=conf))
        else:
            add_machine_label(session=session, project=project, task=task, mv=mv, user=user)
            made += 1
    if audits:  # audits go first: ranked by confidence they would sit at the back of the queue, unanswered
        session.execute(update(Score).where(Score.model_version_id == mv.id, Score.task_id.in_(audits))
                        .values(rank=0))
    session.flush()
    audit.record(session=session, action="autolabel.apply", entity="project", entity_id=project.id, user_id=user.id,
                 project_id=project.id, detail={"model_version_id": mv.id, "bar": policy.bar,
                                                "machine_labels": made, "audits": len(audits)})
    return Applied(machine_labels=made, audits=len(audits), model_version_id=mv.id)


def record_audit_answer(*, session: Session, task: Task, annotation: Annotation, num_classes: int) -> None:
    """A human labeled an audit task: measure the machine label against it (fg mIoU over the task)."""
    row = session.scalar(select(MachineAudit).where(MachineAudit.task_id == task.id, MachineAudit.audited_at.is_(None))
                         .order_by(MachineAudit.id.desc()).limit(1))
    if row is None:
        return
    mv = session.get(ModelVersion, row.model_version_id)
    assert mv is not None
    machine = _suggested_mask(mv, task)
    human = annotation_service.load_mask(annotation)
    machine = np.where(machine == imaging.IGNORE, 0, machine)
    conf = confusion_matrix(machine, human, num_classes, ignore_index=imaging.IGNORE)
    row.miou_fg = segmentation_metrics(conf)["miou_fg"]
    if row.miou_fg is None:  # neither drew any foreground: the machine label was right
        row.miou_fg = 1.0
    row.annotation_id, row.audited_at = annotation.id, utcnow()


def summary(*, session: Session, project_id: int) -> dict[str, Any]:
    """The bar and share beside what the audits measured, for the overview and the API."""
    policy = get_policy(session=session, project_id=project_id)
    machine = int(session.scalar(select(func.count()).select_from(Annotation).join(Task, Task.id == Annotation.task_id)
                                 .where(Task.project_id == project_id,
                                        Annotation.status == AnnotationStatus.machine)) or 0)
    done = list(session.scalars(select(MachineAudit.miou_fg).where(MachineAudit.project_id == project_id,
                                                                   MachineAudit.audited_at.is_not(None))))
    pending = int(session.scalar(select(func.count()).select_from(MachineAudit).where(
        MachineAudit.project_id == project_id, MachineAudit.audited_at.is_(None))) or 0)
    measured = float(np.mean([v for v in done if v is not None])) if done else None
    return {"bar": policy.bar if policy else None, "audit_share": policy.audit_share if policy else None,
            "machine_labels": machine, "audits_done": len(done), "audits_pending": pending,
            "audit_miou_fg": measured, "audit_error": None if measured is None else 1.0 - measured}

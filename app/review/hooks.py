"""What review and quality control do when a label is submitted (called by app/flows/submit.py, inside
its transaction): a returned task is back, a gold answer is scored and the annotator's quality score
moves, and a share of new labels goes to review."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.agreement import service as agreement_service
from app.annotations.models import Annotation
from app.projects.models import Project
from app.queue.models import Task
from app.review import gold, quality
from app.review import service as review_service


def after_submit(*, session: Session, project: Project, task: Task, annotation: Annotation) -> None:
    """Called after the agreement of an overlap task's k-th copy was stored."""
    if gold.score_answer(session=session, task=task, annotation=annotation) is not None:
        quality.refresh(session=session, project_id=project.id)
        return  # a gold answer is scored against the known mask, not reviewed (nor the task's return closed)
    returned = review_service.close_returns(session=session, task_id=task.id)
    if agreement_service.task_agreement(session=session, task_id=task.id) is not None:
        quality.refresh(session=session, project_id=project.id)  # new agreement evidence
    review_service.sample(session=session, project=project, task=task, annotation=annotation, always=returned)

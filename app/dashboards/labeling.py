"""The labeling page, its header strip and the "why this task" panel."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.annotations import service as annotation_service
from app.auth import service as auth_service
from app.auth.models import User
from app.budgets import service as budget_service
from app.deps import PageProject, PageUser, SessionDep, require_project_role
from app.items.models import Item, Split
from app.modeling import explain, promotion
from app.modeling import service as model_service
from app.projects import guidelines
from app.projects.models import Project
from app.queue import overlap, routing
from app.queue import service as queue_service
from app.queue import validation as validation_queue
from app.review import service as review_service
from app.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}/label")
def labeling_page(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                  mode: str = "queue") -> Response:
    """The labeling page; `mode=validation` (leads) labels the validation split in order, outside the queue."""
    validation = mode == "validation"
    if validation:
        require_project_role(session, project, user)
    guide = guidelines.current(session=session, project_id=project.id)
    return render(request, "labeling/page.html", {"user": user, "project": project, "validation_mode": validation,
                                                  "validation_progress": validation_queue.progress(
                                                      session=session, project_id=project.id) if validation else None,
                                                  "empty_queue": validation_queue.EMPTY if validation
                                                  else queue_service.EMPTY_QUEUE, "guideline": guide,
                                                  "guideline_html": guidelines.render(guide.text) if guide else None,
                                                  **_stats(session, project, user)})


@router.get("/projects/{project_id}/label/stats")
def labeling_stats(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    """The header strip, polled by HTMX."""
    return render(request, "labeling/_stats.html", {"project": project, **_stats(session, project, user)})


@router.get("/projects/{project_id}/label/why/{task_id}")
def why_fragment(request: Request, task_id: int, project: PageProject, user: PageUser,
                 session: SessionDep) -> Response:
    task = queue_service.get_task(session=session, project_id=project.id, task_id=task_id)
    if task is None:
        return render(request, "labeling/_why.html", {"task": None}, status_code=404)
    score = model_service.score_for(session=session, project_id=project.id, task_id=task.id)
    model = reasons = None
    if score is not None:
        model = model_service.get_version(session=session, project_id=project.id,
                                          model_version_id=score.model_version_id)
        doubt = explain.load_class_doubt(project_id=project.id, model_version_id=score.model_version_id,
                                         item_id=task.item_id, region=task.region)
        reasons = explain.reasons(
            strategy=score.strategy, components=score.components, region=task.region, doubt=doubt,
            names=[c.name for c in sorted(project.classes, key=lambda c: c.index)],
            class_weights=model.metrics.get("class_weights") if model else None)
    # Questions flagged on this task and the leads' answers: whoever opens it next reads them. A gold task
    # reads to its annotators as the fresh task it looks like: nothing of its source task's history.
    gold = routing.answers_gold(session=session, task_id=task.id, user_id=user.id)
    answers = [] if gold else queue_service.answered_flags(session=session, task_id=task.id)
    names = auth_service.usernames(session=session, user_ids=[f.resolved_by_id for f in answers if f.resolved_by_id])
    item = session.get(Item, task.item_id)
    return render(request, "labeling/_why.html", {
        "task": task, "score": score, "model": model, "reasons": reasons,
        "validation": item is not None and item.split == Split.validation,
        "answers": [(f, names.get(f.resolved_by_id or 0, "a lead")) for f in answers],
        "routing": None if gold else overlap.routing_note(session=session, task=task),
        # A rejected earlier label of this task, and the tiered-routing rule that applies to this user.
        "rejections": [] if gold else review_service.rejections_for_task(session=session, project=project,
                                                                         task_id=task.id),
        "tier": routing.tier_of(session=session, project_id=project.id, user_id=user.id) if score else None})


def _stats(session: Session, project: Project, user: User) -> dict:  # type: ignore[type-arg]
    """The annotator's own counts up front, the project's behind them (on hover), the budget left."""
    today, week = annotation_service.day_start(), annotation_service.week_start()
    done, in_progress = queue_service.budget_used(session=session, project=project)
    budget = project.label_budget
    return {
        "own_today": annotation_service.labels_by(session=session, project_id=project.id, user_id=user.id,
                                                  since=today),
        "own_week": annotation_service.labels_by(session=session, project_id=project.id, user_id=user.id,
                                                 since=week),
        "labels_today": annotation_service.submitted_since(session=session, project_id=project.id, since=today),
        "labels_week": annotation_service.submitted_since(session=session, project_id=project.id, since=week),
        "labels_total": annotation_service.submitted_since(session=session, project_id=project.id, since=None),
        "label_budget": budget,
        "budget_done": done, "budget_in_progress": in_progress,
        "budget_left": max(0, budget - done - in_progress) if budget is not None else None,
        "queue_depth": queue_service.count_open(session=session, project_id=project.id),
        "model": promotion.live_version(session=session, project_id=project.id),  # not a held-back one
        "training": model_service.pending_version(session=session, project_id=project.id),
        # The cap that stops this annotator's queue now, if one does: which, and when it resets.
        "cap": budget_service.reached_cap(session=session, project=project, user=user),
    }

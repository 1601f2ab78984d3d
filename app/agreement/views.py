"""Pages of the quality desk: agreement and overlap settings, the disagreement queue, the adjudication view."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from app.agreement import adjudication, reads
from app.agreement.schemas import OverlapRead
from app.auth.models import Role
from app.deps import PageProject, PageUser, SessionDep, require_role
from app.errors import DomainError, NotFound
from app.items.models import Item
from app.projects.models import Project
from app.queue import overlap
from app.queue import service as queue_service
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)

# Annotator colours in the difference view (copy 1, copy 2, ...), apart from any class colour the
# project is likely to use; where several copies claim a pixel for different classes it shows MIXED.
ANNOTATOR_COLORS = ("#ff8c00", "#00b7eb", "#b000ff", "#2ecc40", "#ff4136")
MIXED_COLOR = "#ffff00"


def _quality(request: Request, session: SessionDep, project: Project, user: Any, *, form: OverlapRead | None = None,
             error: str | None = None, saved: bool = False, status: int = 200) -> Response:
    summary = reads.summary_read(session, project)
    chart = {"names": [c.name for c in summary.classes], "colors": [c.color for c in project.classes],
             "iou": [c.mean_iou for c in summary.classes], "dice": [c.mean_dice for c in summary.classes]}
    return render(request, "agreement/quality.html", {
        "user": user, "project": project, "summary": summary, "chart": chart, "error": error, "saved": saved,
        "form": form or reads.overlap_read(session, project),
        "members": overlap.member_count(session=session, project_id=project.id)}, status_code=status)


@router.get("/projects/{project_id}/quality")
def quality_page(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                 saved: bool = False) -> Response:
    require_role(user, Role.lead)
    return _quality(request, session, project, user, saved=saved)


def _number(form: Any, key: str, kind: type = float, optional: bool = False) -> Any:
    raw = str(form.get(key, "")).strip()
    if optional and raw == "":
        return None
    try:
        return kind(raw)
    except ValueError:
        raise DomainError(f"{key} must be a number") from None


@router.post("/projects/{project_id}/quality/overlap", dependencies=[Depends(csrf_protect)])
async def save_overlap(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    form = await request.form()
    shown = OverlapRead(enabled=True, overlap_share=0.0, overlap_k=2, agreement_threshold=0.7)
    try:
        share = _number(form, "overlap_share")
        k = _number(form, "overlap_k", int)
        uncertainty = _number(form, "overlap_uncertainty_threshold", optional=True)
        agreement = _number(form, "agreement_threshold")
        shown = OverlapRead(enabled=True, overlap_share=share, overlap_k=k,
                            overlap_uncertainty_threshold=uncertainty, agreement_threshold=agreement)
        overlap.set_policy(session=session, project=project, user=user, share=share, k=k,
                           uncertainty_threshold=uncertainty, agreement_threshold=agreement)
    except DomainError as exc:
        session.rollback()
        return _quality(request, session, project, user, form=shown, error=str(exc), status=exc.status)
    session.commit()
    return RedirectResponse(f"/projects/{project.id}/quality?saved=1", status_code=303)


@router.get("/projects/{project_id}/adjudication")
def disagreement_page(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                      resolved: int | None = None) -> Response:
    require_role(user, Role.lead)
    return render(request, "agreement/queue.html", {
        "user": user, "project": project, "rows": reads.disagreements_read(session, project), "resolved": resolved,
        "policy": reads.overlap_read(session, project)})


@router.get("/projects/{project_id}/adjudication/{task_id}")
def adjudication_page(request: Request, task_id: int, project: PageProject, user: PageUser,
                      session: SessionDep) -> Response:
    require_role(user, Role.lead)
    task = queue_service.get_task(session=session, project_id=project.id, task_id=task_id)
    if task is None:
        raise NotFound("task not found")
    item = session.get(Item, task.item_id)
    assert item is not None
    detail = reads.task_read(session, project, task)
    colors = {c.annotation_id: ANNOTATOR_COLORS[i % len(ANNOTATOR_COLORS)] for i, c in enumerate(detail.copies)}
    config = {
        "project": project.id, "task": task.id, "width": item.width, "height": item.height,
        "region": {"x": task.x, "y": task.y, "width": task.width, "height": task.height},
        "image": f"/api/v1/projects/{project.id}/items/{item.id}/image",
        "classes": [{"index": c.index, "name": c.name, "color": c.color} for c in project.classes],
        "copies": [{"id": c.annotation_id, "author": c.author, "mask": c.mask_url, "color": colors[c.annotation_id]}
                   for c in detail.copies],
        "mixed": MIXED_COLOR,
    }
    return render(request, "agreement/adjudicate.html", {
        "user": user, "project": project, "task": task, "detail": detail, "config": config, "colors": colors,
        "mixed": MIXED_COLOR, "flags": [f for f, t in queue_service.open_flags(session=session, project_id=project.id)
                                        if t.id == task.id]})


@router.post("/projects/{project_id}/adjudication/{task_id}", dependencies=[Depends(csrf_protect)])
async def adjudicate_form(request: Request, task_id: int, project: PageProject, user: PageUser,
                          session: SessionDep) -> Response:
    """Pick or merge from the adjudication page's forms; errors render as a page naming the field."""
    require_role(user, Role.lead)
    task = queue_service.get_task(session=session, project_id=project.id, task_id=task_id)
    if task is None:
        raise NotFound("task not found")
    form = await request.form()
    method = str(form.get("method", ""))
    names = {str(c.index): c.name for c in project.classes}
    classes = {}
    for key, value in form.multi_items():
        if key.startswith("class-") and str(value):
            index = key.removeprefix("class-")
            classes[names.get(index, f"#{index}")] = _number(form, key, int)
    picked = _number(form, "annotation_id", int, optional=True) if method == "pick" else None
    adjudication.resolve(session=session, project=project, task=task, user=user, method=method,
                         rationale=str(form.get("rationale", "")), annotation_id=picked,
                         classes=classes if method == "merge" else None)
    session.commit()
    return RedirectResponse(f"/projects/{project.id}/adjudication?resolved={task.id}", status_code=303)

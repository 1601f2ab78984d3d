"""The machine-labels page: the lead sets the bar and audit share, applies them, and reads the audit.
In dashboards (imported by no domain) because applying is a flow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from app.auth.models import Role
from app.autolabel import service
from app.deps import PageProject, PageUser, SessionDep, require_role
from app.errors import DomainError
from app.flows import autolabel as autolabel_flow
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)


def _page(request: Request, project: PageProject, user: PageUser, session: SessionDep, *, message: str = "",
          error: str = "", status: int = 200) -> Response:
    return render(request, "autolabel/page.html", {
        "user": user, "project": project, "summary": service.summary(session=session, project_id=project.id),
        "message": message, "error": error}, status_code=status)


@router.get("/projects/{project_id}/machine-labels")
def machine_labels_page(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    return _page(request, project, user, session)


@router.post("/projects/{project_id}/machine-labels/policy", dependencies=[Depends(csrf_protect)])
def save_policy(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                bar: Annotated[str, Form()], audit_share: Annotated[str, Form()]) -> Response:
    require_role(user, Role.lead)
    try:
        service.set_policy(session=session, project=project, user=user, bar=bar, audit_share=audit_share)
    except DomainError as exc:
        session.rollback()
        return _page(request, project, user, session, error=str(exc), status=exc.status)
    session.commit()
    return _page(request, project, user, session, message="Saved.")


@router.post("/projects/{project_id}/machine-labels/apply", dependencies=[Depends(csrf_protect)])
def apply_policy(request: Request, project: PageProject, user: PageUser, session: SessionDep) -> Response:
    require_role(user, Role.lead)
    try:
        applied = autolabel_flow.apply_machine_labels(session=session, project=project, user=user)
    except DomainError as exc:
        session.rollback()
        return _page(request, project, user, session, error=str(exc), status=exc.status)
    return _page(request, project, user, session,
                 message=f"{applied.machine_labels} machine labels; {applied.audits} tasks sent to humans as audits.")

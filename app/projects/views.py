from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import PageUser, SessionDep
from app.projects import service
from app.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def projects_page(request: Request, user: PageUser, session: SessionDep) -> Response:
    projects = service.list_for_member(session=session, user=user)
    return render(request, "projects/list.html", {"user": user, "projects": projects})

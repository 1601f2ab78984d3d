from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import service
from app.deps import SessionDep
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_page(request: Request) -> Response:
    return render(request, "auth/login.html")


@router.post("/login", dependencies=[Depends(csrf_protect)])
def login(request: Request, session: SessionDep, username: Annotated[str, Form()],
          password: Annotated[str, Form()]) -> Response:
    user = service.authenticate(session=session, username=username, password=password)
    if user is None:
        return render(request, "auth/login.html", {"error": "Wrong username or password.", "username": username},
                      status_code=401)
    request.session.clear()  # a fresh session (and CSRF token) after login
    request.session["user_id"] = user.id
    return RedirectResponse("/", status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)

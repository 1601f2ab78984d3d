from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from app.auth import service
from app.auth.models import User
from app.auth.schemas import LoginIn, SessionRead
from app.deps import ApiUser, SessionDep
from app.schemas import Ok
from app.security import csrf_protect, csrf_token

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def session_read(user: User, request: Request) -> SessionRead:
    return SessionRead(id=user.id, username=user.username, role=user.role, csrf_token=csrf_token(request))


@router.post("/login")
def login(body: LoginIn, request: Request, session: SessionDep) -> SessionRead:
    # JSON-only: a cross-site form cannot send application/json, so login needs no CSRF token.
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(status_code=415, detail="send the credentials as application/json")
    user = service.authenticate(session=session, username=body.username, password=body.password)
    if user is None:
        raise HTTPException(status_code=401, detail="wrong username or password")
    request.session.clear()
    request.session["user_id"] = user.id
    return session_read(user, request)


@router.get("/me")
def me(user: ApiUser, request: Request) -> SessionRead:
    return session_read(user, request)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request) -> Ok:
    request.session.clear()
    return Ok()

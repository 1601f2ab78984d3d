from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from app.auth import service, sessions
from app.auth.models import User
from app.auth.schemas import LoginIn, PasswordChangeIn, SessionRead
from app.config import get_settings
from app.deps import ApiUser, SessionDep
from app.schemas import Ok
from app.security import client_address, csrf_protect, csrf_token, session_id, set_session_id

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def session_read(user: User, request: Request) -> SessionRead:
    return SessionRead(id=user.id, username=user.username, role=user.role, csrf_token=csrf_token(request))


@router.post("/login", responses={401: {}, 429: {"description": "too many failed logins; see Retry-After"}})
def login(body: LoginIn, request: Request, session: SessionDep) -> SessionRead:
    # JSON-only: a cross-site form cannot send application/json, so login needs no CSRF token.
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(status_code=415, detail="send the credentials as application/json")
    result = service.log_in(session=session, username=body.username, password=body.password,
                            address=client_address(request), user_agent=request.headers.get("user-agent"),
                            replaces=session_id(request))
    session.commit()  # the failure counts for throttling, or the new session
    if result is None:
        raise HTTPException(status_code=401, detail="wrong username or password")
    user, token = result
    set_session_id(request, token, max_age=get_settings().session_lifetime_seconds)
    return session_read(user, request)


@router.get("/me")
def me(user: ApiUser, request: Request) -> SessionRead:
    return session_read(user, request)


@router.post("/password", dependencies=[Depends(csrf_protect)])
def change_password(body: PasswordChangeIn, user: ApiUser, request: Request, session: SessionDep) -> SessionRead:
    """Ends every session of the user (other browsers must log in again) and opens a new one here."""
    token = service.change_password(session=session, user=user, current_password=body.current_password,
                                    new_password=body.new_password, address=client_address(request),
                                    user_agent=request.headers.get("user-agent"))
    session.commit()
    set_session_id(request, token, max_age=get_settings().session_lifetime_seconds)
    return session_read(user, request)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request, session: SessionDep) -> Ok:
    token = session_id(request)
    if token is not None:
        sessions.revoke(session=session, token=token)
        session.commit()
    set_session_id(request, sessions.new_token(), max_age=None)
    return Ok()

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from app.auth import service, sessions, tokens
from app.auth.models import User
from app.auth.schemas import LoginIn, PasswordChangeIn, SessionRead, TokenCreated, TokenIn, TokenPage, TokenRead
from app.config import get_settings
from app.deps import ApiUser, SessionDep
from app.errors import NotFound
from app.pagination import PageQuery, page
from app.schemas import Ok
from app.security import client_address, csrf_protect, csrf_token, session_id, set_session_id

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def session_read(user: User, request: Request) -> SessionRead:
    return SessionRead(id=user.id, username=user.username, role=user.role, csrf_token=csrf_token(request),
                       must_change_password=user.must_change_password)


@router.post("/login", responses={401: {}, 429: {"description": "too many failed logins; see Retry-After"}})
def login(body: LoginIn, request: Request, session: SessionDep) -> SessionRead:
    # JSON-only: a cross-site form cannot send application/json, so login needs no CSRF token.
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(status_code=415, detail="send the credentials as application/json")
    result = service.log_in(session=session, username=body.username, password=body.password,
                            address=client_address(request), user_agent=request.headers.get("user-agent"),
                            replaces=session_id(request), release=session.commit)
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


@router.get("/tokens")
def list_tokens(user: ApiUser, session: SessionDep, paging: PageQuery, response: Response) -> TokenPage:
    """The caller's API tokens (revoked ones too, with when)."""
    offset, limit = paging.fetch()
    rows = tokens.of_user(session=session, user_id=user.id, offset=offset, limit=limit)
    return page(TokenPage, rows, paging, response, TokenRead.model_validate)


@router.post("/tokens", status_code=201, dependencies=[Depends(csrf_protect)])
def create_token(body: TokenIn, user: ApiUser, session: SessionDep) -> TokenCreated:
    """A new API token for the caller; the answer holds the token itself, the only time it is shown."""
    row, token = tokens.create(session=session, user=user, name=body.name)
    session.commit()
    return TokenCreated(**TokenRead.model_validate(row).model_dump(), token=token)


@router.delete("/tokens/{token_id}", dependencies=[Depends(csrf_protect)])
def revoke_token(token_id: int, user: ApiUser, session: SessionDep) -> TokenRead:
    """Revoke one of the caller's tokens: it is refused (401) from now on."""
    row = tokens.get(session=session, user_id=user.id, token_id=token_id)
    if row is None:
        raise NotFound("no such token of yours")
    tokens.revoke(session=session, row=row, by_user_id=user.id)
    session.commit()
    return TokenRead.model_validate(row)

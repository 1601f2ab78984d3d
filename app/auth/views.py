from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import service, sessions, tokens
from app.config import get_settings
from app.deps import PASSWORD_CHANGE_PAGE, PageUser, SessionDep
from app.errors import DomainError, NotFound, TooManyRequests
from app.security import client_address, csrf_protect, session_id, set_session_id
from app.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_page(request: Request) -> Response:
    return render(request, "auth/login.html")


@router.post("/login", dependencies=[Depends(csrf_protect)])
def login(request: Request, session: SessionDep, username: Annotated[str, Form()],
          password: Annotated[str, Form()]) -> Response:
    try:
        result = service.log_in(session=session, username=username, password=password,
                                address=client_address(request), user_agent=request.headers.get("user-agent"),
                                replaces=session_id(request), release=session.commit)
    except TooManyRequests as exc:
        page = render(request, "auth/login.html", {"error": f"{str(exc).capitalize()}.", "username": username},
                      status_code=429)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    session.commit()  # the failure counts for throttling, or the new session
    if result is None:
        return render(request, "auth/login.html", {"error": "Wrong username or password.", "username": username},
                      status_code=401)
    _user, token = result
    set_session_id(request, token, max_age=get_settings().session_lifetime_seconds)  # a new id and CSRF token
    return RedirectResponse("/", status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request, session: SessionDep) -> Response:
    token = session_id(request)
    if token is not None:
        sessions.revoke(session=session, token=token)
        session.commit()
    set_session_id(request, sessions.new_token(), max_age=None)
    return RedirectResponse("/login", status_code=303)


def _account(request: Request, session: SessionDep, user: PageUser, status_code: int = 200,
             **extra: object) -> Response:
    rows = tokens.of_user(session=session, user_id=user.id)
    return render(request, "auth/account.html", {"user": user, "tokens": rows, **extra}, status_code=status_code)


@router.get("/account")
def account_page(request: Request, session: SessionDep, user: PageUser) -> Response:
    return _account(request, session, user)


@router.post("/account/tokens", dependencies=[Depends(csrf_protect)])
def create_token(request: Request, session: SessionDep, user: PageUser, name: Annotated[str, Form()] = "") -> Response:
    """The new token is on this answer's page only (not after a reload: only its hash is kept)."""
    try:
        row, token = tokens.create(session=session, user=user, name=name)
    except DomainError as exc:
        return _account(request, session, user, status_code=422, error=str(exc), name=name)
    session.commit()
    return _account(request, session, user, status_code=201, created=row, new_token=token)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[Depends(csrf_protect)])
def revoke_token(token_id: int, session: SessionDep, user: PageUser) -> Response:
    row = tokens.get(session=session, user_id=user.id, token_id=token_id)
    if row is None:
        raise NotFound("no such token of yours")
    tokens.revoke(session=session, row=row, by_user_id=user.id)
    session.commit()
    return RedirectResponse("/account", status_code=303)


@router.get(PASSWORD_CHANGE_PAGE)
def password_page(request: Request, user: PageUser) -> Response:
    """Where every page sends a user whose password an admin set, until they choose their own."""
    return render(request, "auth/password.html", {"user": user})


@router.post(PASSWORD_CHANGE_PAGE, dependencies=[Depends(csrf_protect)])
def change_password(request: Request, session: SessionDep, user: PageUser,
                    current_password: Annotated[str, Form()], new_password: Annotated[str, Form()],
                    new_password_again: Annotated[str, Form()]) -> Response:
    """Ends the user's other sessions (service.change_password) and opens a new one in this browser."""
    try:
        if new_password != new_password_again:
            raise DomainError("new_password_again: the two new passwords differ")
        token = service.change_password(session=session, user=user, current_password=current_password,
                                        new_password=new_password, address=client_address(request),
                                        user_agent=request.headers.get("user-agent"))
    except DomainError as exc:
        return render(request, "auth/password.html", {"user": user, "error": str(exc)}, status_code=exc.status)
    session.commit()
    set_session_id(request, token, max_age=get_settings().session_lifetime_seconds)
    return RedirectResponse("/account?notice=password", status_code=303)

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth import sessions, throttle
from app.auth.models import Role, User
from app.auth.passwords import check_password, check_username, hash_password, verify_password
from app.errors import Conflict, DomainError

# Verified against when the user does not exist, so a login takes as long either way.
_DUMMY_HASH = hash_password("not-a-real-password")


class WrongPassword(DomainError):
    status = 403


def get_by_username(*, session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def create_user(*, session: Session, username: str, password: str, role: Role, check_policy: bool = True,
                created_by: User | None = None, must_change_password: bool = False) -> User:
    """A new user. The name must follow the user name rules and be unused in any letter case (Conflict);
    the password must pass the policy (PasswordRefused) unless `check_policy` is off, which only the
    demo's fixed logins do. `created_by` (an admin) is recorded as who did it; `must_change_password`
    (a password the admin has seen) makes the user choose their own at their next login."""
    check_username(username)
    if check_policy:
        check_password(password, username=username)
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise Conflict(f"user {username!r} exists already")
    user = User(username=username, password_hash=hash_password(password), role=role,
                must_change_password=must_change_password)
    session.add(user)
    session.flush()
    detail: dict[str, object] = {"username": username, "role": role.value}
    if must_change_password:
        detail["must_change_password"] = True
    audit.record(session=session, action="user.create", entity="user", entity_id=user.id,
                 user_id=created_by.id if created_by else None, detail=detail)
    return user


def ensure_user(*, session: Session, username: str, password: str, role: Role, check_policy: bool = True) -> User:
    return get_by_username(session=session, username=username) or create_user(
        session=session, username=username, password=password, role=role, check_policy=check_policy
    )


def _storable(text: str) -> bool:
    """Text every database can hold: no NUL, no lone surrogate."""
    return "\x00" not in text and not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def _lookup(*, session: Session, username: str) -> User | None:
    # A name no database can hold (NUL, a lone surrogate) names nobody: a wrong login, not a 500.
    return get_by_username(session=session, username=username) if _storable(username) else None


def _password_matches(user: User | None, password: str) -> bool:
    if user is None:
        verify_password(password, _DUMMY_HASH)  # as slow as a real check
        return False
    return user.is_active and verify_password(password, user.password_hash)


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    user = _lookup(session=session, username=username)
    return user if _password_matches(user, password) else None


def log_in(*, session: Session, username: str, password: str, address: str, user_agent: str | None = None,
           replaces: str | None = None, release: Callable[[], None] | None = None) -> tuple[User, str] | None:
    """Check the throttle (TooManyRequests), then the password. A failure is recorded and gives None (the
    caller commits it and answers 401); a success ends the session `replaces` (this browser's previous
    one, if any), opens a new one and gives the user and the cookie's new session id. `release`, called
    between the reads and the password check, lets the caller end its read transaction: scrypt then runs
    (tens of ms of CPU) without holding a database connection, which a burst of logins would exhaust."""
    throttle.check(session=session, username=username, address=address)
    user = _lookup(session=session, username=username)
    if release is not None:
        release()
    if not _password_matches(user, password):
        throttle.record_failure(session=session, username=username, address=address)
        return None
    assert user is not None
    throttle.forget(session=session, username=username, address=address)
    if replaces is not None:
        sessions.revoke(session=session, token=replaces)
    return user, sessions.start(session=session, user=user, user_agent=user_agent, address=address)


def change_password(*, session: Session, user: User, current_password: str, new_password: str,
                    address: str | None = None, user_agent: str | None = None) -> str:
    """Set a new password (the policy applies), end every session of the user, and open a new one for
    the caller; returns its id. A password change an admin required is done with this one."""
    if not verify_password(current_password, user.password_hash):
        raise WrongPassword("the current password is not right")
    check_password(new_password, username=user.username)
    if new_password == current_password:
        raise DomainError("the new password must differ from the current one")
    user.password_hash = hash_password(new_password)
    required, user.must_change_password = user.must_change_password, False
    revoked = sessions.revoke_all(session=session, user_id=user.id)
    audit.record(session=session, action="user.password_change", entity="user", entity_id=user.id,
                 user_id=user.id, detail={"sessions_revoked": revoked, "required": required})
    return sessions.start(session=session, user=user, user_agent=user_agent, address=address)


def usernames(*, session: Session, user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return {u.id: u.username for u in session.scalars(select(User).where(User.id.in_(user_ids)))}

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.models import Role, User
from app.auth.passwords import hash_password, verify_password

# Verified against when the user does not exist, so a login takes as long either way.
_DUMMY_HASH = hash_password("not-a-real-password")


def get_by_username(*, session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def create_user(*, session: Session, username: str, password: str, role: Role) -> User:
    user = User(username=username, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    audit.record(session=session, action="user.create", entity="user", entity_id=user.id,
                 detail={"username": username, "role": role.value})
    return user


def ensure_user(*, session: Session, username: str, password: str, role: Role) -> User:
    return get_by_username(session=session, username=username) or create_user(
        session=session, username=username, password=password, role=role
    )


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    user = get_by_username(session=session, username=username)
    if user is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not user.is_active or not verify_password(password, user.password_hash):
        return None
    return user


def usernames(*, session: Session, user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return {u.id: u.username for u in session.scalars(select(User).where(User.id.in_(user_ids)))}

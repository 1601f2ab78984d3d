from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.models import User
from app.errors import DomainError
from app.projects.models import Membership, Project, ProjectClass

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class ProjectError(DomainError):
    """A refused project setting (422)."""


def validate_classes(classes: Sequence[tuple[str, str]]) -> None:
    if not 2 <= len(classes) <= 32:
        raise ProjectError("a project needs between 2 and 32 classes (the first is the background)")
    names = [name.strip() for name, _ in classes]
    if any(not n or len(n) > 64 for n in names):
        raise ProjectError("class names must be 1 to 64 characters")
    if len(set(names)) != len(names):
        raise ProjectError("class names must be unique")
    for name, color in classes:
        if not _COLOR.match(color):
            raise ProjectError(f"class {name!r}: colour must look like #rrggbb, got {color!r}")


STRATEGIES = ("random", "entropy", "margin", "bald", "coreset", "hybrid")


def validate_policy(*, strategy: str | None = None, steered_share: float | None = None,
                    task_tile: int | None = None) -> None:
    if strategy is not None and strategy not in STRATEGIES:
        raise ProjectError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if steered_share is not None and not 0.0 <= steered_share <= 1.0:
        raise ProjectError("steered_share must be between 0 and 1")
    if task_tile is not None and not 16 <= task_tile <= 4096:
        raise ProjectError("task_tile must be between 16 and 4096 pixels (or null for whole images)")


def create(
    *, session: Session, name: str, classes: Sequence[tuple[str, str]], creator: User,
    description: str = "", retrain_every: int = 10, strategy: str = "hybrid", steered_share: float = 0.1,
    task_tile: int | None = None,
) -> Project:
    name = name.strip()
    if not name or len(name) > 100:
        raise ProjectError("the project name must be 1 to 100 characters")
    if get_by_name(session=session, name=name) is not None:
        raise ProjectError(f"a project named {name!r} exists already")
    if not 1 <= retrain_every <= 100_000:
        raise ProjectError("retrain_every must be between 1 and 100000")
    validate_classes(classes)
    validate_policy(strategy=strategy, steered_share=steered_share, task_tile=task_tile)
    project = Project(name=name, description=description, retrain_every=retrain_every, created_by_id=creator.id,
                      strategy=strategy, steered_share=steered_share, task_tile=task_tile)
    project.classes = [
        ProjectClass(index=i, name=n.strip(), color=c.lower()) for i, (n, c) in enumerate(classes)
    ]
    session.add(project)
    session.flush()
    session.add(Membership(project_id=project.id, user_id=creator.id))
    audit.record(session=session, action="project.create", entity="project", entity_id=project.id,
                 user_id=creator.id, project_id=project.id, detail={"name": name})
    return project


def get_by_name(*, session: Session, name: str) -> Project | None:
    return session.scalar(select(Project).where(Project.name == name))


def is_member(*, session: Session, project_id: int, user_id: int) -> bool:
    return session.scalar(
        select(Membership.id).where(Membership.project_id == project_id, Membership.user_id == user_id)
    ) is not None


def get_for_member(*, session: Session, project_id: int, user: User) -> Project | None:
    """The project, or None when it does not exist or the user is not a member (callers answer 404)."""
    project = session.get(Project, project_id)
    if project is None or not is_member(session=session, project_id=project_id, user_id=user.id):
        return None
    return project


def list_for_member(*, session: Session, user: User, offset: int = 0, limit: int | None = None) -> list[Project]:
    stmt = (
        select(Project).join(Membership, Membership.project_id == Project.id)
        .where(Membership.user_id == user.id).order_by(Project.name, Project.id).offset(offset).limit(limit)
    )
    return list(session.scalars(stmt))


def add_member(*, session: Session, project: Project, user: User, added_by: User | None = None) -> None:
    if is_member(session=session, project_id=project.id, user_id=user.id):
        return
    session.add(Membership(project_id=project.id, user_id=user.id))
    audit.record(session=session, action="membership.add", entity="user", entity_id=user.id,
                 user_id=added_by.id if added_by else None, project_id=project.id)


def update(*, session: Session, project: Project, user: User, **changes: object) -> None:
    """Change settings (description, retrain_every, label_budget, policy); old values go to the audit log.

    A new task_tile applies to images added from then on; existing tasks keep their regions.
    """
    validate_policy(**{k: changes[k] for k in ("strategy", "steered_share", "task_tile") if k in changes})  # type: ignore[arg-type]
    before = {key: getattr(project, key) for key in changes}
    for key, value in changes.items():
        setattr(project, key, value)
    audit.record(session=session, action="project.update", entity="project", entity_id=project.id,
                 user_id=user.id, project_id=project.id, detail={"before": before, "after": changes})

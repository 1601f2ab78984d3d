from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, joinedload

from app.audit import service as audit
from app.auth.models import Role, User
from app.db import utcnow
from app.errors import Conflict, DomainError, NotFound
from app.projects.models import PROJECT_ROLE_RANK, Membership, Project, ProjectClass, ProjectRole

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class ProjectError(DomainError):
    """A refused project setting (422)."""


def validate_classes(classes: Sequence[tuple[str, str]]) -> None:
    """Messages start with the field they are about (`classes`), so a form can say where it went wrong."""
    if not 2 <= len(classes) <= 32:
        raise ProjectError("classes: a project needs between 2 and 32 classes (the first is the background)")
    names = [name.strip() for name, _ in classes]
    if any(not n or len(n) > 64 for n in names):
        raise ProjectError("classes: class names must be 1 to 64 characters")
    lowered = [n.lower() for n in names]
    for i, n in enumerate(lowered):
        if n in lowered[:i]:
            raise ProjectError(f"classes: class names must be unique; {names[i]!r} is given twice")
    for name, color in classes:
        if not _COLOR.match(color):
            raise ProjectError(f"classes: class {name!r}: colour must look like #rrggbb, got {color!r}")


STRATEGIES = ("random", "entropy", "margin", "bald", "coreset", "hybrid")


def validate_policy(*, strategy: str | None = None, steered_share: float | None = None,
                    task_tile: int | None = None) -> None:
    if strategy is not None and strategy not in STRATEGIES:
        raise ProjectError(f"strategy: unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if steered_share is not None and not 0.0 <= steered_share <= 1.0:  # also refuses NaN
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
        raise ProjectError("name: the project name must be 1 to 100 characters")
    if get_by_name(session=session, name=name) is not None:
        raise ProjectError(f"name: a project named {name!r} exists already")
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
    session.add(Membership(project_id=project.id, user_id=creator.id, role=ProjectRole.lead))
    from app.projects import policy  # policy builds on this module's checks

    policy.first_version(session=session, project=project, user=creator)
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
    # One statement with the membership check and the classes (every project route runs this: a second
    # round trip for the classes cost as much as the project's own).
    member = exists().where(Membership.project_id == project_id, Membership.user_id == user.id)
    return session.scalars(select(Project).options(joinedload(Project.classes))
                           .where(Project.id == project_id, member)).unique().first()


def list_for_member(*, session: Session, user: User, archived: bool = False, offset: int = 0,
                    limit: int | None = None) -> list[Project]:
    """The user's projects; archived ones only when asked for (`archived=True` lists only those)."""
    stmt = (
        select(Project).join(Membership, Membership.project_id == Project.id)
        .where(Membership.user_id == user.id,
               Project.archived_at.is_not(None) if archived else Project.archived_at.is_(None))
        .order_by(Project.name, Project.id).offset(offset).limit(limit)
    )
    return list(session.scalars(stmt))


def default_role(user: User) -> ProjectRole:
    """A new member's project role follows the global one: leads and admins lead, annotators annotate."""
    return ProjectRole.lead if user.at_least(Role.lead) else ProjectRole.annotator


def add_member(*, session: Session, project: Project, user: User, added_by: User | None = None,
               role: ProjectRole | None = None) -> Membership:
    """Add the user (an existing member keeps their membership; a given role is then set)."""
    found = membership(session=session, project_id=project.id, user_id=user.id)
    if found is not None:
        if role is not None and role != found.role:
            set_role(session=session, project=project, member=found, role=role, by=added_by)
        return found
    row = Membership(project_id=project.id, user_id=user.id, role=role or default_role(user))
    session.add(row)
    audit.record(session=session, action="membership.add", entity="user", entity_id=user.id,
                 user_id=added_by.id if added_by else None, project_id=project.id, detail={"role": row.role.value})
    return row


def membership(*, session: Session, project_id: int, user_id: int) -> Membership | None:
    return session.scalar(select(Membership).where(Membership.project_id == project_id,
                                                   Membership.user_id == user_id))


def members(*, session: Session, project_id: int) -> list[tuple[Membership, User]]:
    rows = session.execute(select(Membership, User).join(User, User.id == Membership.user_id)
                           .where(Membership.project_id == project_id).order_by(User.username)).all()
    return [(m, u) for m, u in rows]


def addable_users(*, session: Session, project_id: int) -> list[User]:
    """Active users who are not members yet (the Members tab offers their names)."""
    members_ = select(Membership.user_id).where(Membership.project_id == project_id)
    return list(session.scalars(select(User).where(User.is_active.is_(True), User.id.not_in(members_))
                                .order_by(User.username).limit(500)))


def project_role(*, session: Session, project: Project, user: User) -> ProjectRole | None:
    """The user's role in the project; admins lead every project they can see."""
    if user.role == Role.admin:
        return ProjectRole.lead
    found = membership(session=session, project_id=project.id, user_id=user.id)
    return found.role if found is not None else None


def has_project_role(*, session: Session, project: Project, user: User, role: ProjectRole) -> bool:
    mine = project_role(session=session, project=project, user=user)
    return mine is not None and PROJECT_ROLE_RANK[mine] >= PROJECT_ROLE_RANK[role]


def _lead_count(session: Session, project_id: int) -> int:
    return len(session.scalars(select(Membership.id).where(Membership.project_id == project_id,
                                                           Membership.role == ProjectRole.lead)).all())


def set_role(*, session: Session, project: Project, member: Membership, role: ProjectRole, by: User | None) -> None:
    if member.role == role:
        return
    if member.role == ProjectRole.lead and _lead_count(session, project.id) <= 1:
        raise Conflict("role: the project needs at least one lead; make someone else lead first")
    before = member.role
    member.role = role
    audit.record(session=session, action="membership.role", entity="user", entity_id=member.user_id,
                 user_id=by.id if by else None, project_id=project.id,
                 detail={"before": before.value, "after": role.value})


def remove_member(*, session: Session, project: Project, user_id: int, by: User) -> None:
    """Take the user off the project; their labels stay (nothing is deleted but the membership)."""
    found = membership(session=session, project_id=project.id, user_id=user_id)
    if found is None:
        raise NotFound("user: not a member of this project")
    if found.role == ProjectRole.lead and _lead_count(session, project.id) <= 1:
        raise Conflict("user: the project's last lead cannot be removed; make someone else lead first")
    session.delete(found)
    audit.record(session=session, action="membership.remove", entity="user", entity_id=user_id, user_id=by.id,
                 project_id=project.id, detail={"role": found.role.value})


def set_archived(*, session: Session, project: Project, archived: bool, by: User) -> None:
    """Archive (no tasks handed out, gone from annotators' lists) or bring back; nothing is deleted."""
    if (project.archived_at is not None) == archived:
        return
    project.archived_at = utcnow() if archived else None
    audit.record(session=session, action="project.archive" if archived else "project.unarchive", entity="project",
                 entity_id=project.id, user_id=by.id, project_id=project.id)


def rename(*, session: Session, project: Project, name: str) -> str:
    """A checked new name (the caller sets it with `update`)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ProjectError("name: the project name must be 1 to 100 characters")
    other = get_by_name(session=session, name=name)
    if other is not None and other.id != project.id:
        raise ProjectError(f"name: a project named {name!r} exists already")
    return name


def set_classes(*, session: Session, project: Project, classes: Sequence[tuple[str, str]], by: User) -> None:
    """Rename and recolour classes, and add new ones at the end. Existing masks store class indices, so a
    class keeps its index: none is removed or reordered here."""
    if len(classes) < len(project.classes):
        raise ProjectError("classes: classes cannot be removed (masks store their index); rename one instead")
    validate_classes(classes)
    before = [(c.name, c.color) for c in project.classes]
    for cls, (name, color) in zip(project.classes, classes, strict=False):
        cls.name, cls.color = name.strip(), color.lower()
    for index in range(len(project.classes), len(classes)):
        name, color = classes[index]
        project.classes.append(ProjectClass(index=index, name=name.strip(), color=color.lower()))
    audit.record(session=session, action="project.classes", entity="project", entity_id=project.id, user_id=by.id,
                 project_id=project.id, detail={"before": before, "after": [list(c) for c in classes]})


VALIDATION_SHARE_RULE = "validation_share must be between 0 and 1 (0 included, 1 not: it would hold out every image)"


def check_validation_share(share: float) -> None:
    """The held-out share is in [0, 1): every upload holds out that share (also refuses NaN)."""
    if not 0.0 <= share < 1.0:
        raise ProjectError(VALIDATION_SHARE_RULE)


def update(*, session: Session, project: Project, user: User, **changes: object) -> None:
    """Change settings (name, description, retrain_every, label_budget, validation_share, policy); old values
    go to the audit log. Everything is checked before anything is set.

    A new task_tile applies to images added from then on; existing tasks keep their regions.
    """
    validate_policy(**{k: changes[k] for k in ("strategy", "steered_share", "task_tile") if k in changes})  # type: ignore[arg-type]
    if "name" in changes:
        changes["name"] = rename(session=session, project=project, name=str(changes["name"]))
    share = changes.get("validation_share")
    if share is not None:
        check_validation_share(float(share))  # type: ignore[arg-type]
    retrain = changes.get("retrain_every")
    if retrain is not None and not 1 <= int(retrain) <= 100_000:  # type: ignore[call-overload]
        raise ProjectError("retrain_every must be between 1 and 100000")
    budget = changes.get("label_budget")
    if budget is not None and int(budget) < 1:  # type: ignore[call-overload]
        raise ProjectError("label_budget must be at least 1 (leave it empty for no budget)")
    from app.projects import policy  # policy builds on this module's checks

    policy_changes: dict[str, Any] = {k: changes.pop(k) for k in policy.FIELDS if k in changes}
    if policy_changes:  # versioned like a change on the policy page (that one also checks the image sizes)
        policy.change(session=session, project=project, user=user,
                      reason="changed through the project settings API", **policy_changes)
    if not changes:
        return
    before = {key: getattr(project, key) for key in changes}
    for key, value in changes.items():
        setattr(project, key, value)
    audit.record(session=session, action="project.update", entity="project", entity_id=project.id,
                 user_id=user.id, project_id=project.id, detail={"before": before, "after": changes})

"""Handing out tasks: the ranked queue and its leases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Integer, Select, and_, bindparam, case, exists, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from app.audit import service as audit
from app.auth.models import User
from app.config import get_settings
from app.db import UTCDateTime, lock_row, utcnow
from app.errors import Conflict, DomainError
from app.items.models import Item, Split
from app.learning.uncertainty import tile_grid
from app.modeling.models import Score
from app.modeling.scoring import TaskRef
from app.modeling.service import ranked_model_version_id, scores_for
from app.projects import guidelines
from app.projects.models import Project
from app.queue import lease_context, overlap, routing
from app.queue.models import Flag, Lease, Skip, Task, TaskStatus

# Why Next found nothing, for the API's 404 and the labeling page alike.
EMPTY_QUEUE = "The queue is empty: every task is labeled, leased, flagged for review or skipped by you."


def _active_lease_clause(now):  # type: ignore[no-untyped-def]
    """SQL: the task has a live lease (validation tasks; pool tasks ask app.queue.overlap.room_for)."""
    return and_(Lease.task_id == Task.id, Lease.released_at.is_(None), Lease.expires_at > now)


def active_lease(*, session: Session, task_id: int, user_id: int | None = None) -> Lease | None:
    """The task's live lease; `user_id`'s own first when given (an overlap task has several at once)."""
    stmt = select(Lease).where(Lease.task_id == task_id, Lease.released_at.is_(None), Lease.expires_at > utcnow())
    if user_id is not None:
        stmt = stmt.order_by((Lease.user_id == user_id).desc(), Lease.id)
    return session.scalars(stmt.limit(1)).first()


def _held_task(*, session: Session, project_id: int, user: User, split: Split = Split.pool) -> Task | None:
    """The open task of this split the user holds (a lead labeling the validation split holds those apart),
    or the gold task they hold (its source task may be labeled already: app/queue/routing.py)."""
    return session.scalar(lease_context.held_task(Task, project_id, user.id, utcnow(), split))


def _first_open_id(project_id):  # type: ignore[no-untyped-def]
    """SQL: the project's lowest open task id (NULL when it has none), read as the first entry at or after
    (project, open) of the (project_id, status, id) index.

    Not `min(id) WHERE project_id = ... AND status = 'open'`: for a project whose rows make most of the
    table, Postgres answers that by walking the primary key from the table's first row and filtering,
    since it assumes the project's rows are spread evenly. A project created after others skipped every
    earlier row: 101,000 rows, 19 ms a lease at 1M tasks (bench/load.py). A row comparison leaves only
    the composite index able to give the order, so the walk starts at the project (0.1 ms)."""
    t = aliased(Task)
    open_ = literal(TaskStatus.open, t.status.type)
    first = (select(t.project_id, t.status, t.id)
             .where(tuple_(t.project_id, t.status, t.id) >= tuple_(project_id, open_, 0))
             .order_by(t.project_id, t.status, t.id).limit(1).subquery())
    return (select(case((and_(first.c.project_id == project_id, first.c.status == TaskStatus.open), first.c.id)))
            .scalar_subquery())


def _queue_order(project_id: int, model_version_id: int | None, held_back: int = 0) -> list[Select[Task]]:
    """Open pool tasks in the order the queue hands them out, as statements read in turn: the tasks the
    ranking placed, by rank; then the rest (new since the ranking, or no ranking yet), oldest first.
    `held_back`: the first this-many ranks come last (tiered routing, app/queue/routing.py).

    Statements rather than one ORDER BY over an outer join, so that each can walk an index in its own
    order and stop at the first free row: the ranked part walks (model_version_id, rank) on score, the
    rest walks task ids from a lower bound read off the (project_id, status, id) index. The planner
    cannot know that other projects' rows and this project's labeled ones come first in the primary key
    (101k rows walked at 1M tasks before the bound; one after it).
    """
    pool = (
        select(Task).join(Item, Item.id == Task.item_id)
        .where(Task.project_id == project_id, Task.status == TaskStatus.open, Item.split == Split.pool,
               routing.not_gold_copy())
    )
    rest = pool.where(Task.id >= _first_open_id(project_id)).order_by(Task.id)
    if model_version_id is None:
        return [rest]
    placed = and_(Score.task_id == Task.id, Score.model_version_id == model_version_id, Score.rank.is_not(None))
    ranked = pool.join(Score, placed).order_by(Score.rank)
    rest = rest.where(~exists().where(placed))
    if held_back:
        return [ranked.where(Score.rank > held_back), rest, ranked.where(Score.rank <= held_back)]
    return [ranked, rest]


class ProjectArchived(Conflict):
    """An archived project hands out no tasks."""


def lease_next(*, session: Session, project: Project, user: User,
               caps: Callable[[], None] | None = None) -> Task | None:
    """Lease the top-ranked free task to `user` (or give back the one they already hold).

    On Postgres the candidate row is locked with FOR UPDATE SKIP LOCKED and its leases are read again
    under that lock, so concurrent callers never receive the same task; the caller commits.

    `caps` (app.flows.leasing passes the budget's daily, weekly and per-annotator caps) runs under the
    project lock, beside the total budget check, and raises to refuse the lease.
    """
    if project.archived_at is not None:
        raise ProjectArchived("This project is archived: it hands out no tasks. A lead can bring it back.",
                              code="project_archived")
    # One user's requests take turns, so a double-clicked Next gives back one task rather than leasing
    # two. On SQLite (no SKIP LOCKED) this is the database's single write lock: every caller takes turns
    # and sees the leases the one before committed.
    lock_row(session, User.username, user.id)
    ctx = lease_context.read(session=session, project_id=project.id, user_id=user.id)  # with the held task
    if ctx.held_task_id is not None:
        return session.get(Task, ctx.held_task_id)
    # A new version of the guidelines is read and confirmed before the next task (409 with a code).
    if ctx.unconfirmed_guidelines is not None:
        raise guidelines.GuidelinesUnconfirmed(ctx.unconfirmed_guidelines)
    if project.label_budget is not None or caps is not None:
        # Every caller that could take the budget's last label takes turns on the project row, and
        # counts the leases the one before it committed: concurrent annotators cannot overshoot it.
        lock_row(session, Project.name, project.id)
        check_budget(session=session, project=project)
        if caps is not None:
            caps()
    return _claim(session=session, project=project, user=user, ctx=ctx)


class BudgetSpent(Conflict):
    """The project's label budget is used up (labels submitted plus tasks being labeled)."""


def budget_used(*, session: Session, project: Project) -> tuple[int, int]:
    """(tasks labeled, tasks being labeled now): what counts against the project's label budget."""
    done = int(session.scalar(select(func.count()).select_from(Task).where(
        Task.project_id == project.id, Task.status == TaskStatus.done)) or 0)
    in_progress = int(session.scalar(
        select(func.count()).select_from(Lease).join(Task, Task.id == Lease.task_id)
        .where(Task.project_id == project.id, Task.status == TaskStatus.open, Lease.released_at.is_(None),
               Lease.expires_at > utcnow())) or 0)
    return done, in_progress


def check_budget(*, session: Session, project: Project) -> None:
    budget = project.label_budget
    if budget is None:
        return
    done, in_progress = budget_used(session=session, project=project)
    if done + in_progress >= budget:
        raise BudgetSpent(f"The project's label budget of {budget} is spent: {done} labeled and {in_progress} "
                          "being labeled now. A lead can raise the budget.")


def _claim(*, session: Session, project: Project, user: User, ctx: lease_context.LeaseContext) -> Task | None:
    now = utcnow()
    mv_id = ctx.model_version_id
    routed = routing.routed_task(session=session, project=project, user=user, may_have_returns=ctx.may_have_returns)
    task, route = routed if routed is not None else (_claim_ranked(session, project, user, mv_id), "ranked")
    if task is None:
        return None
    expires = now + timedelta(seconds=get_settings().lease_seconds)
    session.add(Lease(task_id=task.id, user_id=user.id, expires_at=expires))
    if route == "ranked" and ctx.overlap_on:  # a gold copy or a returned task is one annotator's, never overlap
        overlap.on_lease(session=session, project_id=project.id, task=task)
    audit.record(session=session, action="task.lease", entity="task", entity_id=task.id, user_id=user.id,
                 project_id=project.id, detail={"model_version_id": mv_id, "route": route})
    session.flush()
    return task


def free_in_order(project_id, user_id, mv_id: int | None, held_back: int,  # type: ignore[no-untyped-def]
                  now) -> list[Select[Task]]:
    """The lease's candidate statements, read in turn (bench/load.py explains the same ones): a free task
    is unleased, or an overlap task with a copy left that this user neither holds nor submitted; not
    skipped by them, not returned to someone else. `project_id`, `user_id`, `mv_id` and `now` may be bind
    parameters (see _free_statements); `now` a datetime or SQL."""
    skipped = exists().where(Skip.task_id == Task.id, Skip.user_id == user_id)
    since = _RETURN_SINCE if now is _NOW else routing.return_since(now)  # SQL minus an interval for now()
    return [order.where(overlap.room_for(now, user_id), ~skipped, routing.not_returned_to_other(user_id, since))
            for order in _queue_order(project_id, mv_id, held_back)]


_PROJECT, _USER = bindparam("lease_project_id", type_=Integer), bindparam("lease_user_id", type_=Integer)
_MODEL_VERSION, _NOW = bindparam("lease_mv_id", type_=Integer), bindparam("lease_now", type_=UTCDateTime())
_RETURN_SINCE = bindparam("lease_return_since", type_=UTCDateTime())
_FREE: dict[tuple[bool, int], list[Select[Task]]] = {}


def _free_statements(ranked: bool, held_back: int) -> list[Select[Task]]:
    """free_in_order with bind parameters, built once per shape: building these statements cost more
    Python time than Postgres took to run them (every lease runs them)."""
    key = (ranked, held_back)
    if key not in _FREE:
        _FREE[key] = [free.limit(1).with_for_update(skip_locked=True, of=Task) for free in
                      free_in_order(_PROJECT, _USER, _MODEL_VERSION if ranked else None,  # type: ignore[arg-type]
                                    held_back, _NOW)]
    return _FREE[key]


def _claim_ranked(session: Session, project: Project, user: User, mv_id: int | None) -> Task | None:
    held_back = routing.tier_of(session=session, project_id=project.id, user_id=user.id).held_back if mv_id else 0
    now = utcnow()
    params = {"lease_project_id": project.id, "lease_user_id": user.id, "lease_now": now,
              "lease_return_since": routing.return_since(now)}
    if mv_id is not None:
        params["lease_mv_id"] = mv_id
    for free in _free_statements(mv_id is not None, held_back):
        task = _first_free(session, user, free, params)
        if task is not None:
            return task
    return None


def _first_free(session: Session, user: User, free: Select[Task], params: dict[str, object] | None = None,
                ) -> Task | None:
    """The first free row of `free`, locked (FOR UPDATE SKIP LOCKED) and looked at again. Statements of
    _free_statements come limited and locking already, with their `params`."""
    if params is None:
        free, params = free.limit(1).with_for_update(skip_locked=True, of=Task), {}
    passed_over: list[int] = []
    while True:
        stmt = free.where(Task.id.not_in(passed_over)) if passed_over else free
        task = session.scalar(stmt, params)
        if task is None:
            return None
        # The lease filter above ran on the statement's snapshot: a caller that leased this task and
        # committed just before we locked it is invisible to it. Now the row lock is ours, a fresh
        # statement sees every committed lease, so look again before handing the task out.
        if overlap.has_room(session=session, task=task, user=user):
            return task
        passed_over.append(task.id)


def release(*, session: Session, task: Task, user: User) -> None:
    end_own_lease(active_lease(session=session, task_id=task.id, user_id=user.id), user)


def end_own_lease(lease: Lease | None, user: User) -> None:
    """End `lease` if it is `user`'s: the one lock_task read under the task's lock (a submit has it
    already, and nobody can lease the locked task meanwhile: no second read)."""
    if lease is not None and lease.user_id == user.id:
        lease.released_at = utcnow()


def release_held(*, session: Session, user_id: int, project_id: int | None = None) -> int:
    """End the live leases of a user (deactivated, or taken off `project_id`): their tasks go back to
    the queue now rather than when the leases run out. Returns how many were live."""
    now = utcnow()
    held = [Lease.user_id == user_id, Lease.released_at.is_(None), Lease.expires_at > now]
    if project_id is not None:
        held.append(Lease.task_id.in_(select(Task.id).where(Task.project_id == project_id)))
    leases = session.scalars(select(Lease).where(*held)).all()
    for lease in leases:
        lease.released_at = now
    return len(leases)


def lock_task(session: Session, task: Task, user: User | None = None) -> Lease | None:
    """Take the task's write lock and return its active lease as the previous holder left it.

    Skip, flag, submit and draft saves of one task take turns (a flag racing a submit must not leave a
    labeled task escalated, a save racing the submit must not leave a draft behind), and each then
    reads the lease the one before it may have released.
    """
    lock_row(session, Task.status, task.id)
    return active_lease(session=session, task_id=task.id, user_id=user.id if user else None)


def require_lease(session: Session, task: Task, user: User, refusal: str = "this task is not leased to you") -> None:
    """Lock the task; refuse (409) unless `user` holds its lease."""
    lease = lock_task(session, task, user)
    if lease is None or lease.user_id != user.id:
        raise Conflict(refusal)


def _clean_text(text: str, what: str, limit: int) -> str:
    text = text.strip()
    if not text or len(text) > limit:
        raise DomainError(f"the {what} must be 1 to {limit} characters")
    return text


def skip(*, session: Session, task: Task, user: User, reason: str) -> Skip:
    """Pass on a task: it goes back to the queue for others, never again to this annotator."""
    reason = _clean_text(reason, "reason", 500)
    require_lease(session, task, user)
    row = Skip(task_id=task.id, user_id=user.id, reason=reason)
    session.add(row)
    release(session=session, task=task, user=user)
    audit.record(session=session, action="task.skip", entity="task", entity_id=task.id, user_id=user.id,
                 project_id=task.project_id, detail={"reason": reason})
    return row


def flag(*, session: Session, task: Task, user: User, note: str) -> Flag:
    """Flag a task as ambiguous: it leaves the queue for the escalation queue (leads and admins)."""
    note = _clean_text(note, "note", 2000)
    require_lease(session, task, user)
    row = Flag(task_id=task.id, user_id=user.id, note=note)
    session.add(row)
    if task.status == TaskStatus.open:  # a gold task is labeled already: the question waits, the label stays
        task.status = TaskStatus.escalated
    release(session=session, task=task, user=user)
    audit.record(session=session, action="task.flag", entity="task", entity_id=task.id, user_id=user.id,
                 project_id=task.project_id, detail={"note": note})
    return row


def resolve_flag(*, session: Session, flag_row: Flag, user: User, resolution: str) -> None:
    """Send an escalated task back to the queue, saying how the question was settled."""
    lock_row(session, Flag.note, flag_row.id)  # two leads resolving at once: the second is told, not lost
    session.refresh(flag_row)
    if flag_row.resolved_at is not None:
        raise Conflict("this flag is resolved already")
    flag_row.resolution = _clean_text(resolution, "resolution", 2000)
    flag_row.resolved_at, flag_row.resolved_by_id = utcnow(), user.id
    task = session.get(Task, flag_row.task_id)
    assert task is not None
    if task.status == TaskStatus.escalated:
        task.status = TaskStatus.open
        overlap.close_if_complete(session=session, task=task)  # its copies may all have come in meanwhile
    audit.record(session=session, action="flag.resolve", entity="task", entity_id=task.id, user_id=user.id,
                 project_id=task.project_id, detail={"resolution": flag_row.resolution})


def get_flag(*, session: Session, project_id: int, flag_id: int) -> Flag | None:
    row = session.get(Flag, flag_id)
    if row is None or get_task(session=session, project_id=project_id, task_id=row.task_id) is None:
        return None
    return row


def answered_flags(*, session: Session, task_id: int) -> list[Flag]:
    """The task's resolved flags (question and the lead's answer), oldest first: whoever opens the task
    next reads them."""
    return list(session.scalars(select(Flag).where(Flag.task_id == task_id, Flag.resolved_at.is_not(None))
                                .order_by(Flag.resolved_at, Flag.id)))


def recently_answered(*, session: Session, project_id: int, limit: int = 20) -> list[tuple[Flag, Task]]:
    """The project's resolved flags, newest answer first."""
    rows = session.execute(
        select(Flag, Task).join(Task, Task.id == Flag.task_id)
        .where(Task.project_id == project_id, Flag.resolved_at.is_not(None))
        .order_by(Flag.resolved_at.desc(), Flag.id.desc()).limit(limit)
    ).all()
    return [(f, t) for f, t in rows]


def open_flags(*, session: Session, project_id: int) -> list[tuple[Flag, Task]]:
    rows = session.execute(
        select(Flag, Task).join(Task, Task.id == Flag.task_id)
        .where(Task.project_id == project_id, Flag.resolved_at.is_(None)).order_by(Flag.id)
    ).all()
    return [(f, t) for f, t in rows]


def release_expired(*, session: Session) -> int:
    """Housekeeping: close expired leases (they stop counting at expiry anyway)."""
    now = utcnow()
    leases = session.scalars(select(Lease).where(Lease.released_at.is_(None), Lease.expires_at <= now)).all()
    for lease in leases:
        lease.released_at = lease.expires_at
    return len(leases)


@dataclass
class QueueEntry:
    task: Task
    score: Score | None
    leased_to: int | None


def list_queue(*, session: Session, project: Project, limit: int = 50, offset: int = 0) -> list[QueueEntry]:
    mv_id = ranked_model_version_id(session=session, project_id=project.id)
    # Each order's statement reads only as far as the page reaches (offset + limit rows in all).
    tasks: list[Task] = []
    for order in _queue_order(project.id, mv_id):
        if len(tasks) < offset + limit:
            tasks += session.scalars(order.limit(offset + limit - len(tasks)))
    tasks = tasks[offset:]
    scores = scores_for(session=session, model_version_id=mv_id, task_ids=[t.id for t in tasks]) if mv_id else {}
    now = utcnow()
    leases = {
        lease.task_id: lease.user_id for lease in session.scalars(
            select(Lease).where(Lease.task_id.in_([t.id for t in tasks]), Lease.released_at.is_(None),
                                Lease.expires_at > now)
        )
    } if tasks else {}
    return [QueueEntry(task=t, score=scores.get(t.id), leased_to=leases.get(t.id)) for t in tasks]


def task_regions(width: int, height: int, tile: int | None) -> list[tuple[int, int, int, int]]:
    """The whole image, or square tiles covering it (edge tiles are cut to the image)."""
    return tile_grid(height, width, tile) if tile else [(0, 0, width, height)]


def add_tasks(*, session: Session, project: Project, item: Item) -> None:
    """Put a new item in the queue: one task, or one per tile when the project is tiled."""
    for x, y, w, h in task_regions(item.width, item.height, project.task_tile):
        session.add(Task(project_id=project.id, item_id=item.id, x=x, y=y, width=w, height=h))


def get_task(*, session: Session, project_id: int, task_id: int) -> Task | None:
    task = session.get(Task, task_id)
    return task if task is not None and task.project_id == project_id else None


def open_pool_task_ids(*, session: Session, project_id: int) -> list[int]:
    """What a new model version scores: the open tasks of pool items (and gold regions), by id."""
    return list(session.scalars(
        select(Task.id).join(Item, Item.id == Task.item_id)
        .where(Task.project_id == project_id, Item.split == Split.pool,
               or_(Task.status == TaskStatus.open, routing.active_gold_source()))
        .order_by(Task.id)
    ))


def open_task_items(*, session: Session, project_id: int) -> list[tuple[int, int]]:
    """(task id, item id) of every open task and gold region, by task id: what a ranking orders. A gold
    region's task is handed out labeled already, and its "why this task" shows a rank like any task's."""
    rows = session.execute(select(Task.id, Task.item_id).where(
        Task.project_id == project_id, or_(Task.status == TaskStatus.open, routing.active_gold_source()))
        .order_by(Task.id))
    return [(task_id, item_id) for task_id, item_id in rows]


def task_refs(*, session: Session, task_ids: list[int]) -> list[TaskRef]:
    return [TaskRef(task_id=t.id, item_id=t.item_id, region=t.region)
            for t in session.scalars(select(Task).where(Task.id.in_(task_ids)).order_by(Task.id))]


def count_open(*, session: Session, project_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Task).where(
        Task.project_id == project_id, Task.status == TaskStatus.open)) or 0)


def tasks_of_item(*, session: Session, item_id: int) -> list[Task]:
    return list(session.scalars(select(Task).where(Task.item_id == item_id).order_by(Task.id)))

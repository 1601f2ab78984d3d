"""Budgets: the caps a lease must respect (checked under the project lock, app.queue.service.lease_next,
by way of app.flows.leasing), what is spent against them, and the burn-down.

What counts: a cap in labels counts every submit in its window (each is an annotator's work, also one a
later version replaced) plus the tasks being labeled now (their leases), as the total budget does. A cap in
hours counts the measured active seconds of those submits, plus the leases at the project's mean seconds
per label. The total label budget (Project.label_budget) counts labeled tasks, so its burn-down counts each
task's first label."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annotations.models import Annotation, AnnotationStatus
from app.audit import service as audit
from app.auth.models import User
from app.budgets import burndown
from app.budgets.models import Budget
from app.db import utcnow
from app.errors import Conflict, DomainError
from app.projects.models import Project
from app.queue.models import Lease, Task, TaskStatus

WORK = (AnnotationStatus.submitted, AnnotationStatus.superseded, AnnotationStatus.gold)  # an answer to gold is work
LABEL_FIELDS = ("day_labels", "week_labels", "annotator_day_labels")
HOUR_FIELDS = ("total_hours", "day_hours", "week_hours", "annotator_day_hours")
MAX_LABELS, MAX_HOURS = 100_000_000, 10_000_000.0


class BudgetError(DomainError):
    """A refused budget setting (422); the message names the field."""


class CapReached(Conflict):
    """A budget cap stops the queue until it resets (409, code "budget_cap")."""


def day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def week_start(now: datetime) -> datetime:
    today = day_start(now)
    return today - timedelta(days=today.weekday())


def get(*, session: Session, project_id: int) -> Budget | None:
    return session.scalar(select(Budget).where(Budget.project_id == project_id))


def has_caps(budget: Budget | None) -> bool:
    return budget is not None and any(getattr(budget, f) is not None for f in LABEL_FIELDS + HOUR_FIELDS)


# --- setting it ------------------------------------------------------------------------------------------
def _checked(field: str, value: Any) -> int | float | date | None:
    if value is None or value == "":
        return None
    if field in LABEL_FIELDS or field == "label_budget":
        if isinstance(value, bool) or not isinstance(value, int | str | float):
            raise BudgetError(f"{field} must be a whole number of labels")
        try:
            number = int(value) if not isinstance(value, float) or value.is_integer() else None
        except ValueError:
            number = None
        if number is None:
            raise BudgetError(f"{field} must be a whole number of labels")
        if not 1 <= number <= MAX_LABELS:
            raise BudgetError(f"{field} must be at least 1 label (leave it empty for no cap)")
        return number
    if field in HOUR_FIELDS:
        try:
            hours = float(value)
        except (TypeError, ValueError):
            raise BudgetError(f"{field} must be a number of hours") from None
        if not math.isfinite(hours) or not 0 < hours <= MAX_HOURS:
            raise BudgetError(f"{field} must be more than 0 hours (leave it empty for no cap)")
        return hours
    if field in ("plan_start", "plan_end"):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise BudgetError(f"{field} must be a date (YYYY-MM-DD)") from None
    raise BudgetError(f"{field}: unknown budget field")


def save(*, session: Session, project: Project, by: User, values: dict[str, Any]) -> Budget:
    """Set the budget's fields given in `values` (None or "" clears a cap); `label_budget` is the project's
    total in labels. Every value is checked before any is set: a refusal changes nothing."""
    checked = {field: _checked(field, value) for field, value in values.items()}
    budget = get(session=session, project_id=project.id)
    start = checked.get("plan_start", budget.plan_start if budget else None)
    end = checked.get("plan_end", budget.plan_end if budget else None)
    if start is not None and end is not None and end < start:  # type: ignore[operator]
        raise BudgetError("plan_end must not be before plan_start")
    if budget is None:
        budget = Budget(project_id=project.id)
        session.add(budget)
    before = {f: _plain(getattr(project if f == "label_budget" else budget, f)) for f in checked}
    for field, value in checked.items():
        setattr(project if field == "label_budget" else budget, field, value)
    budget.updated_at, budget.updated_by_id = utcnow(), by.id
    session.flush()
    audit.record(session=session, action="budget.update", entity="project", entity_id=project.id, user_id=by.id,
                 project_id=project.id, detail={"before": before, "after": {f: _plain(v) for f, v in checked.items()}})
    return budget


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


# --- what is spent -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spend:
    labels: int
    seconds: float


def spent(*, session: Session, project_id: int, since: datetime | None, user_id: int | None = None) -> Spend:
    stmt = (select(func.count(Annotation.id), func.coalesce(func.sum(Annotation.seconds_spent), 0.0))
            .join(Task, Task.id == Annotation.task_id)
            .where(Task.project_id == project_id, Annotation.status.in_(WORK)))
    if since is not None:
        stmt = stmt.where(Annotation.created_at >= since)
    if user_id is not None:
        stmt = stmt.where(Annotation.author_id == user_id)
    labels, seconds = session.execute(stmt).one()
    return Spend(labels=int(labels or 0), seconds=float(seconds or 0.0))


def in_progress(*, session: Session, project_id: int, user_id: int | None = None, now: datetime) -> int:
    stmt = (select(func.count()).select_from(Lease).join(Task, Task.id == Lease.task_id)
            .where(Task.project_id == project_id, Task.status == TaskStatus.open, Lease.released_at.is_(None),
                   Lease.expires_at > now))
    if user_id is not None:
        stmt = stmt.where(Lease.user_id == user_id)
    return int(session.scalar(stmt) or 0)


def seconds_per_label(*, session: Session, project_id: int) -> float | None:
    """The project's measured mean active seconds per label; None before any label with a time."""
    mean = session.scalar(select(func.avg(Annotation.seconds_spent)).join(Task, Task.id == Annotation.task_id)
                          .where(Task.project_id == project_id, Annotation.status.in_(WORK),
                                 Annotation.seconds_spent > 0))
    return float(mean) if mean is not None else None


# --- the caps --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CapState:
    field: str
    name: str  # "daily", "weekly", "total", "your daily"
    unit: str  # "labels" or "hours"
    limit: float
    used: float  # spent plus being labeled now
    resets_at: datetime | None  # None: the total never resets

    @property
    def reached(self) -> bool:
        return self.used >= self.limit

    def message(self) -> str:
        amount = f"{self.limit:g} {'label' if self.unit == 'labels' and self.limit == 1 else self.unit}"
        used = f"{self.used:.0f}" if self.unit == "labels" else f"{self.used:.2f}"
        used_unit = "label" if self.unit == "labels" and used == "1" else self.unit
        whose = "Your" if self.name.startswith("your") else "The project's"
        name = self.name.removeprefix("your ")
        text = f"{whose} {name} cap of {amount} is reached ({used} {used_unit} spent or being labeled). "
        if self.resets_at is None:
            return text + "A lead can raise it."
        return text + f"It resets at {self.resets_at.strftime('%Y-%m-%d %H:%M')} UTC."


def cap_states(*, session: Session, project: Project, user: User | None, now: datetime | None = None,
               budget: Budget | None = None) -> list[CapState]:
    """Every cap of the budget with what counts against it now (per-annotator caps only with a user)."""
    budget = budget or get(session=session, project_id=project.id)
    if budget is None:
        return []
    now = now or utcnow()
    tomorrow = day_start(now) + timedelta(days=1)
    next_week = week_start(now) + timedelta(days=7)
    per_label = seconds_per_label(session=session, project_id=project.id) or 0.0
    windows: list[tuple[str, str, datetime | None, datetime | None, bool]] = [
        ("day", "daily", day_start(now), tomorrow, False),
        ("week", "weekly", week_start(now), next_week, False),
        ("total", "total", None, None, False),
        ("annotator_day", "your daily", day_start(now), tomorrow, True),
    ]
    out: list[CapState] = []
    for prefix, name, since, resets, own in windows:
        if own and user is None:
            continue
        limits = {unit: getattr(budget, f"{prefix}_{unit}", None) for unit in ("labels", "hours")}
        if all(v is None for v in limits.values()):
            continue
        who = user.id if own and user is not None else None
        done = spent(session=session, project_id=project.id, since=since, user_id=who)
        leased = in_progress(session=session, project_id=project.id, user_id=who, now=now)
        for unit, limit in limits.items():
            if limit is None:
                continue
            used = done.labels + leased if unit == "labels" else (done.seconds + leased * per_label) / 3600
            out.append(CapState(field=f"{prefix}_{unit}", name=name, unit=unit, limit=float(limit), used=used,
                                resets_at=resets))
    return out


def reached_cap(*, session: Session, project: Project, user: User | None,
                now: datetime | None = None) -> CapState | None:
    """The cap that stops the queue now (the one that resets last, when several do), or None."""
    hit = [c for c in cap_states(session=session, project=project, user=user, now=now) if c.reached]
    if not hit:
        return None
    return max(hit, key=lambda c: (c.resets_at is None, c.resets_at or now or utcnow()))


def check_caps(*, session: Session, project: Project, user: User) -> None:
    """Refuse a lease when a cap is reached (run under the project lock: see app.flows.leasing)."""
    cap = reached_cap(session=session, project=project, user=user)
    if cap is not None:
        raise CapReached(cap.message(), code="budget_cap")


# --- the burn-down ---------------------------------------------------------------------------------------
def spend_by_day(*, session: Session, project_id: int, unit: str) -> dict[date, float]:
    """Labels (each task's first) or active hours (every submit), per UTC day. Bucketed here rather than in
    SQL: date truncation is spelled differently on SQLite and Postgres."""
    stmt = (select(Annotation.created_at, Annotation.seconds_spent).join(Task, Task.id == Annotation.task_id)
            .where(Task.project_id == project_id, Annotation.status.in_(WORK)))
    if unit == "labels":
        stmt = stmt.where(Annotation.version == 1)
    out: dict[date, float] = {}
    for created_at, seconds in session.execute(stmt):
        day = created_at.date()
        out[day] = out.get(day, 0.0) + (1.0 if unit == "labels" else float(seconds or 0.0) / 3600)
    return out


def burn_downs(*, session: Session, project: Project, today: date | None = None) -> list[burndown.BurnDown]:
    """The burn-down of each total the project has (labels, hours)."""
    budget = get(session=session, project_id=project.id)
    today = today or utcnow().date()
    start = (budget.plan_start if budget and budget.plan_start else None) or project.created_at.date()
    out = []
    for unit, total, per_day, per_week in (
        ("labels", project.label_budget, budget and budget.day_labels, budget and budget.week_labels),
        ("hours", budget and budget.total_hours, budget and budget.day_hours, budget and budget.week_hours),
    ):
        if not total:
            continue
        rate = per_day or (per_week / 7 if per_week else None)
        out.append(burndown.compute(
            total=float(total), unit=unit, spend_by_day=spend_by_day(session=session, project_id=project.id,
                                                                     unit=unit),
            start=start, today=today, plan_start=budget.plan_start if budget else None,
            plan_end=budget.plan_end if budget else None, plan_per_day=float(rate) if rate else None))
    return out

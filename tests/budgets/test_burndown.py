"""Burn-down numbers against cases computed by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.budgets import burndown


def test_spent_plan_pace_and_forecast_of_a_hand_computed_case():
    # A budget of 100 labels, planned evenly over 10 days from Dec 1 (10 a day). By Dec 4 (today):
    # Dec 1: 5, Dec 2: 15, Dec 3: 0, Dec 4: 12 -> spent 5, 20, 20, 32; remaining 95, 80, 80, 68.
    # Plan's remaining at the end of each day: 90, 80, 70, 60.
    # Pace: 4 days since the start (< 7) -> 32 / 4 = 8 a day; 68 left / 8 = 8.5 -> 9 more days -> Dec 13.
    b = burndown.compute(total=100, unit="labels", today=date(2026, 12, 4), start=date(2026, 12, 1),
                         spend_by_day={date(2026, 12, 1): 5, date(2026, 12, 2): 15, date(2026, 12, 4): 12},
                         plan_start=date(2026, 12, 1), plan_end=date(2026, 12, 10))
    assert b.days == [date(2026, 12, d) for d in (1, 2, 3, 4)]
    assert b.spent == [5, 20, 20, 32]
    assert b.remaining == [95, 80, 80, 68] and b.left == 68
    assert b.plan == [90, 80, 70, 60]
    assert b.pace_per_day == 8.0
    assert b.forecast_date == date(2026, 12, 13)


def test_the_pace_is_the_last_seven_days_and_a_daily_cap_makes_the_plan():
    # 20 days from Nov 15 to Dec 4; 2 labels a day until Nov 27, then 7 a day for the last 7 days
    # (Nov 28 .. Dec 4). Spent: 13 x 2 + 7 x 7 = 75 of 120; pace 7 a day; 45 left / 7 = 6.43 -> 7 days
    # -> Dec 11. The plan: a daily cap of 10 from the start spends 120 in 12 days (Nov 15 .. Nov 26).
    start, today = date(2026, 11, 15), date(2026, 12, 4)
    spend = {start + timedelta(days=i): (2.0 if i < 13 else 7.0) for i in range(20)}
    b = burndown.compute(total=120, unit="labels", today=today, start=start, spend_by_day=spend, plan_per_day=10)
    assert b.spent[-1] == 75 and b.left == 45
    assert b.pace_per_day == 7.0
    assert b.forecast_date == date(2026, 12, 11)
    assert b.plan_end == date(2026, 11, 26)
    assert b.plan[0] == 110 and b.plan[11] == 0 and b.plan[-1] == 0


def test_overspent_budget_forecasts_the_day_it_ran_out_and_no_pace_no_forecast():
    b = burndown.compute(total=10, unit="labels", today=date(2026, 12, 3), start=date(2026, 12, 1),
                         spend_by_day={date(2026, 12, 1): 4, date(2026, 12, 2): 8})
    assert b.remaining == [6, -2, -2] and b.forecast_date == date(2026, 12, 2) and b.plan == [None] * 3
    idle = burndown.compute(total=10, unit="hours", today=date(2026, 12, 20), start=date(2026, 12, 1),
                            spend_by_day={date(2026, 12, 1): 1.5})
    assert idle.pace_per_day == 0 and idle.forecast_date is None and idle.left == 8.5


def test_the_service_feeds_the_burn_down_from_first_labels_and_measured_hours(env):
    """Rows at known times: labels count each task's first label, hours every submit's active seconds."""
    from sqlalchemy import select

    from app.annotations.models import Annotation, AnnotationStatus
    from app.auth.models import User
    from app.budgets import service
    from app.db import session_scope
    from app.projects.models import Project
    from app.queue.models import Task
    from tests.factories import make_project, make_user
    from tests.scenes import add_tiny_tasks

    make_user("lead", "lead")
    pid = make_project(owner="lead", retrain_every=1000)
    add_tiny_tasks(pid, 3)
    day = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with session_scope() as session:
        lead = session.scalars(select(User)).one()
        tasks = session.scalars(select(Task).where(Task.project_id == pid).order_by(Task.id)).all()
        done, replaced = AnnotationStatus.submitted, AnnotationStatus.superseded
        rows = [(tasks[0], 1, 0, 1800.0, replaced), (tasks[0], 2, 1, 900.0, done), (tasks[1], 1, 1, 1800.0, done),
                (tasks[2], 1, 2, 3600.0, done)]
        for task, version, offset, seconds, status in rows:
            session.add(Annotation(task_id=task.id, item_id=task.item_id, project_id=task.project_id,
                                   version=version, author_id=lead.id,
                                   mask_path="x.png", seconds_spent=seconds, status=status,
                                   created_at=day + timedelta(days=offset)))
        project = session.get(Project, pid)
        project.created_at = day
        service.save(session=session, project=project, by=lead,
                     values={"label_budget": 10, "total_hours": 5, "plan_start": "2026-12-01",
                             "plan_end": "2026-12-05"})
    with session_scope() as session:
        labels, hours = service.burn_downs(session=session, project=session.get(Project, pid),
                                           today=(day + timedelta(days=2)).date())
    # labels: Dec 1 one first label, Dec 2 one (task 1's v2 is not a first label), Dec 3 one -> 1, 2, 3
    assert labels.spent == [1, 2, 3] and labels.plan == [8, 6, 4]
    assert labels.pace_per_day == 1 and labels.forecast_date == (day + timedelta(days=9)).date()
    # hours: 0.5 on Dec 1, 0.25 + 0.5 on Dec 2, 1.0 on Dec 3 -> 0.5, 1.25, 2.25 of 5
    assert hours.spent == [0.5, 1.25, 2.25] and hours.left == 2.75


def test_the_chart_columns_run_day_by_day_to_the_forecast_date():
    from app.budgets.views import chart_series

    b = burndown.compute(total=20, unit="labels", spend_by_day={date(2026, 12, 3): 1}, start=date(2026, 12, 1),
                         today=date(2026, 12, 3), plan_start=date(2026, 12, 1), plan_end=date(2026, 12, 10))
    assert b.pace_per_day == 1 / 3 and b.forecast_date == date(2027, 1, 29)  # 19 left / (1/3) = 57 days
    c = chart_series(b)
    assert c["days"][:4] == ["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"]
    assert c["days"][-1] == "2027-01-29" and len(c["days"]) == 3 + 57
    assert c["remaining"][:3] == [20, 20, 19] and c["remaining"][3] is None
    assert c["forecast"][:4] == [None, None, 19, 19 - 1 / 3] and c["forecast"][-1] == 0
    assert c["plan"][:3] == [18, 16, 14] and c["plan"][9:] == [0] * (len(c["days"]) - 9)
